package consumer

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ordergate/ordergate/internal/foundation/retry"
	"github.com/ordergate/ordergate/processor"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/publisher"
)

// partition is one assigned partition of a generation.
type partition struct {
	c     *Consumer
	k     *committer
	id    int
	start int64 // committed offset at assignment, or kafka.FirstOffset
	// committed is the last committed offset (-1 before the first commit of a new group).
	committed atomic.Int64
	// position is the offset after the last record fetched.
	position atomic.Int64

	// Memory reused from one batch to the next (a batch is done when handle returns).
	inputs  []order.Record
	results []processor.Result
	headers []order.Header
	batch   *publisher.Batch
}

// commitError is a failed offset commit.
type commitError struct{ err error }

func (e commitError) Error() string { return "offset commit: " + e.err.Error() }
func (e commitError) Unwrap() error { return e.err }
func (e commitError) Cause() string { return retry.CauseKafkaCommit }

// run consumes the partition until fetch or the generation ends. The batch in hand is
// finished (decided, published, committed) unless work or the generation ends first.
func (p *partition) run(fetch, work, genCtx context.Context) {
	cfg := &p.c.cfg
	log := cfg.Logger.With("partition", p.id)
	name := strconv.Itoa(p.id)
	reader := kafka.NewReader(kafka.ReaderConfig{
		Brokers:          cfg.Brokers,
		Topic:            cfg.Topic,
		Partition:        p.id,
		Dialer:           cfg.Dialer,
		MinBytes:         1,
		MaxBytes:         cfg.FetchMaxBytes,
		MaxWait:          250 * time.Millisecond,
		QueueCapacity:    cfg.QueueCapacity,
		ReadBatchTimeout: 10 * time.Second,
		Logger:           cfg.KafkaLogger,
		ErrorLogger:      p.c.errorLogger(),
	})
	defer reader.Close()
	p.committed.Store(-1)
	if p.start >= 0 {
		p.committed.Store(p.start)
		p.position.Store(p.start)
	}
	if err := reader.SetOffset(p.start); err != nil {
		log.Error("cannot position the reader", "offset", p.start, "err", err)
		return
	}
	cfg.Observer.Assigned(p.id, true)
	p.c.lags.add(p)
	p.k.register(p)
	defer func() {
		p.k.forget(p.id)
		p.c.lags.remove(p)
		cfg.Observer.Assigned(p.id, false)
		cfg.Health.Recovered(name)
	}()

	fetchCtx, cancelFetch := mergeCancel(fetch, genCtx)
	defer cancelFetch()
	stepCtx, cancelStep := mergeCancel(work, genCtx)
	defer cancelStep()

	msgs := make([]kafka.Message, 0, cfg.BatchMaxRecords)
	for {
		msgs = p.fetchBatch(fetchCtx, reader, msgs[:0])
		if len(msgs) == 0 {
			break
		}
		n := len(msgs)
		cfg.Observer.Consumed(n)
		cfg.Observer.InFlight(n)
		if !p.handle(stepCtx, msgs) {
			cfg.Observer.InFlight(-n)
			if work.Err() != nil {
				p.c.unfinished.Add(1)
				log.Error("shutdown timeout: batch abandoned without commit; its records will be consumed again",
					"first_offset", msgs[0].Offset, "records", n)
			} else {
				log.Info("partition revoked during a batch; its records will be consumed again by the new owner",
					"first_offset", msgs[0].Offset, "records", n)
			}
			return
		}
		p.k.mark(p.id, msgs[n-1].Offset+1, n)
	}
	// Stopping: the offsets of what was published must be committed before the
	// generation ends.
	if !p.k.flush(stepCtx, p.id) && work.Err() != nil {
		p.c.unfinished.Add(1)
		log.Error("shutdown timeout: published events not committed; their records will be consumed again")
	}
}

