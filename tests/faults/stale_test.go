package faults

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ordergate/ordergate/internal/app/audit"
	"github.com/ordergate/ordergate/internal/app/testkit"
	"github.com/ordergate/ordergate/internal/app/worker"
	"github.com/ordergate/ordergate/internal/foundation/testredis"
	"github.com/ordergate/ordergate/processor/order"
)

// keysOn returns n record keys that the Murmur2 balancer sends to the given partitions (of
// 6), so that a test can keep two sets of requests in batches of their own.
func keysOn(n int, partitions ...int) []string {
	var keys []string
	for i := 0; len(keys) < n; i++ {
		k := fmt.Sprintf("customer-%d", i)
		p := kafka.Murmur2Balancer{}.Balance(kafka.Message{Key: []byte(k)}, 0, 1, 2, 3, 4, 5)
		for _, want := range partitions {
			if p == want {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// TestServeStaleDuringInventoryOutage is the acceptance of serve-stale (issue 17): the
// inventory down (503) for 30 s. With ORDERGATE_CACHE_STALE_FOR set, the requests for
// service points cached before the outage (their entries expired meanwhile) are decided
// during it, from the stale entries, with "servicePointStale": true; the requests for
// service points never cached wait for the inventory. Without it nothing changes: every
// request waits. Either way nothing is missing or wrongly rejected once the inventory is
// back, and no event of a fresh answer says stale.
func TestServeStaleDuringInventoryOutage(t *testing.T) {
	for _, tc := range []struct {
		name     string
		staleFor time.Duration
	}{{"on", 10 * time.Minute}, {"off", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			var down atomic.Bool
			url := inventoryStub(t, fileInventory(t), func(w http.ResponseWriter, _ *http.Request) bool {
				d := down.Load()
				if d {
					http.Error(w, "maintenance", http.StatusServiceUnavailable)
				}
				return d
			})
			c := testkit.NewCluster(t, 6, nil)
			cfg := testkit.Config(t, c, testredis.Shared(t), testredis.Prefix(t))
			cfg.InventoryURL = url
			cfg.InventoryTimeout = 300 * time.Millisecond
			cfg.CacheTTL = 2 * time.Second
			cfg.CacheStaleFor = tc.staleFor
			cfg.StuckAfter = time.Hour
			testkit.StartWorker(t, cfg, worker.Options{})

			cachedKeys, otherKeys := keysOn(20, 0, 1, 2), keysOn(20, 3, 4, 5)
			batch := func(keys []string, spBase, seqBase, n int) []order.Record {
				recs := make([]order.Record, n)
				for i := range recs {
					recs[i] = testkit.Record(keys[i%len(keys)], disconnect(spBase+i%100, seqBase+i), testkit.RecordTime)
				}
				return recs
			}
			// Cache SP-0..SP-99, then let their entries expire.
			c.Produce(t, batch(cachedKeys, 0, 0, 300)...)
			c.WaitEvents(t, 300, time.Minute)
			time.Sleep(cfg.CacheTTL + 500*time.Millisecond)

			down.Store(true)
			start := time.Now()
			c.Produce(t, batch(cachedKeys, 0, 1000, 600)...)  // cached service points
			c.Produce(t, batch(otherKeys, 500, 2000, 600)...) // never cached
			time.Sleep(15 * time.Second)
			during := c.Events(t) - 300
			time.Sleep(time.Until(start.Add(30 * time.Second)))
			after30 := c.Events(t) - 300
			down.Store(false)
			c.WaitCommitted(t, "ordergate-test", 2*time.Minute)

			r := c.Check(t, audit.Options{})
			if r.Inputs != 1500 || r.Rejected != 0 || r.DLQ != 0 {
				t.Fatalf("%+v: want 1500 inputs, all accepted", r)
			}
			stale, staleOther := 0, 0
			for _, m := range c.Read(t, testkit.Topics.Accepted) {
				var ev struct {
					Stale  bool `json:"servicePointStale"`
					Source struct {
						Offset int64 `json:"offset"`
					} `json:"source"`
					ServicePoint struct {
						ID string `json:"id"`
					} `json:"servicePoint"`
				}
				if err := json.Unmarshal(m.Value, &ev); err != nil {
					t.Fatal(err)
				}
				if ev.Stale {
					stale++
					var n int
					if _, err := fmt.Sscanf(ev.ServicePoint.ID, "SP-%d", &n); err != nil || n >= 100 {
						staleOther++
					}
				}
				if !ev.Stale && strings.Contains(string(m.Value), "servicePointStale") {
					t.Fatalf("servicePointStale written false: %s", m.Value)
				}
			}
			t.Logf("STALE | serve-stale %s | 600 requests for cached service points, 600 for others | decided during the first 15 s of the outage: %d, by its end (30 s): %d | events with servicePointStale: %d",
				tc.name, during, after30, stale)
			switch {
			case staleOther != 0:
				t.Fatalf("%d events of never-cached service points say stale", staleOther)
			case tc.staleFor > 0 && (during != 600 || after30 != 600 || stale != 600):
				t.Fatalf("on: %d decided in 15 s, %d in 30 s, %d stale; want exactly the 600 requests for cached service points, all stale", during, after30, stale)
			case tc.staleFor == 0 && (during != 0 || after30 != 0 || stale != 0):
				t.Fatalf("off: %d decided during the outage, %d stale; want none", after30, stale)
			}
		})
	}
}
