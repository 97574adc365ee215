package pipeline

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/ordergate/ordergate/internal/app/testkit"
	"github.com/ordergate/ordergate/internal/app/worker"
	"github.com/ordergate/ordergate/internal/foundation/testredis"
	"github.com/ordergate/ordergate/internal/foundation/tracing"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/processor/servicepoint"
)

const (
	upstreamTrace  = "4bf92f3577b34da6a3ce929d0e0e4736"
	upstreamSpan   = "00f067aa0ba902b7"
	upstreamParent = "00-" + upstreamTrace + "-" + upstreamSpan + "-01"
	upstreamState  = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"
)

// tracedWorker runs a worker that traces every record into a span recorder, in front of an
// HTTP inventory that keeps the traceparent of each call.
type tracedWorker struct {
	cluster  *testkit.Cluster
	recorder *tracetest.SpanRecorder
	run      *testkit.Running

	mu          sync.Mutex
	inventoryTP []string // traceparent of each inventory call
}

func startTraced(t *testing.T, redisAddr string, recs ...order.Record) *tracedWorker {
	t.Helper()
	tw := &tracedWorker{cluster: testkit.NewCluster(t, 1, nil), recorder: tracetest.NewSpanRecorder()}
	inv := inventory(t, 20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tw.mu.Lock()
		tw.inventoryTP = append(tw.inventoryTP, r.Header.Get("traceparent"))
		tw.mu.Unlock()
		list, _ := inv.Find(r.Context(), order.Lookup{Criterion: order.ByID, Value: r.URL.Query().Get("id")})
		_ = json.NewEncoder(w).Encode(list)
	}))
	t.Cleanup(srv.Close)
	cfg := testkit.Config(t, tw.cluster, redisAddr, testredis.Prefix(t))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tw.recorder), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	if len(recs) > 0 {
		tw.cluster.Produce(t, recs...)
	}
	tw.run = testkit.StartWorker(t, cfg, worker.Options{
		Inventory:      servicepoint.NewHTTPInventory(srv.URL, "", time.Second, nil),
		TracerProvider: tp,
	})
	return tw
}

// events returns every event by its input offset.
func (tw *tracedWorker) events(t *testing.T, n int) map[int64]kafka.Message {
	t.Helper()
	tw.cluster.WaitEvents(t, n, time.Minute)
	out := map[int64]kafka.Message{}
	for _, topic := range []string{testkit.Topics.Accepted, testkit.Topics.Rejected} {
		for _, m := range tw.cluster.Read(t, topic) {
			var ev struct {
				Source struct{ Offset int64 }
			}
			if err := json.Unmarshal(m.Value, &ev); err != nil {
				t.Fatal(err)
			}
			out[ev.Source.Offset] = m
		}
	}
	return out
}

// processSpans waits for the process span of n records to end and returns them by offset.
func (tw *tracedWorker) processSpans(t *testing.T, n int) map[int64]sdktrace.ReadOnlySpan {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := map[int64]sdktrace.ReadOnlySpan{}
		for _, s := range tw.recorder.Ended() {
			if s.SpanKind() == trace.SpanKindConsumer {
				out[attr(s, "messaging.kafka.offset").AsInt64()] = s
			}
		}
		if len(out) >= n {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d process spans ended after 30s, want %d", len(out), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// children returns the ended spans whose parent is span, by name.
func (tw *tracedWorker) children(span sdktrace.ReadOnlySpan) map[string][]sdktrace.ReadOnlySpan {
	out := map[string][]sdktrace.ReadOnlySpan{}
	for _, s := range tw.recorder.Ended() {
		if s.Parent().SpanID() == span.SpanContext().SpanID() && s.Parent().TraceID() == span.SpanContext().TraceID() {
			out[s.Name()] = append(out[s.Name()], s)
		}
	}
	return out
}

func attr(s sdktrace.ReadOnlySpan, key string) attribute.Value {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value
		}
	}
	return attribute.Value{}
}

func header(m kafka.Message, name string) string {
	for _, h := range m.Headers {
		if h.Key == name {
			return string(h.Value)
		}
	}
	return ""
}

// eventParent parses an event's traceparent.
func eventParent(t *testing.T, m kafka.Message) order.TraceContext {
	t.Helper()
	tc, ok := order.ParseTraceParent([]byte(header(m, "traceparent")))
	if !ok {
		t.Fatalf("event without a valid traceparent: %q", header(m, "traceparent"))
	}
	return tc
}

