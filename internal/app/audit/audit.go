// Package audit verifies the delivery invariants of ordergate from the topics themselves:
// every input record has an event (accepted, rejected or dead-letter), repeats of one input
// carry the same event id (and, optionally, the same decision), no event lacks its input,
// and the events of one key follow the input order. It is the "invariant checker" of the
// tests and of `ordergate check`.
package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/ordergate/ordergate/publisher/event"
)

// Source locates an input record.
type Source struct {
	Partition int
	Offset    int64
}

func (s Source) String() string {
	return strconv.Itoa(s.Partition) + "/" + strconv.FormatInt(s.Offset, 10)
}

// Output is one record read from an output topic, reduced to what the checks need.
type Output struct {
	Topic     string // the output topic
	Partition int    // output partition
	Offset    int64  // output offset
	Key       string
	EventID   string
	Source    Source
	// Decision summarizes the event: "accepted", or "rejected:CODE", or "dlq".
	Decision string
	// ReplayOf is the eventId that the event's input replays (`ordergate dlq replay`), or "".
	ReplayOf string
}

// Problem is one broken invariant.
type Problem struct {
	Kind   string // missing, conflicting-ids, orphan, order, changed-decision
	Detail string
}

// Report is the result of a check.
type Report struct {
	Inputs, Events, Accepted, Rejected, DLQ, Repeats int
	// Replays counts the events of replayed records (their input has a replay_of
	// header); ReplayedDeadLetters the dead letters among the outputs that a replay names.
	// A replay is a new input with an event of its own, not a repeat of the original.
	Replays, ReplayedDeadLetters int
	Problems                     []Problem
}

// OK reports whether no invariant is broken.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Count returns how many problems of a kind were found.
func (r *Report) Count(kind string) int {
	n := 0
	for _, p := range r.Problems {
		if p.Kind == kind {
			n++
		}
	}
	return n
}

// Write prints the report, one line per problem (at most limit lines per kind; 0 = all).
func (r *Report) Write(w io.Writer, limit int) {
	fmt.Fprintf(w, "inputs %d, events %d (accepted %d, rejected %d, dead-letter %d), repeated deliveries %d\n",
		r.Inputs, r.Events, r.Accepted, r.Rejected, r.DLQ, r.Repeats)
	if r.Replays > 0 {
		fmt.Fprintf(w, "replays %d (events of records replayed from the dead-letter topic; %d of its dead letters are replayed)\n",
			r.Replays, r.ReplayedDeadLetters)
	}
	shown := map[string]int{}
	for _, p := range r.Problems {
		shown[p.Kind]++
		if limit == 0 || shown[p.Kind] <= limit {
			fmt.Fprintf(w, "%s: %s\n", p.Kind, p.Detail)
		}
	}
	for kind, n := range shown {
		if limit > 0 && n > limit {
			fmt.Fprintf(w, "%s: ... %d more\n", kind, n-limit)
		}
	}
	if r.OK() {
		fmt.Fprintln(w, "ok: every input has its event, ids are stable, no orphan, per-key order kept")
	}
}

// Options select the optional checks.
type Options struct {
	// SameDecision also requires repeats of one input to carry the same decision (true when
	// the inventory and the clients did not change between the deliveries).
	SameDecision bool
}

