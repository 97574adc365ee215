package servicepoint

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/foundation/testredis"
	"github.com/ordergate/ordergate/processor/order"
)

// TestTTLs: an answer with matches is cached for the positive TTL and an empty one for the
// negative TTL. The test reads the TTLs Redis holds (PTTL, within a range), then waits past
// each and checks that the entry is gone and the inventory asked again for that key only.
func TestTTLs(t *testing.T) {
	const positive, negative = 2 * time.Second, time.Second
	addr := testredis.Shared(t)
	inv := newInventoryServer(t)
	r, _ := newResolver(t, addr, NewHTTPInventory(inv.URL, "", time.Second, nil), Options{TTL: positive, NegativeTTL: negative})
	raw := rawClient(t, addr)
	ctx := context.Background()
	pos, neg := byID("SP-1"), byID("NONE-1")
	batch := []order.Lookup{pos, neg}

	written := time.Now()
	got, err := r.Resolve(ctx, batch)
	if err != nil || len(got[0]) != 1 || len(got[1]) != 0 {
		t.Fatalf("got %+v, %v", got, err)
	}
	if ttl := raw.PTTL(ctx, r.Key(pos)).Val(); ttl <= positive/2 || ttl > positive {
		t.Errorf("positive entry PTTL %v, want in (%v, %v]", ttl, positive/2, positive)
	}
	if ttl := raw.PTTL(ctx, r.Key(neg)).Val(); ttl <= 0 || ttl > negative {
		t.Errorf("negative entry PTTL %v, want in (0, %v]", ttl, negative)
	}
	if v := raw.Get(ctx, r.Key(neg)).Val(); !strings.HasSuffix(v, `,"matches":[]}`) {
		t.Errorf("negative entry %q, want an empty list of matches", v)
	}

	time.Sleep(time.Until(written.Add(negative + 200*time.Millisecond)))
	if raw.Exists(ctx, r.Key(neg)).Val() != 0 {
		t.Fatal("the negative entry outlived the negative TTL")
	}
	if raw.Exists(ctx, r.Key(pos)).Val() != 1 {
		t.Fatal("the positive entry expired with the negative TTL")
	}
	if _, err := r.Resolve(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if inv.callsFor(neg) != 2 || inv.callsFor(pos) != 1 {
		t.Fatalf("after the negative TTL: %d calls for the negative key (want 2), %d for the positive (want 1)", inv.callsFor(neg), inv.callsFor(pos))
	}

	time.Sleep(time.Until(written.Add(positive + 200*time.Millisecond)))
	if raw.Exists(ctx, r.Key(pos)).Val() != 0 {
		t.Fatal("the positive entry outlived the positive TTL")
	}
	if _, err := r.Resolve(ctx, []order.Lookup{pos}); err != nil {
		t.Fatal(err)
	}
	if inv.callsFor(pos) != 2 {
		t.Fatalf("after the positive TTL: %d calls for the positive key, want 2", inv.callsFor(pos))
	}
}
