package worker

import (
	"context"
	"os"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/ordergate/ordergate/internal/foundation/metrics"
	"github.com/ordergate/ordergate/internal/foundation/tracing"
	"github.com/ordergate/ordergate/processor"
)

// traceFlushTimeout bounds the export of the last spans at exit: a collector that does not
// answer must not hold the worker.
const traceFlushTimeout = 5 * time.Second

// traceErrorInterval is how often the SDK's errors (an absent collector) are logged at most.
const traceErrorInterval = 30 * time.Second

// startTracing makes the processor trace records through the provider given (tests), else
// through the OTLP exporter of the OTEL_* variables when they set an endpoint. With neither,
// tracing stays off: no SDK, no exporter, no span; events carry the input's trace context
// unchanged.
func (w *Worker) startTracing(ctx context.Context, given trace.TracerProvider) error {
	tp := given
	if tp == nil {
		s, err := tracing.Read(os.Getenv)
		if err != nil {
			return err
		}
		if !s.Enabled {
			return nil
		}
		p, err := tracing.New(ctx, s, metrics.Build().Version)
		if err != nil {
			return err
		}
		tracing.RouteErrors(w.log, traceErrorInterval)
		w.traces, tp = p, p
		w.log.Info("tracing on", "endpoint", s.Endpoint, "protocol", s.Protocol, "sampler", s.SamplerName)
	}
	w.proc.SetTracing(processor.Tracing{Tracer: tracing.Tracer(tp), Topic: w.cfg.TopicRequests, Group: w.cfg.KafkaGroupID})
	return nil
}

// stopTracing exports the spans not exported yet and stops the exporter.
func (w *Worker) stopTracing() {
	if w.traces == nil {
		return
	}
	if err := w.traces.Close(traceFlushTimeout); err != nil {
		w.log.Warn("tracing: the last spans were not all exported", "err", err)
	}
	w.traces = nil
}
