package consumer

import (
	"context"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ordergate/ordergate/internal/foundation/retry"
)

// committer commits the offsets of a generation's partitions from one goroutine: partitions
// mark the offset after their last acknowledged batch and go on, and the committer sends
// everything marked in one OffsetCommit request, one request in flight at a time. Commits
// from several goroutines on kafka-go's coordinator connection would spin on each other's
// responses, and a commit per batch would hold each partition for a round trip.
type committer struct {
	c     *Consumer
	gen   *kafka.Generation
	topic string

	mu        sync.Mutex
	marked    map[int]int64 // offsets to commit
	committed map[int]int64 // offsets committed
	records   map[int]int   // records of marked, uncommitted batches (in flight)
	parts     map[int]*partition
	wake      chan struct{}
	changed   *sync.Cond
}

func newCommitter(c *Consumer, gen *kafka.Generation, topic string) *committer {
	k := &committer{c: c, gen: gen, topic: topic, marked: map[int]int64{}, committed: map[int]int64{},
		records: map[int]int{}, parts: map[int]*partition{}, wake: make(chan struct{}, 1)}
	k.changed = sync.NewCond(&k.mu)
	return k
}

// register makes the committer keep p.committed up to date (for the lag).
func (k *committer) register(p *partition) {
	k.mu.Lock()
	k.parts[p.id] = p
	if p.start >= 0 {
		k.marked[p.id], k.committed[p.id] = p.start, p.start
	}
	k.mu.Unlock()
}

// forget releases a partition that stops: its uncommitted records leave the in-flight count
// (they will be consumed again).
func (k *committer) forget(p int) {
	k.mu.Lock()
	if n := k.records[p]; n > 0 {
		k.c.cfg.Observer.InFlight(-n)
	}
	delete(k.records, p)
	delete(k.parts, p)
	k.mu.Unlock()
}

// mark records that every record of partition p before offset next has its event
// acknowledged; records is how many records that batch held (released from the in-flight
// count once committed).
func (k *committer) mark(p int, next int64, records int) {
	k.mu.Lock()
	k.marked[p] = next
	k.records[p] += records
	k.mu.Unlock()
	select {
	case k.wake <- struct{}{}:
	default:
	}
}

// run commits what is marked until ctx ends, retrying failed commits with the consumer's
// backoff; it makes a last attempt at the end.
func (k *committer) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			k.commitOnce()
			return
		case <-k.wake:
		}
		policy := k.c.cfg.Retry
		policy.OnRetry = func(err error, attempt int, since time.Time) {
			k.c.cfg.Observer.Retry(retry.CauseKafkaCommit)
			k.c.cfg.Health.Retrying("commit", since)
			if attempt == 1 || attempt%10 == 0 {
				k.c.cfg.Logger.Warn("offset commit failed, retrying", "attempt", attempt, "err", err)
			}
		}
		_ = policy.Do(ctx, func(context.Context) error { return k.commitOnce() })
		k.c.cfg.Health.Recovered("commit")
	}
}

// commitOnce commits everything marked and not committed yet.
func (k *committer) commitOnce() error {
	k.mu.Lock()
	offsets := map[int]int64{}
	records := map[int]int{}
	for p, off := range k.marked {
		if off != k.committed[p] {
			offsets[p] = off
			records[p] = k.records[p]
		}
	}
	k.mu.Unlock()
	if len(offsets) == 0 {
		return nil
	}
	if err := k.gen.CommitOffsets(map[string]map[int]int64{k.topic: offsets}); err != nil {
		return commitError{err}
	}
	k.mu.Lock()
	for p, off := range offsets {
		k.committed[p] = off
		k.records[p] -= records[p]
		k.c.cfg.Observer.Committed(p, off)
		k.c.cfg.Observer.InFlight(-records[p])
		if pp := k.parts[p]; pp != nil {
			pp.committed.Store(off)
		}
	}
	k.changed.Broadcast()
	k.mu.Unlock()
	return nil
}

// flush waits until the offsets marked for partition p are committed, or ctx ends; it
// reports whether they were.
func (k *committer) flush(ctx context.Context, p int) bool {
	stop := context.AfterFunc(ctx, func() {
		k.mu.Lock()
		k.changed.Broadcast()
		k.mu.Unlock()
	})
	defer stop()
	select {
	case k.wake <- struct{}{}:
	default:
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for k.marked[p] != k.committed[p] {
		if ctx.Err() != nil {
			return false
		}
		k.changed.Wait()
	}
	return true
}
