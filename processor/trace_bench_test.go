package processor

import (
	"context"
	"fmt"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/ordergate/ordergate/processor/order"
)

// constResolver answers every lookup with one French service point, allocating only the
// answer slice, as a warm cache does.
type constResolver struct{ sp []order.ServicePoint }

func (c constResolver) Resolve(_ context.Context, lookups []order.Lookup) ([][]order.ServicePoint, error) {
	out := make([][]order.ServicePoint, len(lookups))
	for i := range out {
		out[i] = c.sp
	}
	return out, nil
}

// BenchmarkTracedBatch measures a batch of 1000 records through the processor and the
// publisher's two tracing hooks (a send, the acknowledgement), per record, with tracing
// off and on at three samplers (spans go through the SDK's batch processor to an exporter
// that drops them: the OTLP encoding and the network are not counted here).
func BenchmarkTracedBatch(b *testing.B) {
	const n = 1000
	in := make([]order.Record, n)
	src := make([]order.Record, n)
	for i := range src {
		src[i] = disconnect("SP-FR")
		src[i].Source = order.Source{Topic: "orders.requests", Partition: 1, Offset: int64(i)}
		src[i].Key = fmt.Appendf(nil, "CUST-%d", i%100)
		if i%2 == 0 {
			src[i].Headers = []order.Header{{Key: "traceparent", Value: []byte("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")}}
		}
	}
	out := make([]Result, n)
	res := constResolver{sp: []order.ServicePoint{{ID: "SP-FR", Market: "FR", State: "OPERATIONAL"}}}
	for _, c := range []struct {
		name    string
		sampler sdktrace.Sampler
	}{{"off", nil}, {"on-never", sdktrace.NeverSample()}, {"on-1pct", sdktrace.TraceIDRatioBased(0.01)}, {"on-always", sdktrace.AlwaysSample()}} {
		b.Run(c.name, func(b *testing.B) {
			p := New(&order.Rules{}, res, func() time.Time { return decidedAt })
			if c.sampler != nil {
				tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter(), sdktrace.WithMaxQueueSize(1<<16)), sdktrace.WithSampler(c.sampler))
				defer tp.Shutdown(context.Background())
				p.SetTracing(Tracing{Tracer: tp.Tracer("bench"), Topic: "orders.requests", Group: "ordergate"})
			}
			b.ReportAllocs()
			for b.Loop() {
				copy(in, src)
				if err := p.Process(context.Background(), in, out); err != nil {
					b.Fatal(err)
				}
				now := time.Now()
				for i := range out {
					out[i].TraceSend("orders.accepted", now, now, nil)
					out[i].TraceDone(false, now)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
		})
	}
}

// BenchmarkBatchSpanAlternative measures the design not taken (docs/operations.md, "Why a
// span per record"): one process span per batch of 1000 records, with a link to each
// record's context and the batch's three operations as its children, sampled always. The
// per-record figure compares with BenchmarkTracedBatch/on-always; the decisions are left out
// (they cost the same in both).
func BenchmarkBatchSpanAlternative(b *testing.B) {
	const n = 1000
	parents := make([]trace.SpanContext, n)
	for i := range parents {
		tc := order.TraceContextOf([]order.Header{{Key: "traceparent", Value: fmt.Appendf(nil, "00-4bf92f3577b34da6a3ce929d0e0e%04x-00f067aa0ba902b7-01", i)}})
		parents[i] = spanContext(&tc)
	}
	for _, limit := range []int{128, n} {
		b.Run(fmt.Sprintf("links-kept-%d", limit), func(b *testing.B) {
			limits := sdktrace.NewSpanLimits()
			limits.LinkCountLimit = limit
			tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter(), sdktrace.WithMaxQueueSize(1<<16)),
				sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithRawSpanLimits(limits))
			defer tp.Shutdown(context.Background())
			tr := tp.Tracer("bench")
			links := make([]trace.Link, n)
			b.ReportAllocs()
			for b.Loop() {
				for i := range links {
					links[i] = trace.Link{SpanContext: parents[i]}
				}
				ctx, span := tr.Start(context.Background(), "process orders.requests", trace.WithSpanKind(trace.SpanKindConsumer), trace.WithLinks(links...))
				for _, name := range []string{"MGET", "send orders.accepted", "send orders.rejected"} {
					_, c := tr.Start(ctx, name)
					c.End()
				}
				span.End()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
		})
	}
}
