package consumer

import (
	"context"
	"time"

	"github.com/ordergate/ordergate/internal/foundation/retry"
)

// retryStep runs op until it succeeds or ctx ends, with the consumer's backoff: the one
// retry hook of the batch steps and of the commits. Each failure is counted by cause,
// Health learns that name (a partition, or "commit") is retrying since the first failure,
// so that /readyz can tell when it is stuck, and the first failure and every tenth are
// logged as msg with attrs. When op failed at least once, Health learns that name
// recovered (or stopped trying), and retried is true.
func (c *Config) retryStep(ctx context.Context, name, msg string, op func(context.Context) error, attrs ...any) (retried bool, err error) {
	policy := c.Retry
	policy.OnRetry = func(err error, attempt int, since time.Time) {
		cause := retry.CauseOf(err)
		c.Observer.Retry(cause)
		c.Health.Retrying(name, since)
		retried = true
		if attempt == 1 || attempt%10 == 0 {
			c.Logger.Warn(msg, append(attrs[:len(attrs):len(attrs)], "cause", cause, "attempt", attempt, "since", since, "err", err)...)
		}
	}
	err = policy.Do(ctx, op)
	if retried {
		c.Health.Recovered(name)
	}
	return retried, err
}
