package config

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

func TestDefaultsAreTheContractTable(t *testing.T) {
	c, warnings, err := loadWith(t, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings = %q, want none", warnings)
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"ORDERGATE_KAFKA_BROKERS", c.KafkaBrokers, []string{"localhost:9092"}},
		{"ORDERGATE_KAFKA_GROUP_ID", c.KafkaGroupID, "ordergate"},
		{"ORDERGATE_TOPIC_REQUESTS", c.TopicRequests, "orders.requests"},
		{"ORDERGATE_TOPIC_ACCEPTED", c.TopicAccepted, "orders.accepted"},
		{"ORDERGATE_TOPIC_REJECTED", c.TopicRejected, "orders.rejected"},
		{"ORDERGATE_TOPIC_DLQ", c.TopicDLQ, "orders.dlq"},
		{"ORDERGATE_REDIS_URL", c.RedisURL, Secret("redis://localhost:6379/0")},
		{"ORDERGATE_REDIS_MODE", c.RedisMode, "single"},
		{"ORDERGATE_REDIS_ADDRS", c.RedisAddrs, []string(nil)},
		{"ORDERGATE_REDIS_MASTER_NAME", c.RedisMasterName, ""},
		{"ORDERGATE_REDIS_SENTINEL_USERNAME", c.RedisSentinelUsername, ""},
		{"ORDERGATE_REDIS_SENTINEL_PASSWORD", c.RedisSentinelPassword, Secret("")},
		{"ORDERGATE_REDIS_READ_FROM_REPLICA", c.RedisReadFromReplica, false},
		{"ORDERGATE_REDIS_TLS_INSECURE_SKIP_VERIFY", c.RedisTLSInsecureSkipVerify, false},
		{"ORDERGATE_INVENTORY_URL", c.InventoryURL, ""},
		{"ORDERGATE_INVENTORY_TOKEN", c.InventoryToken, Secret("")},
		{"ORDERGATE_INVENTORY_FILE", c.InventoryFile, ""},
		{"ORDERGATE_CACHE_TTL", c.CacheTTL, 10 * time.Minute},
		{"ORDERGATE_CACHE_NEGATIVE_TTL", c.CacheNegativeTTL, 30 * time.Second},
		{"ORDERGATE_CACHE_STALE_FOR", c.CacheStaleFor, time.Duration(0)},
		{"ORDERGATE_CLIENTS_FILE", c.ClientsFile, ""},
		{"ORDERGATE_HTTP_ADDR", c.HTTPAddr, ":8080"},
		{"ORDERGATE_MAX_MESSAGE_BYTES", c.MaxMessageBytes, 524288},
		{"ORDERGATE_REDIS_KEY_PREFIX", c.RedisKeyPrefix, "ordergate:"},
		{"ORDERGATE_LOG_LEVEL", c.LogLevel, "info"},
		{"ORDERGATE_LOG_FORMAT", c.LogFormat, "json"},
		{"ORDERGATE_SHUTDOWN_TIMEOUT", c.ShutdownTimeout, 20 * time.Second},
		{"ORDERGATE_KAFKA_SASL_MECHANISM", c.KafkaSASLMechanism, ""},
		{"ORDERGATE_KAFKA_SASL_USERNAME", c.KafkaSASLUsername, ""},
		{"ORDERGATE_KAFKA_SASL_PASSWORD", c.KafkaSASLPassword, Secret("")},
		{"ORDERGATE_KAFKA_TLS_ENABLED", c.KafkaTLSEnabled, false},
		{"ORDERGATE_KAFKA_TLS_CA_FILE", c.KafkaTLSCAFile, ""},
		{"ORDERGATE_KAFKA_TLS_CERT_FILE", c.KafkaTLSCertFile, ""},
		{"ORDERGATE_KAFKA_TLS_KEY_FILE", c.KafkaTLSKeyFile, ""},
		{"ORDERGATE_KAFKA_COMPRESSION", c.KafkaCompression, "none"},
		{"ORDERGATE_REDIS_TIMEOUT", c.RedisTimeout, 500 * time.Millisecond},
		{"ORDERGATE_INVENTORY_TIMEOUT", c.InventoryTimeout, 2 * time.Second},
		{"ORDERGATE_INVENTORY_CONCURRENCY", c.InventoryConcurrency, 16},
		{"ORDERGATE_BATCH_MAX_RECORDS", c.BatchMaxRecords, 1000},
		{"ORDERGATE_BATCH_MAX_WAIT", c.BatchMaxWait, 2 * time.Millisecond},
		{"ORDERGATE_RETRY_MAX_BACKOFF", c.RetryMaxBackoff, 30 * time.Second},
		{"ORDERGATE_STUCK_AFTER", c.StuckAfter, 60 * time.Second},
		{"ORDERGATE_MEMORY_LIMIT", c.MemoryLimit, ByteSize(0)},
	}
	if len(tests) != len(variables) {
		t.Errorf("the table checks %d variables, Config has %d", len(tests), len(variables))
	}
	for i, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s = %#v, want %#v", tt.name, tt.got, tt.want)
		}
		if i < len(variables) && variables[i].name != tt.name {
			t.Errorf("variable %d is %s, want %s (contract order)", i, variables[i].name, tt.name)
		}
	}
}

