package servicepoint

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"

	"github.com/ordergate/ordergate/order"
)

// Observer receives the resolver's measurements (the metrics package feeds Prometheus from
// it). Implementations must be cheap and safe for concurrent use.
type Observer interface {
	CacheHits(n int)
	CacheMisses(n int)
	CacheError()
	RedisRoundTrip()
	InventoryCall(result string, d time.Duration)
}

// Options configure a Resolver.
type Options struct {
	// KeyPrefix starts every Redis key (ORDERGATE_REDIS_KEY_PREFIX, default "ordergate:").
	KeyPrefix string
	// TTL is how long a lookup that found service points stays cached (default 10m).
	TTL time.Duration
	// NegativeTTL is how long a lookup that found nothing stays cached (default 30s).
	NegativeTTL time.Duration
	// Concurrency bounds the inventory calls in flight (default 16).
	Concurrency int
	// Observer receives measurements (optional).
	Observer Observer
}

// Stats counts what a resolver did since it was created.
type Stats struct {
	RedisRoundTrips int64
	InventoryCalls  int64
	CacheHits       int64
	CacheMisses     int64
}

// Resolver is the Redis cache in front of an Inventory. It is safe for concurrent use.
type Resolver struct {
	rdb    redis.UniversalClient
	inv    Inventory
	opts   Options
	sem    chan struct{}
	flight singleflight.Group

	roundTrips, calls, hits, misses atomic.Int64
}

// NewRedisClient returns a go-redis client that honours its callers' deadlines: without
// ContextTimeoutEnabled, a frozen Redis blocks each call for the full read timeout
// whatever the context says.
func NewRedisClient(opts *redis.Options) redis.UniversalClient {
	o := *opts
	o.ContextTimeoutEnabled = true
	return redis.NewClient(&o)
}

// NewResolver returns a resolver reading through rdb in front of inv.
func NewResolver(rdb redis.UniversalClient, inv Inventory, opts Options) *Resolver {
	if opts.TTL <= 0 {
		opts.TTL = 10 * time.Minute
	}
	if opts.NegativeTTL <= 0 {
		opts.NegativeTTL = 30 * time.Second
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 16
	}
	if opts.Observer == nil {
		opts.Observer = nopObserver{}
	}
	return &Resolver{rdb: rdb, inv: inv, opts: opts, sem: make(chan struct{}, opts.Concurrency)}
}

// Key returns the Redis key of a lookup: {prefix}sp:{criterion}:{value}. The criterion is
// one of three fixed names without a colon, so keys of different criteria never collide,
// whatever the value holds.
func (r *Resolver) Key(l order.Lookup) string {
	return r.opts.KeyPrefix + "sp:" + string(l.Criterion) + ":" + l.Value
}

// Stats returns the counters.
func (r *Resolver) Stats() Stats {
	return Stats{RedisRoundTrips: r.roundTrips.Load(), InventoryCalls: r.calls.Load(),
		CacheHits: r.hits.Load(), CacheMisses: r.misses.Load()}
}

// fetched is one inventory answer to write back to Redis.
type fetched struct {
	key     string
	matches []order.ServicePoint
}

// Resolve returns, for each lookup, the service points that match it. A corrupt cache entry
// (not a JSON list of service points) is treated as a miss and overwritten. On a Redis or
// inventory failure it returns a *TransientError and no result: the caller retries.
func (r *Resolver) Resolve(ctx context.Context, lookups []order.Lookup) ([][]order.ServicePoint, error) {
	if len(lookups) == 0 {
		return nil, nil
	}
	// One key per distinct lookup.
	slot := make(map[order.Lookup]int, len(lookups))
	var unique []order.Lookup
	for _, l := range lookups {
		if _, ok := slot[l]; !ok {
			slot[l] = len(unique)
			unique = append(unique, l)
		}
	}
	keys := make([]string, len(unique))
	for i, l := range unique {
		keys[i] = r.Key(l)
	}
	r.roundTrip()
	values, err := r.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		r.opts.Observer.CacheError()
		return nil, transient(CauseRedis, "read %d keys: %v", len(keys), err)
	}
	answers := make([][]order.ServicePoint, len(unique))
	var missing []int
	for i, v := range values {
		s, ok := v.(string)
		if ok && json.Unmarshal([]byte(s), &answers[i]) == nil && answers[i] != nil {
			continue
		}
		answers[i] = nil
		missing = append(missing, i)
	}
	hits := len(unique) - len(missing)
	r.hits.Add(int64(hits))
	r.misses.Add(int64(len(missing)))
	if hits > 0 {
		r.opts.Observer.CacheHits(hits)
	}
	if len(missing) > 0 {
		r.opts.Observer.CacheMisses(len(missing))
		if err := r.fill(ctx, unique, keys, missing, answers); err != nil {
			return nil, err
		}
	}
	out := make([][]order.ServicePoint, len(lookups))
	for i, l := range lookups {
		out[i] = answers[slot[l]]
	}
	return out, nil
}

