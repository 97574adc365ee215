package consumer

import (
	"context"
	"sync"
	"time"
)

// Lifecycle says when a consumer stops. A stop has two steps, so that it loses no work and
// still ends in bounded time:
//
//  1. when Stop ends, partitions fetch no new batch; the batches in hand are still
//     decided, published and committed;
//  2. when Abandon ends, the batches still in hand (a step in retries) are abandoned
//     without a commit: their records will be consumed again.
//
// Each partition lives by the consumer's lifecycle cut short by its generation: when the
// partition is revoked it stops fetching and abandons at once, since its offsets can no
// longer be committed.
type Lifecycle struct {
	// Stop ends when the consumer must stop fetching and finish what it holds.
	Stop context.Context
	// Abandon ends when what the consumer still holds must be abandoned (the shutdown
	// deadline). It should end no earlier than Stop.
	Abandon context.Context
}

// Graceful returns the lifecycle of a stop asked through ctx, bounded by timeout: Stop is
// ctx, and Abandon ends timeout after ctx ends. release stops the timer and ends Abandon;
// call it once the consumer returned.
func Graceful(ctx context.Context, timeout time.Duration) (l Lifecycle, release func()) {
	abandon, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var mu sync.Mutex
	var deadline *time.Timer
	released := false
	stopWatch := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if !released {
			deadline = time.AfterFunc(timeout, cancel)
		}
	})
	return Lifecycle{Stop: ctx, Abandon: abandon}, func() {
		stopWatch()
		mu.Lock()
		released = true
		if deadline != nil {
			deadline.Stop()
		}
		mu.Unlock()
		cancel()
	}
}

// partitionLife is the lifecycle of one partition of a generation.
type partitionLife struct {
	// fetch ends when the partition must stop fetching: the consumer stops, or the
	// generation ended (the partition was revoked).
	fetch context.Context
	// work ends when the partition must abandon the batch in hand: the consumer's
	// deadline, or the generation's end.
	work     context.Context
	consumer Lifecycle
	release  func()
}

// within returns the lifecycle of a partition of the generation whose context is gen;
// release frees it.
func (l Lifecycle) within(gen context.Context) partitionLife {
	fetch, stopFetch := mergeCancel(l.Stop, gen)
	work, stopWork := mergeCancel(l.Abandon, gen)
	return partitionLife{fetch: fetch, work: work, consumer: l, release: func() { stopFetch(); stopWork() }}
}

// deadlinePassed reports whether the consumer's shutdown deadline, rather than a
// revocation, ended the work in hand.
func (pl partitionLife) deadlinePassed() bool { return pl.consumer.Abandon.Err() != nil }

// mergeCancel returns a context that ends when parent or other ends; cancel releases it.
func mergeCancel(parent, other context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	stop := context.AfterFunc(other, cancel)
	return ctx, func() { stop(); cancel() }
}
