package processor

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/ordergate/ordergate/processor/order"
)

// TestTraceContextReadAsOpenTelemetryReadsIt: ordergate's reading of traceparent and
// tracestate (used with tracing off, and to parent the spans with it on) agrees with
// OpenTelemetry's W3C propagator on valid, invalid and odd values, so that a record's event
// carries the same context whether the worker traces or not.
func TestTraceContextReadAsOpenTelemetryReadsIt(t *testing.T) {
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	parents := []string{
		tp, tp[:53] + "00", tp[:53] + "ff", "01" + tp[2:], "01" + tp[2:] + "-more", "00" + tp[2:] + "-more",
		"ff" + tp[2:], "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
		"", "garbage", tp[:54],
	}
	states := []string{"", "congo=t61rcWkgMzE", "a=1,b=2", "A=1", "a=1,a=2", "tenant@sys=v", "a=", "a=b c", " a=1 , b=2 "}
	prop := propagation.TraceContext{}
	for _, p := range parents {
		for _, s := range states {
			carrier := propagation.MapCarrier{"traceparent": p}
			hs := []order.Header{{Key: "traceparent", Value: []byte(p)}}
			if s != "" {
				carrier["tracestate"] = s
				hs = append(hs, order.Header{Key: "tracestate", Value: []byte(s)})
			}
			want := trace.SpanContextFromContext(prop.Extract(context.Background(), carrier))
			tc := order.TraceContextOf(hs)
			if tc.Valid() != want.IsValid() {
				t.Errorf("traceparent %q: valid %v, OpenTelemetry says %v", p, tc.Valid(), want.IsValid())
				continue
			}
			if !tc.Valid() {
				continue
			}
			got := spanContext(&tc)
			if got.TraceID() != want.TraceID() || got.SpanID() != want.SpanID() || got.TraceFlags() != want.TraceFlags() {
				t.Errorf("traceparent %q: %v, OpenTelemetry reads %v", p, got, want)
			}
			if got.TraceState().String() != want.TraceState().String() {
				t.Errorf("tracestate %q: %q, OpenTelemetry keeps %q", s, got.TraceState(), want.TraceState())
			}
		}
	}
}
