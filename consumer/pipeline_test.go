package consumer

import (
	"context"
	"slices"
	"testing"
	"time"
)

// The pipeline of a partition: a batch is decided while the one before it is in flight,
// within the bounds, written one batch at a time in input order, committed only once
// acknowledged, and given up uncommitted when the work must stop.

// decidedBatches returns how many batches the processor decided.
func (h *harness) decidedBatches() int {
	h.proc.mu.Lock()
	defer h.proc.mu.Unlock()
	return len(h.proc.batches)
}

// sends returns the offsets of the Send calls started and of the batches acknowledged, and
// the most calls under way at once.
func (h *harness) sends() (started, sent [][]int64, most int) {
	h.pub.mu.Lock()
	defer h.pub.mu.Unlock()
	return slices.Clone(h.pub.started), slices.Clone(h.pub.sent), h.pub.most
}

// left returns how many queued messages were not fetched.
func (h *harness) left() int {
	h.queue.mu.Lock()
	defer h.queue.mu.Unlock()
	return len(h.queue.items)
}

// settle gives the partition time to do what it should not (no speed is asserted: a
// wrong partition would have done it long before).
func settle() { time.Sleep(50 * time.Millisecond) }

func inFlightBound(batches, bytes int) func(*Config) {
	return func(c *Config) { c.InFlightBatches, c.InFlightBytes = batches, bytes }
}

// TestPipelineDecidesTheNextBatchWhileOneIsInFlight: while batch N's events wait for
// their acknowledgement, batch N+1 is fetched and decided, but not sent, and nothing more
// is fetched (two batches in hand); nothing is committed before N is acknowledged, then
// exactly N's records. Batches are sent one at a time, in input order.
func TestPipelineDecidesTheNextBatchWhileOneIsInFlight(t *testing.T) {
	h := newHarness(0, 3, messages(0, 9, 1), inFlightBound(2, 1<<20))
	h.pub.gate = make(chan struct{})
	stop, stopFetching := context.WithCancel(context.Background())
	ok := h.run(t, Lifecycle{Stop: stop, Abandon: context.Background()}, context.Background(), func() {
		eventually(t, "batch 2 decided while batch 1 is in flight", func() bool { return h.decidedBatches() == 2 })
		settle()
		started, sent, _ := h.sends()
		if h.decidedBatches() != 2 || len(started) != 1 || len(sent) != 0 || h.left() != 3 || len(h.c2.sent()) != 0 {
			t.Errorf("with batch 1 unacknowledged: %d batches decided, sends %v, %d messages left, commits %v; want 2 decided, batch 1 alone sent, 3 left, no commit",
				h.decidedBatches(), started, h.left(), h.c2.sent())
		}
		h.pub.gate <- struct{}{} // batch 1 acknowledged
		eventually(t, "offset 3 committed", func() bool { return h.p.committed.Load() == 3 })
		eventually(t, "batch 3 decided", func() bool { return h.decidedBatches() == 3 })
		settle()
		if c := h.p.committed.Load(); c != 3 {
			t.Errorf("committed %d with batch 2 unacknowledged; want 3", c)
		}
		close(h.pub.gate)
		eventually(t, "offset 9 committed", func() bool { return h.p.committed.Load() == 9 })
		stopFetching()
	})
	started, sent, most := h.sends()
	want := [][]int64{{0, 1, 2}, {3, 4, 5}, {6, 7, 8}}
	if !ok || most != 1 || !slices.EqualFunc(sent, want, slices.Equal) || len(started) != 3 {
		t.Errorf("ok %v, at most %d sends at once, sent %v (%d sends); want one send at a time, in input order, each batch once",
			ok, most, sent, len(started))
	}
	for _, c := range h.c2.sent() {
		if c[0]%3 != 0 {
			t.Errorf("commit at %d: not the end of an acknowledged batch", c[0])
		}
	}
	if inFlight, _, _ := h.rec.snapshot(); inFlight != 0 {
		t.Errorf("%d records still counted in flight", inFlight)
	}
}

