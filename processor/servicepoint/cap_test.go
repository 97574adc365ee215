package servicepoint

import (
	"context"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ordergate/ordergate/internal/foundation/testredis"
	"github.com/ordergate/ordergate/processor/order"
)

// netOutput returns what a server has sent to its clients so far (INFO stats).
func netOutput(t *testing.T, c *redis.Client) int64 {
	t.Helper()
	info, err := c.Info(context.Background(), "stats").Result()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "total_net_output_bytes:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("INFO stats has no total_net_output_bytes")
	return 0
}

// TestHugeValueIsNeverReadWhole (issue 17, item 2): a value of 32 MiB under one key is not
// read whole: the batch reads at most MaxEntryBytes of each key (the server's own count of
// bytes sent proves it), treats the value as a corrupt entry (too_large, logged once with
// its key) and replaces it. Before the fix the batch's MGET read the 32 MiB (and a 500 MB
// value made every read of it time out, for good).
func TestHugeValueIsNeverReadWhole(t *testing.T) {
	srv := testredis.Start(t)
	raw := rawClient(t, srv.Addr())
	ctx := context.Background()
	inv := newInventoryServer(t)
	obs := newRecorder()
	var logs strings.Builder // Resolve logs on the caller's goroutine
	r, _ := newResolver(t, srv.Addr(), NewHTTPInventory(inv.URL, "", time.Second, nil),
		Options{Observer: obs, RedisTimeout: 2 * time.Second, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	huge := byID("SP-huge")
	if err := raw.Set(ctx, r.Key(huge), strings.Repeat("[", 32<<20), time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	lookups := []order.Lookup{huge, byID("SP-1"), byID("SP-2")}
	before := netOutput(t, raw)
	got, err := r.Resolve(ctx, lookups)
	sent := netOutput(t, raw) - before
	if err != nil || len(got[0]) != 1 || got[0][0] != point("SP-huge") {
		t.Fatalf("got %+v, %v", got, err)
	}
	if limit := int64(len(lookups)*(MaxEntryBytes+1) + 64<<10); sent > limit {
		t.Fatalf("the server sent %d bytes for a batch of %d keys, want at most %d: a value was read whole", sent, len(lookups), limit)
	}
	if o := obs.snapshot(); !reflect.DeepEqual(o.corrupt, map[string]int{CorruptTooLarge: 1}) {
		t.Errorf("corrupt entries %v, want one too_large", o.corrupt)
	}
	if !strings.Contains(logs.String(), "key="+r.Key(huge)) || !strings.Contains(logs.String(), "reason=too_large") {
		t.Errorf("log %q does not name the key", logs.String())
	}
	if n := raw.StrLen(ctx, r.Key(huge)).Val(); n > MaxEntryBytes {
		t.Errorf("the huge value was not replaced (%d bytes)", n)
	}
}

// TestFailedWriteBackIsNotARetry (issue 17, item 7): a write-back that Redis refuses (here
// out of memory with noeviction) does not fail the batch and is counted as op=write; a
// failed read fails the batch and is counted as op=read.
func TestFailedWriteBackIsNotARetry(t *testing.T) {
	srv := testredis.Start(t, "--maxmemory-policy", "noeviction")
	raw := rawClient(t, srv.Addr())
	ctx := context.Background()
	if err := raw.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		t.Fatal(err)
	}
	inv := newInventoryServer(t)
	obs := newRecorder()
	r, _ := newResolver(t, srv.Addr(), NewHTTPInventory(inv.URL, "", time.Second, nil), Options{Observer: obs})
	got, err := r.Resolve(ctx, []order.Lookup{byID("SP-1")})
	if err != nil || len(got[0]) != 1 {
		t.Fatalf("got %+v, %v; a failed write-back must not fail the batch", got, err)
	}
	if o := obs.snapshot(); !reflect.DeepEqual(o.cacheErrors, map[string]int{OpWrite: 1}) {
		t.Fatalf("cache errors %v, want one write", o.cacheErrors)
	}
	srv.Stop()
	if _, err := r.Resolve(ctx, []order.Lookup{byID("SP-1")}); err == nil {
		t.Fatal("a batch whose read failed succeeded")
	}
	if o := obs.snapshot(); !reflect.DeepEqual(o.cacheErrors, map[string]int{OpWrite: 1, OpRead: 1}) {
		t.Fatalf("cache errors %v, want one write and one read", o.cacheErrors)
	}
}
