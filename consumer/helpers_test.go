package consumer

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ordergate/ordergate/internal/foundation/retry"
)

// TestMain fails the package when a test leaves a goroutine behind (a committer, a timer
// callback, a context.AfterFunc).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is an Observer and a Health that remembers what it was told.
type recorder struct {
	mu        sync.Mutex
	inFlight  int
	consumed  int
	committed map[int]int64
	retries   []string
	retrying  map[string]bool
	recovered []string
	signals   []string // "failing SIGNAL: ERR" and "answering SIGNAL", in order
}

func newRecorder() *recorder {
	return &recorder{committed: map[int]int64{}, retrying: map[string]bool{}}
}

func (r *recorder) Consumed(n int) { r.mu.Lock(); r.consumed += n; r.mu.Unlock() }
func (r *recorder) InFlight(d int) { r.mu.Lock(); r.inFlight += d; r.mu.Unlock() }
func (r *recorder) Committed(p int, off int64) {
	r.mu.Lock()
	r.committed[p] = off
	r.mu.Unlock()
}
func (r *recorder) Lag(int, int64)     {}
func (r *recorder) Assigned(int, bool) {}
func (r *recorder) Retry(cause string) {
	r.mu.Lock()
	r.retries = append(r.retries, cause)
	r.mu.Unlock()
}
func (r *recorder) Retrying(name string, _ time.Time) {
	r.mu.Lock()
	r.retrying[name] = true
	r.mu.Unlock()
}
func (r *recorder) Recovered(name string) {
	r.mu.Lock()
	if r.retrying[name] {
		r.recovered = append(r.recovered, name)
	}
	delete(r.retrying, name)
	r.mu.Unlock()
}

func (r *recorder) Failing(dependency, signal string, err error) {
	r.mu.Lock()
	r.signals = append(r.signals, "failing "+dependency+" "+signal+": "+err.Error())
	r.mu.Unlock()
}
func (r *recorder) Answering(dependency, signal string) {
	r.mu.Lock()
	r.signals = append(r.signals, "answering "+dependency+" "+signal)
	r.mu.Unlock()
}

func (r *recorder) signalLog() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.signals...)
}

func (r *recorder) snapshot() (inFlight int, retries []string, stillRetrying int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inFlight, append([]string(nil), r.retries...), len(r.retrying)
}

// testConfig is a Config with its defaults, quiet logs, retries without waiting, and rec as
// its Observer and Health.
func testConfig(rec *recorder) *Config {
	cfg := &Config{
		Topic:    "in",
		Retry:    retry.Policy{Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }},
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Observer: rec,
		Health:   rec,
	}
	cfg.defaults()
	return cfg
}

// eventually waits until cond holds, failing the test after a generous delay (the machine
// is shared: no speed is asserted, only that it happens).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 10s: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
