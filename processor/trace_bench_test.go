package processor

import (
	"context"
	"fmt"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

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
