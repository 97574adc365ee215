package servicepoint

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/foundation/testredis"
	"github.com/ordergate/ordergate/processor/order"
)

// clock is a settable Options.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// TestServeStale: with StaleFor set, a positive entry past its fresh-until time is answered
// (marked Stale) only when the inventory fails for its key, and only within the window; a
// negative entry never is; a batch with a key that has neither a fresh nor a stale answer
// fails whole. Entries live in Redis for TTL + StaleFor with their fresh-until time inside.
func TestServeStale(t *testing.T) {
	const ttl, staleFor = time.Minute, 5 * time.Minute
	addr := testredis.Shared(t)
	raw := rawClient(t, addr)
	ctx := context.Background()
	inv := newInventoryServer(t)
	clk := &clock{now: time.Now()}
	obs := newRecorder()
	r, _ := newResolver(t, addr, NewHTTPInventory(inv.URL, "", time.Second, nil),
		Options{TTL: ttl, NegativeTTL: ttl, StaleFor: staleFor, Observer: obs, Now: clk.Now})
	cached, negative, unknown := byID("SP-1"), byID("NONE-1"), byID("SP-2")
	written := clk.Now()
	if _, err := r.Resolve(ctx, []order.Lookup{cached, negative}); err != nil {
		t.Fatal(err)
	}
	if pttl := raw.PTTL(ctx, r.Key(cached)).Val(); pttl <= ttl+staleFor-10*time.Second || pttl > ttl+staleFor {
		t.Errorf("positive entry kept %v in Redis, want TTL + StaleFor = %v", pttl, ttl+staleFor)
	}
	if pttl := raw.PTTL(ctx, r.Key(negative)).Val(); pttl > ttl {
		t.Errorf("negative entry kept %v in Redis, want the negative TTL only", pttl)
	}
	want := `{"freshUntil":` + strconv.FormatInt(written.Add(ttl).UnixMilli(), 10) + `,"matches":`
	if v := raw.Get(ctx, r.Key(cached)).Val(); !strings.HasPrefix(v, want) {
		t.Errorf("entry %q, want it to start %q", v, want)
	}

	// Fresh: a hit, the inventory not asked, nothing stale.
	got, err := r.Resolve(ctx, []order.Lookup{cached})
	if err != nil || got[0][0].Stale || inv.callsFor(cached) != 1 {
		t.Fatalf("fresh: %+v, %v, %d calls", got, err, inv.callsFor(cached))
	}

	// Expired, inventory up: a miss, answered fresh by the inventory and rewritten.
	clk.Add(ttl + time.Second)
	got, err = r.Resolve(ctx, []order.Lookup{cached})
	if err != nil || got[0][0].Stale || inv.callsFor(cached) != 2 {
		t.Fatalf("expired, inventory up: %+v, %v, %d calls", got, err, inv.callsFor(cached))
	}

	// Expired, inventory down: the stale entry answers, marked.
	clk.Add(ttl + time.Second)
	inv.mode.Store("503")
	got, err = r.Resolve(ctx, []order.Lookup{cached, cached})
	if err != nil || len(got[0]) != 1 || !got[0][0].Stale || !got[1][0].Stale {
		t.Fatalf("expired, inventory down: %+v, %v; want the stale entry", got, err)
	}
	stale := point("SP-1")
	stale.Stale = true
	if got[0][0] != stale {
		t.Errorf("stale answer %+v, want %+v", got[0][0], stale)
	}
	if s, o := r.Stats(), obs.snapshot(); s.StaleServed != 1 || o.stale != 1 {
		t.Errorf("stale served: stats %d, observed %d; want 1 (one distinct key)", s.StaleServed, o.stale)
	}

	// A batch with a key that has no entry at all waits whole.
	_, err = r.Resolve(ctx, []order.Lookup{cached, unknown})
	if !errors.Is(err, ErrTransient) {
		t.Fatalf("batch with an unknown key while the inventory is down: %v, want a transient error", err)
	}

	// A negative entry is never served stale.
	_, err = r.Resolve(ctx, []order.Lookup{negative})
	if !errors.Is(err, ErrTransient) {
		t.Fatalf("expired negative entry while the inventory is down: %v, want a transient error", err)
	}

	// Past the window: no longer served (Redis would have dropped it by then).
	clk.Add(staleFor)
	if _, err = r.Resolve(ctx, []order.Lookup{cached}); !errors.Is(err, ErrTransient) {
		t.Fatalf("past the stale window: %v, want a transient error", err)
	}

	// Back up: fresh again, not marked.
	inv.mode.Store("ok")
	got, err = r.Resolve(ctx, []order.Lookup{cached})
	if err != nil || got[0][0].Stale {
		t.Fatalf("recovered: %+v, %v", got, err)
	}
}

// TestServeStaleOff: without StaleFor an expired entry is never served, whatever the
// inventory does, and positive entries live in Redis for the TTL only.
func TestServeStaleOff(t *testing.T) {
	const ttl = time.Minute
	addr := testredis.Shared(t)
	inv := newInventoryServer(t)
	clk := &clock{now: time.Now()}
	r, _ := newResolver(t, addr, NewHTTPInventory(inv.URL, "", time.Second, nil), Options{TTL: ttl, Now: clk.Now})
	ctx := context.Background()
	if _, err := r.Resolve(ctx, []order.Lookup{byID("SP-1")}); err != nil {
		t.Fatal(err)
	}
	if pttl := rawClient(t, addr).PTTL(ctx, r.Key(byID("SP-1"))).Val(); pttl > ttl {
		t.Errorf("entry kept %v, want the TTL", pttl)
	}
	clk.Add(ttl + time.Second)
	inv.mode.Store("503")
	got, err := r.Resolve(ctx, []order.Lookup{byID("SP-1")})
	if !errors.Is(err, ErrTransient) || got != nil {
		t.Fatalf("got %+v, %v; want a transient error", got, err)
	}
}

// TestFirstFormatStillReads: a cache written by the former version (a bare list, no
// fresh-until time) keeps answering, as fresh, until Redis expires it.
func TestFirstFormatStillReads(t *testing.T) {
	addr := testredis.Shared(t)
	inv := newInventoryServer(t)
	r, _ := newResolver(t, addr, NewHTTPInventory(inv.URL, "", time.Second, nil), Options{StaleFor: time.Minute})
	ctx := context.Background()
	rawClient(t, addr).Set(ctx, r.Key(byID("SP-old")), `[{"id":"SP-old","market":"FR"}]`, time.Minute)
	got, err := r.Resolve(ctx, []order.Lookup{byID("SP-old")})
	if err != nil || !reflect.DeepEqual(got[0], []order.ServicePoint{{ID: "SP-old", Market: "FR"}}) || inv.calls.Load() != 0 {
		t.Fatalf("got %+v, %v after %d calls", got, err, inv.calls.Load())
	}
}
