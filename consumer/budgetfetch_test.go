package consumer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// fetchCluster starts a one-broker kfake cluster with topic "in" of one partition and
// writes values to it, one record batch each; it returns the consumer config and client.
func fetchCluster(t *testing.T, values ...[]byte) (*Config, *kafka.Client) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "in"),
		kfake.BrokerConfigs(map[string]string{"message.max.bytes": "16777216"}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	wt := &kafka.Transport{}
	defer wt.CloseIdleConnections()
	w := &kafka.Writer{Addr: kafka.TCP(c.ListenAddrs()...), Topic: "in", BatchSize: 1, BatchBytes: 16 << 20,
		RequiredAcks: kafka.RequireAll, Transport: wt}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, v := range values {
		if err := w.WriteMessages(ctx, kafka.Message{Value: v}); err != nil {
			t.Fatal(err)
		}
	}
	cfg := &Config{Brokers: c.ListenAddrs(), Topic: "in", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	cfg.defaults()
	transport := transportOf(nil)
	t.Cleanup(transport.CloseIdleConnections)
	return cfg, &kafka.Client{Addr: kafka.TCP(c.ListenAddrs()...), Transport: transport}
}

func values(n, size int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = bytes.Repeat([]byte{byte('a' + i)}, size)
	}
	return out
}

// fetchWithin fetches one record, or reports false when none comes within d.
func fetchWithin(t *testing.T, f *budgetFetcher, d time.Duration) (kafka.Message, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	m, err := f.FetchMessage(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		return m, false
	}
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	return m, true
}

// TestBudgetFetcherHoldsNoMoreThanItsBudget: records the loop has not released stop the
// fetches once the budget is spent; releasing them lets the next ones come; Close gives
// every byte back.
func TestBudgetFetcherHoldsNoMoreThanItsBudget(t *testing.T) {
	const size = 100 << 10
	cfg, client := fetchCluster(t, values(6, size)...)
	cfg.FetchMaxBytes = 64 << 10 // each fetch returns one record batch, larger than asked
	b := newBudget(3 * size)
	f := newBudgetFetcher(cfg, b, client, 0, kafka.FirstOffset)
	var got []int64
	for {
		m, ok := fetchWithin(t, f, 2*time.Second)
		if !ok {
			break
		}
		got = append(got, m.Offset)
		if !bytes.Equal(m.Value, values(6, size)[m.Offset]) {
			t.Fatalf("record %d: wrong value", m.Offset)
		}
	}
	if len(got) == 0 || len(got) > 4 {
		t.Fatalf("fetched %v before releasing anything, want 1 to 4 records (budget of 3, one forced over)", got)
	}
	if used := b.inUse(); used > 4*(size+recordOverhead) {
		t.Fatalf("budget in use %d, want at most 4 records", used)
	}
	f.done(got[len(got)-1] + 1)
	for len(got) < 6 {
		m, ok := fetchWithin(t, f, 5*time.Second)
		if !ok {
			t.Fatalf("after the release, stuck at %v", got)
		}
		if m.Offset != got[len(got)-1]+1 {
			t.Fatalf("offset %d after %v", m.Offset, got)
		}
		got = append(got, m.Offset)
		f.done(m.Offset + 1)
	}
	f.Close()
	if used := b.inUse(); used != 0 {
		t.Fatalf("budget in use %d after Close, want 0", used)
	}
}

// TestBudgetFetcherPassesARecordLargerThanTheBudget: a record larger than the whole budget
// is fetched alone instead of waiting for ever, and the fetcher starts at the offset given.
func TestBudgetFetcherPassesARecordLargerThanTheBudget(t *testing.T) {
	vals := [][]byte{[]byte("small"), []byte("small"), bytes.Repeat([]byte("x"), 1<<20), []byte("after")}
	cfg, client := fetchCluster(t, vals...)
	b := newBudget(64 << 10)
	f := newBudgetFetcher(cfg, b, client, 0, 1)
	defer f.Close()
	for want := int64(1); want < 4; want++ {
		m, ok := fetchWithin(t, f, 5*time.Second)
		if !ok {
			t.Fatalf("no record %d within 5 s", want)
		}
		if m.Offset != want || !bytes.Equal(m.Value, vals[want]) {
			t.Fatalf("record %d (%d bytes), want %d", m.Offset, len(m.Value), want)
		}
		f.done(want + 1)
	}
}

