package bench

import (
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"

	"github.com/ordergate/ordergate/internal/foundation/tracing"
)

// TracingOff is the setting of Options.Tracing that runs a phase without tracing.
const TracingOff = "off"

// tracingPhase returns the name of the warm phase run with a tracing setting ("off" or a
// sampler ratio from 0 to 1), and checks the setting.
func tracingPhase(setting string) (string, error) {
	if setting == TracingOff {
		return "trace-off", nil
	}
	r, err := strconv.ParseFloat(setting, 64)
	if err != nil || r < 0 || r > 1 {
		return "", fmt.Errorf("tracing setting %q: off or a sampler ratio from 0 to 1", setting)
	}
	return "trace-" + strconv.FormatFloat(r*100, 'g', -1, 64) + "pct", nil
}

// tracingVars are the OTEL_* variables of a phase with a tracing setting: OTLP over HTTP to
// the bench's sink, a parent-based ratio sampler (the bench's records carry no trace
// context, so the ratio decides). Off sets none.
func tracingVars(setting, sink string) []string {
	if setting == TracingOff {
		return nil
	}
	return []string{
		"OTEL_EXPORTER_OTLP_ENDPOINT=" + sink,
		"OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
		"OTEL_TRACES_SAMPLER=parentbased_traceidratio",
		"OTEL_TRACES_SAMPLER_ARG=" + setting,
	}
}

// tuning are the worker's variables that pass from the bench's environment to the phases,
// to measure their effect (ORDERGATE_BATCH_MAX_RECORDS=250 ordergate bench): the batch
// size and the memory limit, which trade memory for speed (performance.md, Sizing).
var tuning = map[string]bool{"ORDERGATE_BATCH_MAX_RECORDS": true, "ORDERGATE_BATCH_MAX_WAIT": true,
	"ORDERGATE_MEMORY_LIMIT": true}

// inherited reports whether a variable of the bench's environment passes to a phase's
// process: not ORDERGATE_* (each phase has its own) but the tuning ones, nor the OTEL_* variables that turn
// tracing on or off or choose its exporter and sampler (tracing is a phase's setting, not
// the shell's); the SDK's tuning (OTEL_BSP_*, OTEL_EXPORTER_OTLP_COMPRESSION...) passes, to
// measure its effect.
func inherited(kv string) bool {
	name, _, _ := strings.Cut(kv, "=")
	if strings.HasPrefix(name, "ORDERGATE_") {
		return tuning[name]
	}
	switch {
	case strings.HasPrefix(name, "OTEL_EXPORTER_OTLP_") && (strings.HasSuffix(name, "ENDPOINT") || strings.HasSuffix(name, "PROTOCOL")),
		strings.HasPrefix(name, "OTEL_TRACES_"), name == "OTEL_SDK_DISABLED":
		return false
	}
	return true
}

// spanSink is an OTLP/HTTP trace receiver that counts the spans it receives, standing for
// a collector. It decodes every request, as a collector would, in the bench's process.
type spanSink struct {
	*httptest.Server
	spans atomic.Int64
}

func newSpanSink() *spanSink {
	s := &spanSink{}
	s.Server = httptest.NewServer(tracing.Receiver(func(req *collectortrace.ExportTraceServiceRequest) {
		s.spans.Add(int64(tracing.SpanCount(req)))
	}))
	return s
}
