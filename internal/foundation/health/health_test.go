package health

import (
	"context"
	"errors"
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
