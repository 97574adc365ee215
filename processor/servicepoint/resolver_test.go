package servicepoint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/foundation/testredis"
	"github.com/ordergate/ordergate/processor/order"
)

// TestBatchRoundTrips: a cold batch of 1000 lookups over 100 keys is one pipeline of 100
// bounded reads (GETRANGE, never an MGET), 100 inventory calls and one write-back pipeline
// of 100 SET; the same batch warm is one read pipeline and nothing else. Round trips are
// counted by a go-redis hook, not by the resolver's own counters.
func TestBatchRoundTrips(t *testing.T) {
	inv := newInventoryServer(t)
	obs := newRecorder()
	r, hook := newResolver(t, testredis.Shared(t), NewHTTPInventory(inv.URL, "", time.Second, nil), Options{Observer: obs})
	lookups := make([]order.Lookup, 1000)
	for i := range lookups {
		lookups[i] = byID(fmt.Sprintf("SP-%d", i%100))
	}
	ctx := context.Background()

	got, err := r.Resolve(ctx, lookups)
	if err != nil {
		t.Fatal(err)
	}
	mgets, pipelines, others := hook.counts()
	if mgets != 0 || !reflect.DeepEqual(pipelines, []string{"getrange*100", "set*100"}) || others != 0 || inv.calls.Load() != 100 {
		t.Fatalf("cold batch: %d MGET, pipelines %v, %d other commands, %d inventory calls; want one pipeline of 100 GETRANGE, one of 100 SET, nothing else, 100 calls",
			mgets, pipelines, others, inv.calls.Load())
	}
	if len(got) != len(lookups) {
		t.Fatalf("%d answers for %d lookups", len(got), len(lookups))
	}
	for i, matches := range got {
		if len(matches) != 1 || matches[0] != point(lookups[i].Value) {
			t.Fatalf("lookup %d (%v): got %+v", i, lookups[i], matches)
		}
	}

	again, err := r.Resolve(ctx, lookups)
	if err != nil {
		t.Fatal(err)
	}
	mgets, pipelines, others = hook.counts()
	if mgets != 0 || !reflect.DeepEqual(pipelines, []string{"getrange*100", "set*100", "getrange*100"}) || others != 0 || inv.calls.Load() != 100 {
		t.Fatalf("warm batch: pipelines %v, %d MGET, %d others, %d calls in all; want one more read pipeline only", pipelines, mgets, others, inv.calls.Load())
	}
	if !reflect.DeepEqual(again, got) {
		t.Fatal("the warm batch answers differently from the cold one")
	}
	want := Stats{RedisRoundTrips: 3, InventoryCalls: 100, CacheHits: 100, CacheMisses: 100}
	if s := r.Stats(); s != want {
		t.Errorf("stats %+v, want %+v", s, want)
	}
	o := obs.snapshot()
	if o.hits != 100 || o.misses != 100 || o.redisRounds != 3 || len(o.cacheErrors) != 0 || !reflect.DeepEqual(o.results, map[string]int{ResultOK: 100}) {
		t.Errorf("observed %+v", o)
	}
}

