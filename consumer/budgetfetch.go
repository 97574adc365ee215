package consumer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
)

// recordOverhead is what a fetched record costs besides its key, value and headers (the
// kafka.Message and the slices that point at them), counted in the budget.
const recordOverhead = 128

// fetchTimeout bounds one fetch request beyond its MaxWait: a broker that accepts the
// request and never answers (hung) is reported as a fetch error after it, as kafka-go's
// Reader did with its ReadBatchTimeout.
const fetchTimeout = 10 * time.Second

// maxFetchTimeout is how far a partition's fetch timeout grows after fetches that timed
// out. A fetch response is read whole, and Kafka returns a first record batch whole
// whatever the fetch's limit: on a slow link (the fault suite's 1 KB/s) a batch of a
// hundred records outlasts fetchTimeout, and the same fetch asked again with the same
// timeout would never arrive. Each timeout doubles the partition's timeout up to this;
// an answer brings it back to fetchTimeout.
const maxFetchTimeout = 5 * time.Minute

// budgetFetcher fetches one partition with fetch requests of its own (kafka.Client.Fetch)
// and takes the bytes of each fetch from the consumer's budget before sending it. The
// bytes of a record stay taken until the partition's loop releases it (done), or until
// Close. A goroutine fetches one response ahead of what the loop reads, so fetching and
// deciding overlap as they did with kafka-go's Reader.
type budgetFetcher struct {
	cfg       *Config
	budget    *budget
	client    *kafka.Client
	partition int
	timeout   time.Duration // of the next fetch beyond its MaxWait (run's goroutine only)

	out    chan fetched // responses, in offset order; one waits here at most
	cancel context.CancelFunc
	ended  sync.WaitGroup

	// Owned by the loop's goroutine.
	cur  fetched // the response being handed out
	next int     // index in cur.msgs of the next record to hand out

	// handed is written by the loop (FetchMessage) and by the partition's publish stage
	// (done), which gives a batch's bytes back once its events are acknowledged.
	mu     sync.Mutex
	handed []held // records handed out and not released, in offset order
}

// fetched is one fetch's records and the bytes they hold in the budget, or its error.
type fetched struct {
	msgs  []kafka.Message
	costs []int64
	err   error
}

// held is a record handed out: its offset and its bytes in the budget.
type held struct {
	offset int64
	cost   int64
}

// newBudgetFetcher starts fetching partition from offset (an offset, or kafka.FirstOffset
// for the first offset the broker still has).
func newBudgetFetcher(cfg *Config, b *budget, client *kafka.Client, partition int, offset int64) *budgetFetcher {
	ctx, cancel := context.WithCancel(context.Background())
	f := &budgetFetcher{cfg: cfg, budget: b, client: client, partition: partition,
		out: make(chan fetched, 1), cancel: cancel}
	b.fetchers.Add(1)
	f.ended.Go(func() { f.run(ctx, offset) })
	return f
}

// FetchMessage returns the next record, waiting for it until ctx ends; a fetch that failed
// is returned as its error (the goroutine tries again, see run). Once ctx has ended it
// hands out nothing more, even records already fetched (a stop stops at once).
func (f *budgetFetcher) FetchMessage(ctx context.Context) (kafka.Message, error) {
	if err := ctx.Err(); err != nil {
		return kafka.Message{}, err
	}
	for f.next >= len(f.cur.msgs) {
		select {
		case r := <-f.out:
			if r.err != nil {
				return kafka.Message{}, r.err
			}
			f.cur, f.next = r, 0
		case <-ctx.Done():
			return kafka.Message{}, ctx.Err()
		}
	}
	m := f.cur.msgs[f.next]
	f.mu.Lock()
	f.handed = append(f.handed, held{offset: m.Offset, cost: f.cur.costs[f.next]})
	f.mu.Unlock()
	f.cur.msgs[f.next] = kafka.Message{} // the loop holds it now
	f.next++
	return m, nil
}

// done gives back the bytes of the records handed out before offset next: the loop holds
// them no longer (their events are acknowledged, or the batch was abandoned).
func (f *budgetFetcher) done(next int64) {
	var n int64
	i := 0
	f.mu.Lock()
	for ; i < len(f.handed) && f.handed[i].offset < next; i++ {
		n += f.handed[i].cost
	}
	f.handed = f.handed[:copy(f.handed, f.handed[i:])]
	f.mu.Unlock()
	f.budget.release(n)
}

// Close stops fetching and gives back every byte the fetcher holds, handed out or not.
func (f *budgetFetcher) Close() error {
	f.cancel()
	f.ended.Wait()
	f.budget.fetchers.Add(-1)
	close(f.out)
	for r := range f.out {
		f.budget.release(sum(r.costs))
	}
	f.budget.release(sum(f.cur.costs[f.next:]))
	f.cur = fetched{}
	f.done(1<<63 - 1)
	return nil
}