// TestTraceContinuesThroughTheEvent: a record with a traceparent gives a process span that
// is a child of it, and an event whose traceparent has the same trace and ordergate's span
// as parent (with the tracestate); records without a context, or with an invalid one, are
// decided as usual and start a new trace that their event carries; the span tree and its
// attributes are as docs/operations.md shows them.
func TestTraceContinuesThroughTheEvent(t *testing.T) {
	badEmail := []byte(strings.Replace(string(disconnect("SP-3", 3)), "paul.langel@mycompany.com", "paul", 1))
	recs := []order.Record{
		testkit.Record("cust-0", disconnect("SP-1", 0), testkit.RecordTime, "traceparent", upstreamParent, "tracestate", upstreamState, "X-Correlation-ID", "corr-0"),
		testkit.Record("cust-1", disconnect("SP-2", 1), testkit.RecordTime),
		testkit.Record("cust-2", disconnect("SP-1", 2), testkit.RecordTime, "traceparent", "00-not-a-trace-context", "tracestate", upstreamState),
		testkit.Record("cust-3", badEmail, testkit.RecordTime, "TraceParent", upstreamParent),
	}
	tw := startTraced(t, testredis.Shared(t), recs...)
	events := tw.events(t, len(recs))
	spans := tw.processSpans(t, len(recs))

	for off, ev := range events {
		span := spans[off]
		if span == nil {
			t.Fatalf("no process span for offset %d", off)
		}
		tc := eventParent(t, ev)
		if trace.TraceID(tc.TraceID) != span.SpanContext().TraceID() || trace.SpanID(tc.SpanID) != span.SpanContext().SpanID() {
			t.Errorf("offset %d: event traceparent %s is not ordergate's span %s/%s", off, header(ev, "traceparent"),
				span.SpanContext().TraceID(), span.SpanContext().SpanID())
		}
		if tc.Flags&order.FlagSampled == 0 {
			t.Errorf("offset %d: event traceparent not sampled: %s", off, header(ev, "traceparent"))
		}
		if header(ev, "X-Correlation-ID") == "" {
			t.Errorf("offset %d: X-Correlation-ID missing", off)
		}
	}
	// Continued: the upstream's trace, its span as parent, its tracestate on.
	for _, off := range []int64{0, 3} {
		span := spans[off]
		if got := span.SpanContext().TraceID().String(); got != upstreamTrace {
			t.Errorf("offset %d: trace %s, want the upstream's %s", off, got, upstreamTrace)
		}
		if p := span.Parent(); p.SpanID().String() != upstreamSpan || !p.IsRemote() {
			t.Errorf("offset %d: parent %s (remote %v), want the upstream's span %s", off, p.SpanID(), p.IsRemote(), upstreamSpan)
		}
	}
	if got := header(events[0], "tracestate"); got != upstreamState {
		t.Errorf("tracestate of the event %q, want %q", got, upstreamState)
	}
	// New traces: no context, an invalid one.
	for _, off := range []int64{1, 2} {
		span := spans[off]
		if span.Parent().IsValid() {
			t.Errorf("offset %d: parent %v, want a root span", off, span.Parent())
		}
		if span.SpanContext().TraceID().String() == upstreamTrace {
			t.Errorf("offset %d: the upstream's trace", off)
		}
		if header(events[off], "tracestate") != "" {
			t.Errorf("offset %d: a tracestate without a valid traceparent was carried", off)
		}
	}

	// The process span: name, kind, the attributes of the input and of the outcome.
	s0 := spans[0]
	want := map[string]any{
		"messaging.system": "kafka", "messaging.operation.type": "process", "messaging.operation.name": "process",
		"messaging.destination.name": testkit.Topics.Requests, "messaging.destination.partition.id": "0",
		"messaging.kafka.offset": int64(0), "messaging.kafka.message.key": "cust-0", "messaging.consumer.group.name": "ordergate-test",
		"ordergate.request_type": "R_BVPN_FR_1", "ordergate.outcome": "accepted", "ordergate.correlation_id": "corr-0",
	}
	if s0.Name() != "process "+testkit.Topics.Requests {
		t.Errorf("name %q", s0.Name())
	}
	for k, v := range want {
		if got := attr(s0, k).AsInterface(); got != v {
			t.Errorf("attribute %s = %v, want %v", k, got, v)
		}
	}
	if s0.Status().Code != codes.Unset {
		t.Errorf("accepted: status %v", s0.Status())
	}
	// A business rejection is no error of ordergate: status unset, the code in attributes.
	s3 := spans[3]
	if s3.Status().Code != codes.Unset || attr(s3, "ordergate.outcome").AsString() != "rejected" ||
		attr(s3, "ordergate.code").AsInt64() != 3620 || attr(s3, "ordergate.status").AsInt64() != 422 {
		t.Errorf("rejected: status %v, outcome %v, code %v, status %v", s3.Status(), attr(s3, "ordergate.outcome").Emit(),
			attr(s3, "ordergate.code").Emit(), attr(s3, "ordergate.status").Emit())
	}
	if len(tw.children(s3)["MGET"]) != 0 {
		t.Error("a record rejected by the pure rows has a Redis read")
	}

	// The children: the Redis read, the inventory call (the first record of each key), the
	// send; each inside the process span.
	kids := tw.children(s0)
	for name, n := range map[string]int{"MGET": 1, "GET /servicePoints": 1, "send " + testkit.Topics.Accepted: 1} {
		if len(kids[name]) != n {
			t.Fatalf("children of the process span: %v; want %d %q", names(kids), n, name)
		}
		c := kids[name][0]
		if c.StartTime().Before(s0.StartTime()) || c.EndTime().After(s0.EndTime()) {
			t.Errorf("%s [%v, %v] outside its parent [%v, %v]", name, c.StartTime(), c.EndTime(), s0.StartTime(), s0.EndTime())
		}
	}
	mget := kids["MGET"][0]
	if mget.SpanKind() != trace.SpanKindClient || attr(mget, "db.system.name").AsString() != "redis" || attr(mget, "ordergate.cache.hit").AsBool() {
		t.Errorf("MGET: kind %v, db.system.name %v, cache.hit %v", mget.SpanKind(), attr(mget, "db.system.name").Emit(), attr(mget, "ordergate.cache.hit").Emit())
	}
	get := kids["GET /servicePoints"][0]
	if get.SpanKind() != trace.SpanKindClient || attr(get, "http.response.status_code").AsInt64() != 200 || attr(get, "ordergate.lookup.criterion").AsString() != "id" {
		t.Errorf("inventory call: kind %v, attributes %v", get.SpanKind(), get.Attributes())
	}
	send := kids["send "+testkit.Topics.Accepted][0]
	if send.SpanKind() != trace.SpanKindProducer || attr(send, "messaging.destination.name").AsString() != testkit.Topics.Accepted {
		t.Errorf("send: kind %v, attributes %v", send.SpanKind(), send.Attributes())
	}
	// The inventory call carried the trace context of its span.
	tw.mu.Lock()
	defer tw.mu.Unlock()
	wantTP := "00-" + upstreamTrace + "-" + get.SpanContext().SpanID().String() + "-01"
	found := false
	for _, tp := range tw.inventoryTP {
		found = found || tp == wantTP
	}
	if !found {
		t.Errorf("inventory calls carried %q, want one with %s", tw.inventoryTP, wantTP)
	}
	// The record of offset 2 names SP-1 too: its call was shared, so it has a Redis read but
	// no inventory call of its own (unless the two fell in different batches).
	if k := tw.children(spans[2]); len(k["MGET"]) != 1 || len(k["send "+testkit.Topics.Accepted]) != 1 {
		t.Errorf("children of offset 2: %v", names(k))
	}
}