// TestPipelineHoldsAtMostTheBound: with InFlightBatches batches held, the partition fetches
// no more until one is acknowledged; with InFlightBytes reached by the batch in flight, it
// fetches none either.
func TestPipelineHoldsAtMostTheBound(t *testing.T) {
	for _, tc := range []struct {
		name           string
		batches, bytes int
		held           int // batches decided while the first is in flight
	}{
		{"three batches", 3, 1 << 20, 3},
		{"one batch: no pipeline", 1, 1 << 20, 1},
		{"bytes reached by one batch", 3, 30, 1}, // a batch of 3 values of 10 bytes
		{"bytes reached by two batches", 3, 31, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(0, 3, messages(0, 15, 10), inFlightBound(tc.batches, tc.bytes))
			h.pub.gate = make(chan struct{})
			stop, stopFetching := context.WithCancel(context.Background())
			ok := h.run(t, Lifecycle{Stop: stop, Abandon: context.Background()}, context.Background(), func() {
				eventually(t, "the first batch in flight", func() bool { s, _, _ := h.sends(); return len(s) == 1 })
				eventually(t, "the batches allowed decided", func() bool { return h.decidedBatches() == tc.held })
				settle()
				if n, left := h.decidedBatches(), h.left(); n != tc.held || left != 15-3*tc.held {
					t.Errorf("%d batches decided, %d messages left, with the first unacknowledged; want %d, %d", n, left, tc.held, 15-3*tc.held)
				}
				h.pub.gate <- struct{}{}
				eventually(t, "one more batch decided once the first is acknowledged", func() bool { return h.decidedBatches() == min(tc.held+1, 5) })
				close(h.pub.gate)
				eventually(t, "offset 15 committed", func() bool { return h.p.committed.Load() == 15 })
				stopFetching()
			})
			if _, sent, most := h.sends(); !ok || most != 1 || len(sent) != 5 {
				t.Errorf("ok %v, %d sends at once, %d batches sent; want 5 sent one at a time", ok, most, len(sent))
			}
		})
	}
}

// TestPipelineKeepsOrderThroughPublishRetries: a batch whose publication fails is retried
// before anything after it is sent, even with the next batch decided and waiting; the
// commits follow the acknowledgements.
func TestPipelineKeepsOrderThroughPublishRetries(t *testing.T) {
	h := newHarness(0, 2, messages(0, 6, 1), inFlightBound(2, 1<<20))
	h.pub.failing = 5
	stop, stopFetching := context.WithCancel(context.Background())
	ok := h.run(t, Lifecycle{Stop: stop, Abandon: context.Background()}, context.Background(), func() {
		eventually(t, "offset 6 committed", func() bool { return h.p.committed.Load() == 6 })
		stopFetching()
	})
	started, sent, most := h.sends()
	want := [][]int64{{0, 1}, {2, 3}, {4, 5}}
	for i, s := range started[:6] {
		if !slices.Equal(s, want[0]) {
			t.Errorf("send %d was %v while batch 1 was still failing", i, s)
		}
	}
	if !ok || most != 1 || !slices.EqualFunc(sent, want, slices.Equal) {
		t.Errorf("ok %v, %d sends at once, sent %v; want %v, one at a time", ok, most, sent, want)
	}
	_, retries, retrying := h.rec.snapshot()
	if len(retries) != 5 || retrying != 0 {
		t.Errorf("retries %v, still retrying %d; want 5 publish retries, then recovered", retries, retrying)
	}
}

