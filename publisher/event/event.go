// Package event builds the events ordergate publishes (contract section 6): the JSON value,
// the CloudEvents binary-mode headers, the key and the deterministic id, and the dead-letter
// record of a record whose event the broker refuses for good. It is pure: the decision time
// comes from the caller's clock, and nothing here does I/O.
package event

import (
	"crypto/sha1"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/google/uuid"

	"github.com/ordergate/ordergate/processor/order"
)

// CloudEvents 1.0 binary content mode over Kafka: every context attribute travels as a
// header named "ce_" + attribute, and the data's media type as "content-type" (CloudEvents
// Kafka protocol binding, section 3.2).
const (
	HeaderSpecVersion = "ce_specversion"
	HeaderID          = "ce_id"
	HeaderSource      = "ce_source"
	HeaderType        = "ce_type"
	HeaderTime        = "ce_time"
	HeaderContentType = "content-type"
	// HeaderCorrelationID is written on every event, whatever case the input used.
	HeaderCorrelationID = "X-Correlation-ID"
	// HeaderTraceParent and HeaderTraceState carry the W3C trace context of the event
	// (see Builder.Build).
	HeaderTraceParent = order.HeaderTraceParent
	HeaderTraceState  = order.HeaderTraceState
)

// Values of the CloudEvents attributes.
const (
	SpecVersion  = "1.0"
	SourceName   = "ordergate"
	ContentType  = "application/json"
	TypeAccepted = "order.accepted"
	TypeRejected = "order.rejected"
)

// Limits of section 6.
const (
	// RequestCutBytes is the length of the request kept as a string when it is not a JSON
	// object, or when the event had to be cut to fit the output topic.
	RequestCutBytes = 4096
	// MaxErrorsWhenCut is how many entries of errors a cut event keeps.
	MaxErrorsWhenCut = 100
)

// Headers of a record that `ordergate dlq replay` published again on the input topic.
const (
	// HeaderReplayOf is the eventId of the original record, whose event the broker had
	// refused. The event of the replayed record, which has an id of its own (its source
	// offset is new), names the original in replayOf.
	HeaderReplayOf = "replay_of"
	// HeaderReplayDeadLetter locates the dead letter replayed: topic/partition/offset.
	HeaderReplayDeadLetter = "replay_dead_letter"
)

// ReplayOf returns the eventId a record replays (its replay_of header, when it holds a
// UUID), or nil.
func ReplayOf(hs []order.Header) []byte {
	for i := range hs {
		if len(hs[i].Key) == len(HeaderReplayOf) && strings.EqualFold(hs[i].Key, HeaderReplayOf) {
			if v := hs[i].Value; isUUID(v) {
				return v
			}
			return nil
		}
	}
	return nil
}

// isUUID reports whether v is a UUID in its canonical text form (lower-case hex digits).
func isUUID(v []byte) bool {
	if len(v) != 36 {
		return false
	}
	for i, c := range v {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// Event is one record to publish on the accepted or rejected topic. Built by a Builder, its
// ID, Value and header values share the builder's arena: they stay valid until the
// builder's next Reset (copy the ID, for instance with strings.Clone, to keep it longer).
type Event struct {
	ID        string
	Accepted  bool
	Key       []byte
	Value     []byte
	Headers   []order.Header
	Truncated bool
}

// namespace is the UUID namespace of event ids (a version 5 UUID of the DNS namespace and
// "ordergate"), fixed forever: changing it would change every id.
var namespace = uuid.NewSHA1(uuid.NameSpaceDNS, []byte("ordergate"))

// ID returns the event id of a record: a version 5 UUID of its topic, partition, offset and
// timestamp (milliseconds), so that a redelivered record gets the same id and a re-created
// topic, whose offsets restart, does not collide.
func ID(r *order.Record) string { return string(appendID(nil, r)) }

// appendID appends the event id of r, computed as uuid.NewSHA1 does (RFC 4122 version 5)
// without allocating.
func appendID(dst []byte, r *order.Record) []byte {
	var stack [320]byte
	name := append(stack[:0], namespace[:]...)
	name = append(name, r.Source.Topic...)
	name = append(name, 0)
	name = strconv.AppendInt(name, int64(r.Source.Partition), 10)
	name = append(name, 0)
	name = strconv.AppendInt(name, r.Source.Offset, 10)
	name = append(name, 0)
	name = strconv.AppendInt(name, r.Time.UnixMilli(), 10)
	sum := sha1.Sum(name)
	var u uuid.UUID
	copy(u[:], sum[:16])
	u[6] = (u[6] & 0x0f) | 0x50 // version 5
	u[8] = (u[8] & 0x3f) | 0x80 // RFC 4122 variant
	var text [36]byte
	hex.Encode(text[0:8], u[0:4])
	text[8] = '-'
	hex.Encode(text[9:13], u[4:6])
	text[13] = '-'
	hex.Encode(text[14:18], u[6:8])
	text[18] = '-'
	hex.Encode(text[19:23], u[8:10])
	text[23] = '-'
	hex.Encode(text[24:], u[10:])
	return append(dst, text[:]...)
}

// timeFormat is RFC 3339 in UTC with milliseconds, the precision of Kafka timestamps.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

// appendTime appends t in UTC as timeFormat does, written digit by digit for the years 0
// to 9999 (a third of the cost of Time.AppendFormat, once per event), by AppendFormat
// otherwise.
func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, timeFormat)
	}
	hour, minute, sec := t.Clock()
	ms := t.Nanosecond() / 1e6
	return append(b,
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+int(month)/10), byte('0'+int(month)%10), '-', byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':', byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
}

