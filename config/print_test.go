package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestWriteDefaults(t *testing.T) {
	c, _, err := loadWith(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := c.Write(&out); err != nil {
		t.Fatal(err)
	}
	const want = `ORDERGATE_KAFKA_BROKERS=localhost:9092
ORDERGATE_KAFKA_GROUP_ID=ordergate
ORDERGATE_TOPIC_REQUESTS=orders.requests
ORDERGATE_TOPIC_ACCEPTED=orders.accepted
ORDERGATE_TOPIC_REJECTED=orders.rejected
ORDERGATE_TOPIC_DLQ=orders.dlq
ORDERGATE_REDIS_URL=redis://localhost:6379/0
ORDERGATE_REDIS_MODE=single
ORDERGATE_REDIS_ADDRS=
ORDERGATE_REDIS_MASTER_NAME=
ORDERGATE_REDIS_SENTINEL_USERNAME=
ORDERGATE_REDIS_SENTINEL_PASSWORD=
ORDERGATE_REDIS_READ_FROM_REPLICA=false
ORDERGATE_REDIS_TLS_INSECURE_SKIP_VERIFY=false
ORDERGATE_INVENTORY_URL=
ORDERGATE_INVENTORY_TOKEN=
ORDERGATE_INVENTORY_FILE=
ORDERGATE_CACHE_TTL=10m
ORDERGATE_CACHE_NEGATIVE_TTL=30s
ORDERGATE_CACHE_STALE_FOR=0s
ORDERGATE_CLIENTS_FILE=
ORDERGATE_HTTP_ADDR=:8080
ORDERGATE_MAX_MESSAGE_BYTES=524288
ORDERGATE_REDIS_KEY_PREFIX=ordergate:
ORDERGATE_LOG_LEVEL=info
ORDERGATE_LOG_FORMAT=json
ORDERGATE_SHUTDOWN_TIMEOUT=20s
ORDERGATE_KAFKA_SASL_MECHANISM=
ORDERGATE_KAFKA_SASL_USERNAME=
ORDERGATE_KAFKA_SASL_PASSWORD=
ORDERGATE_KAFKA_TLS_ENABLED=false
ORDERGATE_KAFKA_TLS_CA_FILE=
ORDERGATE_KAFKA_TLS_CERT_FILE=
ORDERGATE_KAFKA_TLS_KEY_FILE=
ORDERGATE_REDIS_TIMEOUT=500ms
ORDERGATE_INVENTORY_TIMEOUT=2s
ORDERGATE_INVENTORY_CONCURRENCY=16
ORDERGATE_BATCH_MAX_RECORDS=1000
ORDERGATE_BATCH_MAX_WAIT=2ms
ORDERGATE_RETRY_MAX_BACKOFF=30s
ORDERGATE_STUCK_AFTER=1m
ORDERGATE_MEMORY_LIMIT=
`
	if out.String() != want {
		t.Errorf("Write() =\n%s\nwant\n%s", out.String(), want)
	}
}

// TestWriteRoundTrips checks that the printed configuration, read back,
// gives the same Config.
func TestWriteRoundTrips(t *testing.T) {
	c, _, err := loadWith(t, []string{
		"ORDERGATE_KAFKA_BROKERS=a:1,b:2",
		"ORDERGATE_CACHE_TTL=1h0m0s",
		"ORDERGATE_BATCH_MAX_WAIT=1500us",
		"ORDERGATE_REDIS_KEY_PREFIX=",
		"ORDERGATE_INVENTORY_URL=https://inventory.example",
	})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := c.Write(&out); err != nil {
		t.Fatal(err)
	}
	again, _, err := loadWith(t, strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n"))
	if err != nil {
		t.Fatalf("reading back %q: %v", out.String(), err)
	}
	if !reflect.DeepEqual(again, c) {
		t.Errorf("read back %#v, want %#v", again, c)
	}
}

func TestWriteReference(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	if err := WriteReference(&out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 1+len(variables) {
		t.Fatalf("WriteReference wrote %d lines, want a header and %d variables", len(lines), len(variables))
	}
	if fields := strings.Fields(lines[0]); len(fields) != 3 || fields[0] != "VARIABLE" {
		t.Errorf("header = %q", lines[0])
	}
	for i, v := range variables {
		fields := strings.Fields(lines[i+1])
		def := v.def
		if def == "" {
			def = "(unset)"
		}
		if len(fields) < 3 || fields[0] != v.name || fields[1] != def || !strings.Contains(lines[i+1], v.desc) {
			t.Errorf("line %d = %q, want %s, %s and %q", i+1, lines[i+1], v.name, def, v.desc)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	t.Parallel()
	tests := map[time.Duration]string{
		2 * time.Millisecond:             "2ms",
		30 * time.Second:                 "30s",
		10 * time.Minute:                 "10m",
		90 * time.Second:                 "1m30s",
		time.Hour:                        "1h",
		time.Hour + 30*time.Minute:       "1h30m",
		time.Hour + time.Second:          "1h0m1s",
		1500 * time.Microsecond:          "1.5ms",
		time.Hour + 30*time.Millisecond:  "1h0m0.03s",
		10*time.Minute + time.Nanosecond: "10m0.000000001s",
	}
	for d, want := range tests {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestMaskPassword(t *testing.T) {
	t.Parallel()
	tests := []struct{ raw, want string }{
		{"redis://localhost:6379/0", "redis://localhost:6379/0"},
		{"redis://user:pw@host:6379/0", "redis://user:***@host:6379/0"},
		{"redis://:pw@host", "redis://:***@host"},
		{"redis://user@host", "redis://user@host"},
		{"redis://user:@host", "redis://user:@host"},
		{"redis://u:p@ss:w/rd@host/0", "redis://u:***@host/0"},
		{"user:pw@host:6379", "user:***@host:6379"},
		{"redis://u:p%zz@host", "redis://u:***@host"},
		{"redis://u:pw@host/0?client_name=pw", "redis://u:***@host/0?client_name=***"},
	}
	for _, tt := range tests {
		if got := maskPassword(tt.raw); got != tt.want {
			t.Errorf("maskPassword(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}

// canary is a secret that must never be shown.
const canary = "canarypw"

// TestSecretsNeverShown puts a canary in every secret and checks that no
// output shows it: Write, WriteReference, fmt, slog, JSON, warnings and
// every error about a secret's own variable.
func TestSecretsNeverShown(t *testing.T) {
	secrets := []string{
		"ORDERGATE_KAFKA_SASL_MECHANISM=SCRAM-SHA-512",
		"ORDERGATE_KAFKA_SASL_USERNAME=app",
		"ORDERGATE_KAFKA_SASL_PASSWORD=" + canary,
		"ORDERGATE_INVENTORY_URL=https://inventory.example",
		"ORDERGATE_INVENTORY_TOKEN=" + canary,
		"ORDERGATE_REDIS_URL=redis://user:" + canary + "@host:6379/0",
	}
	c, warnings, err := loadWith(t, append(secrets, "ORDERGATE_SECRET_TYPO="+canary))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := c.Write(&out); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"ORDERGATE_REDIS_URL=redis://user:***@host:6379/0\n",
		"ORDERGATE_INVENTORY_TOKEN=***\n",
		"ORDERGATE_KAFKA_SASL_PASSWORD=***\n",
	} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("Write() lacks %q", line)
		}
	}
	if err := WriteReference(&out); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&out, "%v %+v %#v", c, c, c)
	fmt.Fprintf(&out, "%s %q %x %d", c.InventoryToken, c.InventoryToken, c.KafkaSASLPassword, c.RedisURL)
	slog.New(slog.NewJSONHandler(&out, nil)).Info("config", "config", c, "token", c.InventoryToken)
	slog.New(slog.NewTextHandler(&out, nil)).Info("config", "config", c, "password", c.KafkaSASLPassword)
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	out.Write(js)
	out.WriteString(strings.Join(warnings, "\n"))
	if strings.Contains(out.String(), canary) {
		t.Errorf("a secret is shown:\n%s", out.String())
	}

	bad := [][]string{
		{"ORDERGATE_KAFKA_SASL_PASSWORD=" + canary},
		{"ORDERGATE_KAFKA_SASL_MECHANISM=SCRAM-SHA-256", "ORDERGATE_KAFKA_SASL_USERNAME=app", "ORDERGATE_KAFKA_SASL_PASSWORD=" + canary + "\x07"},
		{"ORDERGATE_INVENTORY_TOKEN=" + canary + " x"},
		{"ORDERGATE_INVENTORY_URL=https://app:" + canary + "@inventory.example"},
		{"ORDERGATE_INVENTORY_URL=https://app:" + canary + "@inventory.example:port"},
		{"ORDERGATE_REDIS_URL=redis://user:" + canary + "@host:notaport/0"},
		{"ORDERGATE_REDIS_URL=redis://user:" + canary + "%zz@host/0"},
		{"ORDERGATE_REDIS_URL=redis://user:" + canary + "@host/0/1"},
		{"ORDERGATE_REDIS_URL=redis://user:" + canary + "@host/" + canary},
		{"ORDERGATE_REDIS_URL=http://user:" + canary + "@host/0"},
		{"ORDERGATE_REDIS_URL=user:" + canary + "@host:6379"},
		{"ORDERGATE_REDIS_URL=redis://user:" + canary + "@host/0?password=" + canary},
		{"ORDERGATE_REDIS_URL=rediss://user:" + canary + "@host/0?read_timeout=1s"},
		{"ORDERGATE_REDIS_URL=redis://user:" + canary + "\n@host/0"},
	}
	for _, env := range bad {
		_, warnings, err := loadWith(t, env)
		if err == nil {
			t.Errorf("%q: no error", env)
			continue
		}
		if msg := err.Error() + strings.Join(warnings, ""); strings.Contains(msg, canary) || strings.Contains(msg, "zz") {
			t.Errorf("%q: the error shows the secret: %s", env, msg)
		}
	}
}

func TestSecretPrintsMasked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		secret Secret
		want   string
	}{
		{"", ""},
		{"s3cret", "***"},
	}
	for _, tt := range tests {
		for _, got := range []string{tt.secret.String(), fmt.Sprintf("%v", tt.secret), fmt.Sprintf("%q", tt.secret), tt.secret.LogValue().String()} {
			if got != tt.want {
				t.Errorf("Secret(%q) prints %q, want %q", string(tt.secret), got, tt.want)
			}
		}
	}
}