// TestBudgetFetcherStepsOverTransactionMarkers: a transaction's commit marker takes an
// offset that kafka-go's record stream skips without a word; a fetch that found only the
// marker (the last record of the partition) returned no record and the same offset, so the
// fetcher asked again at once, for ever, and never moved past it.
func TestBudgetFetcherStepsOverTransactionMarkers(t *testing.T) {
	cfg, client := fetchCluster(t)
	kc, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...), kgo.TransactionalID("upstream"),
		kgo.DefaultProduceTopic("in"), kgo.RequiredAcks(kgo.AllISRAcks()))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := kc.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := kc.ProduceSync(ctx, &kgo.Record{Value: []byte("one")}, &kgo.Record{Value: []byte("two")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := kc.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	f := &budgetFetcher{cfg: cfg, client: client}
	r, next, err := f.fetchRecords(ctx, 0, 1<<20, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.msgs) != 2 || string(r.msgs[0].Value) != "one" || string(r.msgs[1].Value) != "two" {
		t.Fatalf("fetched %d records, want the transaction's two", len(r.msgs))
	}
	if next != 3 {
		t.Fatalf("next offset %d after two records and their commit marker, want 3", next)
	}
	r, next, err = f.fetchRecords(ctx, 2, 1<<20, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.msgs) != 0 || next != 3 {
		t.Fatalf("from the marker's offset: %d records, next %d; want none and 3", len(r.msgs), next)
	}
}

// TestFetchTimeoutGrowsOnASlowLink: a fetch that timed out is asked again with twice the
// timeout, up to maxFetchTimeout, and an answer brings it back; with a fixed timeout, a
// record batch that takes longer than it to arrive (the fault suite's 1 KB/s) never did.
func TestFetchTimeoutGrowsOnASlowLink(t *testing.T) {
	timedOut := fmt.Errorf("kafka.(*Client).Fetch: %w", context.DeadlineExceeded)
	d := nextFetchTimeout(0, timedOut, false)
	if d != 2*fetchTimeout {
		t.Fatalf("after a first timeout: %v, want %v", d, 2*fetchTimeout)
	}
	for range 10 {
		d = nextFetchTimeout(d, &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}, false)
	}
	if d != maxFetchTimeout {
		t.Fatalf("after eleven timeouts: %v, want the cap %v", d, maxFetchTimeout)
	}
	if got := nextFetchTimeout(d, errors.New("connection refused"), false); got != d {
		t.Errorf("another error changed the timeout: %v", got)
	}
	if got := nextFetchTimeout(d, timedOut, true); got != d {
		t.Errorf("a stop changed the timeout: %v", got)
	}
	if got := nextFetchTimeout(d, nil, false); got != fetchTimeout {
		t.Errorf("after an answer: %v, want %v", got, fetchTimeout)
	}
}

func TestArenaBlocksGrowWithTheFetch(t *testing.T) {
	var a arena
	var caps []int
	var copies [][]byte
	for i := range 200 {
		v := bytes.Repeat([]byte{byte('a' + i%26)}, 300)
		got, err := a.copyOf(kafka.NewBytes(v))
		if err != nil || !bytes.Equal(got, v) {
			t.Fatalf("copy %d: %q, %v", i, got, err)
		}
		copies = append(copies, got)
		if len(caps) == 0 || caps[len(caps)-1] != cap(a.block) {
			caps = append(caps, cap(a.block))
		}
	}
	want := []int{arenaFirst, 2 * arenaFirst, 4 * arenaFirst, 8 * arenaFirst, arenaChunk}
	if len(caps) < len(want) || !slices.Equal(caps[:len(want)], want) {
		t.Errorf("blocks of %v bytes, want %v then %d", caps, want, arenaChunk)
	}
	for _, c := range caps[len(want)-1:] {
		if c != arenaChunk {
			t.Errorf("a block of %d bytes after reaching %d", c, arenaChunk)
		}
	}
	for i, c := range copies {
		if c[0] != byte('a'+i%26) || cap(c) != len(c) {
			t.Fatalf("copy %d was overwritten or can grow into its neighbour", i)
		}
	}
	big := bytes.Repeat([]byte{'z'}, arenaChunk)
	got, err := a.copyOf(kafka.NewBytes(big))
	if err != nil || !bytes.Equal(got, big) || cap(a.block) != arenaChunk {
		t.Errorf("a record larger than a quarter of a block must get its own array")
	}
	if got, err := a.copyOf(nil); got != nil || err != nil {
		t.Errorf("a null value copied as %q, %v", got, err)
	}
}
