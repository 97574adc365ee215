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
	"sync/atomic"
	"time"

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
	// limit is the largest record the output topics accept (max.message.bytes), in bytes.
	limit atomic.Int64
	obs   Observer
	now   func() time.Time
	// refresh reads the topics' limit again after the broker refused a record as too large.
	refresh func(ctx context.Context) (int, error)
	// forward writes the inputs unchanged instead of events (see NewForwarder).
	forward bool
	// dlq writes the dead-letter records when set (else w): the dead-letter topic takes
	// inputs unchanged, so its batches may be larger than the events' limit allows.
	dlq Writer
}

// SetDeadLetterWriter sends dead-letter records through their own writer, whose batch limit
// is the dead-letter topic's.
func (p *Publisher) SetDeadLetterWriter(w Writer) { p.dlq = w }

// SetLimitSource gives the publisher a way to read the output topics' limit again when the
// broker refuses a record as too large (see TopicLimit).
func (p *Publisher) SetLimitSource(refresh func(ctx context.Context) (int, error)) {
	p.refresh = refresh
}

// New returns a publisher writing through w. limit is the smallest max.message.bytes of the
// output topics (see TopicLimit); obs may be nil; now defaults to time.Now.
func New(w Writer, topics Topics, limit int, obs Observer, now func() time.Time) *Publisher {
	if now == nil {
		now = time.Now
	}
	p := &Publisher{w: w, topics: topics, obs: obs, now: now}
	p.limit.Store(int64(limit))
	return p
}

// Limit returns the record size limit in force.
func (p *Publisher) Limit() int { return int(p.limit.Load()) }

// SetLimit lowers or raises the record size limit (the broker told us it is smaller).
func (p *Publisher) SetLimit(n int) { p.limit.Store(int64(n)) }

// Batch is the records to publish for one batch of results, and which are acknowledged.
type Batch struct {
	results []processor.Result
	msgs    []kafka.Message
	kinds   []Kind
	acked   []bool
	pending int
	builder event.Builder
	headers []kafka.Header // backing array of the messages' headers
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
	b.headers = b.headers[:0]
	b.builder.Reset()
	for i := range results {
		if p.forward {
			in := results[i].Record
			hs := make([]kafka.Header, len(in.Headers))
			for j, h := range in.Headers {
				hs[j] = kafka.Header{Key: h.Key, Value: h.Value}
			}
			b.msgs[i] = kafka.Message{Topic: p.topics.Accepted, Key: in.Key, Value: in.Value, Headers: hs}
			continue
		}
		p.prepare(b, i, KindEvent, "")
	}
	return b
}

// prepare builds record i of the batch as kind, or the next kind when it does not fit.
func (p *Publisher) prepare(b *Batch, i int, kind Kind, reason string) {
	r := &b.results[i]
	limit := p.Limit()
	for kind <= KindTruncated {
		ev := b.builder.Build(r.Record, &r.Decision, r.Decided, kind == KindTruncated)
		topic := p.topics.Rejected
		if ev.Accepted {
			topic = p.topics.Accepted
		}
		msg := kafka.Message{Topic: topic, Key: ev.Key, Value: ev.Value, Headers: b.kafkaHeaders(ev.Headers)}
		if size(&msg) <= limit {
			b.msgs[i], b.kinds[i] = msg, kind
			return
		}
		reason = fmt.Sprintf("event of %d bytes is larger than the output topic accepts (%d bytes) even with its request cut to %d bytes", size(&msg), limit, event.RequestCutBytes)
		kind++
	}
	dl := event.BuildDeadLetter(r.Record, event.ID(r.Record), reason)
	b.msgs[i] = kafka.Message{Topic: p.topics.DLQ, Key: dl.Key, Value: dl.Value, Headers: b.kafkaHeaders(dl.Headers)}
	b.kinds[i] = KindDLQ
}

// resize returns s with length n, reusing its array when it is large enough.
func resize[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}