// Verify checks the outputs against the inputs: input partition p holds the offsets from
// first[p] (records before it were deleted, or are not checked) to last[p] (excluded).
// outputs must list each output partition's records in their order.
func Verify(first, last map[int]int64, outputs []Output, opts Options) *Report {
	r := &Report{}
	for p, end := range last {
		r.Inputs += int(end - first[p])
	}
	type seen struct {
		id       string
		decision string
		where    string
	}
	bySource := map[Source]seen{}
	// per output topic, key and input partition, the last input offset of a first delivery
	type keyPart struct {
		topic, key string
		part       int
	}
	lastOffset := map[keyPart]int64{}
	deadLetters := map[string]bool{} // event ids of the dead letters
	replayed := map[string]bool{}    // event ids that replays name
	for _, o := range outputs {
		if o.Decision == "dlq" {
			deadLetters[o.EventID] = true
		}
	}
	for _, o := range outputs {
		if o.ReplayOf != "" {
			r.Replays++
			if deadLetters[o.ReplayOf] && !replayed[o.ReplayOf] {
				r.ReplayedDeadLetters++
			}
			replayed[o.ReplayOf] = true
		}
		r.Events++
		switch {
		case o.Decision == "dlq":
			r.DLQ++
		case o.Decision == "accepted":
			r.Accepted++
		default:
			r.Rejected++
		}
		where := fmt.Sprintf("%s/%d/%d", o.Topic, o.Partition, o.Offset)
		lo, hi := first[o.Source.Partition], last[o.Source.Partition]
		if _, ok := last[o.Source.Partition]; !ok || o.Source.Offset < lo || o.Source.Offset >= hi {
			if _, ok := last[o.Source.Partition]; ok && o.Source.Offset < lo {
				continue // its input is before the checked range
			}
			r.Problems = append(r.Problems, Problem{"orphan", fmt.Sprintf("%s answers input %s, which does not exist", where, o.Source)})
			continue
		}
		if prev, ok := bySource[o.Source]; ok {
			r.Repeats++
			if prev.id != o.EventID {
				r.Problems = append(r.Problems, Problem{"conflicting-ids", fmt.Sprintf("input %s has events %s (%s) and %s (%s)", o.Source, prev.id, prev.where, o.EventID, where)})
			}
			if opts.SameDecision && prev.decision != o.Decision {
				r.Problems = append(r.Problems, Problem{"changed-decision", fmt.Sprintf("input %s decided %s (%s) then %s (%s)", o.Source, prev.decision, prev.where, o.Decision, where)})
			}
			continue
		}
		bySource[o.Source] = seen{id: o.EventID, decision: o.Decision, where: where}
		k := keyPart{o.Topic, o.Key, o.Source.Partition}
		if prevOff, ok := lastOffset[k]; ok && o.Source.Offset < prevOff {
			r.Problems = append(r.Problems, Problem{"order", fmt.Sprintf("key %q: the event of input %s (%s) comes after the event of input %d/%d", o.Key, o.Source, where, o.Source.Partition, prevOff)})
		} else {
			lastOffset[k] = o.Source.Offset
		}
	}
	var missing []Source
	for p, end := range last {
		for off := first[p]; off < end; off++ {
			if _, ok := bySource[Source{p, off}]; !ok {
				missing = append(missing, Source{p, off})
			}
		}
	}
	sort.Slice(missing, func(i, j int) bool {
		if missing[i].Partition != missing[j].Partition {
			return missing[i].Partition < missing[j].Partition
		}
		return missing[i].Offset < missing[j].Offset
	})
	for _, s := range missing {
		r.Problems = append(r.Problems, Problem{"missing", "input " + s.String() + " has no event"})
	}
	return r
}

// eventFields are the members of an event the checker reads.
type eventFields struct {
	EventID   string `json:"eventId"`
	EventType string `json:"eventType"`
	Source    struct {
		Topic     string `json:"topic"`
		Partition int    `json:"partition"`
		Offset    int64  `json:"offset"`
	} `json:"source"`
	Error *struct {
		Code int `json:"code"`
	} `json:"error"`
	ReplayOf string `json:"replayOf"`
}

// ParseEvent reads an event value into an Output (Topic, Partition, Offset and Key are the
// caller's); inputTopic guards against events of another input topic.
func ParseEvent(value []byte, inputTopic string) (Output, error) {
	var ev eventFields
	if err := json.Unmarshal(value, &ev); err != nil {
		return Output{}, fmt.Errorf("not an event: %w", err)
	}
	if ev.Source.Topic != inputTopic {
		return Output{}, fmt.Errorf("event of input topic %q, not %q", ev.Source.Topic, inputTopic)
	}
	o := Output{EventID: ev.EventID, Source: Source{ev.Source.Partition, ev.Source.Offset}, Decision: "accepted", ReplayOf: ev.ReplayOf}
	if ev.EventType == "order.rejected" {
		code := 0
		if ev.Error != nil {
			code = ev.Error.Code
		}
		o.Decision = "rejected:" + strconv.Itoa(code)
	}
	return o, nil
}

// IsReplayMarker reports whether a record of the dead-letter topic is a replay marker
// (written by `ordergate dlq replay`), not a dead letter.
func IsReplayMarker(headers map[string]string) bool {
	_, ok := headers[event.HeaderDLQReplayOf]
	return ok
}

// ParseDeadLetter reads the dlq_source and ce_id headers of a dead-letter record.
func ParseDeadLetter(headers map[string]string, inputTopic string) (Output, error) {
	src := headers["dlq_source"]
	i := strings.LastIndexByte(src, '/')
	if i < 0 {
		return Output{}, fmt.Errorf("dead-letter record without dlq_source")
	}
	j := strings.LastIndexByte(src[:i], '/')
	if j < 0 || src[:j] != inputTopic {
		return Output{}, fmt.Errorf("dead-letter record of another input: %q", src)
	}
	p, err1 := strconv.Atoi(src[j+1 : i])
	off, err2 := strconv.ParseInt(src[i+1:], 10, 64)
	if err1 != nil || err2 != nil {
		return Output{}, fmt.Errorf("dead-letter record with a bad dlq_source %q", src)
	}
	return Output{EventID: headers["ce_id"], Source: Source{p, off}, Decision: "dlq"}, nil
}
