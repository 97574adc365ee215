package pipeline

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/segmentio/kafka-go"
	"go.uber.org/goleak"

	"github.com/ordergate/ordergate/internal/app/produce"
	"github.com/ordergate/ordergate/internal/app/testkit"
	"github.com/ordergate/ordergate/internal/app/worker"
	"github.com/ordergate/ordergate/internal/foundation/testredis"
	"github.com/ordergate/ordergate/processor/order"
)

// TestNoGoroutineOutlivesRun runs a real worker (kfake broker, the shared Redis, three
// partitions, records decided, published and committed) and checks that once Run returned,
// every goroutine the worker started has ended: the consumer group, the partition readers,
// the committers, the lag measurement, the writers, Kafka's connections, the Redis pool,
// the HTTP server and the readiness prober. Goroutines that were there before New (the
// broker's, the test's) do not count.
func TestNoGoroutineOutlivesRun(t *testing.T) {
	t.Run("tracing off", func(t *testing.T) { noGoroutineOutlivesRun(t, "") })
	// With tracing on, the batch span processor and the exporter's connections end too.
	t.Run("tracing on, grpc", func(t *testing.T) { noGoroutineOutlivesRun(t, "grpc") })
	t.Run("tracing on, http", func(t *testing.T) { noGoroutineOutlivesRun(t, "http/protobuf") })
}

// noGoroutineOutlivesRun is TestNoGoroutineOutlivesRun, exporting spans over protocol to a
// receiver on loopback (none when protocol is empty).
func noGoroutineOutlivesRun(t *testing.T, protocol string) {
	switch protocol {
	case "grpc":
		_, endpoint := startGRPCReceiver(t)
		t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
	case "http/protobuf":
		_, endpoint := startHTTPReceiver(t)
		t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
	default:
		t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	}
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
	c := testkit.NewCluster(t, 3, nil)
	cfg := testkit.Config(t, c, testredis.Shared(t), testredis.Prefix(t))
	const n = 300
	recs := make([]order.Record, n)
	for i := range recs {
		recs[i] = testkit.Record(fmt.Sprintf("k%d", i%7), disconnect(fmt.Sprintf("SP-%d", i%20), i), testkit.RecordTime)
	}
	// Produced through a transport of the test's own, closed before the count: the shared
	// kafka.DefaultTransport that Cluster.Produce uses refreshes its metadata every few
	// seconds, opening connections to the broker (and broker goroutines) after the count
	// started, which made this test fail now and then whatever the worker did.
	tr := &kafka.Transport{}
	pw := produce.NewWriter(c.Brokers, testkit.Topics.Requests, tr)
	if err := produce.Write(context.Background(), pw, recs); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	tr.CloseIdleConnections()
	inv := inventory(t, 20)
	before := goleak.IgnoreCurrent()

	ctx, stop := context.WithCancel(context.Background())
	w, err := worker.New(ctx, cfg, worker.Options{Inventory: inv, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		stop()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	m := w.Metrics()
	deadline := time.Now().Add(time.Minute)
	for value(m.RecordsConsumed) < n || value(m.InFlight) != 0 {
		if time.Now().After(deadline) {
			stop()
			<-done
			t.Fatalf("after a minute: %v records consumed, %v in flight; want %d consumed and committed",
				value(m.RecordsConsumed), value(m.InFlight), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	// The broker's goroutines for the worker's connections end once it sees them closed:
	// give them time (goleak's own retries last about a second).
	opts := []goleak.Option{before}
	if protocol == "http/protobuf" {
		// The OTLP/HTTP exporter sends through a transport of its package, shared by every
		// exporter and not closed by Shutdown: its keep-alive connection to the receiver (two
		// goroutines, and the receiver's one) closes after 90 s idle. Not the worker's.
		opts = append(opts, goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
			goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"), goleak.IgnoreAnyFunction("net/http.(*conn).serve"))
	}
	var leaked error
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if leaked = goleak.Find(opts...); leaked == nil {
			return
		}
	}
	t.Fatal(leaked)
}

// value reads a counter or a gauge.
func value(c prometheus.Metric) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue() + m.GetGauge().GetValue()
}
