// Package deadletter reads the dead-letter topic and replays its records: what `ordergate
// dlq list`, `show` and `replay` do. A dead letter is an input record whose event the broker
// refused for good (contract section 6): its key and value unchanged, the headers the
// contract reads (never client_secret), and dlq_reason, dlq_source, ce_id and
// dlq_dropped_headers. A replay publishes it again on the input topic; a replay marker, a
// small record on the dead-letter topic itself, remembers it in Kafka, so that a second
// replay is refused wherever it is run from.
package deadletter

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ordergate/ordergate/internal/app/audit"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/publisher/event"
)

// Topics are the input and dead-letter topics.
type Topics struct {
	Requests, DLQ string
}

// Letter is one dead letter.
type Letter struct {
	// Topic, Partition and Offset locate the dead letter on the dead-letter topic.
	Topic     string
	Partition int
	Offset    int64
	// Time is when it was dead-lettered (the record's timestamp).
	Time    time.Time
	Key     []byte
	Value   []byte
	Headers []kafka.Header
	// EventID is the id of the event that could not be published (ce_id).
	EventID string
	// Source locates the input record: topic/partition/offset (dlq_source).
	Source string
	// Reason says why the broker refused the event (dlq_reason).
	Reason string
	// RequestType is the supported type the request names (body type, else the type
	// header), "" when none.
	RequestType string
	// Dropped names the input's headers the dead letter does not carry
	// (dlq_dropped_headers).
	Dropped string
	// Replays are the replays of this event, from the markers on the dead-letter topic.
	Replays []Replay
}

// Ref is the dead letter's reference for show and replay: partition/offset.
func (l *Letter) Ref() string {
	return strconv.Itoa(l.Partition) + "/" + strconv.FormatInt(l.Offset, 10)
}

// Header returns the value of the first header of that name, and whether there is one.
func (l *Letter) Header(name string) (string, bool) {
	for _, h := range l.Headers {
		if h.Key == name {
			return string(h.Value), true
		}
	}
	return "", false
}

// Replay is one replay of a dead letter, as its marker tells.
type Replay struct {
	// Time is when the replay was made (the marker's timestamp).
	Time time.Time
	// Record locates the replayed record on the input topic: topic/partition/offset.
	Record string
	// Forced reports a replay made with --force, over an earlier one.
	Forced bool
	// DeadLetter locates the dead letter replayed (topic/partition/offset).
	DeadLetter string
}

// marker is the value of a replay marker (its headers carry the same, for readers that
// only look at headers).
type marker struct {
	ReplayOf   string `json:"replayOf"`
	Replay     string `json:"replay"`
	DeadLetter string `json:"deadLetter"`
	Forced     bool   `json:"forced"`
}

// Read reads every record of the dead-letter topic: the dead letters in partition and
// offset order, each with the replays its markers tell. progress, when not nil, is told
// how many records were read of how many.
func Read(ctx context.Context, k audit.Cluster, topic string, progress func(done, total int)) ([]Letter, error) {
	first, last, err := audit.Offsets(ctx, k.Client, topic)
	if err != nil {
		return nil, err
	}
	total, done := 0, 0
	for p := range last {
		total += int(last[p] - first[p])
	}
	parts := make([]int, 0, len(last))
	for p := range last {
		parts = append(parts, p)
	}
	slices.Sort(parts)
	var letters []Letter
	replays := map[string][]Replay{}
	for _, p := range parts {
		err := audit.Scan(ctx, k.Dialer, k.Brokers, topic, p, first[p], last[p], func(m kafka.Message) error {
			done++
			if progress != nil {
				progress(done, total)
			}
			if id, r, ok := parseMarker(m); ok {
				replays[id] = append(replays[id], r)
				return nil
			}
			letters = append(letters, parseLetter(topic, m))
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	for i := range letters {
		l := &letters[i]
		l.Replays = replays[l.EventID]
		slices.SortFunc(l.Replays, func(a, b Replay) int { return a.Time.Compare(b.Time) })
	}
	return letters, nil
}

func parseLetter(topic string, m kafka.Message) Letter {
	l := Letter{Topic: topic, Partition: m.Partition, Offset: m.Offset, Time: m.Time, Key: m.Key, Value: m.Value, Headers: m.Headers}
	l.EventID, _ = l.Header(event.HeaderID)
	l.Source, _ = l.Header(event.HeaderDLQSource)
	l.Reason, _ = l.Header(event.HeaderDLQReason)
	l.Dropped, _ = l.Header(event.HeaderDLQDroppedHeaders)
	hs := make([]order.Header, len(m.Headers))
	for i, h := range m.Headers {
		hs[i] = order.Header{Key: h.Key, Value: h.Value}
	}
	// The decision's type is the request's own notion of its type (body, else header).
	d := (&order.Rules{}).Decide(&order.Record{Value: m.Value, Headers: hs, Time: m.Time})
	l.RequestType = d.Type.String()
	return l
}

func parseMarker(m kafka.Message) (string, Replay, bool) {
	var id string
	r := Replay{Time: m.Time}
	found := false
	for _, h := range m.Headers {
		switch h.Key {
		case event.HeaderDLQReplayOf:
			id, found = string(h.Value), true
		case event.HeaderDLQReplay:
			r.Record = string(h.Value)
		}
	}
	if !found {
		return "", Replay{}, false
	}
	var v marker
	if decodeJSON(m.Value, &v) == nil {
		r.Forced, r.DeadLetter = v.Forced, v.DeadLetter
	}
	return id, r, true
}

// Filter selects dead letters; the zero value selects all.
type Filter struct {
	// Since and Until bound the time of the dead letter (Until excluded); zero: no bound.
	Since, Until time.Time
	// Reason selects the reasons that contain it, without regard to case.
	Reason string
	// Type selects one request type ("" any; "none" for the records that name none).
	Type string
	// Key selects one record key.
	Key string
	// Pending selects the dead letters not replayed yet.
	Pending bool
}

// Match reports whether the filter selects l.
func (f *Filter) Match(l *Letter) bool {
	switch {
	case !f.Since.IsZero() && l.Time.Before(f.Since):
	case !f.Until.IsZero() && !l.Time.Before(f.Until):
	case f.Reason != "" && !strings.Contains(strings.ToLower(l.Reason), strings.ToLower(f.Reason)):
	case f.Type == "none" && l.RequestType != "":
	case f.Type != "" && f.Type != "none" && l.RequestType != f.Type:
	case f.Key != "" && string(l.Key) != f.Key:
	case f.Pending && len(l.Replays) > 0:
	default:
		return true
	}
	return false
}

// Find returns the dead letters a reference names: partition/offset on the dead-letter
// topic, or an event id (every dead letter of that event: a repeated delivery can
// dead-letter one input twice).
func Find(letters []Letter, ref string) ([]*Letter, error) {
	var out []*Letter
	for i := range letters {
		if letters[i].Ref() == ref || letters[i].EventID == ref {
			out = append(out, &letters[i])
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no dead letter %s (give partition/offset on the dead-letter topic, or an event id)", ref)
	}
	return out, nil
}