// fill asks the inventory for the missing keys, concurrently, and writes the answers back in
// one pipeline. Answers obtained before a failure are written back too, so a retry of the
// batch asks the inventory only for what failed.
func (r *Resolver) fill(ctx context.Context, unique []order.Lookup, keys []string, missing []int, answers [][]order.ServicePoint) error {
	var wg sync.WaitGroup
	errs := make([]error, len(missing))
	for j, i := range missing {
		wg.Go(func() {
			v, err, _ := r.flight.Do(keys[i], func() (any, error) { return r.call(ctx, unique[i]) })
			if err != nil {
				errs[j] = err
				return
			}
			answers[i] = v.([]order.ServicePoint)
		})
	}
	wg.Wait()
	var first error
	var toWrite []fetched
	for j, i := range missing {
		if errs[j] != nil {
			if first == nil {
				first = errs[j]
			}
			continue
		}
		toWrite = append(toWrite, fetched{key: keys[i], matches: answers[i]})
	}
	r.writeBack(ctx, toWrite)
	return first
}

// call asks the inventory, within the concurrency bound.
func (r *Resolver) call(ctx context.Context, l order.Lookup) ([]order.ServicePoint, error) {
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, transient(CauseInventoryUnavailable, "waiting for an inventory slot: %v", ctx.Err())
	}
	defer func() { <-r.sem }()
	start := time.Now()
	matches, err := r.inv.Find(ctx, l)
	r.calls.Add(1)
	switch {
	case err != nil:
		r.opts.Observer.InventoryCall(resultOf(err), time.Since(start))
		if _, ok := err.(*TransientError); !ok {
			err = transient(CauseInventoryUnavailable, "%v", err)
		}
		return nil, err
	case len(matches) == 0:
		r.opts.Observer.InventoryCall(ResultNotFound, time.Since(start))
		return []order.ServicePoint{}, nil
	}
	r.opts.Observer.InventoryCall(ResultOK, time.Since(start))
	return matches, nil
}

// writeBack caches the answers in one pipeline: the positive TTL for a list of matches, the
// negative TTL for an empty one. A failure only costs a later miss, so it is counted, not
// returned.
func (r *Resolver) writeBack(ctx context.Context, answers []fetched) {
	if len(answers) == 0 {
		return
	}
	pipe := r.rdb.Pipeline()
	for _, a := range answers {
		data, err := json.Marshal(a.matches)
		if err != nil {
			continue
		}
		ttl := r.opts.TTL
		if len(a.matches) == 0 {
			ttl = r.opts.NegativeTTL
		}
		pipe.Set(ctx, a.key, data, ttl)
	}
	r.roundTrip()
	if _, err := pipe.Exec(ctx); err != nil {
		r.opts.Observer.CacheError()
	}
}

func (r *Resolver) roundTrip() {
	r.roundTrips.Add(1)
	r.opts.Observer.RedisRoundTrip()
}

type nopObserver struct{}

func (nopObserver) CacheHits(int)                       {}
func (nopObserver) CacheMisses(int)                     {}
func (nopObserver) CacheError()                         {}
func (nopObserver) RedisRoundTrip()                     {}
func (nopObserver) InventoryCall(string, time.Duration) {}
