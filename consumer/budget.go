package consumer

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// budget is a count of bytes shared by the partitions of a consumer: a fetch takes its
// bytes before it is sent and gives them back once its records are done, so that what was
// fetched and not yet done stays under the budget's size whatever the number of
// partitions or the size of the records.
//
// Waiters are served in arrival order (a large request is not starved by small ones), and
// a request larger than the whole budget waits until the budget is empty, then passes
// alone. force takes bytes already received without waiting (a fetch answered with more
// than it asked for): the count may then exceed the size until they are given back, and
// every acquire waits meanwhile.
type budget struct {
	size int64
	// largest is the most bytes one fetch has held: once a record batch larger than a
	// fetch's limit was seen, every fetch reserves that much before it is sent, so that
	// such batches arriving on many partitions at once still stay within the budget.
	largest atomic.Int64
	// fetchers counts the partitions fetching with this budget (see idleWait).
	fetchers atomic.Int64

	mu      sync.Mutex
	used    int64
	waiters []*budgetWaiter
}

type budgetWaiter struct {
	n     int64
	ready chan struct{} // closed once the bytes are granted
}

func newBudget(size int64) *budget { return &budget{size: size} }

// acquire takes n bytes, waiting until they fit (n larger than the budget fits once the
// budget is empty). It returns ctx's error, with nothing taken, when ctx ends first.
func (b *budget) acquire(ctx context.Context, n int64) error {
	b.mu.Lock()
	if len(b.waiters) == 0 && b.fits(n) {
		b.used += n
		b.mu.Unlock()
		return nil
	}
	w := &budgetWaiter{n: n, ready: make(chan struct{})}
	b.waiters = append(b.waiters, w)
	b.mu.Unlock()
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		b.mu.Lock()
		select {
		case <-w.ready: // granted meanwhile: give it back
			b.used -= n
		default:
			for i, x := range b.waiters {
				if x == w {
					b.waiters = append(b.waiters[:i], b.waiters[i+1:]...)
					break
				}
			}
		}
		b.grant()
		b.mu.Unlock()
		return ctx.Err()
	}
}

// fits reports whether n bytes can be taken now. Called with mu held.
func (b *budget) fits(n int64) bool {
	return b.used+n <= b.size || b.used == 0
}

// force takes n bytes without waiting.
func (b *budget) force(n int64) {
	if n <= 0 {
		return
	}
	b.mu.Lock()
	b.used += n
	b.mu.Unlock()
}

// release gives n bytes back and wakes the waiters that fit now.
func (b *budget) release(n int64) {
	if n <= 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	b.grant()
	b.mu.Unlock()
}

// grant serves the waiters in order while the first one fits. Called with mu held.
func (b *budget) grant() {
	for len(b.waiters) > 0 && b.fits(b.waiters[0].n) {
		w := b.waiters[0]
		b.waiters = b.waiters[1:]
		b.used += w.n
		close(w.ready)
	}
}

// reservation returns what a fetch whose limit is maxBytes takes before it is sent:
// maxBytes, or the largest fetch seen when larger, and never more than the budget.
func (b *budget) reservation(maxBytes int64) int64 {
	return min(max(maxBytes, b.largest.Load()), b.size)
}

// seen records that one fetch held n bytes.
func (b *budget) seen(n int64) {
	for {
		l := b.largest.Load()
		if n <= l || b.largest.CompareAndSwap(l, n) {
			return
		}
	}
}

// idleWait is how long the broker may hold the fetch of a partition that had no new
// record: maxWait, shortened when the budget cannot hold a reservation for every
// partition at once (reservations of want bytes), in the ratio of what it holds, but not
// under minIdleWait. An idle partition's fetch holds its reservation while it waits: with
// many partitions and a small budget, long waits would make the partitions that have
// records queue behind the idle ones.
func (b *budget) idleWait(maxWait time.Duration, want int64) time.Duration {
	need := b.fetchers.Load() * want
	if need <= b.size || need <= 0 {
		return maxWait
	}
	return max(time.Duration(float64(maxWait)*float64(b.size)/float64(need)), min(maxWait, minIdleWait))
}

// minIdleWait is the shortest wait of an idle partition's fetch (see idleWait).
const minIdleWait = 10 * time.Millisecond

// inUse returns the bytes taken now.
func (b *budget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}