// Constant header values, shared by every event (never modified).
var (
	specVersionBytes = []byte(SpecVersion)
	sourceNameBytes  = []byte(SourceName)
	contentTypeBytes = []byte(ContentType)
	acceptedBytes    = []byte(TypeAccepted)
	rejectedBytes    = []byte(TypeRejected)
)

// Builder builds events. It writes them into an arena it reuses after Reset, and keeps the
// last decision time formatted, since the events of a batch share it. A Builder is not safe
// for concurrent use; its zero value is ready.
type Builder struct {
	at     time.Time
	atText []byte
	// bytes holds the events' values and header values, headers their header lists.
	bytes   slab[byte]
	headers slab[order.Header]
	// exact makes the arena hold one event at a time (for a single Build).
	exact bool
}

// arenaChunk is the smallest block the arena allocates; headerChunk the number of headers
// of a block of header lists.
const (
	arenaChunk  = 256 << 10
	headerChunk = 1024
)

// Blocks of the standard size go back to a pool shared by every builder at Reset, so that
// the next batch of any partition reuses them rather than allocating and clearing fresh
// ones. A pool, not a list per builder: only the batches in flight hold blocks, however
// many partitions a worker has, and the collector may free idle ones.
var (
	byteBlocks   sync.Pool // *[]byte of capacity arenaChunk
	headerBlocks sync.Pool // *[]order.Header of capacity headerChunk
)

// slab is an arena of T in blocks: what alloc hands out stays valid until reset, which
// returns every block of the standard size but the current one to the pool.
type slab[T any] struct {
	cur  []T
	used [][]T // blocks filled since the last reset, before cur
}

// alloc returns an empty slice with at least n elements of capacity: of size exactly n when
// exact (no block), else from the current block or a new one, from pool when n fits a block
// of chunk elements.
func (s *slab[T]) alloc(n, chunk int, exact bool, pool *sync.Pool) []T {
	if exact {
		return make([]T, 0, n)
	}
	if cap(s.cur)-len(s.cur) < n {
		if cap(s.cur) > 0 {
			s.used = append(s.used, s.cur)
		}
		s.cur = nil
		if n <= chunk {
			if p, ok := pool.Get().(*[]T); ok {
				s.cur = (*p)[:0]
			}
		}
		if s.cur == nil {
			s.cur = make([]T, 0, max(chunk, 2*n))
		}
	}
	return s.cur[len(s.cur):len(s.cur)]
}

// commit marks the elements of b, obtained from alloc, as used, unless appending to b
// outgrew the block (then b has an array of its own).
func (s *slab[T]) commit(b []T) {
	if cap(b) == cap(s.cur)-len(s.cur) {
		s.cur = s.cur[:len(s.cur)+len(b)]
	}
}

// reset keeps the current block for the next batch and gives the others of the standard
// size back to pool (see Builder.Reset).
//
// scrub clears what a block held before it goes back (for blocks of pointers: a block
// waiting in the pool must not keep the memory its elements pointed to alive).
func (s *slab[T]) reset(chunk int, pool *sync.Pool, scrub bool) {
	s.cur = s.cur[:0]
	for _, b := range s.used {
		if cap(b) == chunk {
			if scrub {
				clear(b)
			}
			b = b[:0]
			pool.Put(&b)
		}
	}
	clear(s.used)
	s.used = s.used[:0]
}

