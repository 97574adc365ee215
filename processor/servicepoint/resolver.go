package servicepoint

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/sync/singleflight"

	"github.com/ordergate/ordergate/internal/foundation/tracing"
	"github.com/ordergate/ordergate/processor/order"
)

// Resolver answers the service-point lookups of a batch from Redis, asking the Inventory for
// what Redis does not hold and writing the answers back (cache-aside, Redis always in the
// path). It is safe for concurrent use: the batches of every partition share one Resolver,
// so that they share its in-flight inventory calls and its concurrency bound.
type Resolver struct {
	rdb     redis.UniversalClient
	inv     Inventory
	opts    Options
	obs     Observer
	sem     chan struct{}
	flight  singleflight.Group
	landing *landing
	log     *slog.Logger
	warned  onceSet

	roundTrips, redisErrors, calls, hits, misses, corrupt, shared, stale atomic.Int64
}

// NewResolver returns a resolver reading through rdb (a client built by the caller, with
// ContextTimeoutEnabled: see NewRedisClient) in front of inv. It panics if either is nil.
func NewResolver(rdb redis.UniversalClient, inv Inventory, opts Options) *Resolver {
	if rdb == nil || inv == nil {
		panic("servicepoint: NewResolver needs a Redis client and an Inventory")
	}
	opts = opts.withDefaults()
	return &Resolver{
		rdb: rdb, inv: inv, opts: opts, obs: opts.Observer, log: opts.Logger,
		sem:     make(chan struct{}, opts.Concurrency),
		landing: newLanding(opts.TTL, opts.NegativeTTL),
	}
}

// Key returns the Redis key of a lookup under this resolver's prefix (see Key).
func (r *Resolver) Key(l order.Lookup) string { return Key(r.opts.KeyPrefix, l) }

// Stats returns a snapshot of the counters.
func (r *Resolver) Stats() Stats {
	return Stats{
		RedisRoundTrips: r.roundTrips.Load(), RedisErrors: r.redisErrors.Load(),
		InventoryCalls: r.calls.Load(), CacheHits: r.hits.Load(), CacheMisses: r.misses.Load(),
		CorruptEntries: r.corrupt.Load(), Shared: r.shared.Load(), StaleServed: r.stale.Load(),
	}
}

// Resolve returns, for each lookup, the service points that match it (matches[i] answers
// lookups[i]; an empty list means none). It costs one Redis round trip to read every
// distinct key of the batch (a pipeline of bounded reads: one exchange per node on a
// cluster), then, only if some are missing, one inventory call per missing key, at most
// Options.Concurrency at once and shared with every concurrent batch that misses the same
// key, and one round trip to write the answers back (a pipeline of SET with the positive or
// the negative TTL).
//
// A cache entry that cannot be the answer to its key (not an entry, larger than
// MaxEntryBytes, a service point of another key, a duplicate) counts as a miss, is logged
// once with its key, and is overwritten by the inventory's answer. A failed write-back does
// not fail the batch: its answers are right, and the failure (Observer.CacheError with
// OpWrite) only costs a later miss.
//
// On a Redis or inventory failure Resolve returns a *TransientError and no answer at all,
// never an empty list in place of one: the caller retries the batch. There is one
// exception, when Options.StaleFor is set: a key whose inventory call failed but whose
// positive entry expired less than StaleFor ago is answered from that entry, each service
// point marked Stale. Answers obtained before the failure are written back, so the retry
// asks the inventory only for what failed. A lookup with an unknown criterion or an empty
// value fails the batch with ErrInvalidLookup.
//
// Lookups for the same key share one answer slice: callers must treat the answers as
// read-only.
//
// When ctx carries the spans of the lookups' records (tracing.WithLookupSpans), the Redis
// read becomes a child span of each, and each inventory call a child of the first record
// that asked for its key (the HTTP inventory propagates it).
func (r *Resolver) Resolve(ctx context.Context, lookups []order.Lookup) ([][]order.ServicePoint, error) {
	if len(lookups) == 0 {
		return [][]order.ServicePoint{}, nil
	}
	unique, slot, err := dedupe(lookups)
	if err != nil {
		return nil, err
	}
	keys := buildKeys(r.opts.KeyPrefix, unique)
	spans := tracing.LookupSpans(ctx)
	var start time.Time
	if spans != nil {
		start = time.Now()
	}
	answers, stale, missing, err := r.read(ctx, keys, unique, r.opts.Now())
	if spans != nil {
		traceRead(spans, slot, missing, len(keys), start, time.Now(), err)
	}
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		var parents []trace.Span
		if spans != nil {
			parents = inventoryParents(spans, slot, len(unique))
		}
		if err := r.fill(ctx, unique, keys, missing, answers, stale, parents); err != nil {
			return nil, err
		}
	}
	out := make([][]order.ServicePoint, len(lookups))
	for i, s := range slot {
		out[i] = answers[s]
	}
	return out, nil
}

// indexes recycles the maps of dedupe: a batch of 1000 distinct lookups would otherwise
// allocate a fresh map of 1000 entries each time.
var indexes = sync.Pool{New: func() any { return make(map[order.Lookup]int) }}

// dedupe returns the distinct lookups in order of first appearance, and for each lookup the
// index of its distinct lookup. It rejects invalid lookups.
func dedupe(lookups []order.Lookup) (unique []order.Lookup, slot []int, err error) {
	index := indexes.Get().(map[order.Lookup]int)
	defer func() {
		clear(index)
		indexes.Put(index)
	}()
	slot = make([]int, len(lookups))
	unique = make([]order.Lookup, 0, len(lookups))
	for i, l := range lookups {
		s, ok := index[l]
		if !ok {
			if err := checkLookup(l); err != nil {
				return nil, nil, fmt.Errorf("lookup %d: %w", i, err)
			}
			s = len(unique)
			index[l] = s
			unique = append(unique, l)
		}
		slot[i] = s
	}
	return unique, slot, nil
}