// TestPipelineStopsWithBatchesInFlight: after Stop, the batches in hand are still
// published and committed; at Abandon (the shutdown deadline) or a revocation, the batch
// in flight and the decided one behind it are given up uncommitted, and the one behind is
// never sent (it would overtake the one given up).
func TestPipelineStopsWithBatchesInFlight(t *testing.T) {
	for _, end := range []string{"drained", "deadline", "revoked"} {
		t.Run(end, func(t *testing.T) {
			h := newHarness(0, 3, messages(0, 9, 1), inFlightBound(2, 1<<20))
			h.pub.gate = make(chan struct{})
			stop, stopFetching := context.WithCancel(context.Background())
			abandon, deadline := context.WithCancel(context.Background())
			gen, endGeneration := context.WithCancel(context.Background())
			ok := h.run(t, Lifecycle{Stop: stop, Abandon: abandon}, gen, func() {
				eventually(t, "batch 2 decided while batch 1 is in flight", func() bool { return h.decidedBatches() == 2 })
				switch end {
				case "drained":
					stopFetching()
					close(h.pub.gate)
					eventually(t, "offset 6 committed", func() bool { return h.p.committed.Load() == 6 })
				case "deadline":
					stopFetching()
					settle()
					deadline()
				case "revoked":
					endGeneration()
				}
			})
			endGeneration()
			deadline()
			stopFetching()
			started, sent, _ := h.sends()
			inFlight, _, _ := h.rec.snapshot()
			switch end {
			case "drained":
				if !ok || len(sent) != 2 || h.left() != 3 || h.p.committed.Load() != 6 || h.c.unfinished.Load() != 0 || inFlight != 0 {
					t.Errorf("ok %v, sent %v, %d left, committed %d, unfinished %d, in flight %d; want both batches published and committed, nothing more fetched",
						ok, sent, h.left(), h.p.committed.Load(), h.c.unfinished.Load(), inFlight)
				}
			default:
				wantUnfinished := int64(1)
				if end == "revoked" {
					wantUnfinished = 0
				}
				if ok || len(started) != 1 || len(sent) != 0 || len(h.c2.sent()) != 0 || h.c.unfinished.Load() != wantUnfinished || inFlight != 0 {
					t.Errorf("ok %v, sends %v, acknowledged %v, commits %v, unfinished %d, in flight %d; want batch 1 given up, batch 2 never sent, no commit, unfinished %d",
						ok, started, sent, h.c2.sent(), h.c.unfinished.Load(), inFlight, wantUnfinished)
				}
			}
		})
	}
}

// TestStageHealthReportsThePartitionUntilBothStagesRecovered: when both stages of a
// partition retry, the first to recover does not report the partition recovered.
func TestStageHealthReportsThePartitionUntilBothStagesRecovered(t *testing.T) {
	rec := newRecorder()
	var shared stageRetries
	decide := stageHealth{Health: rec, retries: &shared, stage: decideStage}
	publish := stageHealth{Health: rec, retries: &shared, stage: publishStage}
	decide.Retrying("3", time.Now())
	publish.Retrying("3", time.Now())
	decide.Recovered("3")
	if _, _, retrying := rec.snapshot(); retrying != 1 {
		t.Fatal("the partition was reported recovered while its publish stage still retries")
	}
	publish.Recovered("3")
	if _, _, retrying := rec.snapshot(); retrying != 0 || !slices.Equal(rec.recovered, []string{"3"}) {
		t.Fatalf("recovered %v; want the partition once, when both stages recovered", rec.recovered)
	}
}

// TestPipelineWaitsToFillOnlyBehindABatchInFlight: a batch fetched while nothing is in
// flight waits IdleBatchWait at most to fill; one fetched behind a batch in flight waits
// BatchMaxWait.
func TestPipelineWaitsToFillOnlyBehindABatchInFlight(t *testing.T) {
	h := newHarness(0, 3, messages(0, 6, 1), func(c *Config) {
		c.BatchMaxWait, c.IdleBatchWait = time.Hour, time.Minute
	})
	h.pub.gate = make(chan struct{})
	stop, stopFetching := context.WithCancel(context.Background())
	ok := h.run(t, Lifecycle{Stop: stop, Abandon: context.Background()}, context.Background(), func() {
		eventually(t, "batch 2 decided while batch 1 is in flight", func() bool { return h.decidedBatches() == 2 })
		close(h.pub.gate)
		eventually(t, "offset 6 committed", func() bool { return h.p.committed.Load() == 6 })
		stopFetching()
	})
	h.queue.mu.Lock()
	calls := slices.Clone(h.queue.calls)
	h.queue.mu.Unlock()
	if !ok || len(calls) < 6 {
		t.Fatalf("ok %v, %d fetches; want 2 batches of 3", ok, len(calls))
	}
	for i, c := range calls[:6] {
		var want time.Duration // the first fetch of a batch waits as long as it takes
		switch i {
		case 1, 2:
			want = time.Minute
		case 4, 5:
			want = time.Hour
		}
		wait := c.deadline.Sub(c.at)
		if c.hasDeadline != (want > 0) || want > 0 && (wait > want || wait < want-time.Second) {
			t.Errorf("fetch %d waited up to %v (deadline %v); want %v", i, wait, c.hasDeadline, want)
		}
	}
}
