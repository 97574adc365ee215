package pipeline

import (
	"context"
	"encoding/hex"
	"net"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"

	"github.com/ordergate/ordergate/internal/app/testkit"
	"github.com/ordergate/ordergate/internal/app/worker"
	"github.com/ordergate/ordergate/internal/foundation/testredis"
	"github.com/ordergate/ordergate/internal/foundation/tracing"
	"github.com/ordergate/ordergate/processor/order"
)

// receiver is an OTLP trace receiver on loopback: what a collector (Jaeger, Tempo, the
// OpenTelemetry Collector) receives from the worker.
type receiver struct {
	mu       sync.Mutex
	requests []*collectortrace.ExportTraceServiceRequest
}

func (r *receiver) add(req *collectortrace.ExportTraceServiceRequest) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, req)
}

// span is a received span with its resource's service.name.
type receivedSpan struct {
	service string
	*tracepb.Span
}

func (r *receiver) spans() []receivedSpan {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []receivedSpan
	for _, req := range r.requests {
		for _, rs := range req.ResourceSpans {
			service := ""
			for _, kv := range rs.GetResource().GetAttributes() {
				if kv.Key == "service.name" {
					service = kv.GetValue().GetStringValue()
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					out = append(out, receivedSpan{service, s})
				}
			}
		}
	}
	return out
}

// grpcReceiver serves OTLP/gRPC (the TraceService) on a loopback port.
type grpcReceiver struct {
	collectortrace.UnimplementedTraceServiceServer
	*receiver
}

func (g grpcReceiver) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	g.add(req)
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

func startGRPCReceiver(t *testing.T) (*receiver, string) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{}
	srv := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(srv, grpcReceiver{receiver: r})
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	return r, "http://" + l.Addr().String()
}

// startHTTPReceiver serves OTLP/HTTP with protobuf bodies (POST /v1/traces).
func startHTTPReceiver(t *testing.T) (*receiver, string) {
	r := &receiver{}
	srv := httptest.NewServer(tracing.Receiver(r.add))
	t.Cleanup(srv.Close)
	return r, srv.URL
}

// TestSpansExportedToAnOTLPReceiver: with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a
// receiver, the worker (configured by the OTEL_* variables alone) exports the process span
// of a record, in the upstream's trace, under OTEL_SERVICE_NAME, with its children, over
// gRPC and over HTTP; the event's traceparent names the exported span.
func TestSpansExportedToAnOTLPReceiver(t *testing.T) {
	for _, protocol := range []string{"grpc", "http/protobuf"} {
		t.Run(protocol, func(t *testing.T) {
			recv, endpoint := startHTTPReceiver(t)
			if protocol == "grpc" {
				recv, endpoint = startGRPCReceiver(t)
			}
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
			t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
			t.Setenv("OTEL_SERVICE_NAME", "ordergate-under-test")
			t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "100")
			c := testkit.NewCluster(t, 1, nil)
			cfg := testkit.Config(t, c, testredis.Shared(t), testredis.Prefix(t))
			c.Produce(t, testkit.Record("cust-0", disconnect("SP-1", 0), testkit.RecordTime, "traceparent", upstreamParent))
			run := testkit.StartWorker(t, cfg, worker.Options{Inventory: inventory(t, 3)})
			c.WaitEvents(t, 1, time.Minute)
			ev := c.Read(t, testkit.Topics.Accepted)[0]

			var process *receivedSpan
			deadline := time.Now().Add(30 * time.Second)
			for process == nil {
				for _, s := range recv.spans() {
					if s.Name == "process "+testkit.Topics.Requests {
						process = &s
					}
				}
				if time.Now().After(deadline) {
					t.Fatalf("no process span received after 30s; received %d spans\n%s", len(recv.spans()), run.Logs.String())
				}
				time.Sleep(50 * time.Millisecond)
			}
			if process.service != "ordergate-under-test" {
				t.Errorf("service.name %q, want OTEL_SERVICE_NAME's", process.service)
			}
			if got := hex.EncodeToString(process.TraceId); got != upstreamTrace {
				t.Errorf("trace %s, want the upstream's %s", got, upstreamTrace)
			}
			if got := hex.EncodeToString(process.ParentSpanId); got != upstreamSpan {
				t.Errorf("parent %s, want the upstream's span %s", got, upstreamSpan)
			}
			if process.Kind != tracepb.Span_SPAN_KIND_CONSUMER {
				t.Errorf("kind %v", process.Kind)
			}
			tc := eventParent(t, ev)
			if hex.EncodeToString(tc.SpanID[:]) != hex.EncodeToString(process.SpanId) {
				t.Errorf("event traceparent %s does not name the exported span %x", header(ev, "traceparent"), process.SpanId)
			}
			// The children follow (the batch processor may send them in another request).
			want := map[string]bool{"MGET": false, "send " + testkit.Topics.Accepted: false}
			for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
				for _, s := range recv.spans() {
					if string(s.ParentSpanId) == string(process.SpanId) {
						want[s.Name] = true
					}
				}
				if want["MGET"] && want["send "+testkit.Topics.Accepted] {
					return
				}
			}
			t.Errorf("children received: %v", want)
		})
	}
}

// TestTracingOffPassesTheContextOn: without an OTLP endpoint the worker traces nothing and
// each event carries its input's trace context unchanged (so that the upstream's and the
// downstream's traces still join), and a record without one gives an event without one
// (nothing changes for a user who does not trace).
func TestTracingOffPassesTheContextOn(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	c := testkit.NewCluster(t, 1, nil)
	cfg := testkit.Config(t, c, testredis.Shared(t), testredis.Prefix(t))
	c.Produce(t,
		testkit.Record("cust-0", disconnect("SP-1", 0), testkit.RecordTime, "traceparent", upstreamParent, "tracestate", upstreamState),
		testkit.Record("cust-1", disconnect("SP-1", 1), testkit.RecordTime),
		testkit.Record("cust-2", disconnect("SP-1", 2), testkit.RecordTime, "traceparent", "00-junk"))
	testkit.StartWorker(t, cfg, worker.Options{Inventory: inventory(t, 3)})
	c.WaitEvents(t, 3, time.Minute)
	want := map[string][2]string{"cust-0": {upstreamParent, upstreamState}, "cust-1": {}, "cust-2": {}}
	for _, m := range c.Read(t, testkit.Topics.Accepted) {
		got := [2]string{header(m, order.HeaderTraceParent), header(m, order.HeaderTraceState)}
		if got != want[string(m.Key)] {
			t.Errorf("event of %s: trace headers %q, want %q", m.Key, got, want[string(m.Key)])
		}
	}
}
