package consumer

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/ordergate/ordergate/internal/foundation/retry"
)

// commitFunc commits offsets (partition -> the offset of the next record to read) in one
// request; kafka-go's Generation.CommitOffsets in production.
type commitFunc func(offsets map[int]int64) error

// commitError is a failed offset commit.
type commitError struct{ err error }

func (e commitError) Error() string { return "offset commit: " + e.err.Error() }
func (e commitError) Unwrap() error { return e.err }
func (e commitError) Cause() string { return retry.CauseKafkaCommit }

// committer commits the offsets of a generation's partitions from one goroutine:
// partitions mark the batches whose events are acknowledged and go on, and the committer
// sends everything committable in one OffsetCommit request, one request in flight at a
// time. Commits from several goroutines on kafka-go's coordinator connection would spin on
// each other's responses, and a commit per batch would hold each partition for a round trip.
//
// A partition's committable offset is the end of its contiguous acknowledged range: a
// batch marked before an earlier one is held back until the earlier one is marked, so that
// a commit never skips records still in flight (kafka-go keeps only the highest offset per
// partition, issue 202).
type committer struct {
	cfg    *Config
	commit commitFunc
	wake   chan struct{}

	mu      sync.Mutex
	changed *sync.Cond
	parts   map[int]*commitState
}

// commitState is what the committer knows of one partition.
type commitState struct {
	// next is the end of the contiguous acknowledged range: every record before it has
	// its event acknowledged.
	next int64
	// committed is the last offset committed (or at registration); -1 when none.
	committed int64
	// ready counts the records before next not committed yet (in flight).
	ready int
	// ahead holds the acknowledged batches after a gap, by first offset.
	ahead map[int64]span
	// lag is kept up to date with committed, for the lag measurement.
	lag *atomic.Int64
}

// span is an acknowledged batch: the records [from, to) of a partition, count of them.
type span struct {
	to      int64
	records int
}

func newCommitter(cfg *Config, commit commitFunc) *committer {
	k := &committer{cfg: cfg, commit: commit, wake: make(chan struct{}, 1), parts: map[int]*commitState{}}
	k.changed = sync.NewCond(&k.mu)
	return k
}

// register starts tracking partition p, whose records before from are committed or need no
// commit (from is the committed offset at assignment, or the first record a new group
// reads); committed, when not nil, follows every commit.
func (k *committer) register(p int, from int64, committed *atomic.Int64) {
	k.mu.Lock()
	k.parts[p] = &commitState{next: from, committed: from, ahead: map[int64]span{}, lag: committed}
	k.mu.Unlock()
}

// forget stops tracking a partition that stops: its uncommitted records leave the in-flight
// count (they will be consumed again).
func (k *committer) forget(p int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	s := k.parts[p]
	if s == nil {
		return
	}
	n := s.ready
	for _, sp := range s.ahead {
		n += sp.records
	}
	if n > 0 {
		k.cfg.Observer.InFlight(-n)
	}
	delete(k.parts, p)
	k.changed.Broadcast()
}

// mark records that every record of partition p in [from, to) has its event acknowledged;
// records is how many records that batch held (released from the in-flight count once
// committed). Batches may be marked in any order.
func (k *committer) mark(p int, from, to int64, records int) {
	k.mu.Lock()
	if s := k.parts[p]; s != nil {
		if from > s.next {
			s.ahead[from] = span{to: to, records: records}
		} else {
			s.extend(to, records)
			for {
				sp, ok := s.ahead[s.next]
				if !ok {
					break
				}
				delete(s.ahead, s.next)
				s.extend(sp.to, sp.records)
			}
		}
	}
	k.mu.Unlock()
	k.poke()
}

func (s *commitState) extend(to int64, records int) {
	s.next = max(s.next, to)
	s.ready += records
}

// poke wakes the committer's goroutine without waiting.
func (k *committer) poke() {
	select {
	case k.wake <- struct{}{}:
	default:
	}
}

// run commits what is committable until ctx ends, retrying failed commits with the
// consumer's backoff; it makes a last attempt at the end.
func (k *committer) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			_ = k.commitOnce()
			return
		case <-k.wake:
		}
		_, _ = k.cfg.retryStep(ctx, k.cfg.Health, "commit", "offset commit failed, retrying", func(context.Context) error { return k.commitOnce() })
	}
}

// commitOnce commits, in one request, every partition's contiguous acknowledged range not
// committed yet.
func (k *committer) commitOnce() error {
	k.mu.Lock()
	offsets := map[int]int64{}
	records := map[int]int{}
	for p, s := range k.parts {
		if s.next != s.committed {
			offsets[p], records[p] = s.next, s.ready
		}
	}
	k.mu.Unlock()
	if len(offsets) == 0 {
		return nil
	}
	if err := k.commit(offsets); err != nil {
		return commitError{err}
	}
	k.mu.Lock()
	for p, off := range offsets {
		s := k.parts[p]
		if s == nil {
			continue // forgotten meanwhile: its records left the in-flight count then
		}
		s.committed = off
		s.ready -= records[p]
		k.cfg.Observer.Committed(p, off)
		k.cfg.Observer.InFlight(-records[p])
		if s.lag != nil {
			s.lag.Store(off)
		}
	}
	k.changed.Broadcast()
	k.mu.Unlock()
	return nil
}

// flush waits until the contiguous acknowledged range of partition p is committed, or ctx
// ends; it reports whether it was.
func (k *committer) flush(ctx context.Context, p int) bool {
	stop := context.AfterFunc(ctx, func() {
		k.mu.Lock()
		k.changed.Broadcast()
		k.mu.Unlock()
	})
	defer stop()
	k.poke()
	k.mu.Lock()
	defer k.mu.Unlock()
	for {
		s := k.parts[p]
		if s == nil || s.next == s.committed {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		k.changed.Wait()
	}
}
