package event

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/processor/order"
)

// TestErrorsTruncated checks errorsTruncated (section 6, amended 2026-12-06): written when
// the rules kept MaxErrors of more violations, and when the cut shortened errors; absent
// otherwise.
func TestErrorsTruncated(t *testing.T) {
	many := &order.Record{Source: src, Time: recordTime, Value: []byte(`{"contact":[` + strings.TrimSuffix(strings.Repeat("1,", 1500), ",") + `]}`),
		Headers: headers("type=PATCH-billingAccountById", "businessId=PA", "id=A", "client_id=abcde", "client_secret=fghij")}
	few := &order.Record{Source: src, Time: recordTime, Value: []byte(`{"contact":[1,2]}`), Headers: many.Headers}
	for _, tc := range []struct {
		name   string
		in     *order.Record
		cut    bool
		errors int
		want   bool
	}{
		{"1500 violations", many, false, order.MaxErrors, true},
		{"1500 violations, cut", many, true, MaxErrorsWhenCut, true},
		{"2 violations", few, false, 2, false},
		{"2 violations, cut", few, true, 2, false},
	} {
		d := decide(t, tc.in)
		m := decode(t, Build(tc.in, &d, decisionTime, tc.cut))
		tr, present := m["errorsTruncated"]
		if len(m["errors"].([]any)) != tc.errors || present != tc.want || (present && tr != true) {
			t.Errorf("%s: %d errors, errorsTruncated %v (present %v)", tc.name, len(m["errors"].([]any)), tr, present)
		}
	}
}

// TestCorrelationIDIgnored checks the amended rule of section 1 in the event: an invalid
// X-Correlation-ID is replaced by the event id in the value, the header and the key, and a
// warning says so.
func TestCorrelationIDIgnored(t *testing.T) {
	for _, corr := range []string{strings.Repeat("c", 15000), "a\r\nX-Injected: 1", "a\x00b"} {
		in := &order.Record{Source: src, Time: recordTime, Value: []byte(disconnect), Headers: []order.Header{{Key: "X-Correlation-ID", Value: []byte(corr)}}}
		d := decide(t, in, order.ServicePoint{ID: "SP-1", Market: "FR"})
		ev := Build(in, &d, decisionTime, false)
		m := decode(t, ev)
		if m["correlationId"] != ev.ID || header(ev, "X-Correlation-ID") != ev.ID || string(ev.Key) != ev.ID {
			t.Errorf("%.20q: correlationId %.20q, header %.20q, key %.20q; want the event id", corr, m["correlationId"], header(ev, "X-Correlation-ID"), ev.Key)
		}
		if w, _ := m["warnings"].([]any); len(w) != 1 || w[0] != order.WarningCorrelationIDIgnored {
			t.Errorf("%.20q: warnings %v", corr, m["warnings"])
		}
		if len(ev.Value) > 2000 {
			t.Errorf("%.20q: an event of %d bytes for a body of %d", corr, len(ev.Value), len(disconnect))
		}
	}
}

// TestReplayOf checks the replayOf member: the event of a record that `ordergate dlq
// replay` published names the original event id; a replay_of header that is not an event
// id is ignored.
func TestReplayOf(t *testing.T) {
	original := ID(&order.Record{Source: order.Source{Topic: "orders.requests", Partition: 1, Offset: 7}, Time: recordTime})
	for value, want := range map[string]any{original: original, "not-an-id": nil, strings.ToUpper(original): nil} {
		in := &order.Record{Source: src, Time: recordTime, Value: []byte(account), Headers: headers("Replay_Of=" + value)}
		d := decide(t, in)
		ev := Build(in, &d, decisionTime, false)
		if got := decode(t, ev)["replayOf"]; got != want {
			t.Errorf("replay_of %q: replayOf %v, want %v", value, got, want)
		}
		if ev.ID == original {
			t.Errorf("the replay's event has the original's id")
		}
	}
}

