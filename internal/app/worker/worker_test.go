package worker

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/consumer"
)

// TestMain fails the package when a test leaves a goroutine behind: Run and a failed New
// must end everything they started.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// defaults returns the configuration's defaults, whatever the environment holds.
func defaults(t *testing.T) config.Config {
	t.Helper()
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "ORDERGATE_") {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
	cfg, _, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// fakeLoop stands in for the consumer: it reports when it runs, then does what finish says
// with the lifecycle it was given.
type fakeLoop struct {
	started chan consumer.Lifecycle
	finish  func(l consumer.Lifecycle) error
}

func (f *fakeLoop) Run(l consumer.Lifecycle) error {
	f.started <- l
	return f.finish(l)
}

// testWorker assembles a worker around loop, without Kafka or Redis, its endpoints on a
// free loopback port, served from the start as New serves them.
func testWorker(t *testing.T, cfg config.Config, loop *fakeLoop) *Worker {
	t.Helper()
	cfg.HTTPAddr = "127.0.0.1:0"
	w := newWorker(cfg, Options{Logger: quiet})
	w.cons = loop
	if err := w.serveEarly(); err != nil {
		t.Fatal(err)
	}
	return w
}

func get(url string) (int, error) {
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(url)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// TestRunStopsInOrder: the endpoints serve while the consumer runs and while it finishes
// the batches in hand (after the stop was asked), and Run returns only once the consumer
// returned and the endpoints are closed; the package's goroutine check then finds nothing
// left (the HTTP server, the readiness probes, the timers of the stop).
func TestRunStopsInOrder(t *testing.T) {
	cfg := defaults(t)
	finishing := make(chan struct{})
	loop := &fakeLoop{started: make(chan consumer.Lifecycle, 1)}
	var servedWhileFinishing error
	var w *Worker
	loop.finish = func(l consumer.Lifecycle) error {
		<-l.Stop.Done()
		close(finishing)
		if l.Abandon.Err() != nil {
			return errors.New("abandoned at once: the batches in hand had no time to finish")
		}
		_, servedWhileFinishing = get("http://" + w.Addr() + "/healthz")
		return nil
	}
	w = testWorker(t, cfg, loop)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	<-loop.started
	if code, err := get("http://" + w.Addr() + "/metrics"); err != nil || code != http.StatusOK {
		t.Fatalf("/metrics while running: %d, %v", code, err)
	}
	stop()
	<-finishing
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if servedWhileFinishing != nil {
		t.Errorf("the endpoints stopped before the consumer finished: %v", servedWhileFinishing)
	}
	if _, err := get("http://" + w.Addr() + "/healthz"); err == nil {
		t.Error("the endpoints still answer after Run returned")
	}
}

// TestRunAbandonsAtTheShutdownTimeout: a consumer still finishing when
// ORDERGATE_SHUTDOWN_TIMEOUT ends is told to abandon, and its error comes back.
func TestRunAbandonsAtTheShutdownTimeout(t *testing.T) {
	cfg := defaults(t)
	cfg.ShutdownTimeout = 50 * time.Millisecond
	var stoppedFor time.Duration
	loop := &fakeLoop{started: make(chan consumer.Lifecycle, 1), finish: func(l consumer.Lifecycle) error {
		<-l.Stop.Done()
		at := time.Now()
		<-l.Abandon.Done()
		stoppedFor = time.Since(at)
		return consumer.ErrUnfinished
	}}
	w := testWorker(t, cfg, loop)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	<-loop.started
	stop()
	if err := <-done; !errors.Is(err, consumer.ErrUnfinished) {
		t.Fatalf("Run returned %v, want consumer.ErrUnfinished", err)
	}
	if stoppedFor < cfg.ShutdownTimeout/2 {
		t.Errorf("abandoned %v after the stop, before the shutdown timeout %v", stoppedFor, cfg.ShutdownTimeout)
	}
}

// TestNewFailsCleanly: a start that fails (an unreadable clients file; brokers that refuse
// connections) says what to fix in one line and leaves no client or goroutine behind.
func TestNewFailsCleanly(t *testing.T) {
	cfg := defaults(t)
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.ClientsFile = filepath.Join(t.TempDir(), "missing.json")
	if _, err := New(context.Background(), cfg, Options{Logger: quiet}); err == nil || !strings.HasPrefix(err.Error(), "ORDERGATE_CLIENTS_FILE") {
		t.Errorf("with a missing clients file: %v", err)
	}
	cfg.ClientsFile = ""
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusing := l.Addr().String()
	l.Close() // nothing listens there any more: connections are refused
	cfg.KafkaBrokers = []string{refusing}
	_, err = New(context.Background(), cfg, Options{Logger: quiet, StartupTimeout: 300 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "does not answer (check ORDERGATE_KAFKA_BROKERS") {
		t.Errorf("with brokers that refuse connections: %v", err)
	}
}

// TestConsumerConfigIsTheConfiguration: the consumer gets the configuration's settings,
// and the worker's measurements.
func TestConsumerConfigIsTheConfiguration(t *testing.T) {
	cfg := defaults(t)
	cfg.BatchMaxRecords, cfg.BatchMaxWait, cfg.RetryMaxBackoff = 7, 3*time.Millisecond, 9*time.Second
	w := newWorker(cfg, Options{Logger: quiet})
	k, err := KafkaClients(cfg, cfg.KafkaBrokers)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	w.kafka = k
	c := w.consumerConfig()
	if c.BatchMaxRecords != 7 || c.BatchMaxWait != 3*time.Millisecond || c.Retry.Max != 9*time.Second ||
		c.GroupID != cfg.KafkaGroupID || c.Topic != cfg.TopicRequests || c.Dialer != k.Dialer || c.Client != k.Client {
		t.Errorf("consumer settings %+v do not follow the configuration", c)
	}
	if c.Observer == nil || c.Health == nil || c.KafkaErrorLogger == nil {
		t.Error("the consumer is not measured by the worker")
	}
}
