package servicepoint

import (
	"sync"
	"time"

	"github.com/ordergate/ordergate/processor/order"
)

// landingWindow is how long an inventory answer stays in a resolver's memory after it
// arrived, at most (never longer than its own TTL).
const landingWindow = 5 * time.Second

// landing holds the inventory answers a resolver has just received, for the batches that
// read Redis between the moment an answer arrived and the moment its batch wrote it back.
// singleflight alone shares a call only while it is in flight; without this, such a batch
// would miss in Redis and ask the inventory again for the same key. The window covers the
// wait of a batch for its slowest key (up to the inventory timeout) before its write-back.
//
// It is not a cache in front of Redis: it is read only for keys Redis has just reported
// missing, and an entry lives no longer than landingWindow nor than its own TTL, so an
// answer is never served longer than Redis would have served it.
type landing struct {
	pos, neg time.Duration // how long a positive and a negative answer stay

	mu      sync.Mutex
	entries map[string]landed
	sweepAt time.Time
}

type landed struct {
	matches []order.ServicePoint
	until   time.Time
}

func newLanding(ttl, negativeTTL time.Duration) *landing {
	return &landing{pos: min(ttl, landingWindow), neg: min(negativeTTL, landingWindow), entries: map[string]landed{}}
}

// get returns the answer that arrived for key within its window.
func (l *landing) get(key string, now time.Time) ([]order.ServicePoint, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.entries[key]
	if !ok || !now.Before(e.until) {
		return nil, false
	}
	return e.matches, true
}

// put records an answer that has just arrived, and forgets the expired ones from time to
// time, so that the map holds about one window of answers.
func (l *landing) put(key string, matches []order.ServicePoint, now time.Time) {
	window := l.pos
	if len(matches) == 0 {
		window = l.neg
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries[key] = landed{matches: matches, until: now.Add(window)}
	if now.After(l.sweepAt) {
		for k, e := range l.entries {
			if !now.Before(e.until) {
				delete(l.entries, k)
			}
		}
		l.sweepAt = now.Add(landingWindow)
	}
}
