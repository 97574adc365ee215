package security

import (
	"context"
	"crypto/tls"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/internal/app/testkit"
	"github.com/ordergate/ordergate/internal/foundation/testredis"
)

// redisACL are the arguments of a redis-server whose default user is off and whose only
// user, redisUser, may run the read, write and connection commands that are not dangerous
// (no FLUSHALL, KEYS, CONFIG...) on the keys of redisPrefix: the least the cache needs.
func redisACL() []string {
	return []string{"--user", "default", "off",
		"--user", redisUser, "on", ">" + redisPassword, "~" + redisPrefix + "*", "resetchannels",
		"-@all", "+@read", "+@write", "+@connection", "-@dangerous"}
}

// cachedKeys returns the keys under redisPrefix, read as the worker's own user.
func cachedKeys(t *testing.T, opts *redis.Options) []string {
	t.Helper()
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var keys []string
	iter := rdb.Scan(ctx, 0, redisPrefix+"*", 100).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	must(t, iter.Err(), "SCAN")
	return keys
}

// redisConfig is a worker configuration on a plain kfake cluster, the file inventory and
// the Redis URL given.
func redisConfig(t *testing.T, url string) (*testkit.Cluster, config.Config) {
	t.Helper()
	c := testkit.NewCluster(t, 1, nil)
	cfg := testkit.Config(t, c, "127.0.0.1:0", redisPrefix)
	cfg.RedisURL = config.Secret(url)
	cfg.InventoryFile = inventoryFile(t)
	return c, cfg
}

// TestRedisPassword runs the worker on a redis-server that requires a password (requirepass,
// the default user's) given in ORDERGATE_REDIS_URL; a wrong or missing password stops
// start-up with one line naming the variable, without the password.
func TestRedisPassword(t *testing.T) {
	srv := testredis.Start(t, "--requirepass", redisPassword)
	c, cfg := redisConfig(t, "redis://:"+redisPassword+"@"+srv.Addr()+"/0")
	exchange(t, c, access{}, cfg)
	if keys := cachedKeys(t, &redis.Options{Addr: srv.Addr(), Password: redisPassword}); len(keys) == 0 {
		t.Fatal("nothing cached under the prefix: the worker did not use this Redis")
	}

	for name, url := range map[string]string{
		"wrong password": "redis://:" + wrongRedis + "@" + srv.Addr() + "/0",
		"no password":    "redis://" + srv.Addr() + "/0",
		"a user":         "redis://" + redisUser + ":" + redisPassword + "@" + srv.Addr() + "/0",
	} {
		t.Run(name, func(t *testing.T) {
			line := refusedStart(t, cfg, []string{"ORDERGATE_REDIS_URL"}, "ORDERGATE_REDIS_URL="+url)
			if !strings.Contains(line, "authentication failed") {
				t.Errorf("the line does not say that authentication failed: %s", line)
			}
		})
	}
}

// TestRedisACLUser runs the worker as a Redis ACL user (user name and password in the URL)
// that may only read and write its own keys: the cache needs nothing more.
func TestRedisACLUser(t *testing.T) {
	srv := testredis.Start(t, redisACL()...)
	c, cfg := redisConfig(t, "redis://"+redisUser+":"+redisPassword+"@"+srv.Addr()+"/0")
	exchange(t, c, access{}, cfg)
	if keys := cachedKeys(t, &redis.Options{Addr: srv.Addr(), Username: redisUser, Password: redisPassword}); len(keys) == 0 {
		t.Fatal("nothing cached under the prefix: the worker did not use this Redis")
	}
	for name, url := range map[string]string{
		"wrong password":     "redis://" + redisUser + ":" + wrongRedis + "@" + srv.Addr() + "/0",
		"unknown user":       "redis://nobody:" + redisPassword + "@" + srv.Addr() + "/0",
		"default user (off)": "redis://:" + redisPassword + "@" + srv.Addr() + "/0",
	} {
		t.Run(name, func(t *testing.T) {
			refusedStart(t, cfg, []string{"ORDERGATE_REDIS_URL"}, "ORDERGATE_REDIS_URL="+url)
		})
	}
}

// sparePort returns a TCP port of 127.0.0.1 free a moment ago.
func sparePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err, "listen")
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestRedisTLS runs the worker on rediss:// against a redis-server serving TLS with a
// certificate of a private CA (Debian's redis-server is built with TLS). The worker has no
// variable for a Redis CA: it trusts the system roots, which SSL_CERT_FILE extends, as for
// every Go program on Linux.
func TestRedisTLS(t *testing.T) {
	ca := newAuthority(t, "redis")
	cert := ca.issue(t, "redis", true)
	port := sparePort(t)
	testredis.Start(t, append(redisACL(), "--tls-port", strconv.Itoa(port),
		"--tls-cert-file", cert.CertFile, "--tls-key-file", cert.KeyFile, "--tls-ca-cert-file", ca.File,
		"--tls-auth-clients", "no")...)
	tlsAddr := "127.0.0.1:" + strconv.Itoa(port)
	url := "rediss://" + redisUser + ":" + redisPassword + "@" + tlsAddr + "/0"
	c, cfg := redisConfig(t, url)

	// The TLS port answers TLS only, with the server's certificate.
	conn, err := tls.Dial("tcp", tlsAddr, &tls.Config{RootCAs: ca.Pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})
	must(t, err, "TLS handshake with redis-server")
	conn.Close()

	recs := threeTypes(t)
	produce(t, c, access{}, recs...)
	p := testkit.StartProcess(t, processEnv(t, cfg, "SSL_CERT_FILE="+ca.File), "run")
	c.WaitEvents(t, len(recs), time.Minute)
	stop(t, p)
	noLeak(t, "worker output", []byte(p.Logs()), secrets)
	keys := cachedKeys(t, &redis.Options{Addr: tlsAddr, Username: redisUser, Password: redisPassword,
		TLSConfig: &tls.Config{RootCAs: ca.Pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}})
	if len(keys) == 0 {
		t.Fatal("nothing cached under the prefix: the worker did not use this Redis")
	}

	t.Run("untrusted certificate", func(t *testing.T) {
		// This test process trusts only the system roots, which do not hold the test's CA.
		msg := refusedNew(t, cfg, "ORDERGATE_REDIS_URL")
		if !strings.Contains(msg, "certificate") {
			t.Errorf("the error does not say that the certificate is not trusted: %s", msg)
		}
	})
	t.Run("wrong password over TLS", func(t *testing.T) {
		refusedStart(t, cfg, []string{"ORDERGATE_REDIS_URL"}, "SSL_CERT_FILE="+ca.File,
			"ORDERGATE_REDIS_URL=rediss://"+redisUser+":"+wrongRedis+"@"+tlsAddr+"/0")
	})
}
