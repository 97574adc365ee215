package consumer

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// queue is a fetcher that hands out its messages (and errors) in order, then blocks until
// the caller's context ends, as a reader waiting for new records does.
type queue struct {
	mu    sync.Mutex
	items []any // kafka.Message or error
	calls []fetchCall
}

// fetchCall is what a fetch was asked with.
type fetchCall struct {
	at          time.Time
	deadline    time.Time
	hasDeadline bool
}

func (q *queue) FetchMessage(ctx context.Context) (kafka.Message, error) {
	q.mu.Lock()
	d, ok := ctx.Deadline()
	q.calls = append(q.calls, fetchCall{at: time.Now(), deadline: d, hasDeadline: ok})
	if len(q.items) > 0 {
		it := q.items[0]
		q.items = q.items[1:]
		q.mu.Unlock()
		if err, ok := it.(error); ok {
			return kafka.Message{}, err
		}
		return it.(kafka.Message), nil
	}
	q.mu.Unlock()
	<-ctx.Done()
	return kafka.Message{}, ctx.Err()
}

// messages returns n messages of partition 0 from offset from, each with a value of size
// bytes.
func messages(from int64, n, size int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = kafka.Message{Topic: "in", Offset: from + int64(i), Value: make([]byte, size)}
	}
	return out
}

func offsetsOf(msgs []kafka.Message) []int64 {
	var out []int64
	for _, m := range msgs {
		out = append(out, m.Offset)
	}
	return out
}

func TestFetchBatchLimits(t *testing.T) {
	for _, tc := range []struct {
		name             string
		records, bytes   int
		queued           []any
		want             []int64
		waitedForFilling bool // a fetch after the first one was bounded by BatchMaxWait
	}{
		{"at most BatchMaxRecords records", 4, 1 << 20, messages(0, 10, 1), []int64{0, 1, 2, 3}, true},
		{"ends once the values reach BatchMaxBytes", 100, 7, messages(0, 10, 3), []int64{0, 1, 2}, true},
		{"one record over BatchMaxBytes is a batch of its own", 100, 7, messages(5, 3, 9), []int64{5}, false},
		{"a batch of one record does not wait to fill", 1, 1 << 20, messages(0, 3, 1), []int64{0}, false},
		{"takes what arrived, then waits BatchMaxWait at most", 100, 1 << 20, messages(0, 2, 1), []int64{0, 1}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(newRecorder())
			cfg.BatchMaxRecords, cfg.BatchMaxBytes, cfg.BatchMaxWait = tc.records, tc.bytes, 20*time.Millisecond
			q := &queue{items: tc.queued}
			got := cfg.fetchBatch(context.Background(), 0, q, nil)
			if !slices.Equal(offsetsOf(got), tc.want) {
				t.Fatalf("batch of offsets %v, want %v", offsetsOf(got), tc.want)
			}
			if q.calls[0].hasDeadline {
				t.Error("the first record was waited for with a deadline: an idle partition would spin")
			}
			bounded := false
			for _, c := range q.calls[1:] {
				if !c.hasDeadline || c.deadline.Sub(c.at) > cfg.BatchMaxWait {
					t.Errorf("a fetch to fill the batch could wait %v, more than BatchMaxWait %v", c.deadline.Sub(c.at), cfg.BatchMaxWait)
				}
				bounded = true
			}
			if bounded != tc.waitedForFilling {
				t.Errorf("fetched %d times after the first record, want to fill the batch: %v", len(q.calls)-1, tc.waitedForFilling)
			}
		})
	}
}

// TestFetchBatchRetriesFailedFetches: a failed fetch is counted as kafka_fetch and tried
// again after a backoff; the batch then starts with the record that came.
func TestFetchBatchRetriesFailedFetches(t *testing.T) {
	rec := newRecorder()
	cfg := testConfig(rec)
	waits := 0
	cfg.Retry.Sleep = func(context.Context, time.Duration) error { waits++; return nil }
	q := &queue{items: append([]any{errors.New("broker down"), errors.New("broker down")}, messages(3, 1, 1)...)}
	got := cfg.fetchBatch(context.Background(), 0, q, nil)
	_, retries, _ := rec.snapshot()
	if !slices.Equal(offsetsOf(got), []int64{3}) || waits != 2 || !slices.Equal(retries, []string{"kafka_fetch", "kafka_fetch"}) {
		t.Errorf("batch %v after %d waits and retries %v; want offset 3 after two kafka_fetch retries", offsetsOf(got), waits, retries)
	}
}

// TestFetchFailuresAreAKafkaSignal (issue 17, item 1): Health learns that the fetches of a
// partition fail, for as long as they fail, and that they answer again with the next record
// or once the partition stops trying, so that /readyz can name Kafka.
func TestFetchFailuresAreAKafkaSignal(t *testing.T) {
	rec := newRecorder()
	cfg := testConfig(rec)
	cfg.Retry.Sleep = func(context.Context, time.Duration) error { return nil }
	cfg.BatchMaxRecords = 1
	q := &queue{items: append([]any{errors.New("broker down"), errors.New("still down")}, messages(3, 2, 1)...)}
	cfg.fetchBatch(context.Background(), 4, q, nil)
	want := []string{
		"failing kafka fetches of partition 4: broker down",
		"failing kafka fetches of partition 4: still down",
		"answering kafka fetches of partition 4",
	}
	if got := rec.signalLog(); !slices.Equal(got, want) {
		t.Fatalf("signals %q, want %q", got, want)
	}
	cfg.fetchBatch(context.Background(), 4, q, nil)
	if got := rec.signalLog(); len(got) != len(want) {
		t.Fatalf("a fetch that did not fail reported signals: %q", got[len(want):])
	}

	rec = newRecorder()
	cfg = testConfig(rec)
	ctx, cancel := context.WithCancel(context.Background())
	cfg.Retry.Sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
	cfg.fetchBatch(ctx, 1, &queue{items: []any{errors.New("down")}}, nil)
	want = []string{"failing kafka fetches of partition 1: down", "answering kafka fetches of partition 1"}
	if got := rec.signalLog(); !slices.Equal(got, want) {
		t.Fatalf("a partition that stopped while failing: signals %q, want %q", got, want)
	}
}

// TestFetchBatchEndsWithItsContext: no record when the context ends, whether the reader
// waits or keeps failing.
func TestFetchBatchEndsWithItsContext(t *testing.T) {
	cfg := testConfig(newRecorder())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got := cfg.fetchBatch(ctx, 0, &queue{}, nil); len(got) != 0 {
		t.Errorf("got %d records from an ended context", len(got))
	}
	ctx, cancel = context.WithCancel(context.Background())
	cfg.Retry.Sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
	if got := cfg.fetchBatch(ctx, 0, &queue{items: []any{errors.New("down")}}, nil); len(got) != 0 {
		t.Errorf("got %d records after the context ended during a backoff", len(got))
	}
}
