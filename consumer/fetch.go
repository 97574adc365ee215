package consumer

import (
	"context"

	"github.com/segmentio/kafka-go"

	"github.com/ordergate/ordergate/internal/foundation/retry"
)

// fetcher is what a partition needs of its fetcher (budgetFetcher).
type fetcher interface {
	FetchMessage(ctx context.Context) (kafka.Message, error)
}

// fetchFirst returns the first record of a batch, waiting as long as it takes; it reports
// false when ctx ended first. A failed fetch is counted (CauseKafkaFetch), logged,
// reported to Health as the partition's FetchSignal, and tried again after a backoff; the
// signal answers again with the next record, or when ctx ends.
func (c *Config) fetchFirst(ctx context.Context, partition int, f fetcher) (kafka.Message, bool) {
	failed := false
	defer func() {
		if failed {
			c.Health.Answering(DependencyKafka, FetchSignal(partition))
		}
	}()
	for {
		m, err := f.FetchMessage(ctx)
		if err == nil {
			return m, true
		}
		if ctx.Err() != nil {
			return m, false
		}
		// The reader retries connections by itself; an error here is reported after
		// several failed attempts. Keep going, but not in a tight loop.
		failed = true
		c.Health.Failing(DependencyKafka, FetchSignal(partition), err)
		c.Logger.Warn("fetch failed, retrying", "partition", partition, "err", err)
		c.Observer.Retry(retry.CauseKafkaFetch)
		if c.Retry.Wait(ctx, 1) != nil {
			return m, false
		}
	}
}

// fetchBatch appends one batch to msgs: it waits for one record as long as it takes, then
// takes what arrives within BatchMaxWait, up to BatchMaxRecords records or until the values
// reach BatchMaxBytes (see fetchFirst for failed fetches). It returns no record only when
// ctx ended.
func (c *Config) fetchBatch(ctx context.Context, partition int, f fetcher, msgs []kafka.Message) []kafka.Message {
	m, ok := c.fetchFirst(ctx, partition, f)
	if !ok {
		return msgs
	}
	msgs = append(msgs, m)
	size := len(m.Value)
	if c.BatchMaxRecords > 1 && size < c.BatchMaxBytes {
		wait, cancel := context.WithTimeout(ctx, c.BatchMaxWait)
		for n := 1; n < c.BatchMaxRecords && size < c.BatchMaxBytes; n++ {
			m, err := f.FetchMessage(wait)
			if err != nil {
				break
			}
			msgs = append(msgs, m)
			size += len(m.Value)
		}
		cancel()
	}
	return msgs
}
