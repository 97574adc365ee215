package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ordergate/ordergate/internal/foundation/retry"
	"github.com/ordergate/ordergate/processor/servicepoint"
)

// openRedis connects to Redis in the configured mode and waits until it can serve (see
// servicepoint.Redis.Probe); a refused password fails at once.
func (w *Worker) openRedis(ctx context.Context, given redis.UniversalClient) error {
	if given != nil {
		w.redis = servicepoint.WrapRedis(given, redisObserver{w.metrics})
	} else {
		opts, err := w.cfg.RedisUniversalOptions()
		if err != nil {
			return err
		}
		w.redis = servicepoint.OpenRedis(opts, redisObserver{w.metrics})
	}
	w.startup.setWaiting("waiting for Redis")
	var last error
	for attempt := 1; ; attempt++ {
		_, err := w.redis.Probe(ctx)
		if err == nil {
			return nil
		}
		if isRedisAuthError(err) {
			return fmt.Errorf("redis: authentication failed (check the user and password in ORDERGATE_REDIS_URL, and ORDERGATE_REDIS_SENTINEL_* for the sentinels): %v", err)
		}
		last = keepCause(ctx, last, err)
		if attempt == 1 {
			w.log.Warn("redis does not answer yet, waiting", "mode", w.redis.Mode(), "err", err)
		}
		w.startup.setWaiting("waiting for Redis (ORDERGATE_REDIS_URL): " + w.cfg.Scrub(err.Error()))
		if retry.Sleep(ctx, 500*time.Millisecond) != nil {
			return fmt.Errorf("redis (%s mode) does not answer (check ORDERGATE_REDIS_URL, ORDERGATE_REDIS_MODE and ORDERGATE_REDIS_ADDRS): %v", w.redis.Mode(), last)
		}
	}
}

func isRedisAuthError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"WRONGPASS", "NOAUTH", "NOPERM", "invalid password", "invalid username-password"} {
		if containsFold(msg, p) {
			return true
		}
	}
	return false
}
