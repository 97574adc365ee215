package config

import (
	"reflect"
	"testing"
)

func TestUnknownVariablesAreWarnings(t *testing.T) {
	_, warnings, err := loadWith(t, []string{
		"ORDERGATE_CACHE_TLL=1m",
		"ORDERGATE_BROKERS=kafka:9092",
		"ORDERGATE_LOGLEVEL=debug",
		"ORDERGATE_KAFKA_BROKER=kafka:9092",
		"ORDERGATE_FOO=bar",
		"ordergate_log_level=debug",
		"ORDERGATE_CACHE_TTL=1m",
		"REDIS_URL=redis://elsewhere:6379/0",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"unknown variable ORDERGATE_BROKERS (typo of ORDERGATE_KAFKA_BROKERS?)",
		"unknown variable ORDERGATE_CACHE_TLL (typo of ORDERGATE_CACHE_TTL?)",
		"unknown variable ORDERGATE_FOO",
		"unknown variable ORDERGATE_KAFKA_BROKER (typo of ORDERGATE_KAFKA_BROKERS?)",
		"unknown variable ORDERGATE_LOGLEVEL (typo of ORDERGATE_LOG_LEVEL?)",
		"unknown variable ordergate_log_level (typo of ORDERGATE_LOG_LEVEL?)",
	}
	if !reflect.DeepEqual(warnings, want) {
		t.Errorf("warnings =\n%q\nwant\n%q", warnings, want)
	}
}

// TestOpenTelemetryVariablesAreNotUnknown: the standard OTEL_* variables configure
// tracing (the SDK reads them, see docs/operations.md): none is a typo of ordergate's.
func TestOpenTelemetryVariablesAreNotUnknown(t *testing.T) {
	_, warnings, err := loadWith(t, []string{
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318",
		"OTEL_EXPORTER_OTLP_PROTOCOL=grpc",
		"OTEL_TRACES_SAMPLER=parentbased_traceidratio",
		"OTEL_TRACES_SAMPLER_ARG=0.01",
		"OTEL_SERVICE_NAME=ordergate-eu",
		"OTEL_RESOURCE_ATTRIBUTES=deployment.environment.name=prod",
		"OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer x",
	})
	if err != nil || len(warnings) != 0 {
		t.Errorf("err %v, warnings %q; want none", err, warnings)
	}
}

func TestUnknownVariablesComeWithTheError(t *testing.T) {
	_, warnings, err := loadWith(t, []string{"ORDERGATE_CACHE_TTL=soon", "ORDERGATE_CACHE_TLL=1m"})
	checkError(t, err, "ORDERGATE_CACHE_TTL", "not a duration")
	if len(warnings) != 1 {
		t.Errorf("warnings = %q, want the typo", warnings)
	}
}

func TestAdvice(t *testing.T) {
	tests := []struct {
		setting string
		env     []string
		want    []string
	}{
		{"PLAIN without TLS", []string{"ORDERGATE_KAFKA_SASL_MECHANISM=PLAIN", "ORDERGATE_KAFKA_SASL_USERNAME=app", "ORDERGATE_KAFKA_SASL_PASSWORD=pw"},
			[]string{"ORDERGATE_KAFKA_SASL_MECHANISM=PLAIN without ORDERGATE_KAFKA_TLS_ENABLED=true sends the Kafka password in clear text"}},
		{"PLAIN with TLS", []string{"ORDERGATE_KAFKA_SASL_MECHANISM=PLAIN", "ORDERGATE_KAFKA_SASL_USERNAME=app", "ORDERGATE_KAFKA_SASL_PASSWORD=pw", "ORDERGATE_KAFKA_TLS_ENABLED=true"},
			nil},
		{"token without URL", []string{"ORDERGATE_INVENTORY_TOKEN=t0ken"},
			[]string{"ORDERGATE_INVENTORY_TOKEN is set but ORDERGATE_INVENTORY_URL is not: the token is not used"}},
		{"token over http", []string{"ORDERGATE_INVENTORY_TOKEN=t0ken", "ORDERGATE_INVENTORY_URL=HTTP://inventory:8081"},
			[]string{"ORDERGATE_INVENTORY_TOKEN is sent in clear text: ORDERGATE_INVENTORY_URL is http, not https"}},
		{"token over https", []string{"ORDERGATE_INVENTORY_TOKEN=t0ken", "ORDERGATE_INVENTORY_URL=https://inventory"},
			nil},
	}
	for _, tt := range tests {
		_, warnings, err := loadWith(t, tt.env)
		if err != nil {
			t.Fatalf("%s: %v", tt.setting, err)
		}
		if !reflect.DeepEqual(warnings, tt.want) {
			t.Errorf("%s: warnings = %q, want %q", tt.setting, warnings, tt.want)
		}
	}
}

func TestClosest(t *testing.T) {
	t.Parallel()
	flags := []string{"inventory", "clients", "pretty", "at", "key", "H"}
	topics := []string{"orders.requests", "orders.accepted", "orders.rejected", "orders.dlq", "__consumer_offsets"}
	tests := []struct {
		word       string
		candidates []string
		want       string
	}{
		{"inventroy", flags, "inventory"},
		{"Pretty", flags, "pretty"},
		{"client", flags, "clients"},
		{"verbose", flags, ""},
		{"orders.requets", topics, "orders.requests"},
		{"orders.dql", topics, "orders.dlq"},
		{"payments", topics, ""},
		{"", topics, ""},
	}
	for _, tt := range tests {
		if got := Closest(tt.word, tt.candidates); got != tt.want {
			t.Errorf("Closest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}

func TestDistance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"abc", "abc", 0},
		{"abc", "acb", 1}, // a swap counts once
		{"CACHE_TLL", "CACHE_TTL", 1},
		{"LOGLEVEL", "LOG_LEVEL", 1},
		{"kitten", "sitting", 3},
		{"", "abc", 3},
	}
	for _, tt := range tests {
		if got := distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
