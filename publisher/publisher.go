// Package publisher writes the events of decided batches to Kafka: accepted and rejected
// events, cut when larger than the output topics accept, and dead-letter records for the few
// inputs whose event the broker refuses for good. A batch is sent with one WriteMessages
// call, and only what the broker did not acknowledge is sent again, in input order, so the
// events of one key keep their order.
package publisher

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/segmentio/kafka-go"

	"github.com/ordergate/ordergate/internal/foundation/retry"
	"github.com/ordergate/ordergate/processor"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/publisher/event"
)

// Topics are the output topics.
type Topics struct {
	Accepted, Rejected, DLQ string
}

// Writer is what the publisher needs of a kafka-go Writer.
type Writer interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// Kind says what was published for an input.
type Kind uint8

// The kinds of published records.
const (
	KindEvent     Kind = iota // the event, whole
	KindTruncated             // the event with its request cut (requestTruncated)
	KindDLQ                   // a dead-letter record: the broker refused the event for good
)

// Observer is told what the broker acknowledged and what it did not. Implementations must
// be cheap and safe for concurrent use.
type Observer interface {
	// Published is called once per input when its record is acknowledged.
	Published(r *processor.Result, kind Kind, acked time.Time)
	// Failed is called when n records were not acknowledged on an attempt.
	Failed(cause string, n int)
}

// BatchMargin is subtracted from a topic's max.message.bytes to get the writer's batch
// limit: the record batch header and per-record framing that kafka-go does not count.
const BatchMargin = 512

// recordOverhead is what a record adds to its key, value and headers inside a record batch,
// with room for the batch header (61 bytes), so that an event that passes the check fits
// the topic's max.message.bytes.
const recordOverhead = 256

// Publisher publishes the results of the processor.
type Publisher struct {
	w      Writer
	topics Topics
	// limit is the largest record an output topic accepts (max.message.bytes), in bytes,
	// for the topics without a limit of their own in limits.
	limit atomic.Int64
	// limits are the limits of the output topics that have their own (set before use,
	// then only their values change): each event is measured against its own topic's.
	limits map[string]*atomic.Int64
	obs    Observer
	now    func() time.Time
	// refresh reads the topics' limits again after the broker refused a record as too
	// large.
	refresh func(ctx context.Context) (map[string]int, error)
	// writers write the records of a topic when set (else w): each topic's batches stay
	// within its own limit (the dead-letter topic takes inputs unchanged, so its batches
	// may be larger than the events' limit allows; a small rejected topic must not cap the
	// accepted topic's events, nor a large one overflow the small one's batches).
	writers map[string]Writer
}

// SetDeadLetterWriter sends dead-letter records through their own writer, whose batch limit
// is the dead-letter topic's.
func (p *Publisher) SetDeadLetterWriter(w Writer) { p.SetTopicWriter(p.topics.DLQ, w) }

// SetTopicWriter sends the records of one topic through their own writer, whose batch
// limit is that topic's. Call it before the first Prepare.
func (p *Publisher) SetTopicWriter(topic string, w Writer) {
	if p.writers == nil {
		p.writers = map[string]Writer{}
	}
	p.writers[topic] = w
}

// writerOf returns the writer of a topic's records.
func (p *Publisher) writerOf(topic string) Writer {
	if w, ok := p.writers[topic]; ok {
		return w
	}
	return p.w
}

// SetLimitSource gives the publisher a way to read the output topics' limits again when the
// broker refuses a record as too large (see TopicLimits).
func (p *Publisher) SetLimitSource(refresh func(ctx context.Context) (map[string]int, error)) {
	p.refresh = refresh
}

// New returns a publisher writing through w. limit is the largest record the output topics
// accept, for those without a limit of their own (see SetTopicLimit); obs may be nil; now
// defaults to time.Now.
func New(w Writer, topics Topics, limit int, obs Observer, now func() time.Time) *Publisher {
	if now == nil {
		now = time.Now
	}
	p := &Publisher{w: w, topics: topics, obs: obs, now: now}
	p.limit.Store(int64(limit))
	return p
}

