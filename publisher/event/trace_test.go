package event

import (
	"testing"

	"github.com/ordergate/ordergate/processor/order"
)

const (
	upstreamParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	upstreamState  = "congo=t61rcWkgMzE"
)

// TestEventCarriesTheWorkersSpan: a record the worker traced gives an event whose
// traceparent is the worker's span (same trace, the span as parent), with the state.
func TestEventCarriesTheWorkersSpan(t *testing.T) {
	in := &order.Record{Source: src, Time: recordTime, Value: []byte(disconnect),
		Headers: headers("traceparent="+upstreamParent, "tracestate="+upstreamState)}
	in.Trace, _ = order.ParseTraceParent([]byte(upstreamParent))
	in.Trace.SpanID = [8]byte{1, 2, 3, 4, 5, 6, 7, 8}
	in.Trace.State = []byte(upstreamState)
	ev := Build(in, ptr(decide(t, in)), decisionTime, false)
	if got, want := header(ev, HeaderTraceParent), "00-4bf92f3577b34da6a3ce929d0e0e4736-0102030405060708-01"; got != want {
		t.Errorf("traceparent %s, want %s", got, want)
	}
	if got := header(ev, HeaderTraceState); got != upstreamState {
		t.Errorf("tracestate %s", got)
	}
	if len(ev.Headers) != 9 {
		t.Errorf("%d headers, want the seven and the two of the trace", len(ev.Headers))
	}
}

// TestEventCarriesTheInputsContextWhenNotTraced: without a span of the worker (tracing
// off), the input's valid context travels unchanged, an invalid one or none gives no trace
// headers, and nothing else in the event changes.
func TestEventCarriesTheInputsContextWhenNotTraced(t *testing.T) {
	cases := []struct {
		name          string
		headers       []order.Header
		parent, state string
	}{
		{"valid", headers("traceparent="+upstreamParent, "tracestate="+upstreamState), upstreamParent, upstreamState},
		{"names in another case", headers("TRACEPARENT=" + upstreamParent), upstreamParent, "<absent>"},
		{"invalid parent", headers("traceparent=00-xyz", "tracestate="+upstreamState), "<absent>", "<absent>"},
		{"invalid state", headers("traceparent="+upstreamParent, "tracestate=Not Valid"), upstreamParent, "<absent>"},
		{"none", nil, "<absent>", "<absent>"},
	}
	plain := &order.Record{Source: src, Time: recordTime, Value: []byte(disconnect)}
	want := Build(plain, ptr(decide(t, plain)), decisionTime, false)
	for _, c := range cases {
		in := &order.Record{Source: src, Time: recordTime, Value: []byte(disconnect), Headers: c.headers}
		ev := Build(in, ptr(decide(t, in)), decisionTime, false)
		if got := header(ev, HeaderTraceParent); got != c.parent {
			t.Errorf("%s: traceparent %s, want %s", c.name, got, c.parent)
		}
		if got := header(ev, HeaderTraceState); got != c.state {
			t.Errorf("%s: tracestate %s, want %s", c.name, got, c.state)
		}
		if string(ev.Value) != string(want.Value) || ev.ID != want.ID {
			t.Errorf("%s: the trace headers changed the event:\n%s\n%s", c.name, ev.Value, want.Value)
		}
	}
}

// BenchmarkBuildTraced is BenchmarkBuild for a record with an upstream trace context, as
// it is built with tracing off (the input's context passed on) and on (the worker's span).
func BenchmarkBuildTraced(b *testing.B) {
	in := &order.Record{Source: src, Time: recordTime, Key: []byte("CUST-1"), Value: []byte(disconnect),
		Headers: headers("X-Correlation-ID=corr-1", "traceparent="+upstreamParent, "tracestate="+upstreamState)}
	d := (&order.Rules{}).Decide(in)
	d.Resolve([]order.ServicePoint{{ID: "SP-1", Market: "FR", State: "OPERATIONAL"}})
	for _, traced := range []bool{false, true} {
		name := "off"
		if traced {
			name = "on"
			in.Trace = order.TraceContextOf(in.Headers)
			in.Trace.SpanID[0]++
		}
		b.Run(name, func(b *testing.B) {
			var bd Builder
			b.ReportAllocs()
			for b.Loop() {
				bd.Reset()
				bd.Build(in, &d, decisionTime, false)
			}
		})
	}
}