// TestEveryFieldHasItsTags checks that every envconfig tag is a full name in
// upper case, the name envconfig.Process("", ...) reads: envconfig upper-cases
// the name it looks up, while Write and the warnings use the tag as written.
func TestEveryFieldHasItsTags(t *testing.T) {
	t.Parallel()
	typ := reflect.TypeFor[Config]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		name := f.Tag.Get("envconfig")
		if name == "" || f.Tag.Get("desc") == "" {
			t.Errorf("field %s needs an envconfig and a desc tag", f.Name)
		}
		if !strings.HasPrefix(name, prefix) || name != strings.ToUpper(name) || name == prefix {
			t.Errorf("field %s has the envconfig tag %q, want the full upper-case name %sNAME", f.Name, name, prefix)
		}
	}
}

func TestLoadNormalizesValues(t *testing.T) {
	c, _, err := loadWith(t, []string{
		"ORDERGATE_KAFKA_BROKERS= kafka-1:9092 , [::1]:9093 ",
		"ORDERGATE_LOG_LEVEL= DEBUG ",
		"ORDERGATE_INVENTORY_CONCURRENCY=+8",
		"ORDERGATE_LOG_FORMAT=Text",
		"ORDERGATE_KAFKA_SASL_MECHANISM=scram-sha-256",
		"ORDERGATE_KAFKA_SASL_USERNAME=app",
		"ORDERGATE_KAFKA_SASL_PASSWORD=secret",
		"ORDERGATE_INVENTORY_URL=https://inventory.example/api/",
		"ORDERGATE_CACHE_TTL=1h30m",
		"ORDERGATE_KAFKA_TLS_ENABLED=1",
		"ORDERGATE_REDIS_KEY_PREFIX=",
		"ORDERGATE_KAFKA_COMPRESSION= ZSTD ",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name      string
		got, want any
	}{
		{"brokers", c.KafkaBrokers, []string{"kafka-1:9092", "[::1]:9093"}},
		{"log level", c.LogLevel, "debug"},
		{"slog level", c.SlogLevel(), slog.LevelDebug},
		{"log format", c.LogFormat, "text"},
		{"SASL mechanism", c.KafkaSASLMechanism, "SCRAM-SHA-256"},
		{"inventory URL", c.InventoryURL, "https://inventory.example/api"},
		{"cache TTL", c.CacheTTL, 90 * time.Minute},
		{"TLS", c.KafkaTLSEnabled, true},
		{"concurrency with a sign", c.InventoryConcurrency, 8},
		{"empty prefix is a value, not the default", c.RedisKeyPrefix, ""},
		{"compression", c.KafkaCompression, "zstd"},
		{"compression codec", c.KafkaCompressionCodec(), kafka.Zstd},
	}
	for _, w := range want {
		if !reflect.DeepEqual(w.got, w.want) {
			t.Errorf("%s = %#v, want %#v", w.name, w.got, w.want)
		}
	}
}

// TestBadValues checks one case per kind of bad value: the error is an
// *Error naming the variable, its message one line that starts with the name.
func TestBadValues(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.json")
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	pki := newPKI(t)
	tests := []struct {
		rule   string
		env    []string
		name   string // the variable the error must name
		reason string // a part of the reason
	}{
		// Kinds of value.
		{"duration without unit", []string{"ORDERGATE_INVENTORY_TIMEOUT=10"}, "ORDERGATE_INVENTORY_TIMEOUT", "not a duration (e.g. 10m, 30s)"},
		{"empty duration is set, not the default", []string{"ORDERGATE_BATCH_MAX_WAIT="}, "ORDERGATE_BATCH_MAX_WAIT", "not a duration"},
		{"negative duration", []string{"ORDERGATE_REDIS_TIMEOUT=-1s"}, "ORDERGATE_REDIS_TIMEOUT", "must be greater than 0"},
		{"zero duration", []string{"ORDERGATE_SHUTDOWN_TIMEOUT=0s"}, "ORDERGATE_SHUTDOWN_TIMEOUT", "must be greater than 0"},
		{"zero negative TTL", []string{"ORDERGATE_CACHE_NEGATIVE_TTL=0"}, "ORDERGATE_CACHE_NEGATIVE_TTL", "must be greater than 0"},
		{"zero stuck bound", []string{"ORDERGATE_STUCK_AFTER=0ms"}, "ORDERGATE_STUCK_AFTER", "must be greater than 0"},
		{"zero backoff cap", []string{"ORDERGATE_RETRY_MAX_BACKOFF=0h"}, "ORDERGATE_RETRY_MAX_BACKOFF", "must be greater than 0"},
		{"not an integer", []string{"ORDERGATE_INVENTORY_CONCURRENCY=many"}, "ORDERGATE_INVENTORY_CONCURRENCY", "not an integer"},
		{"exponent is not an integer", []string{"ORDERGATE_MAX_MESSAGE_BYTES=1e6"}, "ORDERGATE_MAX_MESSAGE_BYTES", "not an integer"},
		{"integer out of range", []string{"ORDERGATE_BATCH_MAX_RECORDS=99999999999999999999"}, "ORDERGATE_BATCH_MAX_RECORDS", "out of range"},
		{"not a boolean", []string{"ORDERGATE_KAFKA_TLS_ENABLED=yes"}, "ORDERGATE_KAFKA_TLS_ENABLED", "not a boolean"},
		{"empty boolean is set, not the default", []string{"ORDERGATE_KAFKA_TLS_ENABLED="}, "ORDERGATE_KAFKA_TLS_ENABLED", "not a boolean"},
		{"empty integer is set, not the default", []string{"ORDERGATE_MAX_MESSAGE_BYTES="}, "ORDERGATE_MAX_MESSAGE_BYTES", "not an integer"},
		{"spaces around a duration", []string{"ORDERGATE_CACHE_TTL= 10m "}, "ORDERGATE_CACHE_TTL", `=" 10m ": not a duration (e.g. 10m, 30s): remove the spaces around the value`},
		{"spaces around an integer", []string{"ORDERGATE_BATCH_MAX_RECORDS=500 "}, "ORDERGATE_BATCH_MAX_RECORDS", "not an integer: remove the spaces"},
		{"spaces around a boolean", []string{"ORDERGATE_KAFKA_TLS_ENABLED= true"}, "ORDERGATE_KAFKA_TLS_ENABLED", "not a boolean (true or false): remove the spaces"},
		{"hexadecimal integer", []string{"ORDERGATE_MAX_MESSAGE_BYTES=0x100000"}, "ORDERGATE_MAX_MESSAGE_BYTES", `="0x100000": not a decimal integer`},
		{"octal-looking integer", []string{"ORDERGATE_BATCH_MAX_RECORDS=010"}, "ORDERGATE_BATCH_MAX_RECORDS", `="010": not a decimal integer`},
		{"leading zero envconfig cannot read", []string{"ORDERGATE_BATCH_MAX_RECORDS=08"}, "ORDERGATE_BATCH_MAX_RECORDS", `="08": not a decimal integer`},
		{"integer with underscores", []string{"ORDERGATE_INVENTORY_CONCURRENCY=1_000"}, "ORDERGATE_INVENTORY_CONCURRENCY", "not a decimal integer"},
		{"binary integer", []string{"ORDERGATE_INVENTORY_CONCURRENCY=0b11"}, "ORDERGATE_INVENTORY_CONCURRENCY", "not a decimal integer"},

		// Counts and sizes.
		{"zero concurrency", []string{"ORDERGATE_INVENTORY_CONCURRENCY=0"}, "ORDERGATE_INVENTORY_CONCURRENCY", "at least 1"},
		{"negative concurrency", []string{"ORDERGATE_INVENTORY_CONCURRENCY=-3"}, "ORDERGATE_INVENTORY_CONCURRENCY", "at least 1"},
		{"zero batch", []string{"ORDERGATE_BATCH_MAX_RECORDS=0"}, "ORDERGATE_BATCH_MAX_RECORDS", "between 1 and 100000"},
		{"batch too large", []string{"ORDERGATE_BATCH_MAX_RECORDS=100001"}, "ORDERGATE_BATCH_MAX_RECORDS", "between 1 and 100000"},
		{"zero message bytes", []string{"ORDERGATE_MAX_MESSAGE_BYTES=0"}, "ORDERGATE_MAX_MESSAGE_BYTES", "between 1 and 104857600"},
		{"message bytes over 100 MiB", []string{"ORDERGATE_MAX_MESSAGE_BYTES=104857601"}, "ORDERGATE_MAX_MESSAGE_BYTES", "between 1 and 104857600"},

		// Enumerations.
		{"unknown log level", []string{"ORDERGATE_LOG_LEVEL=verbose"}, "ORDERGATE_LOG_LEVEL", "debug, info, warn or error"},
		{"empty log level", []string{"ORDERGATE_LOG_LEVEL="}, "ORDERGATE_LOG_LEVEL", "debug, info, warn or error"},
		{"unknown log format", []string{"ORDERGATE_LOG_FORMAT=xml"}, "ORDERGATE_LOG_FORMAT", "json or text"},
		{"unknown SASL mechanism", []string{"ORDERGATE_KAFKA_SASL_MECHANISM=GSSAPI"}, "ORDERGATE_KAFKA_SASL_MECHANISM", "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"},
		{"unknown compression", []string{"ORDERGATE_KAFKA_COMPRESSION=brotli"}, "ORDERGATE_KAFKA_COMPRESSION", "none, gzip, snappy, lz4 or zstd"},
		{"empty compression", []string{"ORDERGATE_KAFKA_COMPRESSION="}, "ORDERGATE_KAFKA_COMPRESSION", "none, gzip, snappy, lz4 or zstd"},

		// Brokers.
		{"no broker", []string{"ORDERGATE_KAFKA_BROKERS= "}, "ORDERGATE_KAFKA_BROKERS", "no broker"},
		{"stray comma", []string{"ORDERGATE_KAFKA_BROKERS=kafka:9092,"}, "ORDERGATE_KAFKA_BROKERS", "empty entry"},
		{"broker without port", []string{"ORDERGATE_KAFKA_BROKERS=kafka-1:9092,kafka-2"}, "ORDERGATE_KAFKA_BROKERS", `broker "kafka-2" has no port`},
		{"broker with a named port", []string{"ORDERGATE_KAFKA_BROKERS=kafka:kafka"}, "ORDERGATE_KAFKA_BROKERS", "invalid port"},
		{"broker on port 0", []string{"ORDERGATE_KAFKA_BROKERS=kafka:0"}, "ORDERGATE_KAFKA_BROKERS", "invalid port"},
		{"broker without host", []string{"ORDERGATE_KAFKA_BROKERS=:9092"}, "ORDERGATE_KAFKA_BROKERS", "has no host"},

		// Group and topics.
		{"blank group", []string{"ORDERGATE_KAFKA_GROUP_ID= "}, "ORDERGATE_KAFKA_GROUP_ID", "must not be empty"},
		{"empty topic", []string{"ORDERGATE_TOPIC_REQUESTS="}, "ORDERGATE_TOPIC_REQUESTS", "must not be empty"},
		{"topic with a space", []string{"ORDERGATE_TOPIC_REJECTED=orders rejected"}, "ORDERGATE_TOPIC_REJECTED", "only letters, digits"},
		{"topic too long", []string{"ORDERGATE_TOPIC_DLQ=" + strings.Repeat("d", 250)}, "ORDERGATE_TOPIC_DLQ", "longer than 249"},
		{"topic ..", []string{"ORDERGATE_TOPIC_DLQ=.."}, "ORDERGATE_TOPIC_DLQ", "not topic names"},
		{"output topic is the input", []string{"ORDERGATE_TOPIC_ACCEPTED=orders.requests"}, "ORDERGATE_TOPIC_ACCEPTED", "same topic as ORDERGATE_TOPIC_REQUESTS"},
		{"DLQ is the input", []string{"ORDERGATE_TOPIC_DLQ=orders.requests"}, "ORDERGATE_TOPIC_DLQ", "same topic as ORDERGATE_TOPIC_REQUESTS"},
		{"two outputs alike", []string{"ORDERGATE_TOPIC_REJECTED=orders.accepted"}, "ORDERGATE_TOPIC_REJECTED", "same topic as ORDERGATE_TOPIC_ACCEPTED"},

		// Redis.
		{"Redis URL with another scheme", []string{"ORDERGATE_REDIS_URL=http://localhost:6379"}, "ORDERGATE_REDIS_URL", "invalid URL scheme: http"},
		{"Redis URL with a bad database", []string{"ORDERGATE_REDIS_URL=redis://localhost:6379/x"}, "ORDERGATE_REDIS_URL", `invalid database number: "x"`},
		{"Redis URL with a bad port", []string{"ORDERGATE_REDIS_URL=redis://localhost:port/0"}, "ORDERGATE_REDIS_URL", `not a Redis URL (redis://[user:password@]host:port/db or rediss://...): invalid port ":port" after host`},
		{"Redis URL with a bad port and a password", []string{"ORDERGATE_REDIS_URL=redis://:pw@localhost:port/0"}, "ORDERGATE_REDIS_URL", "not a Redis URL"},
		{"Redis URL with an unknown option", []string{"ORDERGATE_REDIS_URL=redis://localhost/0?color=red"}, "ORDERGATE_REDIS_URL", "unexpected option: color"},
		{"Redis URL with its own timeout", []string{"ORDERGATE_REDIS_URL=redis://localhost/0?read_timeout=1s"}, "ORDERGATE_REDIS_URL", "use ORDERGATE_REDIS_TIMEOUT"},

		// Inventory.
		{"relative inventory URL", []string{"ORDERGATE_INVENTORY_URL=inventory.local/api"}, "ORDERGATE_INVENTORY_URL", "not an absolute URL"},
		{"inventory URL without host", []string{"ORDERGATE_INVENTORY_URL=https:///api"}, "ORDERGATE_INVENTORY_URL", "not an absolute URL"},
		{"inventory URL over ftp", []string{"ORDERGATE_INVENTORY_URL=ftp://inventory.local"}, "ORDERGATE_INVENTORY_URL", "http or https"},
		{"inventory URL with credentials", []string{"ORDERGATE_INVENTORY_URL=https://app:pw@inventory.local"}, "ORDERGATE_INVENTORY_URL", "use ORDERGATE_INVENTORY_TOKEN"},
		{"inventory URL with a query", []string{"ORDERGATE_INVENTORY_URL=https://inventory.local/api?v=2"}, "ORDERGATE_INVENTORY_URL", "query or a fragment"},
		{"inventory token with a space", []string{"ORDERGATE_INVENTORY_TOKEN=two words"}, "ORDERGATE_INVENTORY_TOKEN", "space or a control character"},
		{"inventory URL and file", []string{"ORDERGATE_INVENTORY_URL=https://inventory.local", "ORDERGATE_INVENTORY_FILE=" + notPEM}, "ORDERGATE_INVENTORY_FILE", "set only one"},
		{"inventory file missing", []string{"ORDERGATE_INVENTORY_FILE=" + missing}, "ORDERGATE_INVENTORY_FILE", "cannot read the file: no such file"},

		// Other files and addresses.
		{"clients file missing", []string{"ORDERGATE_CLIENTS_FILE=" + missing}, "ORDERGATE_CLIENTS_FILE", "cannot read the file"},
		{"clients file is a directory", []string{"ORDERGATE_CLIENTS_FILE=" + dir}, "ORDERGATE_CLIENTS_FILE", "is a directory"},
		{"HTTP address without port", []string{"ORDERGATE_HTTP_ADDR=8080"}, "ORDERGATE_HTTP_ADDR", "host:port"},
		{"HTTP address with a named port", []string{"ORDERGATE_HTTP_ADDR=:http"}, "ORDERGATE_HTTP_ADDR", "invalid port"},
		{"HTTP port out of range", []string{"ORDERGATE_HTTP_ADDR=:70000"}, "ORDERGATE_HTTP_ADDR", "invalid port"},

		// SASL.
		{"mechanism without user name", []string{"ORDERGATE_KAFKA_SASL_MECHANISM=PLAIN", "ORDERGATE_KAFKA_SASL_PASSWORD=pw"}, "ORDERGATE_KAFKA_SASL_USERNAME", "required when ORDERGATE_KAFKA_SASL_MECHANISM is set"},
		{"mechanism without password", []string{"ORDERGATE_KAFKA_SASL_MECHANISM=SCRAM-SHA-512", "ORDERGATE_KAFKA_SASL_USERNAME=app"}, "ORDERGATE_KAFKA_SASL_PASSWORD", "required when ORDERGATE_KAFKA_SASL_MECHANISM is set"},
		{"user name without mechanism", []string{"ORDERGATE_KAFKA_SASL_USERNAME=app"}, "ORDERGATE_KAFKA_SASL_USERNAME", "set without ORDERGATE_KAFKA_SASL_MECHANISM"},
		{"password without mechanism", []string{"ORDERGATE_KAFKA_SASL_PASSWORD=pw"}, "ORDERGATE_KAFKA_SASL_PASSWORD", "set without ORDERGATE_KAFKA_SASL_MECHANISM"},
		{"SCRAM user name refused by SASLprep", []string{"ORDERGATE_KAFKA_SASL_MECHANISM=SCRAM-SHA-256", "ORDERGATE_KAFKA_SASL_USERNAME=a\x07b", "ORDERGATE_KAFKA_SASL_PASSWORD=pw"}, "ORDERGATE_KAFKA_SASL_USERNAME", "SASLprep"},

		// TLS.
		{"TLS file while TLS is off", []string{"ORDERGATE_KAFKA_TLS_CA_FILE=" + pki.caFile}, "ORDERGATE_KAFKA_TLS_ENABLED", "must be true when ORDERGATE_KAFKA_TLS_CA_FILE is set"},
		{"certificate without key", []string{"ORDERGATE_KAFKA_TLS_ENABLED=true", "ORDERGATE_KAFKA_TLS_CERT_FILE=" + pki.certFile}, "ORDERGATE_KAFKA_TLS_KEY_FILE", "required when ORDERGATE_KAFKA_TLS_CERT_FILE is set"},
		{"key without certificate", []string{"ORDERGATE_KAFKA_TLS_ENABLED=true", "ORDERGATE_KAFKA_TLS_KEY_FILE=" + pki.keyFile}, "ORDERGATE_KAFKA_TLS_CERT_FILE", "required when ORDERGATE_KAFKA_TLS_KEY_FILE is set"},
		{"CA file missing", []string{"ORDERGATE_KAFKA_TLS_ENABLED=true", "ORDERGATE_KAFKA_TLS_CA_FILE=" + missing}, "ORDERGATE_KAFKA_TLS_CA_FILE", "cannot read the file"},
		{"CA file without PEM", []string{"ORDERGATE_KAFKA_TLS_ENABLED=true", "ORDERGATE_KAFKA_TLS_CA_FILE=" + notPEM}, "ORDERGATE_KAFKA_TLS_CA_FILE", "no PEM certificate"},
		{"certificate file missing", []string{"ORDERGATE_KAFKA_TLS_ENABLED=true", "ORDERGATE_KAFKA_TLS_CERT_FILE=" + missing, "ORDERGATE_KAFKA_TLS_KEY_FILE=" + pki.keyFile}, "ORDERGATE_KAFKA_TLS_CERT_FILE", "cannot read the file"},
		{"key file missing", []string{"ORDERGATE_KAFKA_TLS_ENABLED=true", "ORDERGATE_KAFKA_TLS_CERT_FILE=" + pki.certFile, "ORDERGATE_KAFKA_TLS_KEY_FILE=" + missing}, "ORDERGATE_KAFKA_TLS_KEY_FILE", "cannot read the file"},
		{"key of another certificate", []string{"ORDERGATE_KAFKA_TLS_ENABLED=true", "ORDERGATE_KAFKA_TLS_CERT_FILE=" + pki.certFile, "ORDERGATE_KAFKA_TLS_KEY_FILE=" + pki.otherKeyFile}, "ORDERGATE_KAFKA_TLS_CERT_FILE", "private key does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			_, _, err := loadWith(t, tt.env)
			checkError(t, err, tt.name, tt.reason)
		})
	}
}