// SetTopicLimit gives one output topic a record size limit of its own, in bytes. Call it
// before the first Prepare.
func (p *Publisher) SetTopicLimit(topic string, n int) {
	if p.limits == nil {
		p.limits = map[string]*atomic.Int64{}
	}
	if p.limits[topic] == nil {
		p.limits[topic] = new(atomic.Int64)
	}
	p.limits[topic].Store(int64(n))
}

// Limit returns the record size limit in force for the topics without one of their own.
func (p *Publisher) Limit() int { return int(p.limit.Load()) }

// LimitOf returns the record size limit in force for a topic.
func (p *Publisher) LimitOf(topic string) int {
	if l, ok := p.limits[topic]; ok {
		return int(l.Load())
	}
	return p.Limit()
}

// SetLimit lowers or raises the record size limit of the topics without one of their own
// (the broker told us it is smaller).
func (p *Publisher) SetLimit(n int) { p.limit.Store(int64(n)) }

// setLimits applies limits read again: each topic's own when it has one; the smallest of
// the others becomes the default.
func (p *Publisher) setLimits(limits map[string]int) {
	other := 0
	for topic, n := range limits {
		switch l, ok := p.limits[topic]; {
		case n <= 0:
		case ok:
			l.Store(int64(n))
		case other == 0 || n < other:
			other = n
		}
	}
	if other > 0 {
		p.SetLimit(other)
	}
}

// Batch is the records to publish for one batch of results, and which are acknowledged.
type Batch struct {
	results []processor.Result
	msgs    []kafka.Message
	kinds   []Kind
	acked   []bool
	pending int
	builder event.Builder
	// Scratch of write, reused from call to call and from batch to batch: the messages of
	// each writer, the indexes of each writer's records, the answers.
	sendMsgs [][]kafka.Message
	groups   [][]int
	answers  []answer
}

// Pending returns how many records of the batch are not acknowledged yet.
func (b *Batch) Pending() int { return b.pending }

// Prepare builds the records of a batch of results: each input's event, cut when it is
// larger than the limit, or its dead-letter record when even the cut event is too large.
func (p *Publisher) Prepare(results []processor.Result) *Batch {
	return p.PrepareInto(nil, results)
}

// PrepareInto is Prepare reusing the memory of a batch whose records are all acknowledged
// (nil: a new batch). The consumer keeps one batch per partition.
func (p *Publisher) PrepareInto(b *Batch, results []processor.Result) *Batch {
	if b == nil {
		b = &Batch{}
	}
	n := len(results)
	b.results = results
	b.msgs = resize(b.msgs, n)
	b.kinds = resize(b.kinds, n)
	b.acked = resize(b.acked, n)
	clear(b.acked)
	b.pending = n
	b.builder.Reset()
	for i := range results {
		p.prepare(b, i, KindEvent, "")
	}
	return b
}

// Release gives back what a batch whose records are all acknowledged holds (never call it
// on a batch whose Send was given up: kafka-go may still be writing its events): its events' memory returns to the pool the next batches of every partition draw
// from, and it keeps no reference to its records (their keys, values and headers), so a
// batch waiting to be reused holds only its own slices.
func (p *Publisher) Release(b *Batch) {
	if b == nil {
		return
	}
	clear(b.msgs)
	for i := range b.sendMsgs {
		clear(b.sendMsgs[i])
	}
	b.msgs = b.msgs[:0]
	b.results = nil
	b.pending = 0
	b.builder.Release()
}

// prepare builds record i of the batch as kind, or the next kind when it does not fit its
// own topic.
func (p *Publisher) prepare(b *Batch, i int, kind Kind, reason string) {
	r := &b.results[i]
	for kind <= KindTruncated {
		ev := b.builder.Build(r.Record, &r.Decision, r.Decided, kind == KindTruncated)
		topic := p.topics.Rejected
		if ev.Accepted {
			topic = p.topics.Accepted
		}
		limit := p.LimitOf(topic)
		msg := kafka.Message{Topic: topic, Key: ev.Key, Value: ev.Value, Headers: kafkaHeaders(ev.Headers)}
		if size(&msg) <= limit {
			b.msgs[i], b.kinds[i] = msg, kind
			return
		}
		reason = fmt.Sprintf("event of %d bytes is larger than the output topic accepts (%d bytes) even with its request cut to %d bytes", size(&msg), limit, event.RequestCutBytes)
		kind++
	}
	dl := event.BuildDeadLetter(r.Record, event.ID(r.Record), reason)
	b.msgs[i] = kafka.Message{Topic: p.topics.DLQ, Key: dl.Key, Value: dl.Value, Headers: kafkaHeaders(dl.Headers)}
	b.kinds[i] = KindDLQ
}