// TestMixedBatch: only the keys Redis lacks are asked and written back; a cached negative
// entry is a hit that answers "none".
func TestMixedBatch(t *testing.T) {
	addr := testredis.Shared(t)
	inv := newInventoryServer(t)
	r, hook := newResolver(t, addr, NewHTTPInventory(inv.URL, "", time.Second, nil), Options{})
	ctx := context.Background()
	raw := rawClient(t, addr)
	raw.Set(ctx, r.Key(byID("SP-cached")), `[{"id":"SP-cached","market":"BE"}]`, time.Minute) // the first format
	raw.Set(ctx, r.Key(byID("SP-negative")), "[]", time.Minute)

	lookups := []order.Lookup{byID("SP-cached"), byID("SP-new"), byID("SP-negative"), byID("NOPE"), byID("SP-cached")}
	got, err := r.Resolve(ctx, lookups)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]order.ServicePoint{{{ID: "SP-cached", Market: "BE"}}, {point("SP-new")}, {}, {}, {{ID: "SP-cached", Market: "BE"}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if got[2] == nil || got[3] == nil {
		t.Error("none must be an empty list, not nil")
	}
	if _, pipelines, _ := hook.counts(); inv.calls.Load() != 2 || !reflect.DeepEqual(pipelines, []string{"getrange*4", "set*2"}) {
		t.Fatalf("%d inventory calls, pipelines %v; want 2 calls (SP-new, NOPE) and one pipeline of 2 SET", inv.calls.Load(), pipelines)
	}
	if v := raw.Get(ctx, r.Key(byID("NOPE"))).Val(); !strings.HasPrefix(v, `{"freshUntil":`) || !strings.HasSuffix(v, `,"matches":[]}`) {
		t.Errorf("negative entry %q, want an empty list of matches", v)
	}
}

// TestOneCallPerKeyAcrossConcurrentBatches: 100 batches asking at once for one key that
// Redis lacks make one inventory call, however fast the inventory answers: a batch that
// misses in Redis after the call ended takes the answer being written back.
func TestOneCallPerKeyAcrossConcurrentBatches(t *testing.T) {
	for _, delay := range []time.Duration{0, 50 * time.Millisecond} {
		t.Run(fmt.Sprint("inventory answers in ", delay), func(t *testing.T) {
			inv := newInventoryServer(t)
			inv.delay.Store(int64(delay))
			r, _ := newResolver(t, testredis.Shared(t), NewHTTPInventory(inv.URL, "", time.Second, nil), Options{})
			start := make(chan struct{})
			var wg sync.WaitGroup
			errs := make(chan error, 100)
			for range 100 {
				wg.Go(func() {
					<-start
					got, err := r.Resolve(context.Background(), []order.Lookup{byID("SP-ONE"), byID("SP-ONE")})
					if err == nil && (len(got) != 2 || len(got[0]) != 1 || got[0][0].ID != "SP-ONE") {
						err = fmt.Errorf("got %+v", got)
					}
					errs <- err
				})
			}
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if n := inv.calls.Load(); n != 1 {
				t.Fatalf("%d inventory calls for one key asked by 100 concurrent batches, want 1", n)
			}
		})
	}
}

// TestOverlappingConcurrentBatches: concurrent batches over overlapping keys make exactly
// one call per distinct key.
func TestOverlappingConcurrentBatches(t *testing.T) {
	inv := newInventoryServer(t)
	inv.delay.Store(int64(5 * time.Millisecond))
	r, _ := newResolver(t, testredis.Shared(t), NewHTTPInventory(inv.URL, "", 5*time.Second, nil), Options{Concurrency: 8})
	var wg sync.WaitGroup
	for b := range 20 {
		wg.Go(func() {
			lookups := make([]order.Lookup, 50)
			for i := range lookups {
				lookups[i] = byID(fmt.Sprintf("SP-%d", (b*10+i)%120))
			}
			got, err := r.Resolve(context.Background(), lookups)
			if err != nil {
				t.Error(err)
				return
			}
			for i := range lookups {
				if len(got[i]) != 1 || got[i][0].ID != lookups[i].Value {
					t.Errorf("batch %d lookup %d: %+v", b, i, got[i])
				}
			}
		})
	}
	wg.Wait()
	if n := inv.calls.Load(); n != 120 {
		t.Fatalf("%d inventory calls for 120 distinct keys", n)
	}
	if m := inv.maxIn.Load(); m > 8 {
		t.Fatalf("%d inventory calls at once with Concurrency 8", m)
	}
}

// TestConcurrencyBound: the inventory never sees more calls at once than Options.Concurrency,
// and the bound is reached.
func TestConcurrencyBound(t *testing.T) {
	inv := newInventoryServer(t)
	inv.delay.Store(int64(30 * time.Millisecond))
	r, _ := newResolver(t, testredis.Shared(t), NewHTTPInventory(inv.URL, "", 5*time.Second, nil), Options{Concurrency: 4})
	lookups := make([]order.Lookup, 40)
	for i := range lookups {
		lookups[i] = byID(fmt.Sprintf("SP-%d", i))
	}
	if _, err := r.Resolve(context.Background(), lookups); err != nil {
		t.Fatal(err)
	}
	if m := inv.maxIn.Load(); m != 4 {
		t.Fatalf("at most %d inventory calls at once, want exactly 4", m)
	}
}

// TestCallerGivesUp: a batch whose context ends stops waiting with a transient error, while
// the call it started keeps going for the other batches waiting for the same key.
func TestCallerGivesUp(t *testing.T) {
	inv := newInventoryServer(t)
	inv.delay.Store(int64(300 * time.Millisecond))
	r, _ := newResolver(t, testredis.Shared(t), NewHTTPInventory(inv.URL, "", 5*time.Second, nil), Options{})
	l := []order.Lookup{byID("SP-slow")}

	impatient, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := r.Resolve(impatient, l)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond) // let the impatient batch start the call
	got, err := r.Resolve(context.Background(), l)
	if err != nil || len(got[0]) != 1 {
		t.Fatalf("patient batch: %+v, %v", got, err)
	}
	err = <-done
	var te *TransientError
	if !errors.As(err, &te) || te.Cause() != CauseInventoryTimeout {
		t.Fatalf("impatient batch: %v, want a transient inventory_timeout", err)
	}
	if n := inv.calls.Load(); n != 1 {
		t.Fatalf("%d inventory calls, want 1 shared by both batches", n)
	}
}

