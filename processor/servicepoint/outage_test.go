package servicepoint

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/foundation/testredis"
	"github.com/ordergate/ordergate/processor/order"
)

// TestRedisOutages plays the outages of a test-owned redis-server: stopped by its pid and
// restarted on the same port, killed, and frozen with SIGSTOP then resumed. While Redis is
// out every batch fails within the configured timeout (plus a margin) with a transient
// redis error, never an answer and never "none", and the inventory is not asked; once
// Redis is back, batches succeed again.
func TestRedisOutages(t *testing.T) {
	srv := testredis.Start(t)
	inv := newInventoryServer(t)
	r, _ := newResolver(t, srv.Addr(), NewHTTPInventory(inv.URL, "", time.Second, nil), Options{RedisTimeout: redisTimeout})
	batch := []order.Lookup{byID("SP-9"), byID("NONE-9")}
	ctx := context.Background()
	if _, err := r.Resolve(ctx, batch); err != nil {
		t.Fatal(err)
	}

	expectOutage := func(what string) {
		t.Helper()
		calls := inv.calls.Load()
		for range 3 {
			start := time.Now()
			got, err := r.Resolve(ctx, batch)
			elapsed := time.Since(start)
			var te *TransientError
			if !errors.As(err, &te) || te.Cause() != CauseRedis || got != nil {
				t.Fatalf("%s: got %+v, %v; want a transient redis error and no answer", what, got, err)
			}
			if elapsed > redisTimeout+500*time.Millisecond {
				t.Fatalf("%s: failed after %v with a %v Redis timeout", what, elapsed, redisTimeout)
			}
		}
		if inv.calls.Load() != calls {
			t.Fatalf("%s: the inventory was asked while Redis was out", what)
		}
	}
	expectRecovery := func(what string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			got, err := r.Resolve(ctx, batch)
			if err == nil {
				if len(got[0]) != 1 || got[0][0].ID != "SP-9" || got[1] == nil || len(got[1]) != 0 {
					t.Fatalf("%s: wrong answer %+v", what, got)
				}
				return
			}
			var te *TransientError
			if !errors.As(err, &te) || te.Cause() != CauseRedis {
				t.Fatalf("%s: %v, want only transient redis errors while recovering", what, err)
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no recovery within 5s: %v", what, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	srv.Stop()
	expectOutage("stopped (SIGTERM)")
	srv.Restart()
	expectRecovery("restarted on the same port")

	srv.Kill()
	expectOutage("killed (SIGKILL)")
	srv.Restart()
	expectRecovery("restarted after SIGKILL")

	srv.Freeze()
	expectOutage("frozen (SIGSTOP)")
	srv.Thaw()
	expectRecovery("thawed (SIGCONT)")
}

// TestFrozenRedisWithClientTimeoutsOnly: without Options.RedisTimeout the client's own
// timeouts bound a read (NewRedisClient turns ContextTimeoutEnabled on), so a frozen Redis
// still fails fast, and a caller's deadline shorter than them wins.
func TestFrozenRedisWithClientTimeoutsOnly(t *testing.T) {
	srv := testredis.Start(t)
	inv := newInventoryServer(t)
	r, _ := newResolver(t, srv.Addr(), NewHTTPInventory(inv.URL, "", time.Second, nil), Options{})
	batch := []order.Lookup{byID("SP-9")}
	if _, err := r.Resolve(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	srv.Freeze()
	defer srv.Thaw()

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := r.Resolve(ctx, batch)
	var te *TransientError
	if !errors.As(err, &te) || te.Cause() != CauseRedis {
		t.Fatalf("got %v, want a transient redis error", err)
	}
	if d := time.Since(start); d > 100*time.Millisecond+300*time.Millisecond {
		t.Fatalf("a 100ms caller deadline failed after %v", d)
	}
}
