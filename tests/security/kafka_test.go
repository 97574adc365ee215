package security

import (
	"bytes"
	"context"
	"crypto/tls"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/internal/app/testkit"
	"github.com/ordergate/ordergate/internal/app/worker"
	"github.com/ordergate/ordergate/internal/foundation/testredis"
	"github.com/ordergate/ordergate/processor/order"
)

// saslVariables are what a refused SASL start-up must name.
var saslVariables = []string{"ORDERGATE_KAFKA_SASL_MECHANISM", "ORDERGATE_KAFKA_SASL_USERNAME", "ORDERGATE_KAFKA_SASL_PASSWORD"}

// mechanism returns the client side of a SASL mechanism, as the tests' own clients use it.
func mechanism(t *testing.T, name, user, password string) sasl.Mechanism {
	t.Helper()
	switch name {
	case "PLAIN":
		return plain.Mechanism{Username: user, Password: password}
	case "SCRAM-SHA-256", "SCRAM-SHA-512":
		algo := scram.SHA256
		if name == "SCRAM-SHA-512" {
			algo = scram.SHA512
		}
		m, err := scram.Mechanism(algo, user, password)
		must(t, err, "scram")
		return m
	}
	t.Fatalf("unknown mechanism %s", name)
	return nil
}

// transportConfig is a worker configuration for c with the shared Redis and the file
// inventory of testdata.
func transportConfig(t *testing.T, c *testkit.Cluster) config.Config {
	t.Helper()
	cfg := testkit.Config(t, c, testredis.Shared(t), testredis.Prefix(t))
	cfg.InventoryFile = inventoryFile(t)
	return cfg
}

// inventoryFile returns the absolute path of testdata/inventory.json (a worker process
// runs in another directory).
func inventoryFile(t *testing.T) string {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("testdata", "inventory.json"))
	must(t, err, "inventory path")
	return path
}

// threeTypes are one accepted request of each type.
func threeTypes(t *testing.T) []order.Record {
	t.Helper()
	return []order.Record{
		{Key: []byte("WAN-SEC-001"), Value: body(t, "disconnect.json"), Time: testkit.RecordTime},
		{Key: []byte("WAN-SEC-002"), Value: body(t, "update.json"), Time: testkit.RecordTime},
		{Key: []byte("PA-ACC-0001"), Value: body(t, "account.json"), Headers: headers(accountHeaders("PA"), creds(clientSecret)), Time: testkit.RecordTime},
	}
}

// exchange runs an in-process worker on cfg: the three requests produced through a must
// come back as three accepted events, and the worker's log must hold no secret.
func exchange(t *testing.T, c *testkit.Cluster, a access, cfg config.Config) {
	t.Helper()
	recs := threeTypes(t)
	produce(t, c, a, recs...)
	r := testkit.StartWorker(t, cfg, worker.Options{})
	c.WaitEvents(t, len(recs), time.Minute)
	got := outcomes(t, c, a)
	for i := range recs {
		if got[int64(i)] != "accepted" {
			t.Errorf("input %d: %q, want accepted (all: %v)", i, got[int64(i)], got)
		}
	}
	if err := r.Stop(t, 30*time.Second); err != nil {
		t.Fatalf("stop: %v", err)
	}
	noLeak(t, "worker log", []byte(r.Logs.String()), secrets)
}

// refusedStart runs the binary on cfg with the extra variables and checks that it refuses to
// start, at once, with one line naming the variables, and shows no secret.
func refusedStart(t *testing.T, cfg config.Config, names []string, extra ...string) string {
	t.Helper()
	start := time.Now()
	p := testkit.StartProcess(t, processEnv(t, cfg, extra...), "run")
	if code := p.Wait(t, time.Minute); code != 2 {
		t.Fatalf("exit status %d, want 2 (a refused start-up):\n%s", code, p.Logs())
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the refusal took %v: a refused credential must stop start-up at once, not after the wait for a broker", d)
	}
	line := problemLine(t, p.Logs())
	for _, name := range names {
		if !strings.Contains(line, name) {
			t.Errorf("the line does not name %s: %s", name, line)
		}
	}
	noLeak(t, "ordergate run output", []byte(p.Logs()), secrets)
	return line
}

