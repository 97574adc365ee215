// Package shadow compares the decisions of this binary with the events already published:
// `ordergate replay --diff`. It reads a range of the input topic, decides each record with
// the rules given (and, unless pure, resolves service points through the resolver given),
// finds the event published for the same record by its eventId on the output topics, and
// counts what changed. Decisions are replayable (today is the record's timestamp, ids come
// from the record's coordinates), so a difference comes from the rules, the clients, the
// inventory or the cache, never from the clock. It never publishes and never commits an
// offset: the topics are read with plain partition readers, outside any consumer group.
package shadow

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ordergate/ordergate/internal/app/audit"
	"github.com/ordergate/ordergate/processor"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/publisher/event"
)

// Bound is one end of a range: an offset, or the first record at or after a time.
type Bound struct {
	Offset int64
	Time   time.Time
	// Set reports a bound given (else the start, or the end, of the partition).
	Set bool
}

// Options say what to compare and how.
type Options struct {
	Topics audit.Topics
	// Partitions are the input partitions to read (all when empty).
	Partitions []int
	// From and To bound the records of each partition (To excluded).
	From, To Bound
	// Rules decide rows 1-16.
	Rules *order.Rules
	// Resolver answers the service-point lookups (rows 17-19); nil compares rows 1-16
	// only (--pure).
	Resolver processor.Resolver
	// Examples is how many examples of each change the report keeps (default 5).
	Examples int
	// Margin is how long before the range's first record the search for its events
	// starts, for clocks that disagree (default one hour).
	Margin time.Duration
	// Progress, when not nil, is told how many records were read of how many.
	Progress func(done, total int)
}

// Outcome is a decision as the comparison sees it.
type Outcome struct {
	// Decision is "accepted", "rejected", or "pending" (passed rows 1-16, with --pure).
	Decision string `json:"decision"`
	// Code is the error code of a rejection.
	Code int `json:"code,omitempty"`
	// Field is the field of the deciding error.
	Field string `json:"field,omitempty"`
}

// Label names the outcome in the table of changes.
func (o Outcome) Label() string {
	switch o.Decision {
	case "rejected":
		return "rejected " + strconv.Itoa(o.Code)
	case "pending":
		return "passes rows 1-16"
	}
	return o.Decision
}

// Example is one changed decision and where its record is.
type Example struct {
	Partition int     `json:"partition"`
	Offset    int64   `json:"offset"`
	Key       *string `json:"key"`
	EventID   string  `json:"eventId"`
	Old       Outcome `json:"old"`
	New       Outcome `json:"new"`
}

// Change is one (old -> new) pair of the table, with its count and first examples.
type Change struct {
	Old      string    `json:"old"`
	New      string    `json:"new"`
	Count    int       `json:"count"`
	Examples []Example `json:"examples"`
}

// PartitionRange is the part of one input partition that was compared: From to To
// (excluded).
type PartitionRange struct {
	Partition int   `json:"partition"`
	From      int64 `json:"from"`
	To        int64 `json:"to"`
}

// Report is the result of a diff.
type Report struct {
	Topic  string           `json:"topic"`
	Ranges []PartitionRange `json:"ranges"`
	// Pure reports a comparison of rows 1-16 only.
	Pure bool `json:"pure"`
	// Records counts the input records decided; Unchanged and Changed those whose event
	// was found; NoEvent those whose event was not found (not decided yet, or past the
	// output topics' retention); DeadLettered those whose event the broker refused (no
	// published decision to compare with).
	Records      int `json:"records"`
	Unchanged    int `json:"unchanged"`
	Changed      int `json:"changed"`
	NoEvent      int `json:"withoutEvent"`
	DeadLettered int `json:"deadLettered"`
	// Changes is the table of changes, most frequent first.
	Changes []Change `json:"changes"`
}

// published is what the comparison keeps of an event.
type published struct {
	outcome Outcome
	bvpn    bool // a BVPN request: its acceptance needed a service point
	row19   bool // a rejection of row 19 (3620 after resolution)
	dlq     bool
}

// resolveBatch is how many pending decisions share one resolver call.
const resolveBatch = 500