// release returns every block of the standard size, the current one too, to pool.
func (s *slab[T]) release(chunk int, pool *sync.Pool, scrub bool) {
	cur := s.cur
	s.reset(chunk, pool, scrub)
	if cap(cur) == chunk {
		if scrub {
			clear(cur)
		}
		b := cur[:0]
		pool.Put(&b)
	}
	s.cur = nil
}

// Reset lets the builder reuse its arena: every event built since the last Reset must be
// out of use (published and acknowledged).
func (bd *Builder) Reset() {
	bd.bytes.reset(arenaChunk, &byteBlocks, false)
	bd.headers.reset(headerChunk, &headerBlocks, true)
}

// Release gives every block of the arena back to the pool, the current one too: every
// event built since the last Reset must be out of use. The builder then holds no memory
// until its next Build.
func (bd *Builder) Release() {
	bd.bytes.release(arenaChunk, &byteBlocks, false)
	bd.headers.release(headerChunk, &headerBlocks, true)
}

// alloc returns an empty slice with at least n bytes of capacity from the arena.
func (bd *Builder) alloc(n int) []byte { return bd.bytes.alloc(n, arenaChunk, bd.exact, &byteBlocks) }

// commit marks the bytes of b, obtained from alloc, as used, unless appending to b outgrew
// the arena (then b has an array of its own).
func (bd *Builder) commit(b []byte) {
	if !bd.exact {
		bd.bytes.commit(b)
	}
}

// Build returns the event of a final decision; see Builder.Build.
func Build(in *order.Record, d *order.Decision, now time.Time, cut bool) Event {
	b := Builder{exact: true}
	return b.Build(in, d, now, cut)
}

// Build returns the event of a final decision. now is the decision time (eventTime). When
// cut is set, request is cut to its first RequestCutBytes as a string, requestTruncated is
// written and errors keep their first MaxErrorsWhenCut entries: the publisher asks for it
// when the whole event is larger than the output topic accepts. The value and the header
// values share one allocation.
//
// The event carries a W3C trace context (traceparent, and tracestate when there is one):
// the record's Trace when the worker traced it (its own span, so that a consumer of the
// event continues the trace), else the input's own valid context unchanged; a record
// without either gives an event without one.
func (bd *Builder) Build(in *order.Record, d *order.Decision, now time.Time, cut bool) Event {
	if !now.Equal(bd.at) || bd.atText == nil {
		bd.at, bd.atText = now, now.UTC().AppendFormat(nil, timeFormat)
	}
	ev := Event{Accepted: d.Outcome == order.Accepted, Truncated: cut}
	correlation := correlationHeader(in.Headers)
	replayOf := ReplayOf(in.Headers)
	trace := in.Trace
	if !trace.Valid() {
		trace = order.TraceContextOf(in.Headers)
	}
	traceLen := 0
	if trace.Valid() {
		traceLen = order.TraceParentLen + len(trace.State)
	}
	buf := bd.alloc(reserve(in, d, len(bd.atText), len(correlation), len(replayOf), cut) + traceLen)
	buf = appendID(buf, in)
	buf = append(buf, correlation...)
	idEnd, corrEnd := 36, len(buf)
	if trace.Valid() {
		buf = order.AppendTraceParent(buf, &trace)
		buf = append(buf, trace.State...)
	}
	traceEnd := len(buf)
	typ := rejectedBytes
	if ev.Accepted {
		typ = acceptedBytes
	}
	corr := buf[idEnd:corrEnd]
	if len(corr) == 0 {
		corr = buf[:idEnd]
	}
	buf = appendValue(buf, in, d, buf[:idEnd], typ, bd.atText, corr, replayOf, cut)
	bd.commit(buf)
	// The id, the correlation id and the trace context are read from the final buffer:
	// when the value outgrew the reservation, append moved them with it.
	id := buf[:idEnd:idEnd]
	if bd.exact {
		ev.ID = string(id)
	} else {
		ev.ID = unsafe.String(&id[0], idEnd) // a view of the arena, as Value is: no copy
	}
	correlation = buf[idEnd:corrEnd:corrEnd]
	if len(correlation) == 0 {
		correlation = id
	}
	ev.Key = in.Key
	if len(ev.Key) == 0 {
		ev.Key = correlation
	}
	ev.Value = buf[traceEnd:len(buf):len(buf)]
	n := 7
	if traceLen > 0 {
		n += 1 + min(len(trace.State), 1)
	}
	hs := bd.headers.alloc(n, headerChunk, bd.exact, &headerBlocks)[:n]
	if !bd.exact {
		bd.headers.commit(hs)
	}
	ev.Headers = hs[:7:n]
	ev.Headers[0] = order.Header{Key: HeaderSpecVersion, Value: specVersionBytes}
	ev.Headers[1] = order.Header{Key: HeaderID, Value: id}
	ev.Headers[2] = order.Header{Key: HeaderSource, Value: sourceNameBytes}
	ev.Headers[3] = order.Header{Key: HeaderType, Value: typ}
	ev.Headers[4] = order.Header{Key: HeaderTime, Value: bd.atText}
	ev.Headers[5] = order.Header{Key: HeaderContentType, Value: contentTypeBytes}
	ev.Headers[6] = order.Header{Key: HeaderCorrelationID, Value: correlation}
	if traceLen > 0 {
		parentEnd := corrEnd + order.TraceParentLen
		ev.Headers = append(ev.Headers, order.Header{Key: HeaderTraceParent, Value: buf[corrEnd:parentEnd:parentEnd]})
		if len(trace.State) > 0 {
			ev.Headers = append(ev.Headers, order.Header{Key: HeaderTraceState, Value: buf[parentEnd:traceEnd:traceEnd]})
		}
	}
	return ev
}

