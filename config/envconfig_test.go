package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kelseyhightower/envconfig"
)

// The tests that call Load set the process environment with t.Setenv, so
// they cannot run in parallel.

// TestEveryVariableIsReadUnderItsFullName sets every variable to a value
// other than its default and checks that Load, through envconfig, reads each
// one into its field.
func TestEveryVariableIsReadUnderItsFullName(t *testing.T) {
	pki := newPKI(t)
	clients := filepath.Join(t.TempDir(), "clients.json")
	if err := os.WriteFile(clients, []byte("[]"), 0o600); err != nil {
		t.Fatal(err)
	}
	every := map[string]string{
		"ORDERGATE_KAFKA_BROKERS":                  "kafka-1:9092,kafka-2:9092",
		"ORDERGATE_KAFKA_GROUP_ID":                 "group",
		"ORDERGATE_TOPIC_REQUESTS":                 "in",
		"ORDERGATE_TOPIC_ACCEPTED":                 "ok",
		"ORDERGATE_TOPIC_REJECTED":                 "ko",
		"ORDERGATE_TOPIC_DLQ":                      "dead",
		"ORDERGATE_REDIS_URL":                      "rediss://app:pw@/1",
		"ORDERGATE_REDIS_MODE":                     "sentinel",
		"ORDERGATE_REDIS_ADDRS":                    "sentinel-1:26379,sentinel-2:26379",
		"ORDERGATE_REDIS_MASTER_NAME":              "cache",
		"ORDERGATE_REDIS_SENTINEL_USERNAME":        "watcher",
		"ORDERGATE_REDIS_SENTINEL_PASSWORD":        "spw",
		"ORDERGATE_REDIS_READ_FROM_REPLICA":        "true",
		"ORDERGATE_REDIS_TLS_INSECURE_SKIP_VERIFY": "true", // the one warning below
		"ORDERGATE_INVENTORY_URL":                  "https://inventory.example/api",
		"ORDERGATE_INVENTORY_TOKEN":                "t0ken",
		"ORDERGATE_INVENTORY_FILE":                 "", // exclusive with the URL; TestRequireInventory reads it
		"ORDERGATE_CACHE_TTL":                      "1h",
		"ORDERGATE_CACHE_NEGATIVE_TTL":             "5s",
		"ORDERGATE_CACHE_STALE_FOR":                "2m",
		"ORDERGATE_CLIENTS_FILE":                   clients,
		"ORDERGATE_HTTP_ADDR":                      "127.0.0.1:9090",
		"ORDERGATE_MAX_MESSAGE_BYTES":              "1000000",
		"ORDERGATE_REDIS_KEY_PREFIX":               "og:",
		"ORDERGATE_LOG_LEVEL":                      "debug",
		"ORDERGATE_LOG_FORMAT":                     "text",
		"ORDERGATE_SHUTDOWN_TIMEOUT":               "25s",
		"ORDERGATE_KAFKA_SASL_MECHANISM":           "SCRAM-SHA-512",
		"ORDERGATE_KAFKA_SASL_USERNAME":            "app",
		"ORDERGATE_KAFKA_SASL_PASSWORD":            "pw",
		"ORDERGATE_KAFKA_TLS_ENABLED":              "true",
		"ORDERGATE_KAFKA_TLS_CA_FILE":              pki.caFile,
		"ORDERGATE_KAFKA_TLS_CERT_FILE":            pki.certFile,
		"ORDERGATE_KAFKA_TLS_KEY_FILE":             pki.keyFile,
		"ORDERGATE_KAFKA_COMPRESSION":              "lz4",
		"ORDERGATE_REDIS_TIMEOUT":                  "1s",
		"ORDERGATE_INVENTORY_TIMEOUT":              "3s",
		"ORDERGATE_INVENTORY_CONCURRENCY":          "8",
		"ORDERGATE_BATCH_MAX_RECORDS":              "500",
		"ORDERGATE_BATCH_MAX_WAIT":                 "5ms",
		"ORDERGATE_RETRY_MAX_BACKOFF":              "1m",
		"ORDERGATE_STUCK_AFTER":                    "2m",
		"ORDERGATE_MEMORY_LIMIT":                   "512MiB",
	}
	if len(every) != len(variables) {
		t.Fatalf("the test sets %d variables, Config has %d", len(every), len(variables))
	}
	defaults, _, err := loadWith(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	var env []string
	for name, value := range every {
		env = append(env, name+"="+value)
	}
	c, warnings, err := loadWith(t, env)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.HasPrefix(warnings[0], "ORDERGATE_REDIS_TLS_INSECURE_SKIP_VERIFY=true") {
		t.Errorf("warnings = %q, want only the one about ORDERGATE_REDIS_TLS_INSECURE_SKIP_VERIFY", warnings)
	}
	got, def := reflect.ValueOf(c), reflect.ValueOf(defaults)
	for _, v := range variables {
		value, ok := every[v.name]
		if !ok {
			t.Errorf("the test does not set %s", v.name)
			continue
		}
		if value != "" && reflect.DeepEqual(got.Field(v.index).Interface(), def.Field(v.index).Interface()) {
			t.Errorf("%s=%s is not read: the field keeps its default %#v", v.name, value, def.Field(v.index).Interface())
		}
	}
}

// TestUnprefixedNamesAreIgnored checks that Load reads no variable under its
// name without ORDERGATE_, the name envconfig falls back to: with an empty
// prefix that name is the full name.
func TestUnprefixedNamesAreIgnored(t *testing.T) {
	defaults, _, err := loadWith(t, nil)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("valid values for another program", func(t *testing.T) {
		clearEnv(t)
		t.Setenv("REDIS_URL", "redis://elsewhere:6380/5")
		t.Setenv("LOG_LEVEL", "debug")
		t.Setenv("LOG_FORMAT", "text")
		t.Setenv("KAFKA_BROKERS", "elsewhere:9092")
		t.Setenv("REDIS_KEY_PREFIX", "other:")
		c, warnings, err := Load()
		if err != nil {
			t.Fatal(err)
		}
		if len(warnings) != 0 {
			t.Errorf("warnings = %q, want none", warnings)
		}
		if c.RedisURL != defaults.RedisURL || c.LogLevel != "info" || c.SlogLevel() != defaults.SlogLevel() {
			t.Errorf("RedisURL %q, LogLevel %q: a bare REDIS_URL or LOG_LEVEL is read", string(c.RedisURL), c.LogLevel)
		}
		if !reflect.DeepEqual(c, defaults) {
			t.Errorf("Load() =\n%#v\nwant the defaults\n%#v", c, defaults)
		}

		// The same environment does reach a field whose tag is the short
		// name when envconfig is given the prefix: the fallback this
		// package avoids.
		var short struct {
			RedisURL string `envconfig:"REDIS_URL"`
		}
		if err := envconfig.Process("ORDERGATE", &short); err != nil {
			t.Fatal(err)
		}
		if short.RedisURL != "redis://elsewhere:6380/5" {
			t.Errorf("with a prefix, envconfig read REDIS_URL=%q; the test no longer shows the fallback", short.RedisURL)
		}
	})

	t.Run("every bare name set to a bad value", func(t *testing.T) {
		clearEnv(t)
		for _, v := range variables {
			t.Setenv(strings.TrimPrefix(v.name, prefix), "bogus value")
		}
		c, warnings, err := Load()
		if err != nil {
			t.Fatalf("Load: %v (a bare name is read)", err)
		}
		if len(warnings) != 0 {
			t.Errorf("warnings = %q, want none", warnings)
		}
		if !reflect.DeepEqual(c, defaults) {
			t.Errorf("Load() =\n%#v\nwant the defaults\n%#v", c, defaults)
		}
	})
}

// TestParseErrorsAreRewritten checks the rewriting of envconfig's errors
// into the one-line *Error, secrets masked, on errors envconfig cannot give
// for this Config (a secret is a string, which always parses).
func TestParseErrorsAreRewritten(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  *envconfig.ParseError
		want string
	}{
		{&envconfig.ParseError{KeyName: "ORDERGATE_CACHE_TTL", FieldName: "CacheTTL", TypeName: "time.Duration", Value: "soon", Err: errors.New("bad")},
			`ORDERGATE_CACHE_TTL="soon": not a duration (e.g. 10m, 30s)`},
		{&envconfig.ParseError{KeyName: "ORDERGATE_INVENTORY_TOKEN", FieldName: "InventoryToken", TypeName: "config.Secret", Value: canary, Err: errors.New(canary)},
			`ORDERGATE_INVENTORY_TOKEN="***": not a valid config.Secret`},
		{&envconfig.ParseError{KeyName: "ORDERGATE_REDIS_URL", FieldName: "RedisURL", TypeName: "config.Secret", Value: "redis://app:" + canary + "@cache/0", Err: errors.New(canary)},
			`ORDERGATE_REDIS_URL="redis://app:***@cache/0": not a valid config.Secret`},
	}
	for _, tt := range tests {
		err := parseError(tt.err)
		checkError(t, err, tt.err.KeyName, "")
		if err.Error() != tt.want {
			t.Errorf("parseError(%s) = %s, want %s", tt.err.KeyName, err, tt.want)
		}
	}
	other := errors.New("specification must be a struct pointer")
	if err := parseError(other); err != other {
		t.Errorf("parseError(%v) = %v, want it unchanged", other, err)
	}
}
