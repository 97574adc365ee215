package servicepoint

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/ordergate/ordergate/processor/order"
)

// TestHTTPInventoryPropagatesTheRecordsTrace: a call made in the context of a record's span
// is a client span of it, and its request carries that span's traceparent; a call without
// one (tracing off) sends no trace header and makes no span.
func TestHTTPInventoryPropagatesTheRecordsTrace(t *testing.T) {
	inv := newInventoryServer(t, order.ServicePoint{ID: "SP-1"})
	h := NewHTTPInventory(inv.URL, "", time.Second, nil)
	lookup := order.Lookup{Criterion: order.ByID, Value: "SP-1"}

	if _, err := h.Find(context.Background(), lookup); err != nil {
		t.Fatal(err)
	}
	if tp := inv.lastReq.Load().Header.Get("traceparent"); tp != "" {
		t.Errorf("tracing off: traceparent %q sent", tp)
	}

	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	ctx, record := tp.Tracer("test").Start(context.Background(), "process orders.requests")
	if _, err := h.Find(ctx, lookup); err != nil {
		t.Fatal(err)
	}
	record.End()
	var call sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == "GET /servicePoints" {
			call = s
		}
	}
	if call == nil || call.Parent().SpanID() != record.SpanContext().SpanID() {
		t.Fatalf("no client span under the record's span: %v", rec.Ended())
	}
	want := "00-" + call.SpanContext().TraceID().String() + "-" + call.SpanContext().SpanID().String() + "-01"
	if got := inv.lastReq.Load().Header.Get("traceparent"); got != want {
		t.Errorf("traceparent %q, want the call's span %q", got, want)
	}
	for _, kv := range call.Attributes() {
		if v := kv.Value.Emit(); kv.Key == "url.full" || v == "SP-1" {
			t.Errorf("attribute %s = %s: the lookup's value is recorded", kv.Key, v)
		}
	}

	inv.mode.Store("503")
	if _, err := h.Find(ctx, lookup); err == nil {
		t.Fatal("503 answered without an error")
	}
	last := rec.Ended()[len(rec.Ended())-1]
	if last.Status().Code != codes.Error {
		t.Errorf("failed call: status %v", last.Status())
	}
}
