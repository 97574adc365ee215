package servicepoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ordergate/ordergate/internal/testredis"
	"github.com/ordergate/ordergate/order"
)

// countingHook counts the commands and pipelines that reach Redis.
type countingHook struct{ roundTrips atomic.Int64 }

func (h *countingHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *countingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !connectionSetup(cmd) {
			h.roundTrips.Add(1)
		}
		return next(ctx, cmd)
	}
}
func (h *countingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) > 0 && !connectionSetup(cmds[0]) {
			h.roundTrips.Add(1)
		}
		return next(ctx, cmds)
	}
}

// connectionSetup tells the commands go-redis sends when it opens a connection.
func connectionSetup(cmd redis.Cmder) bool {
	switch cmd.Name() {
	case "hello", "client", "auth", "select":
		return true
	}
	return false
}

// inventoryServer is an httptest inventory that counts calls and answers from a table.
type inventoryServer struct {
	*httptest.Server
	calls   atomic.Int64
	perKey  sync.Map // "criterion=value" -> *atomic.Int64
	mode    atomic.Value
	lastReq atomic.Value
}

func newInventoryServer(t *testing.T, spFor func(order.Lookup) []order.ServicePoint) *inventoryServer {
	s := &inventoryServer{}
	s.mode.Store("ok")
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.calls.Add(1)
		s.lastReq.Store(r.Clone(context.Background()))
		var l order.Lookup
		for _, c := range []order.Criterion{order.ByID, order.ByReference, order.ByCustomerReference} {
			if v := r.URL.Query().Get(string(c)); v != "" {
				l = order.Lookup{Criterion: c, Value: v}
			}
		}
		n, _ := s.perKey.LoadOrStore(string(l.Criterion)+"="+l.Value, new(atomic.Int64))
		n.(*atomic.Int64).Add(1)
		switch s.mode.Load().(string) {
		case "503":
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		case "429":
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		case "garbage":
			w.Write([]byte("<html>oops</html>"))
			return
		case "hang":
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		case "slow":
			time.Sleep(50 * time.Millisecond)
		}
		list := spFor(l)
		if list == nil {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		json.NewEncoder(w).Encode(list)
	}))
	t.Cleanup(s.Close)
	return s
}

// byID answers every id "SP-n" with one service point; "NONE-..." with nothing.
func byID(l order.Lookup) []order.ServicePoint {
	if strings.HasPrefix(l.Value, "NONE") {
		return nil
	}
	return []order.ServicePoint{{ID: l.Value, Reference: "R-" + l.Value, Market: "FR", State: "OPERATIONAL"}}
}

func newResolver(t *testing.T, addr string, inv Inventory, opts Options) (*Resolver, *countingHook) {
	t.Helper()
	rdb := NewRedisClient(&redis.Options{Addr: addr, ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond,
		DialTimeout: 300 * time.Millisecond, MaxRetries: -1})
	hook := &countingHook{}
	rdb.AddHook(hook)
	t.Cleanup(func() { rdb.Close() })
	if opts.KeyPrefix == "" {
		opts.KeyPrefix = testredis.Prefix(t)
	}
	return NewResolver(rdb, inv, opts), hook
}

