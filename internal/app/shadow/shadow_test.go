package shadow

import (
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/publisher/event"
)

// TestCompare checks how a decision compares with its published event: equal outcome, code
// and field are unchanged; with --pure, the decisions that resolution made (a BVPN
// acceptance, 3621, 3622, row 19) compare as "passes rows 1-16"; events not found and dead
// letters are counted apart.
func TestCompare(t *testing.T) {
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	msg := func(off int64) kafka.Message {
		return kafka.Message{Topic: "in", Partition: 0, Offset: off, Time: at, Key: []byte("k")}
	}
	id := func(off int64) string {
		return event.ID(&order.Record{Source: order.Source{Topic: "in", Offset: off}, Time: at})
	}
	accepted := Outcome{Decision: "accepted"}
	passes := order.Decision{Outcome: order.NeedsServicePoint, Type: order.TypeDisconnect}
	for _, tc := range []struct {
		name  string
		pure  bool
		old   published
		found bool
		now   order.Decision
		want  string // unchanged, changed, none, dlq
	}{
		{"same acceptance", false, published{outcome: accepted}, true, order.Decision{Outcome: order.Accepted}, "unchanged"},
		{"a new denial", false, published{outcome: accepted}, true,
			order.Decision{Outcome: order.Rejected, Errors: []order.Violation{{Row: order.RowAccessDenied, Field: "headers.businessId"}}}, "changed"},
		{"same code, other field", false, published{outcome: Outcome{Decision: "rejected", Code: 50, Field: "x"}}, true,
			order.Decision{Outcome: order.Rejected, Errors: []order.Violation{{Row: order.RowAccessDenied, Field: "headers.businessId"}}}, "changed"},
		{"pure: a resolved BVPN acceptance", true, published{outcome: accepted, bvpn: true}, true, passes, "unchanged"},
		{"pure: 3622", true, published{outcome: Outcome{Decision: "rejected", Code: 3622}}, true, passes, "unchanged"},
		{"pure: row 19", true, published{outcome: Outcome{Decision: "rejected", Code: 3620}, row19: true}, true, passes, "unchanged"},
		{"pure: row 14 is not resolution", true, published{outcome: Outcome{Decision: "rejected", Code: 3620, Field: "properties.x"}}, true, passes, "changed"},
		{"pure: an account acceptance needs no resolution", true, published{outcome: accepted}, true, order.Decision{Outcome: order.Accepted}, "unchanged"},
		{"no event", false, published{}, false, order.Decision{Outcome: order.Accepted}, "none"},
		{"dead letter", false, published{dlq: true}, true, order.Decision{Outcome: order.Accepted}, "dlq"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := &Report{Pure: tc.pure}
			d := decider{o: Options{Examples: 5}, rep: rep, events: map[string]published{}, changes: map[[2]string]*Change{}}
			if tc.found {
				d.events[id(7)] = tc.old
			}
			d.compare(&pending{m: msg(7), d: tc.now})
			got := map[string]int{"unchanged": rep.Unchanged, "changed": rep.Changed, "none": rep.NoEvent, "dlq": rep.DeadLettered}
			if got[tc.want] != 1 || rep.Records != 1 {
				t.Fatalf("report %+v, want one %s", rep, tc.want)
			}
			if tc.want == "changed" {
				ch := d.changes[[2]string{tc.old.outcome.Label(), outcomeOf(&tc.now).Label()}]
				if ch == nil || len(ch.Examples) != 1 || ch.Examples[0].Offset != 7 || ch.Examples[0].EventID != id(7) {
					t.Fatalf("changes %v", d.changes)
				}
			}
		})
	}
}
