package servicepoint

import (
	"context"
	"errors"

	"github.com/ordergate/ordergate/processor/order"
)

// errMGETLength reports an MGET answer that does not match the keys asked.
var errMGETLength = errors.New("MGET answered a different number of values than keys were asked")

// read fetches keys in one round trip (MGET) and returns the answers found, with the
// indexes of the keys missing or corrupt.
func (r *Resolver) read(ctx context.Context, keys []string) (answers [][]order.ServicePoint, missing []int, err error) {
	ctx, cancel := r.redisContext(ctx)
	defer cancel()
	r.roundTrip()
	values, err := r.rdb.MGet(ctx, keys...).Result()
	if err == nil && len(values) != len(keys) {
		err = errMGETLength
	}
	if err != nil {
		r.redisError()
		return nil, nil, transient(CauseRedis, "read %d keys: %w", len(keys), err)
	}
	answers = make([][]order.ServicePoint, len(keys))
	for i, v := range values {
		s, ok := v.(string)
		if !ok { // nil: absent or expired
			missing = append(missing, i)
			continue
		}
		if answers[i], ok = decodeEntry(s); !ok {
			r.corrupt.Add(1)
			missing = append(missing, i)
		}
	}
	hits := len(keys) - len(missing)
	r.hits.Add(int64(hits))
	r.misses.Add(int64(len(missing)))
	if hits > 0 {
		r.obs.CacheHits(hits)
	}
	if len(missing) > 0 {
		r.obs.CacheMisses(len(missing))
	}
	return answers, missing, nil
}

// writeBack caches answers in one round trip (a pipeline of SET): the positive TTL for a
// list of matches, the negative TTL for an empty one. A failure is counted, not returned.
func (r *Resolver) writeBack(ctx context.Context, keys []string, answers [][]order.ServicePoint) {
	if len(keys) == 0 {
		return
	}
	ctx, cancel := r.redisContext(ctx)
	defer cancel()
	pipe := r.rdb.Pipeline()
	for i, key := range keys {
		data, err := encodeEntry(answers[i])
		if err != nil { // cannot happen for a struct of strings; do not cache what cannot be read
			continue
		}
		ttl := r.opts.TTL
		if len(answers[i]) == 0 {
			ttl = r.opts.NegativeTTL
		}
		pipe.Set(ctx, key, data, ttl)
	}
	r.roundTrip()
	if _, err := pipe.Exec(ctx); err != nil {
		r.redisError()
	}
}

// redisContext bounds one round trip by Options.RedisTimeout, when set.
func (r *Resolver) redisContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if r.opts.RedisTimeout > 0 {
		return context.WithTimeout(ctx, r.opts.RedisTimeout)
	}
	return ctx, func() {}
}

func (r *Resolver) roundTrip() {
	r.roundTrips.Add(1)
	r.obs.RedisRoundTrip()
}

func (r *Resolver) redisError() {
	r.redisErrors.Add(1)
	r.obs.CacheError()
}
