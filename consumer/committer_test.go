package consumer

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

// commits is a commit function that records each request and fails while failing > 0.
type commits struct {
	mu       sync.Mutex
	requests []map[int]int64
	failing  int
}

func (c *commits) commit(offsets map[int]int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failing > 0 {
		c.failing--
		return errors.New("coordinator not available")
	}
	c.requests = append(c.requests, maps.Clone(offsets))
	return nil
}

func (c *commits) sent() []map[int]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.requests)
}

// step is one call on a committer: register (p, from), mark (p, from, to, n), forget (p),
// or commit, which expects the request want (nil: no request at all).
type step struct {
	do       string
	p        int
	from, to int64
	n        int
	want     map[int]int64
}

func TestCommitterCommitsTheContiguousAcknowledgedRange(t *testing.T) {
	for _, tc := range []struct {
		name     string
		steps    []step
		released int // records that left the in-flight count
	}{
		{"batches in order commit their end", []step{
			{do: "register", p: 0, from: 0},
			{do: "mark", p: 0, from: 0, to: 10, n: 10},
			{do: "commit", want: map[int]int64{0: 10}},
			{do: "mark", p: 0, from: 10, to: 25, n: 15},
			{do: "commit", want: map[int]int64{0: 25}},
		}, 25},
		{"a batch acknowledged early waits for the one before it", []step{
			{do: "register", p: 0, from: 0},
			{do: "mark", p: 0, from: 10, to: 20, n: 10},
			{do: "commit"},
			{do: "mark", p: 0, from: 0, to: 10, n: 10},
			{do: "commit", want: map[int]int64{0: 20}},
		}, 20},
		{"gaps fill in any order", []step{
			{do: "register", p: 0, from: 100},
			{do: "mark", p: 0, from: 130, to: 140, n: 10},
			{do: "mark", p: 0, from: 110, to: 130, n: 20},
			{do: "commit"},
			{do: "mark", p: 0, from: 100, to: 110, n: 10},
			{do: "commit", want: map[int]int64{0: 140}},
		}, 40},
		{"offsets missing from the log (compaction) are covered by the batch", []step{
			{do: "register", p: 0, from: 5},
			{do: "mark", p: 0, from: 5, to: 20, n: 3},
			{do: "commit", want: map[int]int64{0: 20}},
		}, 3},
		{"partitions commit together in one request", []step{
			{do: "register", p: 0, from: 0},
			{do: "register", p: 1, from: 50},
			{do: "mark", p: 0, from: 0, to: 4, n: 4},
			{do: "mark", p: 1, from: 50, to: 52, n: 2},
			{do: "commit", want: map[int]int64{0: 4, 1: 52}},
			{do: "commit"},
			{do: "mark", p: 1, from: 52, to: 53, n: 1},
			{do: "commit", want: map[int]int64{1: 53}},
		}, 7},
		{"the offset at assignment is not committed again", []step{
			{do: "register", p: 3, from: 42},
			{do: "commit"},
		}, 0},
		{"a partition forgotten releases what it had not committed", []step{
			{do: "register", p: 0, from: 0},
			{do: "mark", p: 0, from: 0, to: 10, n: 10},
			{do: "mark", p: 0, from: 20, to: 30, n: 10},
			{do: "forget", p: 0},
			{do: "commit"},
		}, 20},
		{"a mark of a partition not registered is ignored", []step{
			{do: "mark", p: 9, from: 0, to: 10, n: 10},
			{do: "commit"},
		}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder()
			var c commits
			k := newCommitter(testConfig(rec), c.commit)
			var lag atomic.Int64
			sent := 0
			for i, s := range tc.steps {
				switch s.do {
				case "register":
					k.register(s.p, s.from, &lag)
				case "mark":
					k.mark(s.p, s.from, s.to, s.n)
				case "forget":
					k.forget(s.p)
				case "commit":
					if err := k.commitOnce(); err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
					got := c.sent()
					switch {
					case s.want == nil && len(got) != sent:
						t.Fatalf("step %d: committed %v, want no commit", i, got[sent:])
					case s.want != nil && (len(got) != sent+1 || !maps.Equal(got[sent], s.want)):
						t.Fatalf("step %d: committed %v, want %v", i, got[sent:], s.want)
					}
					sent = len(got)
				}
			}
			if inFlight, _, _ := rec.snapshot(); -inFlight != tc.released {
				t.Errorf("%d records left the in-flight count, want %d", -inFlight, tc.released)
			}
		})
	}
}

// TestCommitterRetriesAFailedCommit: a commit that fails is retried with the consumer's
// hook (counted as kafka_commit, "commit" reported retrying, then recovered) until it goes
// through, and the committed offset then reaches the lag measurement.
func TestCommitterRetriesAFailedCommit(t *testing.T) {
	rec := newRecorder()
	c := commits{failing: 2}
	k := newCommitter(testConfig(rec), c.commit)
	var committed atomic.Int64
	k.register(0, 0, &committed)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); k.run(ctx) }()
	k.mark(0, 0, 5, 5)
	if !k.flush(ctx, 0) {
		t.Fatal("flush gave up while the commit was retried")
	}
	cancel()
	<-done
	_, retries, retrying := rec.snapshot()
	if got := c.sent(); len(got) != 1 || got[0][0] != 5 || committed.Load() != 5 {
		t.Errorf("commits %v, lag sees %d; want one commit of offset 5", got, committed.Load())
	}
	if !slices.Equal(retries, []string{"kafka_commit", "kafka_commit"}) || retrying != 0 || !slices.Equal(rec.recovered, []string{"commit"}) {
		t.Errorf("retries %v, still retrying %d, recovered %v; want two kafka_commit retries, then recovered", retries, retrying, rec.recovered)
	}
}

// TestFlushGivesUpWithItsContext: a partition that stops waits for its offsets, but no
// longer than its context, and a partition with nothing to commit does not wait.
func TestFlushGivesUpWithItsContext(t *testing.T) {
	rec := newRecorder()
	c := commits{failing: 1 << 30}
	k := newCommitter(testConfig(rec), c.commit)
	k.register(0, 0, nil)
	k.register(1, 7, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); k.run(ctx) }()
	if !k.flush(ctx, 1) || !k.flush(ctx, 4) {
		t.Error("flush waited for a partition with nothing to commit")
	}
	k.mark(0, 0, 3, 3)
	flushed := make(chan bool)
	fctx, stop := context.WithCancel(context.Background())
	go func() { flushed <- k.flush(fctx, 0) }()
	eventually(t, "the commit is not retried", func() bool { _, r, _ := rec.snapshot(); return len(r) >= 3 })
	stop()
	if <-flushed {
		t.Error("flush reported offsets committed that the broker refused")
	}
	cancel()
	<-done
}

// TestCommitterMakesALastAttempt: what is acknowledged when the committer is told to stop
// is still sent, once.
func TestCommitterMakesALastAttempt(t *testing.T) {
	var c commits
	k := newCommitter(testConfig(newRecorder()), c.commit)
	k.register(2, 10, nil)
	k.mark(2, 10, 11, 1)
	<-k.wake // taken, as if the committer were busy with another commit
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	k.run(ctx)
	if got := c.sent(); len(got) != 1 || got[0][2] != 11 {
		t.Errorf("commits %v, want the last attempt to commit offset 11", got)
	}
}
