// Package tracing holds ordergate's OpenTelemetry tracing: the SDK configured by the
// standard OTEL_* variables (setup.go) and the helpers that record a batch's I/O in the
// traces of its records (spans.go). It knows nothing of records: the processor and the
// publisher, which do, call it.
//
// Tracing is off unless an OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT): then no SDK, no exporter and no span exists, and the
// worker's hot path only passes the input's trace context on (see docs/operations.md).
package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// The variables ordergate reads itself; the exporters and the SDK read the other OTEL_*
// variables (headers, TLS, timeouts, compression, batch processor, resource).
const (
	EnvEndpoint         = "OTEL_EXPORTER_OTLP_ENDPOINT"
	EnvTracesEndpoint   = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	EnvProtocol         = "OTEL_EXPORTER_OTLP_PROTOCOL"
	EnvTracesProtocol   = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	EnvTracesExporter   = "OTEL_TRACES_EXPORTER"
	EnvSDKDisabled      = "OTEL_SDK_DISABLED"
	EnvTracesSampler    = "OTEL_TRACES_SAMPLER"
	EnvTracesSamplerArg = "OTEL_TRACES_SAMPLER_ARG"
	EnvBSPMaxQueueSize  = "OTEL_BSP_MAX_QUEUE_SIZE"
)

// DefaultQueueSize is the batch span processor's queue when OTEL_BSP_MAX_QUEUE_SIZE is not
// set, in spans. The SDK's default (2048) is less than one batch of ordergate's records
// makes at 100% sampling (up to ORDERGATE_BATCH_MAX_RECORDS × 3 spans, at once): it would
// drop a third of them. 16384 holds five such batches, about 16 MiB at most.
const DefaultQueueSize = 16384

// The OTLP protocols of OTEL_EXPORTER_OTLP_PROTOCOL.
const (
	ProtocolGRPC = "grpc"
	ProtocolHTTP = "http/protobuf"
)

// ServiceName is service.name unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES say
// otherwise.
const ServiceName = "ordergate"

// ScopeName is the instrumentation scope of ordergate's spans.
const ScopeName = "github.com/ordergate/ordergate"

// Settings are what the environment says about tracing.
type Settings struct {
	// Enabled is true when an OTLP endpoint is set and neither OTEL_SDK_DISABLED=true nor
	// OTEL_TRACES_EXPORTER=none turn tracing off.
	Enabled bool
	// Endpoint is the variable that enabled tracing and its value, for the logs.
	Endpoint string
	// Protocol is ProtocolGRPC or ProtocolHTTP (the OpenTelemetry default).
	Protocol string
	// Sampler is the sampler of OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG
	// (parentbased_always_on by default).
	Sampler sdktrace.Sampler
	// SamplerName describes it, for the logs.
	SamplerName string
	// QueueSize is the batch span processor's queue, DefaultQueueSize unless
	// OTEL_BSP_MAX_QUEUE_SIZE is set (0: the SDK reads that variable).
	QueueSize int
}

// Read returns the tracing settings of an environment (getenv is os.Getenv in the worker).
// A value that ordergate cannot use is an error naming the variable, so that a typo stops
// the start instead of silently tracing nothing or everything.
func Read(getenv func(string) string) (Settings, error) {
	var s Settings
	endpoint := EnvTracesEndpoint
	if getenv(endpoint) == "" {
		endpoint = EnvEndpoint
	}
	if v := getenv(endpoint); v != "" {
		s.Endpoint = endpoint + "=" + redact(v)
	}
	disabled := strings.EqualFold(strings.TrimSpace(getenv(EnvSDKDisabled)), "true")
	switch exp := strings.ToLower(strings.TrimSpace(getenv(EnvTracesExporter))); exp {
	case "", "otlp":
	case "none":
		disabled = true
	default:
		return s, fmt.Errorf("%s=%s: ordergate exports traces with OTLP only (otlp or none)", EnvTracesExporter, exp)
	}
	s.Enabled = s.Endpoint != "" && !disabled
	protoVar := EnvTracesProtocol
	if getenv(protoVar) == "" {
		protoVar = EnvProtocol
	}
	switch p := strings.TrimSpace(getenv(protoVar)); p {
	case "", ProtocolHTTP:
		s.Protocol = ProtocolHTTP
	case ProtocolGRPC:
		s.Protocol = ProtocolGRPC
	default:
		return s, fmt.Errorf("%s=%s: the protocol must be grpc or http/protobuf", protoVar, p)
	}
	if getenv(EnvBSPMaxQueueSize) == "" {
		s.QueueSize = DefaultQueueSize
	}
	var err error
	s.Sampler, s.SamplerName, err = sampler(strings.ToLower(strings.TrimSpace(getenv(EnvTracesSampler))), strings.TrimSpace(getenv(EnvTracesSamplerArg)))
	return s, err
}

