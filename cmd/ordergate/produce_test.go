package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ordergate/ordergate/internal/app/testkit"
)

// TestProduce publishes a request file with headers, a key and a record time to a kfake
// broker, and reads it back.
func TestProduce(t *testing.T) {
	c := testkit.NewCluster(t, 3, nil)
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	file := filepath.Join(t.TempDir(), "request.json")
	body := []byte(`{"contact":[]}`)
	if err := os.WriteFile(file, body, 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, now: time.Now, ctx: context.Background()}
	code := run([]string{"produce", "--brokers", strings.Join(c.Brokers, ","), "-H", "type=PATCH-billingAccountById",
		"-H", "businessId=PA", "--key", "CUST-42", "--at", "2026-12-04T10:00:00Z", file}, e)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "orders.requests partition ") || !strings.Contains(stdout.String(), " offset 0") {
		t.Fatalf("output %q does not give the partition and offset", stdout.String())
	}
	var part int
	for p := range 3 {
		if strings.Contains(stdout.String(), "partition "+string(rune('0'+p))+" ") {
			part = p
		}
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: c.Brokers, Topic: "orders.requests", Partition: part, MaxWait: 50 * time.Millisecond})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := r.ReadMessage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Key) != "CUST-42" || !bytes.Equal(m.Value, body) || !m.Time.Equal(time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("read back key %q value %q time %v", m.Key, m.Value, m.Time)
	}
	if len(m.Headers) != 2 || m.Headers[0].Key != "type" || string(m.Headers[1].Value) != "PA" {
		t.Fatalf("headers %+v", m.Headers)
	}
	// A bad flag is one clear line and exit 2.
	stderr.Reset()
	if code := run([]string{"produce", "--at", "yesterday", file}, e); code != 2 || strings.Count(stderr.String(), "\n") != 1 {
		t.Fatalf("bad --at: exit %d, %q", code, stderr.String())
	}
}