func TestBatchRoundTrips(t *testing.T) {
	inv := newInventoryServer(t, byID)
	r, hook := newResolver(t, testredis.Shared(t), NewHTTPInventory(inv.URL, "", 2*time.Second, nil), Options{})
	lookups := make([]order.Lookup, 1000)
	for i := range lookups {
		lookups[i] = order.Lookup{Criterion: order.ByID, Value: fmt.Sprintf("SP-%d", i%100)}
	}
	got, err := r.Resolve(context.Background(), lookups)
	if err != nil {
		t.Fatal(err)
	}
	if hook.roundTrips.Load() != 2 || inv.calls.Load() != 100 {
		t.Fatalf("cold batch: %d Redis round trips (want 1 read + 1 write), %d inventory calls (want 100)", hook.roundTrips.Load(), inv.calls.Load())
	}
	for i, matches := range got {
		if len(matches) != 1 || matches[0].ID != lookups[i].Value {
			t.Fatalf("lookup %d (%v): got %+v", i, lookups[i], matches)
		}
	}
	// Warm: one read, no inventory call, no write.
	if _, err := r.Resolve(context.Background(), lookups); err != nil {
		t.Fatal(err)
	}
	if hook.roundTrips.Load() != 3 || inv.calls.Load() != 100 {
		t.Fatalf("warm batch: %d round trips in all (want 3), %d inventory calls (want 100)", hook.roundTrips.Load(), inv.calls.Load())
	}
	if s := r.Stats(); s.CacheHits != 100 || s.CacheMisses != 100 || s.InventoryCalls != 100 || s.RedisRoundTrips != 3 {
		t.Fatalf("stats %+v", s)
	}
}