// correlationHeader returns the X-Correlation-ID of a record's events (see
// order.CorrelationHeader: nil when absent or not valid), without copying it when it is
// valid UTF-8.
func correlationHeader(hs []order.Header) []byte {
	v, _ := order.CorrelationHeader(hs)
	if utf8.Valid(v) {
		return v
	}
	return []byte(strings.ToValidUTF8(string(v), "\uFFFD"))
}

// Literal text every event holds whatever its decision (see appendValue), counted by
// reserve.
const (
	envelopeText = `{"eventId":"","eventType":"","eventTime":"","correlationId":,"requestType":,"source":{"topic":,"partition":,"offset":,"timestamp":""},"request":}`
	// violationText is the literal text of one entry of errors with its field, and of
	// the separator before it.
	violationText = `,{"status":,"code":,"message":"","description":"","field":""}`
)

// reserve returns the bytes that Build will write for an event, at least: the literal
// text and the lengths of the values written unescaped (escaping only adds). The builder
// reserves that much, never more than it writes, so that a record whose event will be cut
// never reserves for the whole.
func reserve(in *order.Record, d *order.Decision, timeLen, correlationLen, replayLen int, cut bool) int {
	const idLen, typeLen, tsLen, nullLen = 36, len(TypeAccepted), len(timeFormat), len("null")
	n := idLen + len(envelopeText) + 2*idLen + typeLen + timeLen + len(in.Source.Topic) + 2 + 1 + 1 + tsLen + nullLen
	if correlationLen > 0 {
		n += 2*correlationLen + 2 - idLen // its copy and its JSON string, instead of the id
	}
	if replayLen > 0 {
		n += len(`,"replayOf":""`) + replayLen
	}
	switch {
	case len(in.Value) == 0:
	case d.BodyIsObject && !cut:
		n += len(in.Value) - nullLen
	default:
		n += min(len(in.Value), RequestCutBytes) + 2 - nullLen
	}
	if sp := d.ServicePoint; sp != nil {
		n += len(`,"servicePoint":{"id":"","reference":"","customerReference":"","name":"","market":"","state":""}`) +
			len(sp.ID) + len(sp.Reference) + len(sp.CustomerReference) + len(sp.Name) + len(sp.Market) + len(sp.State)
	}
	if ba := d.BillingAccount; ba != nil {
		n += len(`,"billingAccount":{"businessId":"","id":""}`) + len(ba.BusinessID) + len(ba.ID)
	}
	if len(d.Warnings) > 0 {
		n += len(`,"warnings":[]`) - 1
		for _, w := range d.Warnings {
			n += len(w) + 3
		}
	}
	if len(d.Errors) > 0 {
		errs := d.Errors
		if cut && len(errs) > MaxErrorsWhenCut {
			errs = errs[:MaxErrorsWhenCut]
		}
		first := &d.Errors[0]
		n += len(`,"error":,"errors":[]`) + len(violationText) - len(`,"field":""`) - 1 + first.DescriptionLen(d.Type) + len(first.Message())
		for i := range errs {
			v := &errs[i]
			n += len(violationText) - 1 + len(v.Message()) + v.DescriptionLen(d.Type) + 2 // status and code digits, at least
			if v.Field != "" {
				n += len(v.Field)
			} else {
				n -= len(`,"field":""`)
			}
		}
	}
	return n
}