// TestKafkaSASL runs the worker against a broker that requires each SASL mechanism: it
// consumes and publishes with the right credentials, and refuses to start with wrong ones.
func TestKafkaSASL(t *testing.T) {
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		t.Run(mech, func(t *testing.T) {
			a := access{SASL: mechanism(t, mech, saslUser, saslPassword)}
			c := newCluster(t, nil, a, kfake.EnableSASL(), kfake.Superuser(mech, saslUser, saslPassword))
			cfg := transportConfig(t, c)
			cfg.KafkaSASLMechanism, cfg.KafkaSASLUsername, cfg.KafkaSASLPassword = mech, saslUser, saslPassword
			exchange(t, c, a, cfg)

			t.Run("wrong password", func(t *testing.T) {
				refusedStart(t, cfg, saslVariables, "ORDERGATE_KAFKA_SASL_PASSWORD="+wrongSASL)
			})
			t.Run("unknown user", func(t *testing.T) {
				refusedStart(t, cfg, saslVariables, "ORDERGATE_KAFKA_SASL_USERNAME=nobody")
			})
			t.Run("no credentials", func(t *testing.T) {
				// A broker that requires SASL closes the connection of a client without it, as
				// an unreachable broker would: the error comes when the wait ends and names
				// the Kafka variables.
				cfg := cfg
				cfg.KafkaSASLMechanism, cfg.KafkaSASLUsername, cfg.KafkaSASLPassword = "", "", ""
				refusedNew(t, cfg, "ORDERGATE_KAFKA_")
			})
		})
	}
}

// tlsBroker is a kfake option serving TLS 1.2 or later with cert, and requiring a client
// certificate signed by clientCA when it is not nil.
func tlsBroker(cert leaf, clientCA *authority) kfake.Opt {
	cfg := &tls.Config{Certificates: []tls.Certificate{cert.Pair}, MinVersion: tls.VersionTLS12}
	if clientCA != nil {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
		cfg.ClientCAs = clientCA.Pool
	}
	return kfake.TLS(cfg)
}

// refusedNew builds an in-process worker that must fail within a short start-up timeout
// (a certificate problem is reported when the wait for the broker ends) and returns its
// error, which must name the variables.
func refusedNew(t *testing.T, cfg config.Config, names ...string) string {
	t.Helper()
	return refusedNewWithin(t, cfg, 3*time.Second, names...)
}

// retriedRefusalWait is the start-up wait given to a refusal that the worker only retries
// (an untrusted certificate): the error names the cause only when one attempt ended before
// the wait did, and one attempt (TLS handshakes, go-redis's five dials) took over 3 s on a
// machine loaded by the whole suite.
const retriedRefusalWait = 10 * time.Second

// refusedNewWithin is refusedNew with a start-up wait of its own.
func refusedNewWithin(t *testing.T, cfg config.Config, wait time.Duration, names ...string) string {
	t.Helper()
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	w, err := worker.New(context.Background(), cfg, worker.Options{StartupTimeout: wait, Logger: log})
	noLeak(t, "worker log", logs.Bytes(), secrets)
	if err == nil {
		w.Close()
		t.Fatal("the worker started, want a refusal")
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("the error is not one line: %q", msg)
	}
	for _, name := range names {
		if !strings.Contains(msg, name) {
			t.Errorf("the error does not name %s: %s", name, msg)
		}
	}
	noLeak(t, "start-up error", []byte(msg), secrets)
	return msg
}

