package consumer

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ordergate/ordergate/processor"
	"github.com/ordergate/ordergate/processor/order"
)

// causeError is a transient failure with a cause label.
type causeError string

func (e causeError) Error() string { return string(e) + " failed" }
func (e causeError) Cause() string { return string(e) }

// fakeProcessor records the batches it is given and fails while failing > 0 (forever
// when failing < 0).
type fakeProcessor struct {
	mu      sync.Mutex
	batches [][]order.Record
	failing int
}

func (f *fakeProcessor) Process(_ context.Context, in []order.Record, out []processor.Result) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failing != 0 {
		f.failing--
		return causeError("redis")
	}
	// The partition reuses a batch's memory once the batch is done: keep a copy.
	batch := slices.Clone(in)
	for i := range batch {
		batch[i].Headers = slices.Clone(batch[i].Headers)
	}
	f.batches = append(f.batches, batch)
	for i := range in {
		out[i].Record = &in[i]
	}
	return nil
}

// fakeBatch is the fake publisher's batch.
type fakeBatch struct {
	results []processor.Result
	sent    bool
}

// fakePublisher sends batches, failing while failing > 0. When gate is set, each Send
// waits for a value from it (or for its context) before it goes on.
type fakePublisher struct {
	mu       sync.Mutex
	failing  int
	prepared int
	sent     [][]int64 // the offsets of each batch sent
	gate     chan struct{}
	started  [][]int64 // the offsets of each Send call
	released int       // Release calls
	early    int       // Release calls on a batch not sent
	sending  int       // Send calls under way
	most     int       // the most Send calls under way at once
}

func (f *fakePublisher) PrepareInto(reuse *fakeBatch, results []processor.Result) *fakeBatch {
	f.mu.Lock()
	f.prepared++
	f.mu.Unlock()
	if reuse == nil {
		reuse = &fakeBatch{}
	}
	reuse.results, reuse.sent = results, false
	return reuse
}

func (f *fakePublisher) Release(b *fakeBatch) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.released++
	if !b.sent {
		f.early++
	}
	b.results = nil
}

func (f *fakePublisher) Send(ctx context.Context, b *fakeBatch) error {
	var offs []int64
	for _, r := range b.results {
		offs = append(offs, r.Record.Source.Offset)
	}
	f.mu.Lock()
	f.started = append(f.started, offs)
	f.sending++
	f.most = max(f.most, f.sending)
	gate := f.gate
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.sending--
		f.mu.Unlock()
	}()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failing != 0 {
		f.failing--
		return causeError("kafka_produce")
	}
	f.sent = append(f.sent, offs)
	b.sent = true
	return nil
}

// harness runs one partition's loop on a queue of messages, with its committer.
type harness struct {
	rec   *recorder
	proc  *fakeProcessor
	pub   *fakePublisher
	c     *Consumer[*fakeBatch]
	p     *partition[*fakeBatch]
	k     *committer
	c2    *commits
	queue *queue
}

func newHarness(start int64, batchMax int, items []any, options ...func(*Config)) *harness {
	h := &harness{rec: newRecorder(), proc: &fakeProcessor{}, pub: &fakePublisher{}, c2: &commits{}, queue: &queue{items: items}}
	cfg := testConfig(h.rec)
	cfg.BatchMaxRecords, cfg.BatchMaxWait = batchMax, time.Millisecond
	for _, o := range options {
		o(cfg)
	}
	h.c = New(*cfg, h.proc, h.pub)
	h.k = newCommitter(&h.c.cfg, h.c2.commit)
	h.p = &partition[*fakeBatch]{c: h.c, k: h.k, id: 0, start: start}
	h.p.committed.Store(-1)
	if start >= 0 {
		h.k.register(0, start, &h.p.committed)
	}
	return h
}

// run runs the partition's loop and committer until stop ends, and returns what consume
// reported.
func (h *harness) run(t *testing.T, l Lifecycle, gen context.Context, whileRunning func()) bool {
	t.Helper()
	life := l.within(gen)
	defer life.release()
	kctx, stopK := context.WithCancel(context.Background())
	kdone := make(chan struct{})
	go func() { defer close(kdone); h.k.run(kctx) }()
	result := make(chan bool, 1)
	go func() { result <- h.p.consume(life, h.queue) }()
	whileRunning()
	ok := <-result
	if ok {
		h.k.flush(life.work, 0)
	}
	stopK()
	<-kdone
	return ok
}