// buildChecks builds the event of a decision whole and cut and checks the bounds of
// section 6: valid JSON, a reservation never above what was written, and a size linear in
// the record's.
func buildChecks(t *testing.T, in *order.Record, d *order.Decision) {
	t.Helper()
	var bd Builder
	for _, cut := range []bool{false, true} {
		bd.Reset()
		ev := bd.Build(in, d, decisionTime, cut)
		if !json.Valid(ev.Value) {
			t.Fatalf("cut=%v: invalid JSON %q", cut, ev.Value)
		}
		written := len(bd.bytes.cur) // the id, the correlation id and the value
		if len(bd.bytes.cur) == 0 {
			written = len(ev.Value) // the value outgrew the arena
		}
		res := reserve(in, d, len(bd.atText), len(correlationHeader(in.Headers)), len(ReplayOf(in.Headers)), cut)
		if res > written {
			t.Fatalf("cut=%v: reserved %d bytes, wrote %d", cut, res, written)
		}
		n := len(in.Value)
		for _, h := range in.Headers {
			n += len(h.Key) + len(h.Value)
		}
		if bound := 24*n + 512<<10; len(ev.Value) > bound {
			t.Fatalf("cut=%v: event of %d bytes for a record of %d", cut, len(ev.Value), n)
		}
	}
}

// FuzzBuild builds the event of any record and checks buildChecks.
func FuzzBuild(f *testing.F) {
	for _, v := range []string{disconnect, account, "", "{", `{"contact":[1,1,1,{}]}`, "\x01\x02"} {
		f.Add([]byte(v), []byte("type=PATCH-billingAccountById\nbusinessId=PA\nid=1\nclient_id=abcde\nclient_secret=fghij\nX-Correlation-ID=c"))
		f.Add([]byte(v), []byte("X-Correlation-ID="+strings.Repeat("x", 300)+"\nreplay_of="+ID(&order.Record{Source: src, Time: recordTime})))
	}
	f.Fuzz(func(t *testing.T, value, raw []byte) {
		var hs []order.Header
		for _, line := range strings.Split(string(raw), "\n") {
			k, v, _ := strings.Cut(line, "=")
			hs = append(hs, order.Header{Key: k, Value: []byte(v)})
		}
		in := &order.Record{Source: order.Source{Topic: "orders.requests", Offset: 3}, Time: time.UnixMilli(int64(len(value)) << 20), Value: value, Headers: hs}
		d := (&order.Rules{}).Decide(in)
		d.Resolve([]order.ServicePoint{{ID: "SP-1", Market: "FR"}})
		buildChecks(t, in, &d)
	})
}

// TestBuildBounds applies buildChecks to bodies that make many long violations.
func TestBuildBounds(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"type":"R_BVPN_FR_1","requestedAt":"2027-01-04","properties":{"servicePoint":{"id":"S"},"contacts":{"primary":{"title":"M","firstName":"P","lastName":"L","phone":"+33401010101","mobile":"+33600200200","email":"p@x.fr"}}`)
	for i := range 1200 {
		b.WriteString(`,"` + strings.Repeat("\\u0001", i%5) + strings.Repeat("n", 1+i%50) + string(rune('a'+i%26)) + strings.Repeat("z", i/26) + `":1`)
	}
	b.WriteString(`}}`)
	acct := headers("type=PATCH-billingAccountById", "businessId=PA", "id=A", "client_id=abcde", "client_secret=fghij")
	for _, in := range []*order.Record{
		{Source: src, Time: recordTime, Value: []byte(b.String())},
		{Source: src, Time: recordTime, Value: []byte(`{"contact":[` + strings.TrimSuffix(strings.Repeat("{},", 2000), ",") + `]}`), Headers: acct},
		{Source: src, Time: recordTime, Value: []byte(strings.Repeat("\x01", 5000)), Headers: acct},
	} {
		d := decide(t, in)
		if len(in.Value) > 5000 && len(d.Errors) != order.MaxErrors {
			t.Fatalf("%d errors", len(d.Errors))
		}
		buildChecks(t, in, &d)
	}
}