// Diff compares the decisions of the records in the range with their published events.
func Diff(ctx context.Context, c audit.Cluster, o Options) (*Report, error) {
	if o.Examples <= 0 {
		o.Examples = 5
	}
	if o.Margin <= 0 {
		o.Margin = time.Hour
	}
	ranges, err := inputRanges(ctx, c, o)
	if err != nil {
		return nil, err
	}
	rep := &Report{Topic: o.Topics.Requests, Ranges: ranges, Pure: o.Resolver == nil, Changes: []Change{}}
	start, err := firstTime(ctx, c, o.Topics.Requests, ranges)
	if err != nil {
		return nil, err
	}
	// The events of the range, by event id, from the output topics: from the range's
	// first record on (less a margin), to their end.
	type span struct {
		topic     string
		partition int
		from, to  int64
	}
	var spans []span
	total, done := 0, 0
	for _, r := range ranges {
		total += int(r.To - r.From)
	}
	if !start.IsZero() {
		for _, topic := range []string{o.Topics.Accepted, o.Topics.Rejected, o.Topics.DLQ} {
			from, err := audit.OffsetsAt(ctx, c.Client, topic, start.Add(-o.Margin))
			if err != nil {
				return nil, err
			}
			_, last, err := audit.Offsets(ctx, c.Client, topic)
			if err != nil {
				return nil, err
			}
			for p, end := range last {
				spans = append(spans, span{topic, p, from[p], end})
				total += int(end - from[p])
			}
		}
	}
	events := map[string]published{}
	in := inRange(ranges)
	for _, sp := range spans {
		err := audit.Scan(ctx, c.Dialer, c.Brokers, sp.topic, sp.partition, sp.from, sp.to, func(m kafka.Message) error {
			done++
			if o.Progress != nil {
				o.Progress(done, total)
			}
			if id, ev, ok := readOutput(m, sp.topic == o.Topics.DLQ, o.Topics.Requests, in); ok {
				events[id] = ev
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	// The records of the range, decided and compared in batches.
	d := decider{o: o, rep: rep, events: events, changes: map[[2]string]*Change{}}
	for _, r := range ranges {
		err := audit.Scan(ctx, c.Dialer, c.Brokers, o.Topics.Requests, r.Partition, r.From, r.To, func(m kafka.Message) error {
			done++
			if o.Progress != nil {
				o.Progress(done, total)
			}
			return d.add(ctx, m)
		})
		if err != nil {
			return nil, err
		}
		if err := d.flush(ctx); err != nil {
			return nil, err
		}
	}
	for _, ch := range d.changes {
		rep.Changes = append(rep.Changes, *ch)
	}
	slices.SortFunc(rep.Changes, func(a, b Change) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		if a.Old != b.Old {
			return compareStrings(a.Old, b.Old)
		}
		return compareStrings(a.New, b.New)
	})
	return rep, nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// inputRanges resolves the options' partitions and bounds into offsets.
func inputRanges(ctx context.Context, c audit.Cluster, o Options) ([]PartitionRange, error) {
	first, last, err := audit.Offsets(ctx, c.Client, o.Topics.Requests)
	if err != nil {
		return nil, err
	}
	parts := o.Partitions
	if len(parts) == 0 {
		for p := range last {
			parts = append(parts, p)
		}
	}
	slices.Sort(parts)
	at := func(b Bound, p int, dflt int64) (int64, error) {
		switch {
		case !b.Set:
			return dflt, nil
		case !b.Time.IsZero():
			offs, err := audit.OffsetsAt(ctx, c.Client, o.Topics.Requests, b.Time)
			if err != nil {
				return 0, err
			}
			return offs[p], nil
		}
		return min(max(b.Offset, first[p]), last[p]), nil
	}
	var out []PartitionRange
	for _, p := range parts {
		if _, ok := last[p]; !ok {
			return nil, fmt.Errorf("%s has no partition %d", o.Topics.Requests, p)
		}
		from, err := at(o.From, p, first[p])
		if err != nil {
			return nil, err
		}
		to, err := at(o.To, p, last[p])
		if err != nil {
			return nil, err
		}
		out = append(out, PartitionRange{Partition: p, From: from, To: max(from, to)})
	}
	return out, nil
}

// firstTime returns the earliest timestamp of the first records of the ranges (zero when
// every range is empty).
func firstTime(ctx context.Context, c audit.Cluster, topic string, ranges []PartitionRange) (time.Time, error) {
	var t time.Time
	for _, r := range ranges {
		if r.To <= r.From {
			continue
		}
		err := audit.Scan(ctx, c.Dialer, c.Brokers, topic, r.Partition, r.From, r.From+1, func(m kafka.Message) error {
			if t.IsZero() || m.Time.Before(t) {
				t = m.Time
			}
			return nil
		})
		if err != nil {
			return time.Time{}, err
		}
	}
	return t, nil
}

// inRange returns whether an input record is in the ranges.
func inRange(ranges []PartitionRange) func(p int, off int64) bool {
	byPart := map[int]PartitionRange{}
	for _, r := range ranges {
		byPart[r.Partition] = r
	}
	return func(p int, off int64) bool {
		r, ok := byPart[p]
		return ok && off >= r.From && off < r.To
	}
}

// eventFields are the members of an event the comparison reads.
type eventFields struct {
	EventID     string `json:"eventId"`
	EventType   string `json:"eventType"`
	RequestType string `json:"requestType"`
	Source      struct {
		Topic     string `json:"topic"`
		Partition int    `json:"partition"`
		Offset    int64  `json:"offset"`
	} `json:"source"`
	Errors []struct {
		Code        int    `json:"code"`
		Field       string `json:"field"`
		Description string `json:"description"`
	} `json:"errors"`
}

// row19 is the description of row 19, which tells its 3620 from row 14's.
var row19 = order.EntryOf(order.RowNotFrenchMarket).Description

// readOutput reads a record of an output topic: the event (or dead letter) of an input of
// the range, by its event id.
func readOutput(m kafka.Message, dlq bool, inputTopic string, in func(int, int64) bool) (string, published, bool) {
	if dlq {
		hs := map[string]string{}
		for _, h := range m.Headers {
			hs[h.Key] = string(h.Value)
		}
		if audit.IsReplayMarker(hs) {
			return "", published{}, false
		}
		o, err := audit.ParseDeadLetter(hs, inputTopic)
		if err != nil || !in(o.Source.Partition, o.Source.Offset) {
			return "", published{}, false
		}
		return o.EventID, published{dlq: true}, true
	}
	var ev eventFields
	if json.Unmarshal(m.Value, &ev) != nil || ev.Source.Topic != inputTopic || !in(ev.Source.Partition, ev.Source.Offset) {
		return "", published{}, false
	}
	p := published{outcome: Outcome{Decision: "accepted"}, bvpn: order.ParseRequestType(ev.RequestType).IsBVPN()}
	if ev.EventType == event.TypeRejected {
		p.outcome.Decision = "rejected"
		if len(ev.Errors) > 0 {
			e := ev.Errors[0]
			p.outcome.Code, p.outcome.Field = e.Code, e.Field
			p.row19 = e.Description == row19
		}
	}
	return ev.EventID, p, true
}

// decider decides the records of the range in batches and compares them.
type decider struct {
	o       Options
	rep     *Report
	events  map[string]published
	changes map[[2]string]*Change
	batch   []pending
}

type pending struct {
	m kafka.Message
	d order.Decision
}

func (d *decider) add(ctx context.Context, m kafka.Message) error {
	hs := make([]order.Header, len(m.Headers))
	for i, h := range m.Headers {
		hs[i] = order.Header{Key: h.Key, Value: h.Value}
	}
	dec := d.o.Rules.Decide(&order.Record{Value: m.Value, Headers: hs, Time: m.Time})
	d.batch = append(d.batch, pending{m: m, d: dec})
	if len(d.batch) >= resolveBatch {
		return d.flush(ctx)
	}
	return nil
}

// flush resolves the batch's pending decisions in one resolver call and compares them all.
func (d *decider) flush(ctx context.Context) error {
	if d.o.Resolver != nil {
		var lookups []order.Lookup
		var idx []int
		for i := range d.batch {
			if d.batch[i].d.Outcome == order.NeedsServicePoint {
				lookups = append(lookups, d.batch[i].d.Lookup)
				idx = append(idx, i)
			}
		}
		if len(lookups) > 0 {
			matches, err := d.o.Resolver.Resolve(ctx, lookups)
			if err != nil {
				return fmt.Errorf("service-point resolution (Redis or the inventory): %w", err)
			}
			for j, i := range idx {
				d.batch[i].d.Resolve(matches[j])
			}
		}
	}
	for i := range d.batch {
		d.compare(&d.batch[i])
	}
	d.batch = d.batch[:0]
	return nil
}

func (d *decider) compare(p *pending) {
	rep := d.rep
	rep.Records++
	m := p.m
	id := event.ID(&order.Record{Source: order.Source{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset}, Time: m.Time})
	old, ok := d.events[id]
	switch {
	case !ok:
		rep.NoEvent++
		return
	case old.dlq:
		rep.DeadLettered++
		return
	}
	now := outcomeOf(&p.d)
	was := old.outcome
	if rep.Pure && (old.row19 || was.Code == 3621 || was.Code == 3622 || (was.Decision == "accepted" && old.bvpn)) {
		was = Outcome{Decision: "pending"} // decided by resolution, which --pure leaves out
	}
	if now == was {
		rep.Unchanged++
		return
	}
	rep.Changed++
	k := [2]string{was.Label(), now.Label()}
	ch := d.changes[k]
	if ch == nil {
		ch = &Change{Old: k[0], New: k[1], Examples: []Example{}}
		d.changes[k] = ch
	}
	ch.Count++
	if len(ch.Examples) < d.o.Examples {
		ex := Example{Partition: m.Partition, Offset: m.Offset, EventID: id, Old: was, New: now}
		if len(m.Key) > 0 {
			k := string(m.Key)
			ex.Key = &k
		}
		ch.Examples = append(ch.Examples, ex)
	}
}

func outcomeOf(d *order.Decision) Outcome {
	switch d.Outcome {
	case order.Accepted:
		return Outcome{Decision: "accepted"}
	case order.Rejected:
		e := d.Error()
		return Outcome{Decision: "rejected", Code: e.Code(), Field: e.Field}
	}
	return Outcome{Decision: "pending"}
}
