// Package event builds the events ordergate publishes (contract section 6): the JSON value,
// the CloudEvents binary-mode headers, the key and the deterministic id, and the dead-letter
// record of a record whose event the broker refuses for good. It is pure: the decision time
// comes from the caller's clock, and nothing here does I/O.
package event

import (
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/ordergate/ordergate/order"
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

// Source locates the input record of an event.
type Source struct {
	Topic     string
	Partition int
	Offset    int64
	Timestamp time.Time
}

// Header is one Kafka header of an event or a dead-letter record.
type Header struct {
	Key   string
	Value []byte
}

// Input is the record an event answers.
type Input struct {
	Source  Source
	Key     []byte
	Value   []byte
	Headers []order.Header
}

// Event is one record to publish on the accepted or rejected topic.
type Event struct {
	ID        string
	Accepted  bool
	Key       []byte
	Value     []byte
	Headers   []Header
	Truncated bool
}

// namespace is the UUID namespace of event ids (a version 5 UUID of the DNS namespace and
// "ordergate"), fixed forever: changing it would change every id.
var namespace = uuid.NewSHA1(uuid.NameSpaceDNS, []byte("ordergate"))

// ID returns the event id of a source: a version 5 UUID of its topic, partition, offset and
// timestamp (milliseconds), so that a redelivered record gets the same id and a re-created
// topic, whose offsets restart, does not collide.
func ID(s Source) string {
	name := make([]byte, 0, len(s.Topic)+48)
	name = append(name, s.Topic...)
	name = append(name, 0)
	name = strconv.AppendInt(name, int64(s.Partition), 10)
	name = append(name, 0)
	name = strconv.AppendInt(name, s.Offset, 10)
	name = append(name, 0)
	name = strconv.AppendInt(name, s.Timestamp.UnixMilli(), 10)
	return uuid.NewSHA1(namespace, name).String()
}

// timeFormat is RFC 3339 in UTC with milliseconds, the precision of Kafka timestamps.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

// Build returns the event of a final decision. now is the decision time (eventTime). When
// cut is set, request is cut to its first RequestCutBytes as a string, requestTruncated is
// written and errors keep their first MaxErrorsWhenCut entries: the publisher asks for it
// when the whole event is larger than the output topic accepts.
func Build(in *Input, d *order.Decision, now time.Time, cut bool) Event {
	id := ID(in.Source)
	correlation := order.CorrelationID(in.Headers)
	if correlation == "" {
		correlation = id
	}
	ev := Event{ID: id, Accepted: d.Outcome == order.Accepted, Truncated: cut}
	ev.Key = in.Key
	if len(ev.Key) == 0 {
		ev.Key = []byte(correlation)
	}
	eventTime := now.UTC().Format(timeFormat)
	typ := TypeRejected
	if ev.Accepted {
		typ = TypeAccepted
	}
	ev.Value = appendValue(make([]byte, 0, len(in.Value)+1024), in, d, id, typ, eventTime, correlation, cut)
	ev.Headers = []Header{
		{HeaderSpecVersion, []byte(SpecVersion)},
		{HeaderID, []byte(id)},
		{HeaderSource, []byte(SourceName)},
		{HeaderType, []byte(typ)},
		{HeaderTime, []byte(eventTime)},
		{HeaderContentType, []byte(ContentType)},
		{HeaderCorrelationID, []byte(correlation)},
	}
	return ev
}

func appendValue(b []byte, in *Input, d *order.Decision, id, typ, eventTime, correlation string, cut bool) []byte {
	b = append(b, `{"eventId":`...)
	b = appendString(b, id)
	b = append(b, `,"eventType":`...)
	b = appendString(b, typ)
	b = append(b, `,"eventTime":`...)
	b = appendString(b, eventTime)
	b = append(b, `,"correlationId":`...)
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
	b = append(b, `,"timestamp":`...)
	b = appendString(b, in.Source.Timestamp.UTC().Format(timeFormat))
	b = append(b, '}')
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