func sum(costs []int64) int64 {
	var n int64
	for _, c := range costs {
		n += c
	}
	return n
}

// run fetches until ctx ends. A failed fetch is handed to the loop as an error (which
// reports it, counts it and waits its backoff before asking again), then tried again.
func (f *budgetFetcher) run(ctx context.Context, offset int64) {
	idle := false // the last fetch found no new record
	for ctx.Err() == nil {
		if offset < 0 {
			first, err := f.firstOffset(ctx)
			if err != nil {
				if !f.send(ctx, fetched{err: err}) {
					return
				}
				continue
			}
			offset = first
		}
		r, next, err := f.fetch(ctx, offset, idle)
		f.timeout = nextFetchTimeout(f.timeout, err, ctx.Err() != nil)
		switch {
		case err == nil:
			offset = next
			idle = len(r.msgs) == 0
			if idle {
				continue
			}
			if !f.send(ctx, r) {
				f.budget.release(sum(r.costs))
				return
			}
		case errors.Is(err, kafka.OffsetOutOfRange):
			// As kafka-go's Reader: before the first offset the broker still has (the
			// records were deleted by retention), go on from the first one, and say so;
			// past the last one, ask again later.
			first, ferr := f.firstOffset(ctx)
			switch {
			case ferr != nil:
				err = ferr
			case offset < first:
				// Worded as kafka-go's Reader words it: the worker counts these lines
				// (ordergate_offset_resets_total).
				f.cfg.KafkaErrorLogger.Printf("the kafka reader is reading before the first offset for partition %d of %s, skipping from offset %d to %d (%d messages)",
					f.partition, f.cfg.Topic, offset, first, first-offset)
				offset = first
				continue
			}
			if !f.send(ctx, fetched{err: err}) {
				return
			}
		default:
			if !f.send(ctx, fetched{err: err}) {
				return
			}
		}
	}
}

// send hands r to the loop, waiting until the loop takes it or ctx ends.
func (f *budgetFetcher) send(ctx context.Context, r fetched) bool {
	select {
	case f.out <- r:
		return true
	case <-ctx.Done():
		return false
	}
}

// fetch sends one fetch request from offset with bytes taken from the budget, and
// returns its records from offset on and the offset after them. The request asks for at
// most FetchMaxBytes (never more than the budget); it reserves that, or the most a fetch
// has held so far when more (see budget.largest). Once answered, the bytes taken are those
// the records hold: the rest of the reservation is given back, and a response larger than
// the reservation (a record batch larger than the fetch's limit, which Kafka returns
// whole) takes the excess without waiting.
func (f *budgetFetcher) fetch(ctx context.Context, offset int64, idle bool) (fetched, int64, error) {
	limit := min(int64(f.cfg.FetchMaxBytes), f.budget.size)
	want := f.budget.reservation(limit)
	if err := f.budget.acquire(ctx, want); err != nil {
		return fetched{}, offset, err
	}
	wait := f.cfg.FetchMaxWait
	if idle {
		wait = f.budget.idleWait(wait, want)
	}
	r, next, err := f.fetchRecords(ctx, offset, limit, wait)
	got := sum(r.costs)
	f.budget.seen(got)
	if got > want {
		f.budget.force(got - want)
	} else {
		f.budget.release(want - got)
	}
	if err != nil {
		f.budget.release(got)
		return fetched{}, offset, err
	}
	return r, next, nil
}

func (f *budgetFetcher) fetchRecords(ctx context.Context, offset, maxBytes int64, wait time.Duration) (fetched, int64, error) {
	cfg := f.cfg
	rctx, cancel := context.WithTimeout(ctx, wait+max(f.timeout, fetchTimeout))
	defer cancel()
	resp, err := f.client.Fetch(rctx, &kafka.FetchRequest{
		Topic: cfg.Topic, Partition: f.partition, Offset: offset,
		MinBytes: 1, MaxBytes: maxBytes, MaxWait: wait,
	})
	if err != nil {
		return fetched{}, offset, err
	}
	if resp.Error != nil {
		return fetched{}, offset, resp.Error
	}
	var r fetched
	var mem arena
	next := offset
	for {
		rec, err := resp.Records.ReadRecord()
		if errors.Is(err, io.EOF) {
			return r, pastControlBatches(resp.Records, next), nil
		}
		if err != nil {
			// What was read before the error is good; the rest is fetched again.
			if len(r.msgs) > 0 {
				return r, next, nil
			}
			return fetched{}, offset, fmt.Errorf("reading fetched records: %w", err)
		}
		if rec.Offset < offset { // a compressed batch starts before the offset asked for
			release(rec)
			continue
		}
		m, cost, err := message(&mem, cfg.Topic, f.partition, resp.HighWatermark, rec)
		release(rec)
		if err != nil {
			if len(r.msgs) > 0 {
				return r, next, nil
			}
			return fetched{}, offset, fmt.Errorf("reading fetched record %d: %w", rec.Offset, err)
		}
		r.msgs = append(r.msgs, m)
		r.costs = append(r.costs, cost)
		next = rec.Offset + 1
	}
}