// fetchBatch waits for one record, then takes what arrives within BatchMaxWait, up to
// BatchMaxRecords records or BatchMaxBytes of values. It returns no record only when ctx
// ended.
func (p *partition) fetchBatch(ctx context.Context, reader *kafka.Reader, msgs []kafka.Message) []kafka.Message {
	cfg := &p.c.cfg
	for {
		m, err := reader.FetchMessage(ctx)
		if err == nil {
			msgs = append(msgs, m)
			break
		}
		if ctx.Err() != nil {
			return msgs
		}
		// The reader retries connections by itself; an error here is reported after
		// several failed attempts. Keep going, but not in a tight loop.
		cfg.Logger.Warn("fetch failed, retrying", "partition", p.id, "err", err)
		cfg.Observer.Retry(retry.CauseKafkaFetch)
		select {
		case <-ctx.Done():
			return msgs
		case <-time.After(cfg.Retry.Backoff(1)):
		}
	}
	size := len(msgs[0].Value)
	if cfg.BatchMaxRecords > 1 && size < cfg.BatchMaxBytes {
		wait, cancel := context.WithTimeout(ctx, cfg.BatchMaxWait)
		for len(msgs) < cfg.BatchMaxRecords && size < cfg.BatchMaxBytes {
			m, err := reader.FetchMessage(wait)
			if err != nil {
				break
			}
			msgs = append(msgs, m)
			size += len(m.Value)
		}
		cancel()
	}
	p.position.Store(msgs[len(msgs)-1].Offset + 1)
	return msgs
}

// handle decides and publishes one batch, retrying each step until it succeeds or ctx
// ends. It reports whether every event of the batch was acknowledged.
func (p *partition) handle(ctx context.Context, msgs []kafka.Message) bool {
	n := len(msgs)
	if cap(p.inputs) < n {
		p.inputs, p.results = make([]order.Record, n), make([]processor.Result, n)
	}
	inputs, results := p.inputs[:n], p.results[:n]
	p.headers = p.headers[:0]
	for i := range msgs {
		m := &msgs[i]
		start := len(p.headers)
		for _, h := range m.Headers {
			p.headers = append(p.headers, order.Header{Key: h.Key, Value: h.Value})
		}
		inputs[i] = order.Record{
			Key:     m.Key,
			Value:   m.Value,
			Headers: p.headers[start:len(p.headers):len(p.headers)],
			Time:    m.Time,
			Source:  order.Source{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset},
		}
	}
	if p.step(ctx, func(ctx context.Context) error { return p.c.proc.Process(ctx, inputs, results) }) != nil {
		return false
	}
	p.batch = p.c.pub.PrepareInto(p.batch, results)
	return p.step(ctx, func(ctx context.Context) error { return p.c.pub.Send(ctx, p.batch) }) == nil
}

// step runs one batch step with the consumer's retry policy: every failure is counted by
// cause, the partition is reported as retrying (so /readyz can tell when it is stuck), and
// the first failure and the recovery are logged.
func (p *partition) step(ctx context.Context, op func(ctx context.Context) error) error {
	cfg := &p.c.cfg
	name := strconv.Itoa(p.id)
	policy := cfg.Retry
	retried := false
	policy.OnRetry = func(err error, attempt int, since time.Time) {
		cause := retry.CauseOf(err)
		cfg.Observer.Retry(cause)
		cfg.Health.Retrying(name, since)
		retried = true
		if attempt == 1 || attempt%10 == 0 {
			cfg.Logger.Warn("batch step failed, retrying", "partition", p.id, "cause", cause,
				"attempt", attempt, "since", since, "err", err)
		}
	}
	err := policy.Do(ctx, op)
	if retried {
		cfg.Health.Recovered(name)
		if err == nil {
			cfg.Logger.Info("batch step recovered", "partition", p.id)
		}
	}
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		cfg.Logger.Error("batch step abandoned", "partition", p.id, "err", fmt.Sprint(err))
	}
	return err
}
