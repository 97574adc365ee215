package consumer

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

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
	// retries tells Health when either stage of the partition retries.
	retries stageRetries
}

// batch is one batch of a partition on its way through the pipeline, with the memory it
// reuses from one batch to the next: a batch is reused once its events are acknowledged
// (or it was abandoned).
type batch[B any] struct {
	msgs    []kafka.Message
	records []order.Record
	results []processor.Result
	headers []order.Header
	pub     B
	// from and next bound the offsets the batch makes committable once acknowledged:
	// [from, next), from being where the batch before it ended.
	from, next int64
	// bytes is the weight of its records (keys, values, headers), counted against
	// Config.InFlightBytes.
	bytes int
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
//
// It runs the partition as a pipeline of two stages, so that deciding a batch (and its
// Redis round trip) overlaps the publication of the batch before it:
//
//   - the decide stage (this goroutine) fetches a batch, decides it and prepares its
//     events, then hands it to the publish stage, in input order;
//   - the publish stage (a goroutine of its own) sends each batch until every event is
//     acknowledged, one batch at a time and in order, then marks it for commit.
//
// Only the publish stage writes, and it starts a batch's write only once every event of
// the batch before has been acknowledged: a failed write (even one that kafka-go's own
// retries gave up on) is never overtaken by a later batch, so the events of one key keep
// their input order, and offsets are marked in order. At most Config.InFlightBatches
// batches are held between fetching and acknowledgement; a batch's memory is reused once
// the batch is done.
//
// When life.fetch ends the decide stage stops fetching and the publish stage finishes
// what it was handed; when life.work ends first, the batch being decided and every batch
// not acknowledged yet are abandoned without a mark, and nothing after the first of them
// is published.
func (p *partition[B]) consume(life partitionLife, f fetcher) bool {
	cfg := &p.c.cfg
	free := make(chan *batch[B], cfg.InFlightBatches)
	for range cfg.InFlightBatches {
		free <- &batch[B]{}
	}
	decided := make(chan *batch[B], cfg.InFlightBatches) // never full: it holds batches taken from free
	acked := make(chan struct{}, 1)
	var held atomic.Int64    // bytes of the batches handed to the publish stage, not acknowledged yet
	var pending atomic.Int64 // batches handed to the publish stage, not acknowledged yet
	fill := &fillWait{f: f, pending: &pending, wait: cfg.IdleBatchWait}
	defer fill.end()
	var lost abandoned
	published := make(chan bool, 1)
	done := func(int64) {}
	if bf, ok := f.(*budgetFetcher); ok {
		done = bf.done
	}
	go func() { published <- p.publishAll(life, decided, free, acked, &held, &pending, &lost, done) }()

	decidedAll := true
	from := p.start // the first offset of the next batch, as far as commits go
	for {
		b := p.nextFree(life, free, acked, &held)
		if b == nil {
			break
		}
		fill.next()
		b.msgs = cfg.fetchBatch(life.fetch, p.id, fill, b.msgs[:0])
		n := len(b.msgs)
		if n == 0 {
			break
		}
		b.next = b.msgs[n-1].Offset + 1
		p.position.Store(b.next)
		if from < 0 { // a new group: the first record read is where commits start
			from = b.msgs[0].Offset
			p.k.register(p.id, from, &p.committed)
		}
		b.from, from = from, b.next
		cfg.Observer.Consumed(n)
		cfg.Observer.InFlight(n)
		if !p.decide(life.work, b) {
			lost.add(b.msgs[0].Offset, len(b.msgs))
			cfg.Observer.InFlight(-n)
			decidedAll = false
			break
		}
		held.Add(int64(b.bytes))
		pending.Add(1)
		decided <- b
	}
	close(decided)
	publishedAll := <-published
	lost.mu.Lock()
	defer lost.mu.Unlock()
	if lost.records > 0 {
		if life.deadlinePassed() {
			p.c.unfinished.Add(1)
			cfg.Logger.Error("shutdown timeout: batches abandoned without commit; their records will be consumed again",
				"partition", p.id, "first_offset", lost.first, "records", lost.records)
		} else {
			cfg.Logger.Info("partition revoked during a batch; its records will be consumed again by the new owner",
				"partition", p.id, "first_offset", lost.first, "records", lost.records)
		}
	}
	return decidedAll && publishedAll
}

// fillWait is the partition's fetcher as a batch sees it: when the partition has nothing
// in flight as the first record of a batch arrives, the batch waits IdleBatchWait at most
// to fill, instead of BatchMaxWait, since waiting then only delays the records in hand.
// While a batch is in flight, the next one cannot be published before it anyway, so it
// waits BatchMaxWait to fill, and batches grow with the load.
type fillWait struct {
	f       fetcher
	pending *atomic.Int64 // batches in flight
	wait    time.Duration

	started bool      // the batch has its first record
	short   bool      // the batch waits until deadline at most
	at      time.Time // when the first record arrived
	// parent is the context of the fetches filling the batch (one per batch), ctx the
	// same cut at the batch's short deadline.
	parent, ctx context.Context
	cancel      context.CancelFunc
}

// next starts a new batch.
func (w *fillWait) next() {
	w.end()
	w.started, w.short = false, false
}

// end releases the deadline of the batch.
func (w *fillWait) end() {
	if w.cancel != nil {
		w.cancel()
		w.parent, w.ctx, w.cancel = nil, nil, nil
	}
}

// FetchMessage fetches the next record of the batch.
func (w *fillWait) FetchMessage(ctx context.Context) (kafka.Message, error) {
	if !w.started {
		m, err := w.f.FetchMessage(ctx)
		if err == nil {
			w.started, w.short, w.at = true, w.pending.Load() == 0, time.Now()
		}
		return m, err
	}
	if !w.short {
		return w.f.FetchMessage(ctx)
	}
	if ctx != w.parent {
		w.end()
		w.parent = ctx
		w.ctx, w.cancel = context.WithDeadline(ctx, w.at.Add(w.wait))
	}
	return w.f.FetchMessage(w.ctx)
}

// nextFree returns a batch to fill once the partition holds fewer than InFlightBatches
// batches and fewer than InFlightBytes bytes, or nil when it must stop fetching: life.fetch
// ended, or life.work (the publish stage abandons what it holds then).
func (p *partition[B]) nextFree(life partitionLife, free <-chan *batch[B], acked <-chan struct{}, held *atomic.Int64) *batch[B] {
	var b *batch[B]
	select {
	case b = <-free:
	case <-life.fetch.Done():
		return nil
	case <-life.work.Done():
		return nil
	}
	for held.Load() >= int64(p.c.cfg.InFlightBytes) {
		select {
		case <-acked:
		case <-life.fetch.Done():
			return nil
		case <-life.work.Done():
			return nil
		}
	}
	if life.fetch.Err() != nil || life.work.Err() != nil {
		return nil
	}
	return b
}

// publishAll is the publish stage: it sends the batches of decided in order, each until
// every event is acknowledged, marks it for commit, gives its bytes back to the fetch
// budget (done, with the offset after the batch), releases its events and hands its
// memory back to free. Once
// a batch is abandoned (life.work ended), the later ones are abandoned unsent. It
// returns when decided is closed and drained, and reports whether every batch was
// acknowledged.
func (p *partition[B]) publishAll(life partitionLife, decided <-chan *batch[B], free chan<- *batch[B], acked chan<- struct{}, held, pending *atomic.Int64, lost *abandoned, done func(next int64)) bool {
	ok := true
	for b := range decided {
		if ok && p.publish(life.work, b) {
			p.k.mark(p.id, b.from, b.next, len(b.msgs))
			done(b.next)
			// Only an acknowledged batch gives its events' memory back: a write given up
			// with its context may still be in kafka-go's hands, reading those bytes.
			p.c.pub.Release(b.pub)
		} else {
			ok = false
			lost.add(b.msgs[0].Offset, len(b.msgs))
			p.c.cfg.Observer.InFlight(-len(b.msgs))
		}
		held.Add(-int64(b.bytes))
		pending.Add(-1)
		b.release()
		free <- b // never blocks: free has room for every batch
		select {
		case acked <- struct{}{}:
		default:
		}
	}
	return ok
}

// abandoned counts the records a partition gave up without a commit.
type abandoned struct {
	mu      sync.Mutex
	first   int64 // the first offset given up
	records int
}

// add counts the records of a batch given up, from the offset of its first record.
func (a *abandoned) add(first int64, records int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.records == 0 || first < a.first {
		a.first = first
	}
	a.records += records
}

// release drops what b refers to of its records (their keys, values and headers), so
// that a batch waiting to be reused keeps no record alive; it keeps its memory.
func (b *batch[B]) release() {
	clear(b.msgs)
	clear(b.records)
	clear(b.results)
	clear(b.headers)
}

// decide fills b's records from its messages, decides them and prepares their events,
// retrying the decision until it succeeds or ctx ends; it reports whether it succeeded.
func (p *partition[B]) decide(ctx context.Context, b *batch[B]) bool {
	records, results := b.fill()
	if p.step(ctx, decideStage, func(ctx context.Context) error { return p.c.proc.Process(ctx, records, results) }) != nil {
		return false
	}
	b.pub = p.c.pub.PrepareInto(b.pub, results)
	return true
}

// publish sends b's events until every one is acknowledged or ctx ends; it reports
// whether they were.
func (p *partition[B]) publish(ctx context.Context, b *batch[B]) bool {
	return p.step(ctx, publishStage, func(ctx context.Context) error { return p.c.pub.Send(ctx, b.pub) }) == nil
}

// fill turns the messages of a batch into records, in memory reused from batch to batch;
// the records share the messages' keys, values and header values.
func (b *batch[B]) fill() ([]order.Record, []processor.Result) {
	n := len(b.msgs)
	if cap(b.records) < n {
		b.records, b.results = make([]order.Record, n), make([]processor.Result, n)
	}
	records, results := b.records[:n], b.results[:n]
	b.headers = b.headers[:0]
	b.bytes = 0
	for i := range b.msgs {
		m := &b.msgs[i]
		start := len(b.headers)
		b.bytes += len(m.Key) + len(m.Value)
		for _, h := range m.Headers {
			b.headers = append(b.headers, order.Header{Key: h.Key, Value: h.Value})
			b.bytes += len(h.Key) + len(h.Value)
		}
		records[i] = order.Record{
			Key:     m.Key,
			Value:   m.Value,
			Headers: b.headers[start:len(b.headers):len(b.headers)],
			Time:    m.Time,
			Source:  order.Source{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset},
		}
	}
	return records, results
}

// step runs one batch step with the consumer's retry hook, and logs the recovery, or the
// step abandoned for another reason than its context.
func (p *partition[B]) step(ctx context.Context, stage int, op func(ctx context.Context) error) error {
	cfg := &p.c.cfg
	h := stageHealth{Health: cfg.Health, retries: &p.retries, stage: stage}
	retried, err := cfg.retryStep(ctx, h, strconv.Itoa(p.id), "batch step failed, retrying", op, "partition", p.id)
	if retried && err == nil {
		cfg.Logger.Info("batch step recovered", "partition", p.id)
	}
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		cfg.Logger.Error("batch step abandoned", "partition", p.id, "err", fmt.Sprint(err))
	}
	return err
}
