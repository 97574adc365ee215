package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ordergate/ordergate/internal/foundation/retry"
	"github.com/ordergate/ordergate/processor/servicepoint"
)

// openRedis connects to Redis and waits until it answers PING; a refused password fails
// at once.
func (w *Worker) openRedis(ctx context.Context, given redis.UniversalClient) error {
	if given != nil {
		w.redis = given
	} else {
		opts, err := w.cfg.RedisOptions()
		if err != nil {
			return err
		}
		w.redis = servicepoint.NewRedisClient(opts)
	}
	var last error
	for attempt := 1; ; attempt++ {
		err := w.redis.Ping(ctx).Err()
		if err == nil {
			return nil
		}
		if isRedisAuthError(err) {
			return fmt.Errorf("redis: authentication failed (check the user and password in ORDERGATE_REDIS_URL): %v", err)
		}
		last = keepCause(ctx, last, err)
		if attempt == 1 {
			w.log.Warn("redis does not answer yet, waiting", "err", err)
		}
		if retry.Sleep(ctx, 500*time.Millisecond) != nil {
			return fmt.Errorf("redis does not answer (check ORDERGATE_REDIS_URL): %v", last)
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
