package event

import (
	"strconv"
	"strings"

	"github.com/ordergate/ordergate/processor/order"
)

// Headers added to a dead-letter record.
const (
	HeaderDLQReason = "dlq_reason"
	HeaderDLQSource = "dlq_source"
	// HeaderDLQDroppedHeaders names the input's headers the dead-letter record does not
	// carry (comma-separated names, never values), when there are any.
	HeaderDLQDroppedHeaders = "dlq_dropped_headers"
)

// Headers of a replay marker: a record that `ordergate dlq replay` writes on the
// dead-letter topic after replaying a dead letter, so that a second replay of the same
// event is refused. A marker is not a dead letter: it has no dlq_source, and readers of the
// dead-letter topic skip it.
const (
	// HeaderDLQReplayOf is the eventId of the dead letter replayed (its ce_id).
	HeaderDLQReplayOf = "dlq_replay_of"
	// HeaderDLQReplay locates the replayed record on the input topic:
	// topic/partition/offset.
	HeaderDLQReplay = "dlq_replay"
)

// DeadLetterHeaders are the input headers a dead-letter record keeps (contract section 6,
// amended 2026-12-06): the headers the contract reads except client_secret, and the W3C
// trace headers. Names are matched without regard to case and kept as the input spelt them.
var DeadLetterHeaders = []string{
	"type", "businessId", "id", "client_id", "X-Correlation-ID", "channelId", "lob", "targetSystem",
	"traceparent", "tracestate",
}

// maxDroppedName is the longest header name dlq_dropped_headers writes out.
const maxDroppedName = 64

// DeadLetter is the record published on the DLQ topic for an input whose event the broker
// refused for good: the input's key and value unchanged (so it can be replayed), the input's
// headers of DeadLetterHeaders (never client_secret, an Authorization or a Cookie), and
// dlq_reason, dlq_source (topic/partition/offset), ce_id (the id of the event that could not
// be published) and, when headers were dropped, dlq_dropped_headers.
type DeadLetter struct {
	Key     []byte
	Value   []byte
	Headers []order.Header
}

// BuildDeadLetter returns the dead-letter record of an input; reason says why its event
// was refused.
func BuildDeadLetter(in *order.Record, eventID, reason string) DeadLetter {
	dl := DeadLetter{Key: in.Key, Value: in.Value}
	var dropped droppedNames
	for _, h := range in.Headers {
		if KeptInDeadLetter(h.Key) {
			dl.Headers = append(dl.Headers, order.Header{Key: h.Key, Value: h.Value})
		} else {
			dropped.add(h.Key)
		}
	}
	src := in.Source.Topic + "/" + strconv.Itoa(in.Source.Partition) + "/" + strconv.FormatInt(in.Source.Offset, 10)
	dl.Headers = append(dl.Headers,
		order.Header{Key: HeaderDLQReason, Value: []byte(reason)},
		order.Header{Key: HeaderDLQSource, Value: []byte(src)},
		order.Header{Key: HeaderID, Value: []byte(eventID)},
	)
	if v := dropped.String(); v != "" {
		dl.Headers = append(dl.Headers, order.Header{Key: HeaderDLQDroppedHeaders, Value: []byte(v)})
	}
	return dl
}

// KeptInDeadLetter reports whether a header of that name travels into a dead-letter record.
func KeptInDeadLetter(name string) bool {
	for _, k := range DeadLetterHeaders {
		if len(k) == len(name) && strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// droppedNames lists the names of dropped headers, once each (without regard to case), in
// input order. A name that is not an HTTP token of at most maxDroppedName bytes is not
// written, since it could be anything (a value pasted as a name): it is only counted, in a
// last entry "(N not shown)", which no header name can be.
type droppedNames struct {
	names  []string
	hidden int
}

func (d *droppedNames) add(name string) {
	if !isToken(name) || len(name) > maxDroppedName {
		d.hidden++
		return
	}
	for _, n := range d.names {
		if strings.EqualFold(n, name) {
			return
		}
	}
	d.names = append(d.names, name)
}

func (d *droppedNames) String() string {
	s := strings.Join(d.names, ",")
	if d.hidden > 0 {
		if s != "" {
			s += ","
		}
		s += "(" + strconv.Itoa(d.hidden) + " not shown)"
	}
	return s
}

// isToken reports whether s is an HTTP field name (RFC 9110 token).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
