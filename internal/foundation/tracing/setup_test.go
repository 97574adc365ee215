package tracing

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// TestOffUnlessAnEndpointIsSet: no endpoint, OTEL_SDK_DISABLED=true or
// OTEL_TRACES_EXPORTER=none leave tracing off; either endpoint variable turns it on.
func TestOffUnlessAnEndpointIsSet(t *testing.T) {
	cases := []struct {
		name string
		env  func(string) string
		on   bool
	}{
		{"nothing", env(), false},
		{"sampler alone", env(EnvTracesSampler, "always_on"), false},
		{"endpoint", env(EnvEndpoint, "http://collector:4318"), true},
		{"traces endpoint", env(EnvTracesEndpoint, "http://collector:4318/v1/traces"), true},
		{"endpoint, SDK disabled", env(EnvEndpoint, "http://collector:4318", EnvSDKDisabled, "TRUE"), false},
		{"endpoint, exporter none", env(EnvEndpoint, "http://collector:4318", EnvTracesExporter, "none"), false},
		{"endpoint, exporter otlp", env(EnvEndpoint, "http://collector:4318", EnvTracesExporter, "otlp"), true},
	}
	for _, c := range cases {
		s, err := Read(c.env)
		if err != nil || s.Enabled != c.on {
			t.Errorf("%s: enabled %v (%v), want %v", c.name, s.Enabled, err, c.on)
		}
	}
}

func TestProtocolAndSampler(t *testing.T) {
	s, err := Read(env(EnvEndpoint, "http://c:4317", EnvProtocol, "grpc", EnvTracesSampler, "parentbased_traceidratio", EnvTracesSamplerArg, "0.01"))
	if err != nil || s.Protocol != ProtocolGRPC || s.SamplerName != "parentbased_traceidratio 0.01" {
		t.Errorf("%+v %v", s, err)
	}
	if s, _ := Read(env(EnvEndpoint, "http://c:4318")); s.Protocol != ProtocolHTTP || s.SamplerName != "parentbased_always_on" {
		t.Errorf("defaults: %+v", s)
	}
	if s, _ := Read(env(EnvEndpoint, "http://c:4318", EnvProtocol, "grpc", EnvTracesProtocol, "http/protobuf")); s.Protocol != ProtocolHTTP {
		t.Errorf("the traces protocol wins: %+v", s)
	}
	if s.QueueSize != DefaultQueueSize {
		t.Errorf("queue %d without OTEL_BSP_MAX_QUEUE_SIZE, want %d", s.QueueSize, DefaultQueueSize)
	}
	if s, _ := Read(env(EnvEndpoint, "http://c:4318", EnvBSPMaxQueueSize, "100")); s.QueueSize != 0 {
		t.Errorf("queue %d with OTEL_BSP_MAX_QUEUE_SIZE set: the SDK reads it", s.QueueSize)
	}
	if !strings.Contains(s.Sampler.Description(), "TraceIDRatioBased{0.01}") {
		t.Errorf("sampler %s", s.Sampler.Description())
	}
}

// TestBadValuesNameTheirVariable: a value ordergate cannot use stops the start with the
// variable's name, instead of tracing nothing or everything.
func TestBadValuesNameTheirVariable(t *testing.T) {
	for variable, e := range map[string]func(string) string{
		EnvProtocol:         env(EnvEndpoint, "http://c", EnvProtocol, "http/json"),
		EnvTracesProtocol:   env(EnvEndpoint, "http://c", EnvTracesProtocol, "udp"),
		EnvTracesSampler:    env(EnvEndpoint, "http://c", EnvTracesSampler, "jaeger_remote"),
		EnvTracesSamplerArg: env(EnvEndpoint, "http://c", EnvTracesSampler, "traceidratio", EnvTracesSamplerArg, "1%"),
		EnvTracesExporter:   env(EnvEndpoint, "http://c", EnvTracesExporter, "zipkin"),
	} {
		if _, err := Read(e); err == nil || !strings.HasPrefix(err.Error(), variable+"=") {
			t.Errorf("%s: error %v", variable, err)
		}
	}
	if _, err := Read(env(EnvEndpoint, "http://c", EnvTracesSampler, "traceidratio", EnvTracesSamplerArg, "1.5")); err == nil {
		t.Error("a ratio of 1.5 accepted")
	}
}

func TestEndpointPasswordNotLogged(t *testing.T) {
	s, _ := Read(env(EnvEndpoint, "https://user:s3cret@collector:4318"))
	if strings.Contains(s.Endpoint, "s3cret") || !strings.Contains(s.Endpoint, "collector:4318") {
		t.Errorf("endpoint for the logs: %s", s.Endpoint)
	}
}

// TestSDKErrorsLoggedQuietly: an absent collector fails every export; the log gets one line
// per interval, with the count of the others.
func TestSDKErrorsLoggedQuietly(t *testing.T) {
	var buf bytes.Buffer
	h := &errorHandler{log: slog.New(slog.NewTextHandler(&buf, nil)), interval: time.Hour}
	for range 5 {
		h.Handle(errors.New("exporter: connection refused"))
	}
	h.last = time.Time{}
	h.Handle(errors.New("exporter: connection refused"))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "similar_errors_not_logged=4") {
		t.Errorf("log:\n%s", buf.String())
	}
}