// TestPartitionHandsEachBatchOnAndCommitsIt: the records the processor gets are the
// messages (key, value, headers, time, source), batch after batch, each published once,
// and the partition's offset is committed as far as the last acknowledged record. A new
// group (no committed offset) starts its commits at the first record it reads.
func TestPartitionHandsEachBatchOnAndCommitsIt(t *testing.T) {
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	var items []any
	for i := range 7 {
		items = append(items, kafka.Message{Topic: "in", Partition: 0, Offset: int64(100 + i), Key: []byte{'k', byte('0' + i)},
			Value: []byte{byte('a' + i)}, Time: at.Add(time.Duration(i) * time.Second),
			Headers: []kafka.Header{{Key: "type", Value: []byte("t")}, {Key: "n", Value: []byte{byte('0' + i)}}}})
	}
	h := newHarness(kafka.FirstOffset, 3, items)
	stop, stopFetching := context.WithCancel(context.Background())
	ok := h.run(t, Lifecycle{Stop: stop, Abandon: context.Background()}, context.Background(), func() {
		eventually(t, "offset 107 committed", func() bool { return h.p.committed.Load() == 107 })
		stopFetching()
	})
	if !ok {
		t.Fatal("the partition abandoned a batch")
	}
	var sizes []int
	n := 0
	for _, b := range h.proc.batches {
		sizes = append(sizes, len(b))
		for _, r := range b {
			m := items[n].(kafka.Message)
			if string(r.Key) != string(m.Key) || string(r.Value) != string(m.Value) || !r.Time.Equal(m.Time) ||
				r.Source != (order.Source{Topic: "in", Partition: 0, Offset: m.Offset}) ||
				len(r.Headers) != 2 || r.Headers[1].Key != "n" || string(r.Headers[1].Value) != string(m.Headers[1].Value) {
				t.Errorf("record %d is %+v, not message %+v", n, r, m)
			}
			n++
		}
	}
	if !slices.Equal(sizes, []int{3, 3, 1}) || len(h.pub.sent) != 3 || h.pub.prepared != 3 {
		t.Errorf("batches of %v, %d prepared, %d sent; want 3, 3, 1, each prepared and sent once", sizes, h.pub.prepared, len(h.pub.sent))
	}
	if h.pub.released != 3 || h.pub.early != 0 {
		t.Errorf("%d batches released, %d of them before they were sent; want each of the 3 released once sent", h.pub.released, h.pub.early)
	}
	var last []int64
	for _, c := range h.c2.sent() {
		last = append(last, c[0])
	}
	if !slices.IsSorted(last) || last[len(last)-1] != 107 {
		t.Errorf("commits %v, want increasing offsets up to 107", last)
	}
	if inFlight, retries, _ := h.rec.snapshot(); inFlight != 0 || h.rec.consumed != 7 || len(retries) != 0 {
		t.Errorf("in flight %d, consumed %d, retries %v; want 0, 7, none", inFlight, h.rec.consumed, retries)
	}
}

// TestPartitionRetriesEachStep: a failed decision and a failed publish are each retried
// through the one retry hook (counted by cause, the partition reported retrying, then
// recovered), and the batch is committed once it went through.
func TestPartitionRetriesEachStep(t *testing.T) {
	h := newHarness(0, 10, messages(0, 2, 1))
	h.proc.failing, h.pub.failing = 2, 1
	stop, stopFetching := context.WithCancel(context.Background())
	ok := h.run(t, Lifecycle{Stop: stop, Abandon: context.Background()}, context.Background(), func() {
		eventually(t, "offset 2 committed", func() bool { return h.p.committed.Load() == 2 })
		stopFetching()
	})
	_, retries, retrying := h.rec.snapshot()
	if !ok || !slices.Equal(retries, []string{"redis", "redis", "kafka_produce"}) || retrying != 0 ||
		!slices.Equal(h.rec.recovered, []string{"0", "0"}) || len(h.pub.sent) != 1 {
		t.Errorf("ok %v, retries %v, still retrying %d, recovered %v, %d batches sent; want both steps retried by cause, then recovered",
			ok, retries, retrying, h.rec.recovered, len(h.pub.sent))
	}
}

