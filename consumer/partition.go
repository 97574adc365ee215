package consumer

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"

	"github.com/segmentio/kafka-go"

	"github.com/ordergate/ordergate/processor"
	"github.com/ordergate/ordergate/processor/order"
)

// offsets are the positions of a partition that the lag measurement reads.
type offsets struct {
	// committed is the last committed offset (-1 before the first commit of a new group).
	committed atomic.Int64
	// position is the offset after the last record fetched.
	position atomic.Int64
}

// partition is one assigned partition of a generation.
type partition[B any] struct {
	c     *Consumer[B]
	k     *committer
	id    int
	start int64 // committed offset at assignment, or kafka.FirstOffset
	offsets

	// Memory reused from one batch to the next (a batch is done when handle returns).
	records []order.Record
	results []processor.Result
	headers []order.Header
	batch   B
}

// run consumes the partition by its lifecycle: it fetches batches until life.fetch ends,
// and finishes each batch in hand (decided, published, committed) unless life.work ends
// first.
func (p *partition[B]) run(life partitionLife) {
	cfg := &p.c.cfg
	log := cfg.Logger.With("partition", p.id)
	p.committed.Store(-1)
	if p.start >= 0 {
		p.committed.Store(p.start)
		p.position.Store(p.start)
	}
	reader := newBudgetFetcher(cfg, p.c.budget, p.c.fetches, p.id, p.start)
	defer reader.Close()
	cfg.Observer.Assigned(p.id, true)
	p.c.lags.add(p.id, &p.offsets)
	defer func() {
		p.k.forget(p.id)
		p.c.lags.remove(p.id, &p.offsets)
		cfg.Observer.Assigned(p.id, false)
		cfg.Health.Recovered(strconv.Itoa(p.id))
	}()
	if p.start >= 0 {
		p.k.register(p.id, p.start, &p.committed)
	}
	if !p.consume(life, reader) {
		return
	}
	// Stopping: the offsets of what was published must be committed before the
	// generation ends.
	if !p.k.flush(life.work, p.id) && life.deadlinePassed() {
		p.c.unfinished.Add(1)
		log.Error("shutdown timeout: published events not committed; their records will be consumed again")
	}
}

// consume handles batches until life.fetch ends; it reports false when it had to abandon
// a batch in hand.
func (p *partition[B]) consume(life partitionLife, f fetcher) bool {
	cfg := &p.c.cfg
	msgs := make([]kafka.Message, 0, cfg.BatchMaxRecords)
	from := p.start // the first offset of the next batch, as far as commits go
	for {
		msgs = cfg.fetchBatch(life.fetch, p.id, f, msgs[:0])
		if len(msgs) == 0 {
			return true
		}
		n := len(msgs)
		next := msgs[n-1].Offset + 1
		p.position.Store(next)
		if from < 0 { // a new group: the first record read is where commits start
			from = msgs[0].Offset
			p.k.register(p.id, from, &p.committed)
		}
		cfg.Observer.Consumed(n)
		cfg.Observer.InFlight(n)
		if !p.handle(life.work, msgs) {
			cfg.Observer.InFlight(-n)
			if life.deadlinePassed() {
				p.c.unfinished.Add(1)
				cfg.Logger.Error("shutdown timeout: batch abandoned without commit; its records will be consumed again",
					"partition", p.id, "first_offset", msgs[0].Offset, "records", n)
			} else {
				cfg.Logger.Info("partition revoked during a batch; its records will be consumed again by the new owner",
					"partition", p.id, "first_offset", msgs[0].Offset, "records", n)
			}
			return false
		}
		p.k.mark(p.id, from, next, n)
		p.release(f, msgs, next)
		from = next
	}
}

// handle decides and publishes one batch, retrying each step until it succeeds or ctx
// ends. It reports whether every event of the batch was acknowledged.
func (p *partition[B]) handle(ctx context.Context, msgs []kafka.Message) bool {
	records, results := p.fill(msgs)
	if p.step(ctx, func(ctx context.Context) error { return p.c.proc.Process(ctx, records, results) }) != nil {
		return false
	}
	p.batch = p.c.pub.PrepareInto(p.batch, results)
	return p.step(ctx, func(ctx context.Context) error { return p.c.pub.Send(ctx, p.batch) }) == nil
}

// fill turns the messages of a batch into records, in memory reused from batch to batch;
// the records share the messages' keys, values and header values.
func (p *partition[B]) fill(msgs []kafka.Message) ([]order.Record, []processor.Result) {
	n := len(msgs)
	if cap(p.records) < n {
		p.records, p.results = make([]order.Record, n), make([]processor.Result, n)
	}
	records, results := p.records[:n], p.results[:n]
	p.headers = p.headers[:0]
	for i := range msgs {
		m := &msgs[i]
		start := len(p.headers)
		for _, h := range m.Headers {
			p.headers = append(p.headers, order.Header{Key: h.Key, Value: h.Value})
		}
		records[i] = order.Record{
			Key:     m.Key,
			Value:   m.Value,
			Headers: p.headers[start:len(p.headers):len(p.headers)],
			Time:    m.Time,
			Source:  order.Source{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset},
		}
	}
	return records, results
}

// step runs one batch step with the consumer's retry hook, and logs the recovery, or the
// step abandoned for another reason than its context.
func (p *partition[B]) step(ctx context.Context, op func(ctx context.Context) error) error {
	cfg := &p.c.cfg
	retried, err := cfg.retryStep(ctx, strconv.Itoa(p.id), "batch step failed, retrying", op, "partition", p.id)
	if retried && err == nil {
		cfg.Logger.Info("batch step recovered", "partition", p.id)
	}
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		cfg.Logger.Error("batch step abandoned", "partition", p.id, "err", fmt.Sprint(err))
	}
	return err
}
