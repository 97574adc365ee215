package rediscluster

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/internal/app/audit"
	"github.com/ordergate/ordergate/internal/app/testkit"
	"github.com/ordergate/ordergate/internal/app/worker"
	"github.com/ordergate/ordergate/internal/foundation/testredis"
	"github.com/ordergate/ordergate/processor/order"
)

const (
	nodePassword     = "n0de-pw"
	aclUser          = "ordergate"
	aclPassword      = "acl-pw"
	sentinelPassword = "s3ntinel-pw"
	aclPrefix        = "og-acl:"
)

// clusterACL is an ACL user of the cluster's nodes that may run, on its own keys, the
// read, write and connection commands that are not dangerous, and the CLUSTER
// subcommands the worker reads the slot map and the cluster's state with (docs/deploy.md).
func clusterACL() []string {
	return []string{"--user", aclUser, "on", ">" + aclPassword, "~" + aclPrefix + "*", "resetchannels",
		"-@all", "+@read", "+@write", "+@connection", "-@dangerous", "+cluster|slots", "+cluster|info"}
}

// decideSome produces 300 requests and checks that each is decided, accepted, once.
func decideSome(t *testing.T, c *testkit.Cluster) {
	t.Helper()
	recs := make([]order.Record, 300)
	for i := range recs {
		recs[i] = testkit.Record(fmt.Sprintf("customer-%02d", i%10), testkit.Disconnect(fmt.Sprintf("SP-%d", i*7), i), testkit.RecordTime)
	}
	c.Produce(t, recs...)
	waitCommitted(t, c, len(recs), time.Minute)
	r := c.Check(t, audit.Options{SameDecision: true})
	if r.Inputs != len(recs) || r.Accepted != len(recs) {
		t.Fatalf("report %+v", r)
	}
}

// refused starts a worker that must not start, and returns its error.
func refused(t *testing.T, cfg config.Config) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	w, err := worker.New(ctx, cfg, worker.Options{Inventory: inventory(t), StartupTimeout: 10 * time.Second})
	if err == nil {
		w.Close()
		t.Fatal("the worker started")
	}
	return err.Error()
}

// TestClusterAuth: a cluster whose nodes require a password, reached with the password
// (AUTH) or as an ACL user restricted to its keys (user and password in
// ORDERGATE_REDIS_URL, applied to every node); a wrong password stops start-up at once and
// never shows.
func TestClusterAuth(t *testing.T) {
	rc := testredis.StartCluster(t, testredis.ClusterOptions{Password: nodePassword, Args: clusterACL()})
	t.Run("password", func(t *testing.T) {
		c := testkit.NewCluster(t, 3, nil)
		startWorker(t, clusterConfig(t, c, "redis://:"+nodePassword+"@/0", rc.Addrs()), inventory(t))
		decideSome(t, c)
	})
	t.Run("ACL user", func(t *testing.T) {
		c := testkit.NewCluster(t, 3, nil)
		cfg := clusterConfig(t, c, "redis://"+aclUser+":"+aclPassword+"@/0", rc.Addrs())
		cfg.RedisKeyPrefix = aclPrefix + testredis.Prefix(t)
		startWorker(t, cfg, inventory(t))
		decideSome(t, c)
	})
	t.Run("wrong password", func(t *testing.T) {
		c := testkit.NewCluster(t, 1, nil)
		msg := refused(t, clusterConfig(t, c, "redis://:wr0ng-secret@/0", rc.Addrs()))
		if !strings.Contains(msg, "authentication failed") || strings.Contains(msg, "wr0ng-secret") {
			t.Fatalf("error %q: want an authentication failure, without the password", msg)
		}
	})
}

// TestSentinelAuth: data nodes and sentinels that each require their own password: the
// data nodes' in ORDERGATE_REDIS_URL, the sentinels' in ORDERGATE_REDIS_SENTINEL_PASSWORD;
// a wrong one of either stops start-up, without showing it.
func TestSentinelAuth(t *testing.T) {
	s := testredis.StartSentinel(t, testredis.SentinelOptions{Password: nodePassword, SentinelPassword: sentinelPassword})
	t.Run("passwords", func(t *testing.T) {
		c := testkit.NewCluster(t, 3, nil)
		startWorker(t, sentinelConfig(t, c, "redis://:"+nodePassword+"@/0", s, sentinelPassword), inventory(t))
		decideSome(t, c)
	})
	for name, cfg := range map[string]struct{ url, sentinel string }{
		"wrong data password":     {"redis://:wr0ng-secret@/0", sentinelPassword},
		"wrong sentinel password": {"redis://:" + nodePassword + "@/0", "wr0ng-secret"},
	} {
		t.Run(name, func(t *testing.T) {
			c := testkit.NewCluster(t, 1, nil)
			msg := refused(t, sentinelConfig(t, c, cfg.url, s, cfg.sentinel))
			if strings.Contains(msg, "wr0ng-secret") || !strings.Contains(msg, "auth") && !strings.Contains(msg, "WRONGPASS") {
				t.Fatalf("error %q: want an authentication failure, without the password", msg)
			}
		})
	}
}
