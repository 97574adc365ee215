package bench

import "testing"

func TestTracingIsAPhasesSetting(t *testing.T) {
	for kv, want := range map[string]bool{
		"ORDERGATE_LOG_LEVEL=debug": false, "OTEL_EXPORTER_OTLP_ENDPOINT=http://c:4318": false,
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://c:4318/v1/traces": false, "OTEL_EXPORTER_OTLP_PROTOCOL=grpc": false,
		"OTEL_TRACES_SAMPLER=always_on": false, "OTEL_TRACES_EXPORTER=otlp": false, "OTEL_SDK_DISABLED=true": false,
		"OTEL_BSP_MAX_EXPORT_BATCH_SIZE=2048": true,
		"ORDERGATE_BATCH_MAX_RECORDS=250":     true, "ORDERGATE_MEMORY_LIMIT=128MiB": true, "ORDERGATE_KAFKA_BROKERS=b:9092": false, "OTEL_EXPORTER_OTLP_COMPRESSION=gzip": true, "PATH=/bin": true,
	} {
		if inherited(kv) != want {
			t.Errorf("%s passed on: %v, want %v", kv, !want, want)
		}
	}
	for setting, want := range map[string]string{"off": "trace-off", "1": "trace-100pct", "0.01": "trace-1pct"} {
		if got, err := tracingPhase(setting); err != nil || got != want {
			t.Errorf("%s: %q %v", setting, got, err)
		}
	}
	if _, err := tracingPhase("1%"); err == nil {
		t.Error("1% accepted")
	}
}