func TestOneCallPerKeyAcrossConcurrentBatches(t *testing.T) {
	inv := newInventoryServer(t, byID)
	inv.mode.Store("slow")
	r, _ := newResolver(t, testredis.Shared(t), NewHTTPInventory(inv.URL, "", 2*time.Second, nil), Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 100 {
		wg.Go(func() {
			got, err := r.Resolve(context.Background(), []order.Lookup{{Criterion: order.ByReference, Value: "REF-ONE"}})
			if err == nil && (len(got) != 1 || len(got[0]) != 1) {
				err = fmt.Errorf("got %+v", got)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if inv.calls.Load() != 1 {
		t.Fatalf("%d inventory calls for one key, want 1", inv.calls.Load())
	}
}

func TestTTLs(t *testing.T) {
	addr := testredis.Shared(t)
	inv := newInventoryServer(t, byID)
	prefix := testredis.Prefix(t)
	r, _ := newResolver(t, addr, NewHTTPInventory(inv.URL, "", 2*time.Second, nil),
		Options{KeyPrefix: prefix, TTL: 3 * time.Second, NegativeTTL: time.Second})
	ctx := context.Background()
	pos, neg := order.Lookup{Criterion: order.ByID, Value: "SP-1"}, order.Lookup{Criterion: order.ByID, Value: "NONE-1"}
	got, err := r.Resolve(ctx, []order.Lookup{pos, neg})
	if err != nil || len(got[0]) != 1 || len(got[1]) != 0 {
		t.Fatalf("got %+v %v", got, err)
	}
	raw := redis.NewClient(&redis.Options{Addr: addr})
	defer raw.Close()
	if ttl := raw.PTTL(ctx, r.Key(pos)).Val(); ttl <= 2*time.Second || ttl > 3*time.Second {
		t.Errorf("positive TTL %v, want about 3s", ttl)
	}
	if ttl := raw.PTTL(ctx, r.Key(neg)).Val(); ttl <= 0 || ttl > time.Second {
		t.Errorf("negative TTL %v, want about 1s", ttl)
	}
	if v := raw.Get(ctx, r.Key(neg)).Val(); v != "[]" {
		t.Errorf("negative entry %q, want []", v)
	}
	time.Sleep(1200 * time.Millisecond)
	if raw.Exists(ctx, r.Key(neg)).Val() != 0 || raw.Exists(ctx, r.Key(pos)).Val() != 1 {
		t.Fatalf("after 1.2s: the negative entry must be gone and the positive one kept")
	}
	calls := inv.calls.Load()
	r.Resolve(ctx, []order.Lookup{pos, neg})
	if inv.calls.Load() != calls+1 {
		t.Fatalf("after the negative TTL only the negative key is asked again: %d calls", inv.calls.Load()-calls)
	}
	time.Sleep(3 * time.Second)
	if raw.Exists(ctx, r.Key(pos)).Val() != 0 {
		t.Fatalf("positive entry outlived its TTL")
	}
}

func TestCorruptEntryIsAMiss(t *testing.T) {
	addr := testredis.Shared(t)
	inv := newInventoryServer(t, byID)
	r, _ := newResolver(t, addr, NewHTTPInventory(inv.URL, "", 2*time.Second, nil), Options{})
	l := order.Lookup{Criterion: order.ByID, Value: "SP-7"}
	raw := redis.NewClient(&redis.Options{Addr: addr})
	defer raw.Close()
	raw.Set(context.Background(), r.Key(l), "{not json", time.Minute)
	got, err := r.Resolve(context.Background(), []order.Lookup{l})
	if err != nil || len(got[0]) != 1 || inv.calls.Load() != 1 {
		t.Fatalf("got %+v %v, %d calls", got, err, inv.calls.Load())
	}
	if v := raw.Get(context.Background(), r.Key(l)).Val(); !strings.HasPrefix(v, "[{") {
		t.Fatalf("corrupt entry not overwritten: %q", v)
	}
}

func TestInventoryFailuresAreTransient(t *testing.T) {
	addr := testredis.Shared(t)
	for _, tc := range []struct {
		mode  string
		cause string
	}{
		{"503", CauseInventoryStatus},
		{"429", CauseInventoryStatus},
		{"garbage", CauseInventoryBody},
		{"hang", CauseInventoryTimeout},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			inv := newInventoryServer(t, byID)
			inv.mode.Store(tc.mode)
			r, _ := newResolver(t, addr, NewHTTPInventory(inv.URL, "", 300*time.Millisecond, nil), Options{})
			l := order.Lookup{Criterion: order.ByID, Value: "SP-3"}
			start := time.Now()
			got, err := r.Resolve(context.Background(), []order.Lookup{l})
			var te *TransientError
			if !errors.As(err, &te) || te.Cause() != tc.cause || got != nil {
				t.Fatalf("got %+v, %v; want a transient %s error and no answer", got, err, tc.cause)
			}
			if time.Since(start) > 2*time.Second {
				t.Fatalf("took %v, beyond the 300ms timeout", time.Since(start))
			}
			raw := redis.NewClient(&redis.Options{Addr: addr})
			defer raw.Close()
			if raw.Exists(context.Background(), r.Key(l)).Val() != 0 {
				t.Fatal("a failure was cached")
			}
			inv.mode.Store("ok")
			got, err = r.Resolve(context.Background(), []order.Lookup{l})
			if err != nil || len(got[0]) != 1 {
				t.Fatalf("after recovery: %+v %v", got, err)
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		url := "http://" + l.Addr().String()
		l.Close()
		r, _ := newResolver(t, addr, NewHTTPInventory(url, "", time.Second, nil), Options{})
		_, err := r.Resolve(context.Background(), []order.Lookup{{Criterion: order.ByID, Value: "X"}})
		var te *TransientError
		if !errors.As(err, &te) || te.Cause() != CauseInventoryUnavailable {
			t.Fatalf("got %v", err)
		}
	})
}

// TestRedisOutages stops and freezes a test-owned redis-server: each outage is a transient
// error within the configured timeout, never an answer, and the resolver recovers.
func TestRedisOutages(t *testing.T) {
	srv := testredis.Start(t)
	inv := newInventoryServer(t, byID)
	r, _ := newResolver(t, srv.Addr(), NewHTTPInventory(inv.URL, "", time.Second, nil), Options{})
	l := []order.Lookup{{Criterion: order.ByID, Value: "SP-9"}}
	ctx := context.Background()
	if _, err := r.Resolve(ctx, l); err != nil {
		t.Fatal(err)
	}
	expectOutage := func(what string) {
		t.Helper()
		start := time.Now()
		got, err := r.Resolve(ctx, l)
		var te *TransientError
		if !errors.As(err, &te) || te.Cause() != CauseRedis || got != nil {
			t.Fatalf("%s: got %+v, %v; want a transient redis error and no answer", what, got, err)
		}
		if d := time.Since(start); d > 1500*time.Millisecond {
			t.Fatalf("%s: took %v with a 300ms timeout", what, d)
		}
	}
	expectRecovery := func(what string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			got, err := r.Resolve(ctx, l)
			if err == nil && len(got[0]) == 1 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no recovery within 5s: %v", what, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	srv.Stop()
	expectOutage("stopped")
	srv.Restart()
	expectRecovery("restarted")

	srv.Freeze()
	expectOutage("frozen")
	srv.Thaw()
	expectRecovery("thawed")
}

func TestHTTPInventoryRequest(t *testing.T) {
	inv := newInventoryServer(t, byID)
	h := NewHTTPInventory(inv.URL+"/", "t0ken", time.Second, nil)
	got, err := h.Find(context.Background(), order.Lookup{Criterion: order.ByCustomerReference, Value: "A&B C/é"})
	if err != nil || len(got) != 1 {
		t.Fatalf("%+v %v", got, err)
	}
	req := inv.lastReq.Load().(*http.Request)
	if req.URL.Path != "/servicePoints" || req.URL.Query().Get("customerReference") != "A&B C/é" {
		t.Errorf("request %s", req.URL)
	}
	if req.Header.Get("Authorization") != "Bearer t0ken" {
		t.Errorf("authorization %q", req.Header.Get("Authorization"))
	}
	got, err = h.Find(context.Background(), order.Lookup{Criterion: order.ByID, Value: "NONE-2"})
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("404: got %+v %v, want an empty list", got, err)
	}
}

func TestFileInventory(t *testing.T) {
	f, err := ParseFileInventory([]byte(`[
		{"id":"A","reference":"RA","customerReference":"C","market":"FR","state":"OPERATIONAL"},
		{"id":"B","reference":"RB","customerReference":"C","market":"BE","state":"INSTALLING"}]`))
	if err != nil {
		t.Fatal(err)
	}
	for l, want := range map[order.Lookup]int{
		{Criterion: order.ByID, Value: "A"}: 1, {Criterion: order.ByReference, Value: "RB"}: 1,
		{Criterion: order.ByCustomerReference, Value: "C"}: 2, {Criterion: order.ByID, Value: "Z"}: 0,
	} {
		got, err := f.Find(context.Background(), l)
		if err != nil || len(got) != want {
			t.Errorf("%v: got %d matches (%v), want %d", l, len(got), err, want)
		}
	}
	for bad, wantErr := range map[string]string{
		`{}`:                            "not a JSON array",
		`[{"id":"A"},{"id":"A"}]`:       "given twice",
		`[{"reference":"R"}]`:           "id is missing",
		`[{"id":"A","colour":"red"}]`:   "unknown field",
		`[{"id":"A","state":"BROKEN"}]`: "state",
		`[] []`:                         "data after",
	} {
		if _, err := ParseFileInventory([]byte(bad)); err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: got %v, want an error about %q", bad, err, wantErr)
		}
	}
	if _, err := LoadFileInventory("/nonexistent/inventory.json"); err == nil {
		t.Error("missing file accepted")
	}
}

func BenchmarkResolveWarm(b *testing.B) {
	addr := testredis.Shared(b)
	inv, _ := ParseFileInventory([]byte(`[]`))
	rdb := NewRedisClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	r := NewResolver(rdb, inv, Options{KeyPrefix: testredis.Prefix(b)})
	lookups := make([]order.Lookup, 1000)
	for i := range lookups {
		lookups[i] = order.Lookup{Criterion: order.ByID, Value: fmt.Sprintf("SP-%d", i)}
	}
	if _, err := r.Resolve(context.Background(), lookups); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Resolve(context.Background(), lookups); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(lookups)), "ns/lookup")
}