// TestCorruptEntryIsAMiss: an entry that cannot be the answer to its key counts as a miss
// and as corrupt, with its reason; it is logged once with its key, and the inventory's
// answer replaces it, with its TTL.
func TestCorruptEntryIsAMiss(t *testing.T) {
	addr := testredis.Shared(t)
	raw := rawClient(t, addr)
	ctx := context.Background()
	for name, tc := range map[string]struct {
		value  string
		reason string
	}{
		"not JSON":          {"{not json", CorruptMalformed},
		"null":              {"null", CorruptMalformed},
		"object":            {`{"id":"SP-7"}`, CorruptMalformed},
		"no id":             {`[{"name":"nameless"}]`, CorruptMalformed},
		"wrong type":        {`[{"id":7}]`, CorruptMalformed},
		"trailing":          {`[] x`, CorruptMalformed},
		"another key's":     {`[{"id":"SP-1999"}]`, CorruptInconsistent},
		"another, escaped":  {`[{"id":"SP-\u0031"}]`, CorruptInconsistent},
		"duplicates":        {`[{"id":"SP-7"},{"id":"SP-7"}]`, CorruptDuplicate},
		"too large":         {"[" + strings.Repeat(`{"id":"SP-7"},`, MaxEntryBytes/14) + `{"id":"SP-7"}]`, CorruptTooLarge},
		"too large garbage": {strings.Repeat("x", 3*MaxEntryBytes), CorruptTooLarge},
	} {
		t.Run(name, func(t *testing.T) {
			inv := newInventoryServer(t)
			obs := newRecorder()
			var logs strings.Builder // Resolve logs on the caller's goroutine
			r, _ := newResolver(t, addr, NewHTTPInventory(inv.URL, "", time.Second, nil),
				Options{Observer: obs, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			key := r.Key(byID("SP-7"))
			raw.Set(ctx, key, tc.value, time.Hour)
			got, err := r.Resolve(ctx, []order.Lookup{byID("SP-7")})
			if err != nil || len(got[0]) != 1 || got[0][0] != point("SP-7") || inv.calls.Load() != 1 {
				t.Fatalf("got %+v, %v after %d calls", got, err, inv.calls.Load())
			}
			if s := r.Stats(); s.CorruptEntries != 1 || s.CacheMisses != 1 {
				t.Errorf("stats %+v", s)
			}
			if o := obs.snapshot(); !reflect.DeepEqual(o.corrupt, map[string]int{tc.reason: 1}) {
				t.Errorf("corrupt entries observed %v, want one %s", o.corrupt, tc.reason)
			}
			if v := raw.Get(ctx, key).Val(); v == tc.value || !strings.HasPrefix(v, `{"freshUntil":`) {
				t.Fatalf("corrupt entry not overwritten: %.80q", v)
			}
			if ttl := raw.PTTL(ctx, key).Val(); ttl > DefaultTTL || ttl < DefaultTTL-time.Minute {
				t.Errorf("TTL of the rewritten entry %v, want the positive TTL", ttl)
			}
			if n := strings.Count(logs.String(), "corrupt cache entry"); n != 1 || !strings.Contains(logs.String(), "key="+key) || !strings.Contains(logs.String(), "reason="+tc.reason) {
				t.Errorf("log %q: want one line naming the key and the reason", logs.String())
			}
			// Corrupt again (another writer): counted again, logged once only.
			raw.Set(ctx, key, tc.value, time.Hour)
			if _, err := r.Resolve(ctx, []order.Lookup{byID("SP-7")}); err != nil {
				t.Fatal(err)
			}
			if s := r.Stats(); s.CorruptEntries != 2 || strings.Count(logs.String(), "corrupt cache entry") != 1 {
				t.Errorf("second time: %d corrupt, log %q", s.CorruptEntries, logs.String())
			}
		})
	}
}

// TestKeyOfAnotherTypeIsCorrupt: a key holding a list (or any type but a string) is a
// corrupt entry, replaced, not a Redis failure that would stall the batch.
func TestKeyOfAnotherTypeIsCorrupt(t *testing.T) {
	addr := testredis.Shared(t)
	raw := rawClient(t, addr)
	obs := newRecorder()
	r, _ := newResolver(t, addr, NewHTTPInventory(newInventoryServer(t).URL, "", time.Second, nil), Options{Observer: obs})
	ctx := context.Background()
	raw.RPush(ctx, r.Key(byID("SP-8")), "x")
	got, err := r.Resolve(ctx, []order.Lookup{byID("SP-8")})
	if err != nil || len(got[0]) != 1 {
		t.Fatalf("got %+v, %v", got, err)
	}
	if o := obs.snapshot(); o.corrupt[CorruptWrongType] != 1 || len(o.cacheErrors) != 0 {
		t.Errorf("observed %+v", o)
	}
	if typ := raw.Type(ctx, r.Key(byID("SP-8"))).Val(); typ != "string" {
		t.Errorf("the key is a %s after the write-back", typ)
	}
}

// TestInvalidLookup: a lookup package order never builds fails the batch without touching
// Redis or the inventory, and is not mistaken for a transient failure or for "none".
func TestInvalidLookup(t *testing.T) {
	inv := newInventoryServer(t)
	r, hook := newResolver(t, testredis.Shared(t), NewHTTPInventory(inv.URL, "", time.Second, nil), Options{})
	for _, l := range []order.Lookup{{Criterion: "ID", Value: "SP-1"}, {Criterion: "", Value: "x"}, {Criterion: order.ByReference, Value: ""}} {
		got, err := r.Resolve(context.Background(), []order.Lookup{byID("SP-1"), l})
		if !errors.Is(err, ErrInvalidLookup) || errors.Is(err, ErrTransient) || got != nil {
			t.Errorf("%+v: got %+v, %v", l, got, err)
		}
	}
	if mgets, pipelines, others := hook.counts(); mgets+len(pipelines)+others != 0 || inv.calls.Load() != 0 {
		t.Fatalf("an invalid batch reached Redis or the inventory")
	}
}

func TestEmptyBatch(t *testing.T) {
	r, hook := newResolver(t, testredis.Shared(t), &FileInventory{}, Options{})
	got, err := r.Resolve(context.Background(), nil)
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("got %#v, %v", got, err)
	}
	if mgets, pipelines, others := hook.counts(); mgets+len(pipelines)+others != 0 {
		t.Fatal("an empty batch read Redis")
	}
}

// TestValuesThatLookLikeKeys: values holding colons, spaces and other odd characters get
// keys of their own, so no lookup is ever answered with another's cache entry.
func TestValuesThatLookLikeKeys(t *testing.T) {
	points := []order.ServicePoint{
		{ID: "A", Reference: "id:A", CustomerReference: "reference:id:A"},
		{ID: "A:B", Reference: "A", CustomerReference: "A B"},
		{ID: "id:A", Reference: "B\nC", CustomerReference: "é/€:%20"},
	}
	inv, err := NewFileInventory(points)
	if err != nil {
		t.Fatal(err)
	}
	var lookups []order.Lookup
	for _, c := range []order.Criterion{order.ByID, order.ByReference, order.ByCustomerReference} {
		for _, v := range []string{"A", "A:B", "id:A", "reference:id:A", "A B", "B\nC", "é/€:%20", "sp:id:A", "B"} {
			lookups = append(lookups, order.Lookup{Criterion: c, Value: v})
		}
	}
	r, _ := newResolver(t, testredis.Shared(t), inv, Options{})
	for round := range 2 { // cold, then from the cache
		got, err := r.Resolve(context.Background(), lookups)
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range lookups {
			want, _ := inv.Find(context.Background(), l)
			if !reflect.DeepEqual(got[i], want) {
				t.Errorf("round %d, %s %q: got %+v, want %+v", round, l.Criterion, l.Value, got[i], want)
			}
		}
	}
	if s := r.Stats(); s.CacheHits != int64(len(lookups)) {
		t.Errorf("second round: %d hits for %d keys", s.CacheHits, len(lookups))
	}
}
