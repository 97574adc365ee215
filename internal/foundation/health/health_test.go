package health

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestStuckPartitionMakesNotReady(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := New(time.Minute, func() time.Time { return now })
	if err := h.Ready(); err != nil {
		t.Fatalf("ready with nothing registered: %v", err)
	}
	h.Retrying("3", now)
	now = now.Add(59 * time.Second)
	if err := h.Ready(); err != nil {
		t.Fatalf("not stuck yet: %v", err)
	}
	h.Retrying("3", now) // a later failure keeps the first one's time
	now = now.Add(2 * time.Second)
	if err := h.Ready(); err == nil || !strings.Contains(err.Error(), "3") {
		t.Fatalf("want stuck partition 3, got %v", err)
	}
	h.Recovered("3")
	if err := h.Ready(); err != nil {
		t.Fatalf("recovered: %v", err)
	}
}

func TestChecksAndHandler(t *testing.T) {
	h := New(time.Minute, nil)
	var down atomic.Bool
	h.AddCheck("redis", func(ctx context.Context) error {
		if down.Load() {
			return errors.New("connection refused")
		}
		return nil
	})
	srv := httptest.NewServer(h.Handler())
	defer srv.Close()
	status := func() int {
		resp, err := srv.Client().Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if status() != 503 {
		t.Fatal("ready before the first check")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var readiness atomic.Int32
	h.OnChange(func(ready bool) {
		if ready {
			readiness.Store(1)
		} else {
			readiness.Store(2)
		}
	})
	go h.Run(ctx, 10*time.Millisecond, time.Second)
	waitFor(t, func() bool { return status() == 200 })
	down.Store(true)
	waitFor(t, func() bool { return status() == 503 && readiness.Load() == 2 })
	resp, _ := srv.Client().Get(srv.URL + "/healthz")
	if resp.StatusCode != 200 {
		t.Fatalf("healthz %d", resp.StatusCode)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestFailingSignalMakesNotReadyAfterItsBound (issue 17, item 1): a signal of a dependency
// (the consumer's joins, a partition's fetches) counts once it has failed for longer than
// SignalAfter; /readyz then names the dependency, the signal and the last error, and the
// signal answering again makes the worker ready again.
func TestFailingSignalMakesNotReadyAfterItsBound(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := New(time.Minute, func() time.Time { return now })
	h.SignalAfter(10 * time.Second)
	h.Failing("kafka", "consumer group join", errors.New("dial tcp: connection refused"))
	now = now.Add(9 * time.Second)
	h.Failing("kafka", "consumer group join", errors.New("i/o timeout")) // the run goes on from its first failure
	if err := h.Ready(); err != nil {
		t.Fatalf("not failing for long enough yet: %v", err)
	}
	now = now.Add(2 * time.Second)
	err := h.Ready()
	if want := "kafka: consumer group join failing for 11s: i/o timeout"; err == nil || err.Error() != want {
		t.Fatalf("Ready() = %v, want %q", err, want)
	}
	h.Answering("kafka", "consumer group join")
	if err := h.Ready(); err != nil {
		t.Fatalf("answering again: %v", err)
	}
	// A new run of failures starts from its own first failure.
	h.Failing("kafka", "consumer group join", errors.New("refused"))
	now = now.Add(5 * time.Second)
	if err := h.Ready(); err != nil {
		t.Fatalf("a new run of failures counted the old one: %v", err)
	}
}

// TestQuietSignalAnswersAgain: a partition's reader reports its errors, not its recovery,
// and an idle partition fetches no record to show for it. Failures at most 11 s apart
// (kafka-go's timeouts) keep a run going; SignalQuiet without one ends it.
func TestQuietSignalAnswersAgain(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := New(time.Minute, func() time.Time { return now })
	for range 3 {
		h.Failing("kafka", "fetches of partition 1", errors.New("EOF"))
		now = now.Add(11 * time.Second)
	}
	if err := h.Ready(); err == nil || !strings.Contains(err.Error(), "fetches of partition 1 failing for 33s") {
		t.Fatalf("failures 11 s apart: Ready() = %v, want failing for 33s", err)
	}
	now = now.Add(SignalQuiet - 11*time.Second + time.Millisecond)
	if err := h.Ready(); err != nil {
		t.Fatalf("quiet for %v: %v", SignalQuiet, err)
	}
	h.Failing("kafka", "fetches of partition 1", errors.New("EOF"))
	now = now.Add(5 * time.Second)
	if err := h.Ready(); err != nil {
		t.Fatalf("a failure after a quiet spell counted the old run: %v", err)
	}
}

// TestReadyNamesEveryCause: /readyz lists the failed probes, the failing signals and the
// stuck partitions, each under its name, in a stable order.
func TestReadyNamesEveryCause(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := New(time.Minute, func() time.Time { return now })
	h.AddCheck("redis", func(context.Context) error { return errors.New("connection refused") })
	h.AddCheck("kafka", func(context.Context) error { return errors.New("no broker answers") })
	h.probe(context.Background(), time.Second)
	h.Retrying("2", now)
	for range 12 { // a reader reports an error every 10 s for 2 minutes
		h.Failing("kafka", "fetches of partition 2", errors.New("EOF"))
		now = now.Add(10 * time.Second)
	}
	srv := httptest.NewServer(h.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := "not ready: kafka: no broker answers; redis: connection refused; kafka: fetches of partition 2 failing for 2m0s: EOF; partitions in retries for more than 1m0s: 2\n"
	if resp.StatusCode != 503 || string(body) != want {
		t.Fatalf("/readyz: %d %q, want 503 %q", resp.StatusCode, body, want)
	}
}