// TestKafkaTLS runs the worker against brokers that serve TLS with a certificate of a
// private CA, then that also require a client certificate, then TLS with SCRAM-SHA-512.
func TestKafkaTLS(t *testing.T) {
	ca := newAuthority(t, "kafka")
	broker := ca.issue(t, "broker", true)
	other := newAuthority(t, "other")

	t.Run("private CA", func(t *testing.T) {
		a := access{TLS: &tls.Config{RootCAs: ca.Pool, MinVersion: tls.VersionTLS12}}
		c := newCluster(t, nil, a, tlsBroker(broker, nil))
		cfg := transportConfig(t, c)
		cfg.KafkaTLSEnabled, cfg.KafkaTLSCAFile = true, ca.File
		exchange(t, c, a, cfg)

		t.Run("untrusted CA", func(t *testing.T) {
			cfg := cfg
			cfg.KafkaTLSCAFile = other.File
			if msg := refusedNewWithin(t, cfg, retriedRefusalWait, "ORDERGATE_KAFKA_TLS_"); !strings.Contains(msg, "certificate") {
				t.Errorf("the error does not say that the certificate is not trusted: %s", msg)
			}
		})
		t.Run("system roots", func(t *testing.T) {
			cfg := cfg
			cfg.KafkaTLSCAFile = ""
			refusedNew(t, cfg, "ORDERGATE_KAFKA_TLS_")
		})
		t.Run("no TLS", func(t *testing.T) {
			cfg := cfg
			cfg.KafkaTLSEnabled, cfg.KafkaTLSCAFile = false, ""
			refusedNew(t, cfg, "ORDERGATE_KAFKA_TLS_")
		})
	})

	t.Run("client certificate required", func(t *testing.T) {
		clientCA := newAuthority(t, "clients")
		good := clientCA.issue(t, "ordergate", false)
		a := access{TLS: &tls.Config{RootCAs: ca.Pool, Certificates: []tls.Certificate{good.Pair}, MinVersion: tls.VersionTLS12}}
		c := newCluster(t, nil, a, tlsBroker(broker, clientCA))
		cfg := transportConfig(t, c)
		cfg.KafkaTLSEnabled, cfg.KafkaTLSCAFile = true, ca.File
		cfg.KafkaTLSCertFile, cfg.KafkaTLSKeyFile = good.CertFile, good.KeyFile
		exchange(t, c, a, cfg)

		t.Run("no client certificate", func(t *testing.T) {
			cfg := cfg
			cfg.KafkaTLSCertFile, cfg.KafkaTLSKeyFile = "", ""
			refusedNew(t, cfg, "ORDERGATE_KAFKA_TLS_")
		})
		t.Run("client certificate of another CA", func(t *testing.T) {
			stranger := other.issue(t, "stranger", false)
			cfg := cfg
			cfg.KafkaTLSCertFile, cfg.KafkaTLSKeyFile = stranger.CertFile, stranger.KeyFile
			refusedNew(t, cfg, "ORDERGATE_KAFKA_TLS_")
		})
		t.Run("the binary with the files", func(t *testing.T) {
			// The same configuration read from the environment by the binary.
			produce(t, c, a, threeTypes(t)...)
			p := testkit.StartProcess(t, processEnv(t, cfg), "run")
			c.WaitEvents(t, 6, time.Minute)
			stop(t, p)
		})
	})

	t.Run("TLS and SCRAM-SHA-512", func(t *testing.T) {
		const mech = "SCRAM-SHA-512"
		a := access{TLS: &tls.Config{RootCAs: ca.Pool, MinVersion: tls.VersionTLS12}, SASL: mechanism(t, mech, saslUser, saslPassword)}
		c := newCluster(t, nil, a, tlsBroker(broker, nil), kfake.EnableSASL(), kfake.Superuser(mech, saslUser, saslPassword))
		cfg := transportConfig(t, c)
		cfg.KafkaTLSEnabled, cfg.KafkaTLSCAFile = true, ca.File
		cfg.KafkaSASLMechanism, cfg.KafkaSASLUsername, cfg.KafkaSASLPassword = mech, saslUser, saslPassword
		exchange(t, c, a, cfg)

		t.Run("wrong password", func(t *testing.T) {
			refusedStart(t, cfg, saslVariables, "ORDERGATE_KAFKA_SASL_PASSWORD="+wrongSASL)
		})
	})
}
