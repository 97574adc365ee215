package consumer

import (
	"context"
	"sync"
	"time"

	"github.com/ordergate/ordergate/internal/foundation/retry"
)

// retryStep runs op until it succeeds or ctx ends, with the consumer's backoff: the one
// retry hook of the batch steps and of the commits. Each failure is counted by cause,
// Health learns that name (a partition, or "commit") is retrying since the first failure,
// so that /readyz can tell when it is stuck, and the first failure and every tenth are
// logged as msg with attrs. When op failed at least once, Health learns that name
// recovered (or stopped trying), and retried is true. h is the Health told (c.Health, or
// the view of one stage of a partition).
func (c *Config) retryStep(ctx context.Context, h Health, name, msg string, op func(context.Context) error, attrs ...any) (retried bool, err error) {
	policy := c.Retry
	policy.OnRetry = func(err error, attempt int, since time.Time) {
		cause := retry.CauseOf(err)
		c.Observer.Retry(cause)
		h.Retrying(name, since)
		retried = true
		if attempt == 1 || attempt%10 == 0 {
			c.Logger.Warn(msg, append(attrs[:len(attrs):len(attrs)], "cause", cause, "attempt", attempt, "since", since, "err", err)...)
		}
	}
	err = policy.Do(ctx, op)
	if retried {
		h.Recovered(name)
	}
	return retried, err
}

// The stages of a partition's pipeline (see partition.consume).
const (
	decideStage = iota
	publishStage
)

// stageRetries is what a partition's two stages share of their retries: the partition
// is retrying while either stage is.
type stageRetries struct {
	mu       sync.Mutex
	retrying [2]bool
}

// stageHealth is the Health of one stage of a partition: it reports the partition
// retrying as soon as the stage is, and recovered only once neither stage is, so that one
// stage recovering does not hide the other one stuck in retries from /readyz.
type stageHealth struct {
	Health
	retries *stageRetries
	stage   int
}

// Retrying reports the partition retrying.
func (s stageHealth) Retrying(name string, since time.Time) {
	s.retries.mu.Lock()
	defer s.retries.mu.Unlock()
	s.retries.retrying[s.stage] = true
	s.Health.Retrying(name, since)
}

// Recovered reports the partition recovered once the other stage is not retrying either.
func (s stageHealth) Recovered(name string) {
	s.retries.mu.Lock()
	defer s.retries.mu.Unlock()
	s.retries.retrying[s.stage] = false
	if !s.retries.retrying[1-s.stage] {
		s.Health.Recovered(name)
	}
}
