package servicepoint

import (
	"context"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ordergate/ordergate/processor/order"
)

// rangeStart and rangeEnd are the bounds of GETRANGE, boxed once rather than per key.
var rangeStart, rangeEnd any = int64(0), int64(MaxEntryBytes)

// read fetches keys in one round trip and returns the fresh answers found, the indexes of
// the keys missing (absent, expired or corrupt), and for each expired positive entry still
// within Options.StaleFor its matches (stale[i], nil otherwise), to answer with if the
// inventory fails.
//
// The round trip is a pipeline of GETRANGE key 0 MaxEntryBytes, one per key, never an MGET:
// a value is never read whole (a huge value under one key would make every read of it
// time out), and no command spans two keys, so on a Redis Cluster go-redis sends one
// pipeline per node holding some of the keys (and follows MOVED and ASK), at once. A key
// that Redis lacks and a key holding "" both read as ""; neither can be an entry.
func (r *Resolver) read(ctx context.Context, keys []string, lookups []order.Lookup, now time.Time) (answers, stale [][]order.ServicePoint, missing []int, err error) {
	rctx, cancel := r.redisContext(ctx)
	defer cancel()
	r.roundTrip()
	pipe := r.rdb.Pipeline()
	// The commands and their arguments each in one array (a variadic call keeps the slice
	// it is given): two allocations per batch instead of two per key.
	cmds := make([]redis.StringCmd, len(keys))
	args := make([]any, 4*len(keys))
	for i, key := range keys {
		a := args[4*i : 4*i+4 : 4*i+4]
		a[0], a[1], a[2], a[3] = "getrange", key, rangeStart, rangeEnd
		cmds[i] = *redis.NewStringCmd(rctx, a...)
		_ = pipe.Process(rctx, &cmds[i])
	}
	_, _ = pipe.Exec(rctx) // each command carries its own error
	answers = make([][]order.ServicePoint, len(keys))
	corrupt := make([]string, len(keys))
	for i := range cmds {
		cmd := &cmds[i]
		if err := cmd.Err(); err != nil {
			if redis.HasErrorPrefix(err, "WRONGTYPE") {
				corrupt[i] = CorruptWrongType
				continue
			}
			r.redisError(OpRead)
			return nil, nil, nil, transient(CauseRedis, "read key %q (one of %d): %w", keys[i], len(keys), err)
		}
	}
	for i := range cmds {
		cmd := &cmds[i]
		if corrupt[i] != "" {
			missing = append(missing, i)
			continue
		}
		v := cmd.Val()
		if v == "" {
			missing = append(missing, i)
			continue
		}
		e, reason := decodeEntry(v, lookups[i])
		switch {
		case reason != "":
			corrupt[i] = reason
			missing = append(missing, i)
		case e.fresh(now):
			answers[i] = e.matches
		default:
			if len(e.matches) > 0 && now.Sub(e.freshUntil) < r.opts.StaleFor {
				if stale == nil {
					stale = make([][]order.ServicePoint, len(keys))
				}
				stale[i] = e.matches
			}
			missing = append(missing, i)
		}
	}
	for i, reason := range corrupt {
		if reason != "" {
			r.corruptEntry(keys[i], reason)
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
	return answers, stale, missing, nil
}

// writeBack caches answers in one round trip (a pipeline of SET, one per key, split by node
// on a cluster): a list of matches fresh for the positive TTL and kept for TTL + StaleFor,
// an empty one for the negative TTL. An answer too large for MaxEntryBytes is not cached
// (it would read back as corrupt). A failure is counted (OpWrite), not returned nor
// retried: the answers are right, and the keys only miss again.
func (r *Resolver) writeBack(ctx context.Context, keys []string, answers [][]order.ServicePoint, now time.Time) {
	if len(keys) == 0 {
		return
	}
	ctx, cancel := r.redisContext(ctx)
	defer cancel()
	pipe := r.rdb.Pipeline()
	queued := 0
	for i, key := range keys {
		fresh, keep := r.opts.TTL, r.opts.TTL+r.opts.StaleFor
		if len(answers[i]) == 0 {
			fresh, keep = r.opts.NegativeTTL, r.opts.NegativeTTL
		}
		data, err := encodeEntry(answers[i], now.Add(fresh))
		if err != nil || len(data) > MaxEntryBytes {
			r.warnOnce(key, "inventory answer not cached: larger than a cache entry may be", "matches", len(answers[i]), "max_bytes", MaxEntryBytes)
			continue
		}
		pipe.Set(ctx, key, data, keep)
		queued++
	}
	if queued == 0 {
		return
	}
	r.roundTrip()
	if _, err := pipe.Exec(ctx); err != nil {
		r.redisError(OpWrite)
	}
}

// corruptEntry counts a corrupt entry and logs it once with its key.
func (r *Resolver) corruptEntry(key, reason string) {
	r.corrupt.Add(1)
	r.obs.CacheCorrupt(reason)
	r.warnOnce(key, "corrupt cache entry read as a miss; the inventory's answer replaces it", "reason", reason)
}

// warnOnce logs msg about key at warn level the first time only (see onceSet).
func (r *Resolver) warnOnce(key, msg string, args ...any) {
	if r.warned.first(msg + "\x00" + key) {
		r.log.Warn(msg, append([]any{"key", key}, args...)...)
	}
}

// onceSet remembers the keys already logged, up to a bound after which it forgets them all
// (a flood of distinct corrupt keys then logs again, in bounded memory).
type onceSet struct {
	mu   sync.Mutex
	keys map[string]struct{}
}

const onceSetMax = 4096

func (s *onceSet) first(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[key]; ok {
		return false
	}
	if s.keys == nil || len(s.keys) >= onceSetMax {
		s.keys = make(map[string]struct{})
	}
	s.keys[key] = struct{}{}
	return true
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

func (r *Resolver) redisError(op string) {
	r.redisErrors.Add(1)
	r.obs.CacheError(op)
}
