package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/foundation/health"
)

// healthcheckResult is what one `ordergate healthcheck` call wrote and returned.
type healthcheckResult struct {
	code           int
	stdout, stderr string
}

// runHealthcheck runs `ordergate healthcheck ARGS...` with ORDERGATE_HTTP_ADDR=addr and no
// other ORDERGATE_* variable.
func runHealthcheck(t *testing.T, addr string, args ...string) healthcheckResult {
	t.Helper()
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "ORDERGATE_") {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
	t.Setenv("ORDERGATE_HTTP_ADDR", addr)
	var stdout, stderr bytes.Buffer
	e := &env{stdout: &stdout, stderr: &stderr, now: time.Now, ctx: context.Background()}
	code := run(append([]string{"healthcheck"}, args...), e)
	return healthcheckResult{code, stdout.String(), stderr.String()}
}

// serveHealth serves the worker's own /healthz and /readyz handler on a loopback port and
// returns its address as ORDERGATE_HTTP_ADDR would give it.
func serveHealth(t *testing.T, h *health.Health) string {
	t.Helper()
	srv := httptest.NewServer(h.Handler())
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// TestHealthcheckAnswersAsTheWorker probes the worker's health handler: /healthz is 200 and
// exits 0, /readyz is 503 until the checks pass and the line says why.
func TestHealthcheckAnswersAsTheWorker(t *testing.T) {
	h := health.New(time.Minute, nil)
	var redisUp atomic.Bool
	h.AddCheck("redis", func(context.Context) error {
		if !redisUp.Load() {
			return errors.New("dial tcp 10.0.0.7:6379: connection refused")
		}
		return nil
	})
	addr := serveHealth(t, h)

	r := runHealthcheck(t, addr)
	if r.code != exitOK || r.stdout != "ordergate healthcheck: http://"+addr+"/healthz 200 OK: ok\n" || r.stderr != "" {
		t.Errorf("/healthz: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = runHealthcheck(t, addr, "--ready")
	want := "ordergate healthcheck: http://" + addr + "/readyz 503 Service Unavailable: not ready: redis: not checked yet\n"
	if r.code != exitFailure || r.stderr != want || r.stdout != "" {
		t.Errorf("/readyz before the first check: exit %d, stderr %q, want 1 and %q", r.code, r.stderr, want)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.Run(ctx, 10*time.Millisecond, time.Second) }()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, func() bool { return strings.Contains(runHealthcheck(t, addr, "--ready").stderr, "connection refused") })
	redisUp.Store(true)
	waitFor(t, func() bool { return runHealthcheck(t, addr, "--ready").code == exitOK })
	if r := runHealthcheck(t, addr, "--ready"); r.stdout != "ordergate healthcheck: http://"+addr+"/readyz 200 OK: ready\n" {
		t.Errorf("/readyz once ready: %q", r.stdout)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met after 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestHealthcheckFailures: nothing listening, a server that hangs past the timeout, a
// redirect (not followed), and an address with no port to probe.
func TestHealthcheckFailures(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	if r := runHealthcheck(t, closed); r.code != exitFailure || !strings.Contains(r.stderr, "connection refused") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("nothing listening: exit %d, stderr %q", r.code, r.stderr)
	}

	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); hang.Close() })
	start := time.Now()
	r := runHealthcheck(t, strings.TrimPrefix(hang.URL, "http://"), "--timeout", "200ms")
	if r.code != exitFailure || !strings.Contains(r.stderr, "deadline exceeded") {
		t.Errorf("hanging server: exit %d, stderr %q", r.code, r.stderr)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a 200ms timeout took %v", d)
	}

	redirect := httptest.NewServer(http.RedirectHandler("http://example.invalid/healthz", http.StatusFound))
	t.Cleanup(redirect.Close)
	if r := runHealthcheck(t, strings.TrimPrefix(redirect.URL, "http://")); r.code != exitFailure || !strings.Contains(r.stderr, "302 Found") {
		t.Errorf("redirect: exit %d, stderr %q", r.code, r.stderr)
	}

	for _, args := range [][]string{{"--timeout", "0s"}, {"extra"}, {"--nope"}} {
		if r := runHealthcheck(t, closed, args...); r.code != exitUsage {
			t.Errorf("%q: exit %d, want %d", args, r.code, exitUsage)
		}
	}
	// A configuration that cannot be probed is unhealthy (1): Docker reserves the status 2.
	if r := runHealthcheck(t, ":0"); r.code != exitFailure || !strings.Contains(r.stderr, "no port to probe") {
		t.Errorf(":0: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := runHealthcheck(t, "nohost"); r.code != exitFailure || !strings.Contains(r.stderr, "ORDERGATE_HTTP_ADDR") {
		t.Errorf("bad ORDERGATE_HTTP_ADDR: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestProbeURL(t *testing.T) {
	for addr, want := range map[string]string{
		":8080":          "http://127.0.0.1:8080/healthz",
		"0.0.0.0:8080":   "http://127.0.0.1:8080/healthz",
		"[::]:9090":      "http://[::1]:9090/healthz",
		"10.1.2.3:8080":  "http://10.1.2.3:8080/healthz",
		"localhost:8081": "http://localhost:8081/healthz",
	} {
		if got, err := probeURL(addr, "/healthz"); got != want || err != nil {
			t.Errorf("probeURL(%q) = %q, %v; want %q", addr, got, err, want)
		}
	}
}