// resize returns s with length n, reusing its array when it is large enough.
func resize[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}

// The events' headers are handed to kafka-go as they are, without a copy (a copy cost a
// slice of 8 headers per event in every batch in flight): kafka.Header and order.Header
// have the same fields, which this conversion checks at compile time, hence the same
// layout.
var _ = kafka.Header(order.Header{})

// kafkaHeaders returns hs as kafka-go headers, sharing their memory.
func kafkaHeaders(hs []order.Header) []kafka.Header {
	if len(hs) == 0 {
		return nil
	}
	return unsafe.Slice((*kafka.Header)(unsafe.Pointer(unsafe.SliceData(hs))), len(hs))
}

// size is the bytes a message counts against max.message.bytes, with a margin.
func size(m *kafka.Message) int {
	n := len(m.Key) + len(m.Value) + recordOverhead
	for _, h := range m.Headers {
		n += len(h.Key) + len(h.Value) + 8
	}
	return n
}

// Error is a failure to publish part of a batch; the caller retries Send.
type Error struct {
	cause   string
	pending int
	err     error
}

func (e *Error) Error() string {
	return fmt.Sprintf("%d records not acknowledged (%s): %v", e.pending, e.cause, e.err)
}

// Cause is the failure's cause label: retry.CauseKafkaProduce, or retry.CauseKafkaRefused
// when the broker refused a dead-letter record itself.
func (e *Error) Cause() string { return e.cause }

// Unwrap returns the writer's error.
func (e *Error) Unwrap() error { return e.err }

// Send writes the records of the batch that are not acknowledged yet, in one WriteMessages
// call, and returns nil once every record is acknowledged. A record the broker refuses as
// too large becomes its cut event, then its dead-letter record; an invalid-record answer
// sends it to the dead-letter topic; every other failure is left pending and reported as an
// *Error, for the caller to retry.
func (p *Publisher) Send(ctx context.Context, b *Batch) error {
	if b.pending == 0 {
		return nil
	}
	return p.classify(ctx, b, p.write(ctx, b))
}

// answer is the broker's answer about record i of a batch: nil when acknowledged; whole
// when the write call failed as a whole rather than for this record.
type answer struct {
	i     int
	err   error
	whole bool
}

// write sends the records of b not acknowledged yet, with one WriteMessages per writer
// (each topic's records through its own writer when it has one, see SetTopicWriter), and
// returns the answer about each, in input order within each writer.
func (p *Publisher) write(ctx context.Context, b *Batch) []answer {
	var stack [4]Writer
	writers := stack[:0]
	groups := b.groups[:0]
	for i, done := range b.acked {
		if done {
			continue
		}
		w := p.writerOf(b.msgs[i].Topic)
		g := slices.Index(writers, w)
		if g < 0 {
			writers = append(writers, w)
			if len(groups) < cap(groups) {
				groups = groups[:len(groups)+1]
				groups[len(groups)-1] = groups[len(groups)-1][:0]
			} else {
				groups = append(groups, nil)
			}
			g = len(writers) - 1
		}
		groups[g] = append(groups[g], i)
	}
	b.groups = groups
	for len(b.sendMsgs) < len(writers) {
		b.sendMsgs = append(b.sendMsgs, nil)
	}
	for g, ids := range groups {
		b.sendMsgs[g] = resize(b.sendMsgs[g], len(ids))
		for j, i := range ids {
			b.sendMsgs[g][j] = b.msgs[i]
		}
	}
	// Each writer's records in one call; the calls of several writers (the accepted, the
	// rejected and the dead-letter topics) at once, since they wait for acknowledgements of
	// their own: one after the other, a batch holding both kinds waited for the two in turn.
	// Order holds where it matters, within a topic: each writer has its records in input order.
	results := make([]sent, len(writers))
	var wg sync.WaitGroup
	for g := 1; g < len(writers); g++ {
		wg.Go(func() { results[g] = writeOne(ctx, writers[g], b.sendMsgs[g]) })
	}
	results[0] = writeOne(ctx, writers[0], b.sendMsgs[0])
	wg.Wait()
	answers := b.answers[:0]
	for g := range writers {
		ids, msgs, r := groups[g], b.sendMsgs[g], results[g]
		var we kafka.WriteErrors
		perRecord := errors.As(r.err, &we) && len(we) == len(ids)
		for j, i := range ids {
			switch {
			case r.err == nil:
				answers = append(answers, answer{i: i})
			case perRecord:
				answers = append(answers, answer{i: i, err: we[j]})
			default:
				answers = append(answers, answer{i: i, err: r.err, whole: true})
			}
			b.results[i].TraceSend(msgs[j].Topic, r.start, r.end, answers[len(answers)-1].err)
		}
	}
	b.answers = answers
	return answers
}