// nextFetchTimeout returns the timeout of a partition's next fetch after one that ended
// with err (stopped: the fetcher's own context ended): doubled, up to maxFetchTimeout,
// after a timeout, fetchTimeout again after an answer, unchanged otherwise.
func nextFetchTimeout(current time.Duration, err error, stopped bool) time.Duration {
	current = max(current, fetchTimeout)
	var ne net.Error
	switch {
	case err == nil:
		return fetchTimeout
	case stopped:
		return current
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return min(2*current, maxFetchTimeout)
	}
	return current
}

// pastControlBatches returns next moved past the control batches (the commit and abort
// markers of transactions) of records, which kafka-go's RecordStream skips without a word:
// a fetch that found only a marker, the last record of a partition after a transaction,
// would otherwise be asked again at once, for ever, and the partition's position would
// never pass it.
func pastControlBatches(records kafka.RecordReader, next int64) int64 {
	stream, ok := records.(*protocol.RecordStream)
	if !ok {
		return next
	}
	for _, batch := range stream.Records {
		control, ok := batch.(*protocol.ControlBatch)
		if !ok {
			continue
		}
		for {
			rec, err := control.ReadRecord()
			if err != nil {
				break
			}
			next = max(next, rec.Offset+1)
		}
	}
	return next
}

// arenaChunk is the largest block that the keys and values of small records are copied
// into, so that a fetch of a thousand records makes a few allocations, not two thousand. A
// block lives as long as one of its records: at most one block per partition outlives the
// batches whose bytes the budget gave back.
const arenaChunk = 32 << 10

// arenaFirst is the size of a fetch's first block: each block is twice the one before, up
// to arenaChunk, so that a fetch of a few records (a partition at low load) does not take
// and clear a whole arenaChunk for them.
const arenaFirst = 2 << 10

// arena hands out byte slices carved from blocks of arenaFirst to arenaChunk bytes.
type arena struct{ block []byte }

// copyOf returns a copy of b's bytes (nil for a null key or value).
func (a *arena) copyOf(b kafka.Bytes) ([]byte, error) {
	if b == nil {
		return nil, nil
	}
	n := b.Len()
	var dst []byte
	switch {
	case n > arenaChunk/4:
		dst = make([]byte, n)
	default:
		if len(a.block)+n > cap(a.block) {
			size := min(max(2*cap(a.block), arenaFirst), arenaChunk)
			for size < n {
				size *= 2
			}
			a.block = make([]byte, 0, size)
		}
		dst = a.block[len(a.block) : len(a.block)+n : len(a.block)+n]
		a.block = a.block[:len(a.block)+n]
	}
	_, err := io.ReadFull(b, dst)
	return dst, err
}

// message copies a fetched record out of the response's buffers; the headers are the
// decoder's own allocations, kept as they are.
func message(a *arena, topic string, partition int, hwm int64, rec *kafka.Record) (kafka.Message, int64, error) {
	key, err := a.copyOf(rec.Key)
	if err != nil {
		return kafka.Message{}, 0, err
	}
	value, err := a.copyOf(rec.Value)
	if err != nil {
		return kafka.Message{}, 0, err
	}
	cost := int64(recordOverhead + len(key) + len(value))
	for _, h := range rec.Headers {
		cost += int64(len(h.Key) + len(h.Value) + 40)
	}
	return kafka.Message{
		Topic: topic, Partition: partition, Offset: rec.Offset, HighWaterMark: hwm,
		Key: key, Value: value, Headers: rec.Headers, Time: rec.Time,
	}, cost, nil
}

// release gives the response's memory that rec's key and value refer to back to
// kafka-go once they are copied: its 64 KiB pages return to kafka-go's pool only when no
// record refers to them any more. Unreleased, every fetch response took and cleared pages
// of its own (at low load, a 64 KiB page for a fetch of two records).
func release(rec *kafka.Record) {
	if rec.Key != nil {
		rec.Key.Close()
	}
	if rec.Value != nil {
		rec.Value.Close()
	}
}

// firstOffset asks the broker for the first offset it keeps of the partition.
func (f *budgetFetcher) firstOffset(ctx context.Context) (int64, error) {
	rctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	resp, err := f.client.ListOffsets(rctx, &kafka.ListOffsetsRequest{
		Topics: map[string][]kafka.OffsetRequest{f.cfg.Topic: {kafka.FirstOffsetOf(f.partition)}},
	})
	if err != nil {
		return 0, err
	}
	for _, p := range resp.Topics[f.cfg.Topic] {
		if p.Partition == f.partition {
			if p.Error != nil {
				return 0, p.Error
			}
			return p.FirstOffset, nil
		}
	}
	return 0, fmt.Errorf("list offsets: no answer for partition %d", f.partition)
}