// TestPartitionStopsInTwoSteps: after Stop the partition fetches nothing more but keeps
// retrying the batch in hand; at Abandon it gives it up uncommitted and counts it
// unfinished. A revocation (the generation's end) gives the batch up too, but is not a
// shutdown timeout.
func TestPartitionStopsInTwoSteps(t *testing.T) {
	for _, revoked := range []bool{false, true} {
		h := newHarness(0, 10, messages(0, 3, 1))
		h.proc.failing = -1
		stop, stopFetching := context.WithCancel(context.Background())
		abandon, deadline := context.WithCancel(context.Background())
		gen, endGeneration := context.WithCancel(context.Background())
		fetches := 0
		ok := h.run(t, Lifecycle{Stop: stop, Abandon: abandon}, gen, func() {
			eventually(t, "the batch is retried", func() bool { _, r, _ := h.rec.snapshot(); return len(r) >= 3 })
			h.queue.mu.Lock()
			fetches = len(h.queue.calls)
			h.queue.mu.Unlock()
			if revoked {
				endGeneration()
				return
			}
			stopFetching()
			_, before, _ := h.rec.snapshot()
			eventually(t, "retries go on after Stop", func() bool { _, r, _ := h.rec.snapshot(); return len(r) > len(before)+2 })
			deadline()
		})
		endGeneration()
		deadline()
		stopFetching()
		inFlight, _, _ := h.rec.snapshot()
		wantUnfinished := int64(1)
		if revoked {
			wantUnfinished = 0
		}
		if ok || h.c.unfinished.Load() != wantUnfinished || inFlight != 0 || len(h.c2.sent()) != 0 || len(h.queue.calls) != fetches {
			t.Errorf("revoked %v: ok %v, unfinished %d, in flight %d, commits %v, %d fetches after the first batch; want the batch given up uncommitted, nothing fetched",
				revoked, ok, h.c.unfinished.Load(), inFlight, h.c2.sent(), len(h.queue.calls)-fetches)
		}
	}
}

// TestAbandonedBatchIsNotReleased: a batch whose publication is given up (the partition
// revoked while the broker refuses it) is not released, since the writer may still hold
// its events; a batch published is.
func TestAbandonedBatchIsNotReleased(t *testing.T) {
	h := newHarness(0, 10, messages(0, 3, 1))
	h.pub.failing = -1
	gen, endGeneration := context.WithCancel(context.Background())
	ok := h.run(t, Lifecycle{Stop: context.Background(), Abandon: context.Background()}, gen, func() {
		eventually(t, "the publication is retried", func() bool { _, r, _ := h.rec.snapshot(); return len(r) >= 2 })
		endGeneration()
	})
	endGeneration()
	if ok || len(h.pub.sent) != 0 || h.pub.released != 0 {
		t.Errorf("ok %v, %d batches sent, %d released; want the batch given up unsent and not released", ok, len(h.pub.sent), h.pub.released)
	}
}

// TestGracefulAbandonsAfterTheTimeout: Abandon ends only once the stop was asked and the
// timeout ran, and release ends it at once.
func TestGracefulAbandonsAfterTheTimeout(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	l, release := Graceful(ctx, 20*time.Millisecond)
	time.Sleep(40 * time.Millisecond)
	if l.Abandon.Err() != nil {
		t.Fatal("Abandon ended before the stop was asked")
	}
	stop()
	if l.Stop.Err() == nil {
		t.Fatal("Stop did not end with its context")
	}
	<-l.Abandon.Done()
	release()

	ctx, stop = context.WithCancel(context.Background())
	l, release = Graceful(ctx, time.Hour)
	stop()
	release()
	if !errors.Is(l.Abandon.Err(), context.Canceled) {
		t.Fatal("release did not end Abandon")
	}
}