// redact hides the password of an endpoint URL that holds one, for the logs.
func redact(endpoint string) string {
	if u, err := url.Parse(endpoint); err == nil && u.User != nil {
		return u.Redacted()
	}
	return endpoint
}

// sampler returns the sampler of OTEL_TRACES_SAMPLER and its argument, as the
// specification of the SDK's environment defines them.
func sampler(name, arg string) (sdktrace.Sampler, string, error) {
	ratio := 1.0
	if arg != "" && strings.HasSuffix(name, "traceidratio") {
		r, err := strconv.ParseFloat(arg, 64)
		if err != nil || r < 0 || r > 1 {
			return nil, "", fmt.Errorf("%s=%s: the ratio must be a number from 0 to 1", EnvTracesSamplerArg, arg)
		}
		ratio = r
	}
	withRatio := name + " " + strconv.FormatFloat(ratio, 'g', -1, 64)
	switch name {
	case "", "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), "parentbased_always_on", nil
	case "always_on":
		return sdktrace.AlwaysSample(), name, nil
	case "always_off":
		return sdktrace.NeverSample(), name, nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), name, nil
	case "traceidratio":
		return sdktrace.TraceIDRatioBased(ratio), withRatio, nil
	case "parentbased_traceidratio":
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio)), withRatio, nil
	}
	return nil, "", fmt.Errorf("%s=%s: not a sampler ordergate knows (always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio)", EnvTracesSampler, name)
}

// Provider is the SDK's tracer provider with its OTLP exporter.
type Provider struct {
	*sdktrace.TracerProvider
}

// New returns the provider of settings s (which must be Enabled), exporting with OTLP over
// s.Protocol in batches; version is service.version. The exporter connects lazily: an
// absent collector costs failed exports, reported through otel's error handler (see
// RouteErrors), never a failed start.
func New(ctx context.Context, s Settings, version string) (*Provider, error) {
	if !s.Enabled {
		return nil, errors.New("tracing: New called with tracing off")
	}
	var exp sdktrace.SpanExporter
	var err error
	if s.Protocol == ProtocolGRPC {
		exp, err = otlptracegrpc.New(ctx)
	} else {
		exp, err = otlptracehttp.New(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter (%s): %w", s.Endpoint, err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName(ServiceName), semconv.ServiceVersion(version)),
		resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil {
		_ = exp.Shutdown(ctx)
		return nil, fmt.Errorf("tracing: resource (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES): %w", err)
	}
	var batch []sdktrace.BatchSpanProcessorOption
	if s.QueueSize > 0 {
		batch = append(batch, sdktrace.WithMaxQueueSize(s.QueueSize))
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp, batch...), sdktrace.WithResource(res), sdktrace.WithSampler(s.Sampler))
	return &Provider{TracerProvider: tp}, nil
}

// Close flushes the spans not exported yet and stops the exporter, waiting at most timeout
// (a collector that does not answer must not hold the worker's exit).
func (p *Provider) Close(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return p.Shutdown(ctx)
}

// Tracer returns ordergate's tracer of tp.
func Tracer(tp trace.TracerProvider) trace.Tracer { return tp.Tracer(ScopeName) }

// RouteErrors sends the errors of the OpenTelemetry SDK (failed exports, dropped spans) to
// log at warn level, at most one line per interval with the count of those left out, so
// that an absent collector does not flood the log.
func RouteErrors(log *slog.Logger, interval time.Duration) {
	h := &errorHandler{log: log, interval: interval}
	otel.SetErrorHandler(h)
}

type errorHandler struct {
	log      *slog.Logger
	interval time.Duration

	mu      sync.Mutex
	last    time.Time
	skipped int
}

func (h *errorHandler) Handle(err error) {
	h.mu.Lock()
	now := time.Now()
	if now.Sub(h.last) < h.interval {
		h.skipped++
		h.mu.Unlock()
		return
	}
	skipped := h.skipped
	h.last, h.skipped = now, 0
	h.mu.Unlock()
	h.log.Warn("tracing: "+err.Error(), "similar_errors_not_logged", skipped)
}
