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
ORDERGATE_KAFKA_COMPRESSION=none
ORDERGATE_REDIS_TIMEOUT=500ms
ORDERGATE_INVENTORY_TIMEOUT=2s
ORDERGATE_INVENTORY_CONCURRENCY=16
ORDERGATE_BATCH_MAX_RECORDS=1000
ORDERGATE_BATCH_MAX_WAIT=2ms
ORDERGATE_RETRY_MAX_BACKOFF=30s
ORDERGATE_STUCK_AFTER=60s
ORDERGATE_MEMORY_LIMIT=
`
	if out.String() != want {
		t.Errorf("Write() =\n%s\nwant\n%s", out.String(), want)
	}
}

// TestDefaultsPrintAsTheReferenceSays (issue 21, item 10): `ordergate
// config` printed ORDERGATE_STUCK_AFTER=1m where the reference says 60s;
// every default prints as its reference writes it.
func TestDefaultsPrintAsTheReferenceSays(t *testing.T) {
	c, _, err := loadWith(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	settings := c.Settings()
	for i, r := range References() {
		if settings[i].Name != r.Name || settings[i].Value != r.Default {
			t.Errorf("%s prints %q, the reference says %q", r.Name, settings[i].Value, r.Default)
		}
	}
}

// TestRunConfigurationLineMasksLikeConfig (issue 21, item 11): the
// configuration line of `ordergate run` hid the whole Redis URL (***); it
// masks the password only, as `ordergate config` does, in JSON and text.
func TestRunConfigurationLineMasksLikeConfig(t *testing.T) {
	c, _, err := loadWith(t, []string{"ORDERGATE_REDIS_URL=redis://app:" + canary + "@cache:6379/2", "ORDERGATE_INVENTORY_TOKEN=" + canary})
	if err != nil {
		t.Fatal(err)
	}
	var js, text bytes.Buffer
	slog.New(slog.NewJSONHandler(&js, nil)).Info("configuration", "config", c)
	slog.New(slog.NewTextHandler(&text, nil)).Info("configuration", "config", c)
	if !strings.Contains(js.String(), `"ORDERGATE_REDIS_URL":"redis://app:***@cache:6379/2"`) ||
		!strings.Contains(js.String(), `"ORDERGATE_INVENTORY_TOKEN":"***"`) {
		t.Errorf("JSON line: %s", js.String())
	}
	if !strings.Contains(text.String(), "config.ORDERGATE_REDIS_URL=redis://app:***@cache:6379/2") {
		t.Errorf("text line: %s", text.String())
	}
	if strings.Contains(js.String()+text.String(), canary) {
		t.Errorf("a secret is shown")
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

func TestMaskURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ raw, want string }{
		{"redis://localhost:6379/0", "redis://localhost:6379/0"},
		{"redis://user:pw@host:6379/0", "redis://user:***@host:6379/0"},
		{"redis://:pw@host", "redis://:***@host"},
		{"redis://user@host", "redis://***@host"}, // may be a password without its colon
		{"redis://user:@host", "redis://user:@host"},
		{"redis://u:p@ss:w/rd@host/0", "redis://u:***@host/0"},
		{"user:pw@host:6379", "user:***@host:6379"},
		{"redis://u:p%zz@host", "redis://u:***@host"},
		{"redis://u:pw@host/0?client_name=pw", "redis://u:***@host/0?client_name=***"},
		// Issue 23, item 5: a password holding a '/', a '?' or a '#' is hidden whole,
		// although a URL parser ends the authority inside it.
		{"redis://u:6379/SECRETTAIL2@cache:6379/0", "redis://u:***@cache:6379/0"},
		{"redis://u:se?cret@cache:6379/0", "redis://u:***@cache:6379/0"},
		{"redis://u:se#cret@cache:6379/0", "redis://u:***@cache:6379/0"},
		// Query values are shown only for known options; a fragment never.
		{"https://inventory.example/api?token=abc123", "https://inventory.example/api?token=***"},
		{"https://inventory.example/api?v=2&access_token=abc123#frag", "https://inventory.example/api?v=***&access_token=***#***"},
		{"rediss://cache:6380/0?client_name=worker&pool_size=20&sentinel_password=abc", "rediss://cache:6380/0?client_name=worker&pool_size=20&sentinel_password=***"},
		{"not a url at all", "not a url at all"},
	}
	for _, tt := range tests {
		if got := MaskURL(tt.raw); got != tt.want {
			t.Errorf("MaskURL(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}

// TestURLErrorsShowNoSecret (issue 23, item 5): an error about a URL shows
// neither its password, nor a piece of it that a parser took for a host, a
// path or a database number, nor a query token.
func TestURLErrorsShowNoSecret(t *testing.T) {
	tests := []struct {
		env    string
		secret string
	}{
		{"ORDERGATE_REDIS_URL=redis://u:6379/SECRETTAIL2@cache:6379/0", "SECRETTAIL2"},
		{"ORDERGATE_REDIS_URL=redis://u:se?SECRETTAIL3@cache:6379/0", "SECRETTAIL3"},
		{"ORDERGATE_REDIS_URL=redis://u:pass/SECRET%54AIL4@cache:6379/0", "SECRETTAIL4"},
		{"ORDERGATE_INVENTORY_URL=https://inventory.example/api?token=SECRETTOKEN5", "SECRETTOKEN5"},
		{"ORDERGATE_INVENTORY_URL=https://inventory.example/api#SECRETFRAG6", "SECRETFRAG6"},
	}
	for _, tt := range tests {
		_, _, err := loadWith(t, []string{tt.env})
		if err == nil {
			t.Errorf("%s: no error", tt.env)
			continue
		}
		if strings.Contains(err.Error(), tt.secret) {
			t.Errorf("%s: the error shows the secret: %s", tt.env, err)
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

// TestScrub (issue 23, item 5): the text of any error a command prints is scrubbed of
// every secret of the configuration.
func TestScrub(t *testing.T) {
	c, _, err := loadWith(t, []string{
		"ORDERGATE_REDIS_URL=redis://app:" + canary + "1@cache:6379/0",
		"ORDERGATE_INVENTORY_TOKEN=" + canary + "2",
		"ORDERGATE_KAFKA_SASL_MECHANISM=PLAIN", "ORDERGATE_KAFKA_SASL_USERNAME=app", "ORDERGATE_KAFKA_SASL_PASSWORD=" + canary + "3",
	})
	if err != nil {
		t.Fatal(err)
	}
	text := "dial redis://app:" + canary + "1@cache: refused; token " + canary + "2; sasl " + canary + "3"
	got := c.Scrub(text)
	if strings.Contains(got, canary) {
		t.Errorf("Scrub(%q) = %q", text, got)
	}
	if want := "dial redis://app:***@cache: refused; token ***; sasl ***"; got != want {
		t.Errorf("Scrub = %q, want %q", got, want)
	}
}