// kafkaHeaders converts headers into the batch's backing array (one allocation for the
// headers of the whole batch).
func (b *Batch) kafkaHeaders(hs []order.Header) []kafka.Header {
	if cap(b.headers)-len(b.headers) < len(hs) {
		b.headers = make([]kafka.Header, 0, max(len(hs)*(len(b.results)+1), 64))
	}
	start := len(b.headers)
	for _, h := range hs {
		b.headers = append(b.headers, kafka.Header{Key: h.Key, Value: h.Value})
	}
	return b.headers[start:len(b.headers):len(b.headers)]
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
	var idx, dlqIdx []int
	for i, done := range b.acked {
		switch {
		case done:
		case p.dlq != nil && b.kinds[i] == KindDLQ:
			dlqIdx = append(dlqIdx, i)
		default:
			idx = append(idx, i)
		}
	}
	// One WriteMessages per writer; per-message answers are merged in input order.
	werrs := make([]error, 0, len(idx)+len(dlqIdx))
	var callErr error
	write := func(w Writer, ids []int) {
		if len(ids) == 0 {
			return
		}
		msgs := make([]kafka.Message, len(ids))
		for j, i := range ids {
			msgs[j] = b.msgs[i]
		}
		err := w.WriteMessages(ctx, msgs...)
		var we kafka.WriteErrors
		switch {
		case err == nil:
			werrs = append(werrs, make([]error, len(ids))...)
		case errors.As(err, &we) && len(we) == len(ids):
			werrs = append(werrs, we...)
		default:
			callErr = err
			for range ids {
				werrs = append(werrs, err)
			}
		}
	}
	write(p.w, idx)
	write(p.dlq, dlqIdx)
	idx = append(idx, dlqIdx...)
	now := p.now()
	failed, cause := 0, retry.CauseKafkaProduce
	var first error
	var tooLarge []int
	for j, i := range idx {
		werr := werrs[j]
		if werr == nil {
			p.ack(b, i, now)
			continue
		}
		failed++
		if first == nil {
			first = werr
		}
		if errors.Is(werr, callErr) && callErr != nil {
			continue // the call failed as a whole: retried as it is
		}
		switch {
		case b.kinds[i] == KindDLQ && (errors.Is(werr, kafka.MessageSizeTooLarge) || errors.Is(werr, kafka.InvalidRecord)):
			cause = retry.CauseKafkaRefused
		case errors.Is(werr, kafka.MessageSizeTooLarge):
			tooLarge = append(tooLarge, i)
		case errors.Is(werr, kafka.InvalidRecord):
			p.prepare(b, i, KindDLQ, "the broker refused the event as invalid: "+werr.Error())
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

// shrink handles records the broker refused as too large: the topic accepts less than the
// limit we had. The limit is read again when possible; the refused records larger than it
// are cut (or sent to the dead-letter topic), and when that changes none of them, the
// largest is escalated anyway, so that repeated refusals always make progress.
func (p *Publisher) shrink(ctx context.Context, b *Batch, refused []int) {
	if p.refresh != nil {
		if n, err := p.refresh(ctx); err == nil && n > 0 {
			p.SetLimit(n)
		}
	}
	limit := p.Limit()
	escalated := false
	largest := refused[0]
	for _, i := range refused {
		if size(&b.msgs[i]) > size(&b.msgs[largest]) {
			largest = i
		}
		if size(&b.msgs[i]) > limit {
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
}

// NewForwarder returns a publisher that writes each input record unchanged (key, value,
// headers) to topic: no event is built. `ordergate bench` measures the Kafka client's own
// ceiling with it, through the same consumer loop and writer settings as the worker.
func NewForwarder(w Writer, topic string, limit int, obs Observer) *Publisher {
	p := New(w, Topics{Accepted: topic, Rejected: topic, DLQ: topic}, limit, obs, nil)
	p.forward = true
	return p
}
