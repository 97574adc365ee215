package consumer

import (
	"context"

	"github.com/segmentio/kafka-go"

	"github.com/ordergate/ordergate/internal/foundation/retry"
)

// fetcher is what a partition needs of its kafka-go partition Reader.
type fetcher interface {
	FetchMessage(ctx context.Context) (kafka.Message, error)
}

// fetchBatch appends one batch to msgs: it waits for one record as long as it takes, then
// takes what arrives within BatchMaxWait, up to BatchMaxRecords records or until the values
// reach BatchMaxBytes. A failed fetch is counted (CauseKafkaFetch), logged and tried again after a
// backoff. It returns no record only when ctx ended.
func (c *Config) fetchBatch(ctx context.Context, partition int, f fetcher, msgs []kafka.Message) []kafka.Message {
	for {
		m, err := f.FetchMessage(ctx)
		if err == nil {
			msgs = append(msgs, m)
			break
		}
		if ctx.Err() != nil {
			return msgs
		}
		// The reader retries connections by itself; an error here is reported after
		// several failed attempts. Keep going, but not in a tight loop.
		c.Logger.Warn("fetch failed, retrying", "partition", partition, "err", err)
		c.Observer.Retry(retry.CauseKafkaFetch)
		if c.Retry.Wait(ctx, 1) != nil {
			return msgs
		}
	}
	size := len(msgs[len(msgs)-1].Value)
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
