package rediscluster

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ordergate/ordergate/internal/app/testkit"
	"github.com/ordergate/ordergate/internal/foundation/testredis"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/processor/servicepoint"
)

// nodeTrips records the exchanges of a Redis connection, node by node.
type nodeTrips struct {
	mu     sync.Mutex
	trips  map[string]int
	errors map[string]int
}

func newNodeTrips() *nodeTrips { return &nodeTrips{trips: map[string]int{}, errors: map[string]int{}} }

func (n *nodeTrips) RedisNodeRoundTrip(node string) { n.mu.Lock(); n.trips[node]++; n.mu.Unlock() }
func (n *nodeTrips) RedisError(kind string)         { n.mu.Lock(); n.errors[kind]++; n.mu.Unlock() }

func (n *nodeTrips) snapshot() (map[string]int, map[string]int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return maps.Clone(n.trips), maps.Clone(n.errors)
}

// TestBatchSpansEverySlotRange: one batch of 3000 distinct keys, which fall in the slot
// ranges of all three primaries, costs one read pipeline per primary and one write-back
// pipeline per primary (sent at once, go-redis splitting the batch by node), and nothing
// for the replicas; warm, one read pipeline per primary. No command crosses slots: an MGET
// of the batch, as the single-node path used to send, is refused with CROSSSLOT. A huge
// value under one key is not read whole on a cluster either.
func TestBatchSpansEverySlotRange(t *testing.T) {
	rc := testredis.StartCluster(t, testredis.ClusterOptions{})
	trips := newNodeTrips()
	rdb := servicepoint.OpenRedis(&redis.UniversalOptions{Addrs: rc.Addrs()[:1], IsClusterMode: true,
		ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second}, trips)
	defer rdb.Close()
	prefix := testredis.Prefix(t)
	r := servicepoint.NewResolver(rdb, inventory(t), servicepoint.Options{KeyPrefix: prefix})
	lookups := make([]order.Lookup, 3000)
	keys := make([]string, len(lookups))
	for i := range lookups {
		lookups[i] = order.Lookup{Criterion: order.ByID, Value: fmt.Sprintf("SP-%d", i)}
		keys[i] = r.Key(lookups[i])
	}
	ctx := context.Background()
	if _, err := rdb.Probe(ctx); err != nil {
		t.Fatal(err)
	}
	primaries := map[string]int{}
	for _, p := range rc.Primaries() {
		primaries[p.Addr()] = 0
	}
	before, _ := trips.snapshot()
	for _, round := range []struct {
		name string
		per  int // exchanges per primary
	}{{"cold", 2}, {"warm", 1}} {
		got, err := r.Resolve(ctx, lookups)
		if err != nil {
			t.Fatalf("%s batch: %v", round.name, err)
		}
		for i := range lookups {
			if len(got[i]) != 1 || got[i][0].ID != lookups[i].Value {
				t.Fatalf("%s batch, lookup %d: %+v", round.name, i, got[i])
			}
		}
		after, errs := trips.snapshot()
		want := maps.Clone(primaries)
		for addr := range want {
			want[addr] = round.per
		}
		delta := map[string]int{}
		for node, n := range after {
			if d := n - before[node]; d > 0 {
				delta[node] = d
			}
		}
		if !maps.Equal(delta, want) || len(errs) != 0 {
			t.Fatalf("%s batch: exchanges per node %v, want %v (one per primary and round trip); errors %v", round.name, delta, want, errs)
		}
		before = after
		t.Logf("%s batch of %d keys: exchanges per node %v", round.name, len(keys), delta)
	}
	if err := rdb.MGet(ctx, keys...).Err(); err == nil || !strings.Contains(err.Error(), "CROSSSLOT") {
		t.Fatalf("an MGET of the batch: %v, want CROSSSLOT (the test's keys do not span slots?)", err)
	}

	// A value of 32 MiB under one key is read as at most servicepoint.MaxEntryBytes.
	huge := keys[7]
	if err := rdb.Set(ctx, huge, strings.Repeat("x", 32<<20), time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	node, err := rdb.UniversalClient.(*redis.ClusterClient).MasterForKey(ctx, huge)
	if err != nil {
		t.Fatal(err)
	}
	start := netOutput(t, node)
	if _, err := r.Resolve(ctx, lookups); err != nil {
		t.Fatal(err)
	}
	if d := netOutput(t, node) - start; d > 16<<20 {
		t.Fatalf("the node of the huge key sent %d bytes for one batch: the value was read whole", d)
	}
	if s := r.Stats(); s.CorruptEntries != 1 {
		t.Fatalf("%d corrupt entries, want the huge one", s.CorruptEntries)
	}
}

// TestEverySlotRangeUnderLoad: the worker on a cluster under a steady load decides every
// request; each batch's read and write-back reach every primary, each at most once per
// round trip.
func TestEverySlotRangeUnderLoad(t *testing.T) {
	rc := testredis.StartCluster(t, testredis.ClusterOptions{})
	c := testkit.NewCluster(t, 6, nil)
	w := startWorker(t, clusterConfig(t, c, "redis:///0", rc.Addrs()), inventory(t))
	l := startLoad(t, c, 400)
	time.Sleep(12 * time.Second)
	n, r := finish(t, c, l)
	trips := byLabel(t, w, "ordergate_redis_node_round_trips_total", "node")
	logical := metric(t, w, "ordergate_redis_round_trips_total")
	batches := histogramCount(t, w, "ordergate_batch_size")
	var parts []string
	for _, p := range rc.Primaries() {
		got := trips[p.Addr()]
		if got == 0 || got > logical {
			t.Errorf("primary %s: %v exchanges for %v round trips; want each round trip to reach it once at most", p.Addr(), got, logical)
		}
		parts = append(parts, fmt.Sprintf("%.2f", got/batches))
	}
	total := 0.0
	for _, v := range trips {
		total += v
	}
	if nodes := metric(t, w, "ordergate_redis_nodes", "role", "primary"); nodes != 3 {
		t.Errorf("ordergate_redis_nodes{role=primary} = %v, want 3", nodes)
	}
	if nodes := metric(t, w, "ordergate_redis_nodes", "role", "replica"); nodes != 3 {
		t.Errorf("ordergate_redis_nodes{role=replica} = %v, want 3", nodes)
	}
	row{"every slot range (3 primaries, 3 replicas)", n, r, 0,
		fmt.Sprintf("%.2f logical round trips per batch; per primary %s; %.2f exchanges per batch in all", logical/batches,
			strings.Join(parts, ", "), total/batches)}.log(t)
}

// TestClusterPrimaryKilled: a primary killed (SIGKILL) under load is replaced by its
// replica; the batches that needed its slots wait and go through once the cluster has
// failed over; the former primary, brought back, rejoins as a replica.
func TestClusterPrimaryKilled(t *testing.T) {
	rc := testredis.StartCluster(t, testredis.ClusterOptions{})
	c := testkit.NewCluster(t, 6, nil)
	w := startWorker(t, clusterConfig(t, c, "redis:///0", rc.Addrs()), inventory(t))
	l := startLoad(t, c, 400)
	waitCommitted(t, c, 1500, time.Minute)
	victim := rc.Primaries()[0]
	killed := time.Now()
	victim.Kill()
	rc.WaitOK(time.Minute)
	failedOver := time.Now()
	back := waitCommitted(t, c, l.Produced(), 2*time.Minute)
	victim.Restart()
	rc.WaitOK(time.Minute)
	time.Sleep(3 * time.Second)
	n, r := finish(t, c, l)
	row{"cluster: a primary killed (SIGKILL), its replica promoted, the primary brought back", n, r, back.Sub(failedOver),
		fmt.Sprintf("failover took %v; %s", failedOver.Sub(killed).Round(10*time.Millisecond), redisErrors(t, w))}.log(t)
}

// TestReshardWhileReading: 100 slots move from one primary to another (`redis-cli
// --cluster reshard`, one key per MIGRATE) while the worker reads and writes. The worker's
// key prefix holds a hash tag of the first slot to move, so that every key it reads or
// writes sits in the slot being migrated, thousands of them: reads of keys already moved
// are answered ASK, so are writes of new keys, then MOVED once the slot is gone. go-redis
// follows both; nothing is decided wrongly, nothing waits for long.
func TestReshardWhileReading(t *testing.T) {
	rc := testredis.StartCluster(t, testredis.ClusterOptions{})
	c := testkit.NewCluster(t, 6, nil)
	p := rc.Primaries()
	from, to := p[0], p[1]
	tag := tagOfSlot(rc.FirstSlot(from))
	cfg := clusterConfig(t, c, "redis:///0", rc.Addrs())
	cfg.RedisKeyPrefix = "{" + tag + "}:" + cfg.RedisKeyPrefix
	w := startWorker(t, cfg, inventory(t))
	l := startLoad(t, c, 400)
	waitCommitted(t, c, 4000, time.Minute)
	slotsBefore := rc.Slots(to)
	start := time.Now()
	rc.Reshard(from, to, 100, 1)
	done := time.Now()
	back := waitCommitted(t, c, l.Produced(), 2*time.Minute)
	time.Sleep(2 * time.Second)
	n, r := finish(t, c, l)
	if got := rc.Slots(to); got != slotsBefore+100 {
		t.Fatalf("%s serves %d slots after the reshard, want %d", to.Addr(), got, slotsBefore+100)
	}
	asks, moved := metric(t, w, "ordergate_redis_errors_total", "kind", "ask"), metric(t, w, "ordergate_redis_errors_total", "kind", "moved")
	if asks == 0 || moved == 0 {
		t.Errorf("%v ASK and %v MOVED seen during the reshard: the scenario did not exercise both redirections", asks, moved)
	}
	row{"cluster: slots migrated (redis-cli --cluster reshard) while reading and writing them", n, r, back.Sub(done),
		fmt.Sprintf("the reshard took %v; %s", done.Sub(start).Round(10*time.Millisecond), redisErrors(t, w))}.log(t)
}

// tagOfSlot returns a hash tag whose keys hash to slot.
func tagOfSlot(slot int) string {
	for i := 0; ; i++ {
		tag := fmt.Sprintf("r%d", i)
		if int(crc16([]byte(tag))%16384) == slot {
			return tag
		}
	}
}

// crc16 is the CRC16 (XMODEM) of Redis Cluster's key slots.
func crc16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// TestWholeClusterDown: every node killed for 10 s, then restarted (empty: nothing
// persists). The batches wait, /readyz says Redis is not ready, and everything is decided
// once the cluster is back, from the inventory.
func TestWholeClusterDown(t *testing.T) {
	rc := testredis.StartCluster(t, testredis.ClusterOptions{})
	c := testkit.NewCluster(t, 6, nil)
	cfg := clusterConfig(t, c, "redis:///0", rc.Addrs())
	cfg.StuckAfter = time.Hour // readiness must turn on Redis itself, not on stuck partitions
	w := startWorker(t, cfg, inventory(t))
	l := startLoad(t, c, 400)
	waitCommitted(t, c, 1500, time.Minute)
	ready, stopWatch := watchReadiness(t, w)
	rc.KillAll()
	down := time.Now()
	time.Sleep(10 * time.Second)
	decidedDuringOutage := committed(t, c)
	rc.RestartAll(time.Minute)
	up := time.Now()
	back := waitCommitted(t, c, l.Produced(), 2*time.Minute)
	time.Sleep(5 * time.Second) // readiness probes every 2 s
	stopWatch()
	n, r := finish(t, c, l)
	ready.mu.Lock()
	sawOut, last := ready.redisOut, ready.last
	ready.mu.Unlock()
	if !sawOut || !strings.HasPrefix(last, "200") {
		t.Errorf("/readyz never named Redis during the outage (%v), or is not 200 after it: %q", sawOut, last)
	}
	row{"cluster: every node down for 10 s, then restarted empty", n, r, back.Sub(up),
		fmt.Sprintf("down %v; %d records committed in all by the end of the outage; /readyz named redis; %s",
			up.Sub(down).Round(10*time.Millisecond), decidedDuringOutage, redisErrors(t, w))}.log(t)
}

// histogramCount returns the sample count of a histogram of the worker.
func histogramCount(t *testing.T, w *testkit.Running, name string) float64 {
	t.Helper()
	mfs, err := w.W.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			n := 0.0
			for _, m := range mf.GetMetric() {
				n += float64(m.GetHistogram().GetSampleCount())
			}
			return n
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}
