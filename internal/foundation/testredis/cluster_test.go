package testredis

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestClusterLifecycle: six nodes make three primaries with a replica each; a killed
// primary is replaced by its replica and rejoins as a replica; a reshard moves slots; the
// whole cluster comes back after all nodes were killed.
func TestClusterLifecycle(t *testing.T) {
	c := StartCluster(t, ClusterOptions{Password: "pw"})
	primaries := c.Primaries()
	if len(c.Nodes) != 6 || len(primaries) != 3 {
		t.Fatalf("%d nodes, %d primaries: %s", len(c.Nodes), len(primaries), c)
	}
	ctx := context.Background()
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs(), Password: "pw"})
	defer rdb.Close()
	for i := range 100 {
		if err := rdb.Set(ctx, "k"+string(rune('a'+i%26))+string(rune('0'+i/26)), "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}

	victim := primaries[0]
	victim.Kill()
	c.WaitOK(30 * time.Second)
	if got := c.Primaries(); len(got) != 3 || got[0] == victim {
		t.Fatalf("after the kill: %s", c)
	}
	victim.Restart()
	c.WaitOK(30 * time.Second)
	if c.Slots(victim) != 0 {
		t.Fatalf("the former primary came back with slots: %s", c)
	}

	from, to := c.Primaries()[0], c.Primaries()[1]
	before := c.Slots(to)
	c.Reshard(from, to, 100, 10)
	if got := c.Slots(to); got != before+100 {
		t.Fatalf("%d slots after moving 100 to a primary of %d", got, before)
	}

	c.KillAll()
	c.RestartAll(60 * time.Second)
	if len(c.Primaries()) != 3 {
		t.Fatalf("after a full restart: %s", c)
	}
}

// TestSentinelFailover: the sentinels promote the replica when the primary dies, and turn
// the former primary into a replica when it comes back.
func TestSentinelFailover(t *testing.T) {
	s := StartSentinel(t, SentinelOptions{Password: "pw", SentinelPassword: "spw"})
	old := s.Primary()
	if old != s.Data[0] {
		t.Fatalf("primary %s, want the first data node", old.Addr())
	}
	old.Kill()
	now := s.WaitFailover(old, 30*time.Second)
	if now != s.Data[1] {
		t.Fatalf("new primary %s", now.Addr())
	}
	old.Restart()
	s.WaitReplicas(1, 30*time.Second)
	if s.Primary() != now {
		t.Fatal("the former primary took over again")
	}
}
