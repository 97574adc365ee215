package rediscluster

import (
	"fmt"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/app/testkit"
	"github.com/ordergate/ordergate/internal/foundation/testredis"
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