// sent is the outcome of one writer's call: its error and when it started and ended.
type sent struct {
	err        error
	start, end time.Time
}

// writeOne writes msgs with w in one call.
func writeOne(ctx context.Context, w Writer, msgs []kafka.Message) sent {
	start := time.Now()
	err := w.WriteMessages(ctx, msgs...)
	return sent{err: err, start: start, end: time.Now()}
}

// classify applies the broker's answers to the batch: acknowledged records are done; a
// record refused as too large is cut or sent to the dead letters (shrink), one refused as
// invalid is sent to the dead letters; the rest stay pending and make the *Error returned,
// whose cause is kafka_refused when the dead-letter topic itself refused a record.
func (p *Publisher) classify(ctx context.Context, b *Batch, answers []answer) error {
	now := p.now()
	failed, cause := 0, retry.CauseKafkaProduce
	var first error
	var tooLarge []int
	for _, a := range answers {
		if a.err == nil {
			p.ack(b, a.i, now)
			continue
		}
		failed++
		if first == nil {
			first = a.err
		}
		if a.whole {
			continue // the call failed as a whole: retried as it is
		}
		switch {
		case b.kinds[a.i] == KindDLQ && (errors.Is(a.err, kafka.MessageSizeTooLarge) || errors.Is(a.err, kafka.InvalidRecord)):
			cause = retry.CauseKafkaRefused
		case errors.Is(a.err, kafka.MessageSizeTooLarge):
			tooLarge = append(tooLarge, a.i)
		case errors.Is(a.err, kafka.InvalidRecord):
			p.prepare(b, a.i, KindDLQ, "the broker refused the event as invalid: "+a.err.Error())
		}
	}
	if len(tooLarge) > 0 {
		p.shrink(ctx, b, tooLarge)
	}
	if b.pending == 0 {
		return nil
	}
	if p.obs != nil {
		p.obs.Failed(cause, failed)
	}
	return &Error{cause: cause, pending: b.pending, err: first}
}

// shrink handles records the broker refused as too large: their topic accepts less than
// the limit we had. The limits are read again when possible; the refused records larger
// than their topic's are cut (or sent to the dead-letter topic), and when that changes none
// of them, the largest is escalated anyway, so that repeated refusals always make progress.
func (p *Publisher) shrink(ctx context.Context, b *Batch, refused []int) {
	if p.refresh != nil {
		if limits, err := p.refresh(ctx); err == nil {
			p.setLimits(limits)
		}
	}
	escalated := false
	largest := refused[0]
	for _, i := range refused {
		if size(&b.msgs[i]) > size(&b.msgs[largest]) {
			largest = i
		}
		if size(&b.msgs[i]) > p.LimitOf(b.msgs[i].Topic) {
			p.prepare(b, i, b.kinds[i]+1, "the broker refused the event as too large")
			escalated = true
		}
	}
	if !escalated {
		p.prepare(b, largest, b.kinds[largest]+1, "the broker refused the event as too large")
	}
}

func (p *Publisher) ack(b *Batch, i int, now time.Time) {
	b.acked[i] = true
	b.pending--
	if p.obs != nil {
		p.obs.Published(&b.results[i], b.kinds[i], now)
	}
	b.results[i].TraceDone(b.kinds[i] == KindDLQ, now)
}