func TestBadValueMessageIsTheDocumentedLine(t *testing.T) {
	_, _, err := loadWith(t, []string{"ORDERGATE_CACHE_TTL=10 minutes"})
	const want = `ORDERGATE_CACHE_TTL="10 minutes": not a duration (e.g. 10m, 30s)`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

// TestEveryBadVariableIsReported (issue 21, item 6): with several bad
// values, every one is reported, one line each in the contract's order, and
// not only the first; a value that cannot be parsed is reported once, not
// again by a check that sees its zero value.
func TestEveryBadVariableIsReported(t *testing.T) {
	_, _, err := loadWith(t, []string{
		"ORDERGATE_BATCH_MAX_RECORDS=0", "ORDERGATE_LOG_LEVEL=loud", "ORDERGATE_TOPIC_DLQ=orders.requests",
		"ORDERGATE_CACHE_TTL=soon", "ORDERGATE_KAFKA_TLS_ENABLED=yes", "ORDERGATE_KAFKA_TLS_CA_FILE=/nonexistent/ca.pem",
		"ORDERGATE_INVENTORY_CONCURRENCY=many", "ORDERGATE_KAFKA_SASL_MECHANISM=PLAIN",
	})
	want := []string{
		`ORDERGATE_TOPIC_DLQ="orders.requests": same topic as ORDERGATE_TOPIC_REQUESTS; the four topics must differ`,
		`ORDERGATE_CACHE_TTL="soon": not a duration (e.g. 10m, 30s)`,
		`ORDERGATE_LOG_LEVEL="loud": must be debug, info, warn or error`,
		`ORDERGATE_KAFKA_SASL_USERNAME="": required when ORDERGATE_KAFKA_SASL_MECHANISM is set`,
		`ORDERGATE_KAFKA_SASL_PASSWORD="": required when ORDERGATE_KAFKA_SASL_MECHANISM is set`,
		`ORDERGATE_KAFKA_TLS_ENABLED="yes": not a boolean (true or false)`,
		`ORDERGATE_INVENTORY_CONCURRENCY="many": not an integer`,
		`ORDERGATE_BATCH_MAX_RECORDS="0": must be between 1 and 100000`,
	}
	var list Errors
	if !errors.As(err, &list) {
		t.Fatalf("error = %v (%T), want config.Errors", err, err)
	}
	if got := strings.Split(err.Error(), "\n"); !reflect.DeepEqual(got, want) {
		t.Errorf("Load reported\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var first *Error
	if !errors.As(err, &first) || first.Name != "ORDERGATE_TOPIC_DLQ" {
		t.Errorf("errors.As finds %v, want the first problem", first)
	}
	if !list.Has("ORDERGATE_CACHE_TTL") || list.Has("ORDERGATE_REDIS_URL") {
		t.Errorf("Has does not tell the variables named")
	}
}

// TestLoadPartialKeepsTheGoodValues: diagnostics get the values that could be
// read along with the problems of the others.
func TestLoadPartialKeepsTheGoodValues(t *testing.T) {
	clearEnv(t)
	t.Setenv("ORDERGATE_CACHE_TTL", "soon")
	t.Setenv("ORDERGATE_KAFKA_BROKERS", "kafka:9092")
	c, _, errs := LoadPartial()
	if len(errs) != 1 || errs[0].Name != "ORDERGATE_CACHE_TTL" {
		t.Fatalf("errs = %v", errs)
	}
	if !reflect.DeepEqual(c.KafkaBrokers, []string{"kafka:9092"}) || c.CacheTTL != 0 || c.CacheNegativeTTL != 30*time.Second {
		t.Errorf("LoadPartial = %+v", c)
	}
}

// TestFilesReadableByOthersAreWarnedAbout (issue 23, item 6): a clients file
// (or a TLS private key) readable by group or others loaded without a word.
func TestFilesReadableByOthersAreWarnedAbout(t *testing.T) {
	dir := t.TempDir()
	clients := filepath.Join(dir, "clients.json")
	if err := os.WriteFile(clients, []byte("[]"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		mode os.FileMode
		warn bool
	}{{0o600, false}, {0o400, false}, {0o640, true}, {0o644, true}, {0o604, true}} {
		if err := os.Chmod(clients, tt.mode); err != nil {
			t.Fatal(err)
		}
		_, warnings, err := loadWith(t, []string{"ORDERGATE_CLIENTS_FILE=" + clients})
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Join(warnings, "\n")
		if warned := strings.Contains(got, "ORDERGATE_CLIENTS_FILE="+clients+" is readable by its group or by others"); warned != tt.warn {
			t.Errorf("mode %#o: warnings %q, want a warning: %v", tt.mode, got, tt.warn)
		}
		if tt.warn && !strings.Contains(got, fmt.Sprintf("mode %#o", tt.mode)) || tt.warn && !strings.Contains(got, "chmod 600") {
			t.Errorf("mode %#o: the warning %q does not give the mode and the fix", tt.mode, got)
		}
	}
}

func TestNegativeTTLMayExceedPositiveTTL(t *testing.T) {
	c, _, err := loadWith(t, []string{"ORDERGATE_CACHE_TTL=1s", "ORDERGATE_CACHE_NEGATIVE_TTL=1h"})
	if err != nil {
		t.Fatal(err)
	}
	if c.CacheNegativeTTL <= c.CacheTTL {
		t.Errorf("CacheNegativeTTL = %v, CacheTTL = %v", c.CacheNegativeTTL, c.CacheTTL)
	}
}

func TestRequireInventory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "inventory.json")
	if err := os.WriteFile(file, []byte("[]"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		source string
		env    []string
		ok     bool
	}{
		{"none", nil, false},
		{"URL", []string{"ORDERGATE_INVENTORY_URL=http://inventory:8081"}, true},
		{"file", []string{"ORDERGATE_INVENTORY_FILE=" + file}, true},
	}
	for _, tt := range tests {
		c, _, err := loadWith(t, tt.env)
		if err != nil {
			t.Fatalf("%s: Load: %v", tt.source, err)
		}
		if tt.source == "file" && c.InventoryFile != file {
			t.Errorf("InventoryFile = %q, want %q", c.InventoryFile, file)
		}
		err = c.RequireInventory()
		if tt.ok {
			if err != nil {
				t.Errorf("%s: RequireInventory() = %v, want nil", tt.source, err)
			}
			continue
		}
		checkError(t, err, "ORDERGATE_INVENTORY_URL", "ORDERGATE_INVENTORY_FILE")
	}
}

// loadWith calls Load with exactly the ORDERGATE_ variables of env,
// "NAME=value" entries: it unsets every variable whose name starts with
// ORDERGATE_ (in any case) for the rest of the test, then sets env. It uses
// t.Setenv, so neither its caller nor an ancestor may be t.Parallel.
func loadWith(t *testing.T, env []string) (Config, []string, error) {
	t.Helper()
	clearEnv(t)
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		t.Setenv(name, value)
	}
	return Load()
}

// clearEnv unsets every variable whose name starts with ORDERGATE_ (in any
// case) for the rest of the test.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(strings.ToUpper(name), prefix) {
			unsetenv(t, name)
		}
	}
}

// unsetenv unsets name for the rest of the test.
func unsetenv(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "") // restores the former value at the end of the test
	if err := os.Unsetenv(name); err != nil {
		t.Fatal(err)
	}
}

// checkError fails unless err is an *Error naming name whose one-line
// message starts with name and holds reason.
func checkError(t *testing.T, err error, name, reason string) {
	t.Helper()
	var cfgErr *Error
	if !errors.As(err, &cfgErr) {
		t.Fatalf("error = %v (%T), want a *config.Error naming %s", err, err, name)
	}
	msg := err.Error()
	if cfgErr.Name != name || !strings.HasPrefix(msg, name+"=") {
		t.Errorf("error %q names %s, want %s", msg, cfgErr.Name, name)
	}
	if !strings.Contains(msg, reason) {
		t.Errorf("error %q does not say %q", msg, reason)
	}
	if strings.ContainsAny(msg, "\r\n") {
		t.Errorf("error %q is not one line", msg)
	}
	if strings.Contains(msg, "envconfig") {
		t.Errorf("error %q is envconfig's, not rewritten", msg)
	}
}