func names(m map[string][]sdktrace.ReadOnlySpan) []string {
	var out []string
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s×%d", k, len(v)))
	}
	return out
}

// TestRetriedRedisFailureShowsOnTheSpan: Redis is down when a record arrives: its process
// span gets a retry event with the cause, a failed Redis read (error status, error.type
// redis) and, once Redis is back, a good one; the record is accepted and its span's status
// stays unset, since ordergate did its job in the end.
func TestRetriedRedisFailureShowsOnTheSpan(t *testing.T) {
	srv := testredis.Start(t)
	tw := startTraced(t, srv.Addr())
	srv.Stop()
	tw.cluster.Produce(t, testkit.Record("cust-0", disconnect("SP-1", 0), testkit.RecordTime, "traceparent", upstreamParent))
	deadline := time.Now().Add(30 * time.Second)
	for value(tw.run.W.Metrics().Retries.WithLabelValues("redis")) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("no Redis retry after 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	srv.Restart()
	tw.events(t, 1)
	span := tw.processSpans(t, 1)[0]
	if span.Status().Code != codes.Unset || attr(span, "ordergate.outcome").AsString() != "accepted" {
		t.Errorf("status %v, outcome %v", span.Status(), attr(span, "ordergate.outcome").Emit())
	}
	retries := 0
	for _, e := range span.Events() {
		if e.Name == tracing.EventRetry {
			retries++
			for _, kv := range e.Attributes {
				if kv.Key == "ordergate.retry.cause" && kv.Value.AsString() != "redis" {
					t.Errorf("retry cause %s", kv.Value.AsString())
				}
			}
		}
	}
	if retries < 2 {
		t.Errorf("%d retry events on the span, want one per failed attempt (at least 2)", retries)
	}
	var failed, good int
	for _, r := range tw.children(span)["MGET"] {
		switch {
		case r.Status().Code == codes.Error && attr(r, "error.type").AsString() == "redis":
			failed++
		case r.Status().Code == codes.Unset:
			good++
		}
	}
	if failed < 2 || good != 1 {
		t.Errorf("Redis reads: %d failed, %d good; want one failed per retry and one good", failed, good)
	}
}
