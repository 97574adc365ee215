package rediscluster

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ordergate/ordergate/internal/app/testkit"
	"github.com/ordergate/ordergate/internal/foundation/testredis"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/processor/servicepoint"
)

// TestSentinelPrimaryKilled: the primary killed (SIGKILL) under load; the sentinels promote
// the replica, the worker's failover client follows them, and the former primary, brought
// back, is made a replica of the new one.
func TestSentinelPrimaryKilled(t *testing.T) {
	s := testredis.StartSentinel(t, testredis.SentinelOptions{})
	c := testkit.NewCluster(t, 6, nil)
	w := startWorker(t, sentinelConfig(t, c, "redis:///0", s, ""), inventory(t))
	l := startLoad(t, c, 400)
	waitCommitted(t, c, 1500, time.Minute)
	if got := metric(t, w, "ordergate_redis_nodes", "role", "sentinel"); got != 3 {
		t.Errorf("ordergate_redis_nodes{role=sentinel} = %v, want 3", got)
	}
	if got := metric(t, w, "ordergate_redis_nodes", "role", "replica"); got != 1 {
		t.Errorf("ordergate_redis_nodes{role=replica} = %v, want 1", got)
	}
	old := s.Primary()
	killed := time.Now()
	old.Kill()
	s.WaitFailover(old, time.Minute)
	failedOver := time.Now()
	back := waitCommitted(t, c, l.Produced(), 2*time.Minute)
	old.Restart()
	s.WaitReplicas(1, time.Minute)
	time.Sleep(3 * time.Second)
	n, r := finish(t, c, l)
	row{"sentinel: the primary killed (SIGKILL), the replica promoted, the former primary brought back as a replica", n, r,
		back.Sub(failedOver), fmt.Sprintf("failover took %v; %s", failedOver.Sub(killed).Round(10*time.Millisecond), redisErrors(t, w))}.log(t)
}

// TestSentinelBoundedReads: through a Sentinel-managed primary too, a batch reads at most
// servicepoint.MaxEntryBytes of a key: a 32 MiB value is a corrupt entry, replaced, and the
// primary sends far less than the value.
func TestSentinelBoundedReads(t *testing.T) {
	s := testredis.StartSentinel(t, testredis.SentinelOptions{})
	rdb := servicepoint.OpenRedis(&redis.UniversalOptions{Addrs: s.Addrs(), MasterName: s.Master(),
		ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second}, nil)
	defer rdb.Close()
	r := servicepoint.NewResolver(rdb, inventory(t), servicepoint.Options{KeyPrefix: testredis.Prefix(t)})
	ctx := context.Background()
	huge := order.Lookup{Criterion: order.ByID, Value: "SP-1"}
	if err := rdb.Set(ctx, r.Key(huge), strings.Repeat("x", 32<<20), time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	primary := s.DataClient(s.Primary())
	before := netOutput(t, primary)
	got, err := r.Resolve(ctx, []order.Lookup{huge, {Criterion: order.ByID, Value: "SP-2"}})
	if err != nil || len(got[0]) != 1 || got[0][0].ID != "SP-1" {
		t.Fatalf("got %+v, %v", got, err)
	}
	if sent := netOutput(t, primary) - before; sent > 1<<20 {
		t.Fatalf("the primary sent %d bytes for a batch of two keys: the value was read whole", sent)
	}
	if st := r.Stats(); st.CorruptEntries != 1 {
		t.Fatalf("%d corrupt entries, want the huge one", st.CorruptEntries)
	}
}

// netOutput returns what a server has sent to its clients so far (INFO stats), its
// replicas' stream left out.
func netOutput(t *testing.T, c *redis.Client) int64 {
	t.Helper()
	stats := map[string]int64{}
	for line := range strings.SplitSeq(c.Info(context.Background(), "stats").Val(), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			var n int64
			fmt.Sscan(v, &n)
			stats[k] = n
		}
	}
	if _, ok := stats["total_net_output_bytes"]; !ok {
		t.Fatal("INFO stats has no total_net_output_bytes")
	}
	return stats["total_net_output_bytes"] - stats["total_net_repl_output_bytes"]
}
