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
	"time"
	"unicode/utf8"

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

// Event is one record to publish on the accepted or rejected topic.
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
	arena  []byte
	// exact makes the arena hold one event at a time (for a single Build).
	exact bool
}

// arenaChunk is the smallest block the arena allocates.
const arenaChunk = 256 << 10

// Reset lets the builder reuse its arena: every event built since the last Reset must be
// out of use (published and acknowledged).
func (bd *Builder) Reset() { bd.arena = bd.arena[:0] }

// alloc returns an empty slice with at least n bytes of capacity from the arena.
func (bd *Builder) alloc(n int) []byte {
	if cap(bd.arena)-len(bd.arena) < n {
		size := max(arenaChunk, 2*n)
		if bd.exact {
			size = n
		}
		bd.arena = make([]byte, 0, size)
	}
	return bd.arena[len(bd.arena):len(bd.arena)]
}

// commit marks the bytes of b, obtained from alloc, as used, unless appending to b outgrew
// the arena (then b has an array of its own).
func (bd *Builder) commit(b []byte) {
	if cap(b) == cap(bd.arena)-len(bd.arena) {
		bd.arena = bd.arena[:len(bd.arena)+len(b)]
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
func (bd *Builder) Build(in *order.Record, d *order.Decision, now time.Time, cut bool) Event {
	if !now.Equal(bd.at) || bd.atText == nil {
		bd.at, bd.atText = now, now.UTC().AppendFormat(nil, timeFormat)
	}
	ev := Event{Accepted: d.Outcome == order.Accepted, Truncated: cut}
	buf := bd.alloc(96 + 2*len(correlationHeader(in.Headers)) + len(in.Value) + 768 + 512*len(d.Errors))
	buf = appendID(buf, in)
	id := buf[:36:36]
	ev.ID = string(id)
	correlation := correlationHeader(in.Headers)
	if len(correlation) == 0 {
		correlation = id
	} else {
		start := len(buf)
		buf = append(buf, correlation...)
		correlation = buf[start:len(buf):len(buf)]
	}
	ev.Key = in.Key
	if len(ev.Key) == 0 {
		ev.Key = correlation
	}
	typ := rejectedBytes
	if ev.Accepted {
		typ = acceptedBytes
	}
	valueStart := len(buf)
	buf = appendValue(buf, in, d, id, typ, bd.atText, correlation, cut)
	bd.commit(buf)
	ev.Value = buf[valueStart:len(buf):len(buf)]
	ev.Headers = []order.Header{
		{Key: HeaderSpecVersion, Value: specVersionBytes},
		{Key: HeaderID, Value: id},
		{Key: HeaderSource, Value: sourceNameBytes},
		{Key: HeaderType, Value: typ},
		{Key: HeaderTime, Value: bd.atText},
		{Key: HeaderContentType, Value: contentTypeBytes},
		{Key: HeaderCorrelationID, Value: correlation},
	}
	return ev
}

// correlationHeader returns the X-Correlation-ID of a record (see order.CorrelationID),
// without copying it when it is valid UTF-8.
func correlationHeader(hs []order.Header) []byte {
	for i := range hs {
		if len(hs[i].Value) > 0 && len(hs[i].Key) == len(HeaderCorrelationID) && strings.EqualFold(hs[i].Key, HeaderCorrelationID) {
			if utf8.Valid(hs[i].Value) {
				return hs[i].Value
			}
			return []byte(order.CorrelationID(hs[i : i+1]))
		}
	}
	return nil
}

func appendValue(b []byte, in *order.Record, d *order.Decision, id, typ, eventTime, correlation []byte, cut bool) []byte {
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
	b = in.Time.UTC().AppendFormat(b, timeFormat)
	b = append(b, `"}`...)
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
