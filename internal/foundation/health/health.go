// Package health answers /healthz and /readyz: the process is alive, and it is ready while
// its dependencies answer and no partition has been stuck in retries for too long.
//
// A dependency is judged two ways: by a probe that asks it on a schedule (Check, run by
// Run), and by the signals of the code that uses it (Failing and Answering: the consumer
// reports its failed joins and fetches). A probe's failure counts at once; a signal's only
// once it has failed for longer than SignalAfter, so that one failed fetch during a leader
// change or a rebalance does not flap readiness. /readyz names the dependency at fault.
package health

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Check is one dependency probe (a Redis PING, a Kafka metadata request). It must return
// within its context's deadline.
type Check func(ctx context.Context) error

// Health tracks readiness. It is safe for concurrent use.
type Health struct {
	stuckAfter time.Duration
	now        func() time.Time

	mu          sync.Mutex
	checks      map[string]Check
	failures    map[string]error     // last result of each check (nil = ok)
	retrying    map[string]time.Time // partition -> first failure of its current retries
	signals     map[signalKey]signalState
	signalAfter time.Duration
	onChange    func(ready bool)
}

// DefaultSignalAfter is how long a dependency's signal (a consumer group join, a partition's
// fetches) must keep failing before it makes the worker not ready.
const DefaultSignalAfter = 10 * time.Second

// SignalQuiet ends a run of failures that nothing ended explicitly: a signal that reported
// no failure for this long answers again. A partition's reader reports its errors but
// not its recovery (an idle partition has no record to show for it); failures keep coming
// at least every 11 s while a dependency fails (kafka-go's 10 s timeouts, then a 1 s
// backoff).
const SignalQuiet = 15 * time.Second

// signalKey names one signal of a dependency ("kafka", "consumer group join").
type signalKey struct{ dependency, signal string }

// signalState is the current run of failures of a signal.
type signalState struct {
	since time.Time // first failure of the run
	last  time.Time // last failure
	err   error     // last failure's error
}

// New returns a tracker: a partition in retries for longer than stuckAfter makes it not
// ready. now defaults to time.Now.
func New(stuckAfter time.Duration, now func() time.Time) *Health {
	if now == nil {
		now = time.Now
	}
	return &Health{stuckAfter: stuckAfter, now: now, checks: map[string]Check{},
		failures: map[string]error{}, retrying: map[string]time.Time{},
		signals: map[signalKey]signalState{}, signalAfter: DefaultSignalAfter}
}

// SignalAfter sets how long a signal must keep failing before it counts
// (DefaultSignalAfter until called).
func (h *Health) SignalAfter(d time.Duration) {
	h.mu.Lock()
	h.signalAfter = d
	h.mu.Unlock()
}

// Failing records that a signal of a dependency failed with err (the consumer's
// "consumer group join" of "kafka", say). The first failure of a run of failures gives its
// start: once the run is longer than SignalAfter, the worker is not ready, and /readyz
// names the dependency, the signal, how long and the last error. The run ends with
// Answering, or after SignalQuiet without a failure.
func (h *Health) Failing(dependency, signal string, err error) {
	k := signalKey{dependency, signal}
	h.mu.Lock()
	now := h.now()
	st, ok := h.signals[k]
	if !ok || now.Sub(st.last) > SignalQuiet {
		st.since = now
	}
	st.last, st.err = now, err
	h.signals[k] = st
	h.mu.Unlock()
}

// Answering records that a signal succeeded again, or stopped being tried (a revoked
// partition): its run of failures ends.
func (h *Health) Answering(dependency, signal string) {
	h.mu.Lock()
	delete(h.signals, signalKey{dependency, signal})
	h.mu.Unlock()
}

// OnChange sets a function called with the readiness after every evaluation (for a gauge).
func (h *Health) OnChange(f func(ready bool)) {
	h.mu.Lock()
	h.onChange = f
	h.mu.Unlock()
}

// AddCheck registers a dependency probe run by Run. Until its first run it counts as failed.
func (h *Health) AddCheck(name string, c Check) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checks[name] = c
	h.failures[name] = fmt.Errorf("not checked yet")
}

// Retrying records that a partition's batch failed and is being retried since since.
func (h *Health) Retrying(partition string, since time.Time) {
	h.mu.Lock()
	if _, ok := h.retrying[partition]; !ok {
		h.retrying[partition] = since
	}
	h.mu.Unlock()
}

// Recovered records that a partition's batch went through (or that it was revoked).
func (h *Health) Recovered(partition string) {
	h.mu.Lock()
	delete(h.retrying, partition)
	h.mu.Unlock()
}

// Stuck returns the partitions in retries for longer than the bound.
func (h *Health) Stuck() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stuckLocked()
}

func (h *Health) stuckLocked() []string {
	var out []string
	now := h.now()
	for p, since := range h.retrying {
		if now.Sub(since) > h.stuckAfter {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// Ready returns nil when ready, else what is wrong.
func (h *Health) Ready() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var problems []string
	names := make([]string, 0, len(h.failures))
	for name := range h.failures {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := h.failures[name]; err != nil {
			problems = append(problems, name+": "+err.Error())
		}
	}
	problems = append(problems, h.failingSignalsLocked()...)
	if stuck := h.stuckLocked(); len(stuck) > 0 {
		problems = append(problems, fmt.Sprintf("partitions in retries for more than %v: %s", h.stuckAfter, strings.Join(stuck, ", ")))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}

// failingSignalsLocked describes the signals failing for longer than signalAfter, sorted;
// it forgets the runs that went quiet.
func (h *Health) failingSignalsLocked() []string {
	var out []string
	now := h.now()
	for k, st := range h.signals {
		if now.Sub(st.last) > SignalQuiet {
			delete(h.signals, k)
			continue
		}
		if d := now.Sub(st.since); d > h.signalAfter {
			out = append(out, fmt.Sprintf("%s: %s failing for %v: %v", k.dependency, k.signal, d.Round(time.Second), st.err))
		}
	}
	sort.Strings(out)
	return out
}

// Run probes every check each interval (each bounded by timeout) until ctx ends, so that
// /readyz reflects a failure within interval + timeout.
func (h *Health) Run(ctx context.Context, interval, timeout time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		h.probe(ctx, timeout)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (h *Health) probe(ctx context.Context, timeout time.Duration) {
	h.mu.Lock()
	checks := make(map[string]Check, len(h.checks))
	for k, v := range h.checks {
		checks[k] = v
	}
	h.mu.Unlock()
	results := make(map[string]error, len(checks))
	var wg sync.WaitGroup
	var mu sync.Mutex
	for name, c := range checks {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			err := c(cctx)
			mu.Lock()
			results[name] = err
			mu.Unlock()
		})
	}
	wg.Wait()
	h.mu.Lock()
	for k, v := range results {
		h.failures[k] = v
	}
	f := h.onChange
	h.mu.Unlock()
	if f != nil {
		f(h.Ready() == nil)
	}
}

// Handler serves /healthz (always 200 while the process serves) and /readyz (200 when
// ready, 503 with the reason otherwise).
func (h *Health) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := h.Ready(); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not ready:", err)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	return mux
}
