package security

import (
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/internal/app/testkit"
	"github.com/ordergate/ordergate/internal/foundation/testredis"
)

// TestRedisClusterTLS runs the worker on a Redis Cluster that speaks TLS (client ports,
// cluster bus and replication) with certificates of a private CA, through rediss:// with
// the nodes' password: the worker checks each node's certificate against the address the
// cluster announces for it, trusting the CA through SSL_CERT_FILE as for one server. Without
// the CA, start-up fails on the certificate.
func TestRedisClusterTLS(t *testing.T) {
	ca := newAuthority(t, "redis-cluster")
	cert := ca.issue(t, "redis-node", true, x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
	rc := testredis.StartCluster(t, testredis.ClusterOptions{Password: redisPassword,
		TLS: &testredis.TLSFiles{CertFile: cert.CertFile, KeyFile: cert.KeyFile, CAFile: ca.File}})
	c := testkit.NewCluster(t, 1, nil)
	cfg := testkit.Config(t, c, "127.0.0.1:0", redisPrefix)
	cfg.InventoryFile = inventoryFile(t)
	cfg.RedisMode = config.RedisCluster
	cfg.RedisAddrs = rc.TLSAddrs()[:2]
	cfg.RedisURL = config.Secret("rediss://:" + redisPassword + "@/0")

	recs := threeTypes(t)
	produce(t, c, access{}, recs...)
	p := testkit.StartProcess(t, processEnv(t, cfg, "SSL_CERT_FILE="+ca.File), "run")
	c.WaitEvents(t, len(recs), time.Minute)
	stop(t, p)
	noLeak(t, "worker output", []byte(p.Logs()), secrets)
	keys := 0
	for _, n := range rc.Nodes {
		keys += int(rc.Client(n).DBSize(t.Context()).Val())
	}
	if keys == 0 {
		t.Fatal("nothing cached in the cluster: the worker did not use it")
	}

	t.Run("untrusted certificate", func(t *testing.T) {
		msg := refusedNewWithin(t, cfg, retriedRefusalWait, "ORDERGATE_REDIS_URL")
		if !strings.Contains(msg, "certificate") {
			t.Errorf("the error does not say that the certificate is not trusted: %s", msg)
		}
	})
}
