package artifacts

import (
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/app/testkit"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/publisher/event"
)

const (
	sampleParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	sampleState  = "congo=t61rcWkgMzE"
)

// TestEventTraceHeaders: the events event.Build makes with a trace context (the worker's
// span, or the input's passed on) and without one validate against headers.json#/$defs/event
// and carry what its description says; traceparent values the schema calls invalid fail it.
func TestEventTraceHeaders(t *testing.T) {
	sc := loadSchemas(t, false)
	list, inv, clients := loadSamples(t)
	s := &list[0]
	d := decideSample(s, s.Value, inv, clients)
	ours := order.TraceContext{TraceID: [16]byte{0x4b, 0xf9}, SpanID: [8]byte{1, 2, 3}, Flags: order.FlagSampled, State: []byte(sampleState)}
	cases := []struct {
		name          string
		headers       [][2]string
		trace         order.TraceContext
		parent, state string
	}{
		{"no context", nil, order.TraceContext{}, "", ""},
		{"input's context passed on", [][2]string{{"traceparent", sampleParent}, {"tracestate", sampleState}}, order.TraceContext{}, sampleParent, sampleState},
		{"input's invalid context", [][2]string{{"traceparent", "00-0-0-0"}, {"tracestate", sampleState}}, order.TraceContext{}, "", ""},
		{"the worker's span", [][2]string{{"traceparent", sampleParent}}, ours, "00-4bf90000000000000000000000000000-0102030000000000-01", sampleState},
	}
	for _, c := range cases {
		in := testkit.SampleRecord(s)
		in.Headers = append(in.Headers, order.HeaderPairs(c.headers)...)
		in.Source = order.Source{Topic: "orders.requests", Offset: 7}
		in.Trace = c.trace
		ev := event.Build(&in, &d, time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC), false)
		r := record{key: ev.Key, value: ev.Value}
		got := map[string]string{}
		for _, h := range ev.Headers {
			r.headers = append(r.headers, [2]string{h.Key, string(h.Value)})
			got[h.Key] = string(h.Value)
		}
		for _, p := range checkEvent(t, sc, r, nil) {
			t.Errorf("%s: %s", c.name, p)
		}
		if got["traceparent"] != c.parent || got["tracestate"] != c.state {
			t.Errorf("%s: traceparent %q, tracestate %q; want %q, %q", c.name, got["traceparent"], got["tracestate"], c.parent, c.state)
		}
		if c.parent == "" {
			continue
		}
		for _, bad := range []string{
			"00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
			"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
			"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff",
		} {
			hs := map[string]any{}
			for _, h := range r.headers {
				hs[h[0]] = h[1]
			}
			hs["traceparent"] = bad
			if err := sc.validate(t, idHeaders+"#/$defs/event", hs); err == nil {
				t.Errorf("headers.json#/$defs/event accepts traceparent %s", bad)
			}
		}
	}
}
