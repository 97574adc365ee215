package tracing

import (
	"io"
	"net/http"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// maxExport bounds the body of one export the receiver reads.
const maxExport = 64 << 20

// Receiver returns an OTLP/HTTP trace receiver, as a collector serves it (POST /v1/traces,
// a protobuf ExportTraceServiceRequest): it decodes each export and hands it to got, which
// must be safe for concurrent use. `ordergate bench` stands it in for a collector, and the
// tests read what the worker exports with it.
func Receiver(got func(*collectortrace.ExportTraceServiceRequest)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
			http.Error(w, "not an OTLP/HTTP protobuf trace export", http.StatusBadRequest)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxExport))
		var req collectortrace.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(body, &req)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got(&req)
		out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	})
}

// SpanCount returns the number of spans of an export.
func SpanCount(req *collectortrace.ExportTraceServiceRequest) int {
	n := 0
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			n += len(ss.Spans)
		}
	}
	return n
}
