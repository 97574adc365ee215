package consumer

import (
	"context"
	"testing"
	"time"
)

// granted starts acquire(n) and returns where it reports; an acquire still waiting at the
// end of the test is abandoned with its context.
func granted(t *testing.T, b *budget, n int64) chan error {
	ctx, cancel := context.WithCancel(context.Background())
	done, ended := make(chan error, 1), make(chan struct{})
	go func() { done <- b.acquire(ctx, n); close(ended) }()
	t.Cleanup(func() { cancel(); <-ended })
	return done
}

func waitGranted(t *testing.T, done chan error, want bool) {
	t.Helper()
	select {
	case err := <-done:
		if !want {
			t.Fatalf("acquire returned (%v), want it to wait", err)
		}
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(50 * time.Millisecond):
		if want {
			t.Fatal("acquire still waits, want it granted")
		}
	}
}

// TestBudgetWaitsUntilBytesAreReleased: what does not fit waits for a release, and the
// waiters are served in arrival order.
func TestBudgetWaitsUntilBytesAreReleased(t *testing.T) {
	b := newBudget(100)
	waitGranted(t, granted(t, b, 60), true)
	big := granted(t, b, 50)
	waitGranted(t, big, false)
	small := granted(t, b, 10) // fits, but arrives after big: waits its turn
	waitGranted(t, small, false)
	b.release(60)
	waitGranted(t, big, true)
	waitGranted(t, small, true)
	if got := b.inUse(); got != 60 {
		t.Fatalf("in use %d, want 60", got)
	}
}

// TestBudgetLetsARequestLargerThanItselfPassAlone: a request larger than the budget waits
// until the budget is empty, then passes; nothing else passes while it holds its bytes.
func TestBudgetLetsARequestLargerThanItselfPassAlone(t *testing.T) {
	b := newBudget(100)
	waitGranted(t, granted(t, b, 10), true)
	huge := granted(t, b, 500)
	waitGranted(t, huge, false)
	b.release(10)
	waitGranted(t, huge, true)
	waitGranted(t, granted(t, b, 1), false)
}

// TestBudgetForceGoesOverAndBlocksOthers: bytes taken by force (a response larger than
// its reservation) count at once, and the budget waits until they are given back.
func TestBudgetForceGoesOverAndBlocksOthers(t *testing.T) {
	b := newBudget(100)
	waitGranted(t, granted(t, b, 50), true)
	b.force(80)
	next := granted(t, b, 10)
	waitGranted(t, next, false)
	b.release(80)
	waitGranted(t, next, true)
}

// TestBudgetAcquireEndsWithItsContext: a waiter whose context ends takes nothing, and the
// waiters behind it are served.
func TestBudgetAcquireEndsWithItsContext(t *testing.T) {
	b := newBudget(100)
	waitGranted(t, granted(t, b, 100), true)
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() { first <- b.acquire(ctx, 60) }()
	defer cancel()
	time.Sleep(10 * time.Millisecond)
	second := granted(t, b, 40)
	waitGranted(t, second, false)
	cancel()
	if err := <-first; err == nil {
		t.Fatal("acquire with an ended context returned nil")
	}
	b.release(60)
	waitGranted(t, second, true)
	if got := b.inUse(); got != 80 {
		t.Fatalf("in use %d, want 80 (40 left of the first 100, plus 40)", got)
	}
}

// TestReservationGrowsToTheLargestFetch: once a fetch held more than its limit, fetches
// reserve that much, never more than the budget.
func TestReservationGrowsToTheLargestFetch(t *testing.T) {
	b := newBudget(10 << 20)
	if got := b.reservation(1 << 20); got != 1<<20 {
		t.Fatalf("reservation %d, want the limit", got)
	}
	b.seen(3 << 20)
	if got := b.reservation(1 << 20); got != 3<<20 {
		t.Fatalf("reservation %d, want the largest fetch", got)
	}
	b.seen(64 << 20)
	if got := b.reservation(1 << 20); got != 10<<20 {
		t.Fatalf("reservation %d, want the budget", got)
	}
}

// TestIdleWaitShortensWhenTheBudgetIsShared: an idle partition's fetch waits the full
// FetchMaxWait while the budget holds a reservation for every partition, and less, in
// proportion, when it does not (never under 10 ms).
func TestIdleWaitShortensWhenTheBudgetIsShared(t *testing.T) {
	b := newBudget(12 << 20)
	b.fetchers.Store(6)
	if got := b.idleWait(250*time.Millisecond, 1<<20); got != 250*time.Millisecond {
		t.Errorf("6 partitions in 12 MiB: %v, want 250ms", got)
	}
	b.fetchers.Store(128)
	if got := b.idleWait(250*time.Millisecond, 1<<20); got != 23437500*time.Nanosecond {
		t.Errorf("128 partitions in 12 MiB: %v, want 250ms x 12/128", got)
	}
	b.fetchers.Store(100000)
	if got := b.idleWait(250*time.Millisecond, 1<<20); got != 10*time.Millisecond {
		t.Errorf("100000 partitions: %v, want the 10ms floor", got)
	}
}
