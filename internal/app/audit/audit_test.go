package audit

import (
	"strings"
	"testing"
)

func out(topic, key string, p int, off int64, id, decision string) Output {
	return Output{Topic: topic, Key: key, EventID: id, Source: Source{p, off}, Decision: decision}
}

func TestVerify(t *testing.T) {
	first := map[int]int64{0: 0, 1: 0}
	last := map[int]int64{0: 3, 1: 1}
	good := []Output{
		out("acc", "k1", 0, 0, "a", "accepted"),
		out("acc", "k1", 0, 2, "c", "accepted"),
		out("rej", "k2", 0, 1, "b", "rejected:3620"),
		out("acc", "k3", 1, 0, "d", "accepted"),
	}
	if r := Verify(first, last, good, Options{}); !r.OK() || r.Inputs != 4 || r.Events != 4 {
		t.Fatalf("good run reported %+v", r)
	}
	tests := []struct {
		name    string
		outputs []Output
		opts    Options
		kind    string
	}{
		{"missing", good[:3], Options{}, "missing"},
		{"repeat with another id", append(good[:4:4], out("acc", "k1", 0, 0, "x", "accepted")), Options{}, "conflicting-ids"},
		{"event without input", append(good[:4:4], out("acc", "k9", 1, 7, "z", "accepted")), Options{}, "orphan"},
		{"order of one key", []Output{good[1], good[0], good[2], good[3]}, Options{}, "order"},
		{"changed decision", append(good[:4:4], out("rej", "k1", 0, 0, "a", "rejected:3622")), Options{SameDecision: true}, "changed-decision"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Verify(first, last, tc.outputs, tc.opts)
			if r.Count(tc.kind) != 1 {
				var b strings.Builder
				r.Write(&b, 0)
				t.Fatalf("want one %s problem, got:\n%s", tc.kind, b.String())
			}
		})
	}
	t.Run("a repeat after a crash is not an order break", func(t *testing.T) {
		r := Verify(first, last, append(good[:4:4], good[0], good[1]), Options{SameDecision: true})
		if !r.OK() || r.Repeats != 2 {
			t.Fatalf("got %+v", r)
		}
	})
}

func TestParse(t *testing.T) {
	o, err := ParseEvent([]byte(`{"eventId":"e1","eventType":"order.rejected","source":{"topic":"in","partition":2,"offset":9},"error":{"code":65}}`), "in")
	if err != nil || o.EventID != "e1" || o.Source != (Source{2, 9}) || o.Decision != "rejected:65" {
		t.Fatalf("%+v %v", o, err)
	}
	if _, err := ParseEvent([]byte(`{"source":{"topic":"other"}}`), "in"); err == nil {
		t.Fatal("event of another topic accepted")
	}
	d, err := ParseDeadLetter(map[string]string{"dlq_source": "orders.requests/3/12", "ce_id": "x"}, "orders.requests")
	if err != nil || d.Source != (Source{3, 12}) || d.EventID != "x" || d.Decision != "dlq" {
		t.Fatalf("%+v %v", d, err)
	}
}

// TestReplays checks that a replay is recognised: the event of a record replayed from the
// dead-letter topic answers its own input and names the original: it is not a repeat of
// the original (even with --same-decision), a forced second replay neither; a replay
// marker is not a dead letter.
func TestReplays(t *testing.T) {
	first := map[int]int64{0: 0}
	last := map[int]int64{0: 4}
	replay := out("acc", "k1", 0, 2, "r", "accepted")
	replay.ReplayOf = "a"
	forced := out("acc", "k1", 0, 3, "r2", "accepted")
	forced.ReplayOf = "a"
	outputs := []Output{
		out("acc", "k2", 0, 1, "b", "accepted"),
		replay,
		out("dlq", "k1", 0, 0, "a", "dlq"),
		forced,
	}
	r := Verify(first, last, outputs, Options{SameDecision: true})
	if !r.OK() || r.Replays != 2 || r.ReplayedDeadLetters != 1 || r.Repeats != 0 {
		var b strings.Builder
		r.Write(&b, 0)
		t.Fatalf("got %+v\n%s", r, b.String())
	}
	var b strings.Builder
	r.Write(&b, 0)
	if !strings.Contains(b.String(), "replays 2 (") {
		t.Errorf("report does not mention the replays:\n%s", b.String())
	}
	o, err := ParseEvent([]byte(`{"eventId":"r","eventType":"order.accepted","source":{"topic":"in","partition":0,"offset":3},"replayOf":"a"}`), "in")
	if err != nil || o.ReplayOf != "a" {
		t.Fatalf("%+v %v", o, err)
	}
	if !IsReplayMarker(map[string]string{"dlq_replay_of": "a", "dlq_replay": "in/0/3"}) || IsReplayMarker(map[string]string{"dlq_source": "in/0/0"}) {
		t.Error("replay markers not told from dead letters")
	}
}
