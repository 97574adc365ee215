package worker_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/app/testkit"
	"github.com/ordergate/ordergate/internal/app/worker"
	"github.com/ordergate/ordergate/processor/servicepoint"
)

// deadAddr returns a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// get returns the status and body of an endpoint, or 0 when it does not answer.
func get(url string) (int, string) {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestEndpointsAnswerDuringStartupWait (issue 21, item 4): /healthz did not answer during
// the start-up wait (up to 30 s) for Kafka and Redis; it does now, and /readyz says what
// the worker waits for. A start that gives up closes the endpoints.
func TestEndpointsAnswerDuringStartupWait(t *testing.T) {
	worker.RouteLibraryLogs(slog.New(slog.DiscardHandler))
	c := testkit.NewCluster(t, 1, nil)
	inv, err := servicepoint.NewFileInventory(nil)
	if err != nil {
		t.Fatal(err)
	}
	deadKafka, deadRedis := deadAddr(t), deadAddr(t)
	for _, tc := range []struct {
		name    string
		brokers []string
		redis   string
		want    string
	}{
		{"kafka down", []string{deadKafka}, deadRedis, "not ready: starting: waiting for Kafka at " + deadKafka + " (ORDERGATE_KAFKA_BROKERS): "},
		{"redis down", c.Brokers, deadRedis, "not ready: starting: waiting for Redis (ORDERGATE_REDIS_URL): "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testkit.Config(t, c, tc.redis, "startup:")
			cfg.KafkaBrokers = tc.brokers
			cfg.HTTPAddr = deadAddr(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() {
				w, err := worker.New(ctx, cfg, worker.Options{Logger: slog.New(slog.DiscardHandler), Inventory: inv, StartupTimeout: time.Minute})
				if w != nil {
					w.Close()
				}
				done <- err
			}()
			base := "http://" + cfg.HTTPAddr
			var status int
			var body string
			for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
				if status, body = get(base + "/readyz"); strings.Contains(body, "waiting for") && strings.Contains(body, ":") && len(body) > len(tc.want) {
					break
				}
			}
			if status != http.StatusServiceUnavailable || !strings.HasPrefix(body, tc.want) {
				t.Errorf("/readyz during the wait: %d %q, want 503 %q...", status, body, tc.want)
			}
			if status, body := get(base + "/healthz"); status != http.StatusOK {
				t.Errorf("/healthz during the wait: %d %q, want 200", status, body)
			}
			if status, _ := get(base + "/metrics"); status != http.StatusOK {
				t.Errorf("/metrics during the wait: %d, want 200", status)
			}
			cancel()
			select {
			case err := <-done:
				if err == nil {
					t.Fatal("New succeeded without Kafka or Redis")
				}
			case <-time.After(30 * time.Second):
				t.Fatal("New did not give up after its context ended")
			}
			if status, _ := get(base + "/healthz"); status != 0 {
				t.Errorf("/healthz answers %d after a failed start, want no server", status)
			}
		})
	}
}