func appendValue(b []byte, in *order.Record, d *order.Decision, id, typ, eventTime, correlation, replayOf []byte, cut bool) []byte {
	b = append(b, `{"eventId":"`...)
	b = append(b, id...)
	b = append(b, `","eventType":"`...)
	b = append(b, typ...)
	b = append(b, `","eventTime":"`...)
	b = append(b, eventTime...)
	b = append(b, `","correlationId":`...)
	b = appendString(b, correlation)
	b = append(b, `,"requestType":`...)
	if t := d.Type.String(); t != "" {
		b = appendString(b, t)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"source":{"topic":`...)
	b = appendString(b, in.Source.Topic)
	b = append(b, `,"partition":`...)
	b = strconv.AppendInt(b, int64(in.Source.Partition), 10)
	b = append(b, `,"offset":`...)
	b = strconv.AppendInt(b, in.Source.Offset, 10)
	b = append(b, `,"timestamp":"`...)
	b = appendTime(b, in.Time)
	b = append(b, `"}`...)
	if len(replayOf) > 0 {
		b = append(b, `,"replayOf":"`...)
		b = append(b, replayOf...)
		b = append(b, '"')
	}
	if sp := d.ServicePoint; sp != nil {
		b = append(b, `,"servicePoint":{"id":`...)
		b = appendString(b, sp.ID)
		b = append(b, `,"reference":`...)
		b = appendString(b, sp.Reference)
		b = append(b, `,"customerReference":`...)
		b = appendString(b, sp.CustomerReference)
		b = append(b, `,"name":`...)
		b = appendString(b, sp.Name)
		b = append(b, `,"market":`...)
		b = appendString(b, sp.Market)
		b = append(b, `,"state":`...)
		b = appendString(b, sp.State)
		b = append(b, '}')
		if sp.Stale {
			b = append(b, `,"servicePointStale":true`...)
		}
	}
	if ba := d.BillingAccount; ba != nil {
		b = append(b, `,"billingAccount":{"businessId":`...)
		b = appendString(b, ba.BusinessID)
		b = append(b, `,"id":`...)
		b = appendString(b, ba.ID)
		b = append(b, '}')
	}
	if len(d.Errors) > 0 {
		b = append(b, `,"error":`...)
		b = appendViolation(b, &d.Errors[0], d.Type, false)
		b = append(b, `,"errors":[`...)
		errs := d.Errors
		if cut && len(errs) > MaxErrorsWhenCut {
			errs = errs[:MaxErrorsWhenCut]
		}
		for i := range errs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendViolation(b, &errs[i], d.Type, true)
		}
		b = append(b, ']')
	}
	if len(d.Warnings) > 0 {
		b = append(b, `,"warnings":[`...)
		for i, w := range d.Warnings {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, w)
		}
		b = append(b, ']')
	}
	b = append(b, `,"request":`...)
	switch {
	case len(in.Value) == 0:
		b = append(b, "null"...)
	case d.BodyIsObject && !cut:
		b = append(b, in.Value...)
	default:
		v := in.Value
		if len(v) > RequestCutBytes {
			v = v[:RequestCutBytes]
		}
		b = appendString(b, string(v))
	}
	if cut {
		b = append(b, `,"requestTruncated":true`...)
	}
	if d.ErrorsTruncated || (cut && len(d.Errors) > MaxErrorsWhenCut) {
		b = append(b, `,"errorsTruncated":true`...)
	}
	return append(b, '}')
}

func appendViolation(b []byte, v *order.Violation, t order.RequestType, withField bool) []byte {
	b = append(b, `{"status":`...)
	b = strconv.AppendInt(b, int64(v.Status()), 10)
	b = append(b, `,"code":`...)
	b = strconv.AppendInt(b, int64(v.Code()), 10)
	b = append(b, `,"message":`...)
	b = appendString(b, v.Message())
	b = append(b, `,"description":`...)
	b = appendString(b, v.Description(t))
	if withField && v.Field != "" {
		b = append(b, `,"field":`...)
		b = appendString(b, v.Field)
	}
	return append(b, '}')
}
