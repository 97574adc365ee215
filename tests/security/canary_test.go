package security

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/internal/app/testkit"
	"github.com/ordergate/ordergate/internal/foundation/testredis"
	"github.com/ordergate/ordergate/processor/order"
)

// outputLimit is max.message.bytes of the three output topics in the canary test: every
// event of a request of about a kilobyte fits; the event of a request padded to about
// 3 KiB, with a correlation id of 256 bytes (the longest an event carries), does not, even
// with its request cut (a request under 4 KiB is not shortened by the cut), but its
// dead-letter record (the input unchanged and a few headers) does. Measured: small events
// under 1.7 KB, those two events about 4.4 KB, their dead-letter records about 3.9 KB, each
// with the publisher's margins.
const (
	outputLimit = 4800
	dlqPadding  = 2900
)

// canaryRecords are requests of the three types, accepted and rejected, two of which go to
// the dead-letter topic, each carrying the client's secret; want is the outcome of each
// ("dlq" for a dead-letter record).
func canaryRecords(t *testing.T) (recs []order.Record, want []string) {
	t.Helper()
	add := func(outcome, key string, value []byte, hs ...[][2]string) {
		recs = append(recs, order.Record{Key: []byte(key), Value: value, Headers: headers(hs...), Time: testkit.RecordTime})
		want = append(want, outcome)
	}
	corr := func(id string) [][2]string { return [][2]string{{"X-Correlation-ID", id}} }
	add("accepted", "WAN-SEC-001", body(t, "disconnect.json"), creds(clientSecret), corr("corr-disconnect"))
	add("accepted", "WAN-SEC-002", body(t, "update.json"), creds(clientSecret))
	add("accepted", "PA-ACC-0001", body(t, "account.json"), accountHeaders("PA"), creds(clientSecret), [][2]string{{"lob", "B2B"}})
	// Rejected: an invalid e-mail (row 14, the value is named in the event).
	add("rejected:3620", "WAN-SEC-001", body(t, "disconnect.json", personalEmail, "zephyrine.quillfeather@"), creds(clientSecret))
	// A wrong secret (row 6).
	add("rejected:41", "WAN-SEC-002", body(t, "update.json"), creds(wrongSecret))
	// Two different client_secret headers (row 4).
	add("rejected:26", "PA-ACC-0001", body(t, "account.json"), accountHeaders("PA"), creds(clientSecret), [][2]string{{"Client_Secret", dupSecret}})
	// A business unit the client may not act for (row 11).
	add("rejected:50", "JM-ACC-0001", body(t, "account.json"), accountHeaders("JM"), creds(clientSecret))
	// No client_secret (row 5).
	add("rejected:40", "WAN-SEC-001", body(t, "disconnect.json"), [][2]string{{"client_id", clientID}})
	// Not JSON (row 3): the event carries the value as a string.
	add("rejected:22", "", []byte(`{"firstName":"`+personalFirst+`","phone":"`+personalPhone+`"`), creds(clientSecret))
	// Events too large even cut: dead-letter records, the secret header in two spellings. A
	// long correlation id widens the gap between the event (which carries it twice) and the
	// dead-letter record (once), so that the sizes need no fine tuning.
	longCorr := func(n int) [][2]string { return corr(fmt.Sprintf("corr-dlq-%d-", n) + strings.Repeat("c", 245)) }
	// Other credentials an upstream may forward (issue 23.3) must not reach the
	// dead-letter topic either.
	forwarded := [][2]string{{"Authorization", "Bearer " + inventoryToken}, {"Cookie", "session=" + clientSecret}, {"client-secret", clientSecret}}
	add("dlq", "PA-ACC-0002", padded(t, dlqPadding), accountHeaders("PA"), creds(clientSecret), longCorr(1), forwarded)
	add("dlq", "PA-ACC-0003", padded(t, dlqPadding, personalPhone, "not-a-phone"), accountHeaders("PA"),
		[][2]string{{"client_id", clientID}, {"CLIENT_SECRET", clientSecret}}, longCorr(2), forwarded)
	return recs, want
}

// canarySetup is a secured cluster, Redis and inventory, and the configuration of a worker
// that uses them all at LOG_LEVEL=debug.
type canarySetup struct {
	cluster *testkit.Cluster
	kafka   access
	redis   *testredis.Server
	inv     *inventory
	cfg     config.Config
}

func newCanarySetup(t *testing.T) *canarySetup {
	t.Helper()
	s := &canarySetup{kafka: access{SASL: plain.Mechanism{Username: saslUser, Password: saslPassword}}}
	s.cluster = newCluster(t, map[string]string{"max.message.bytes": fmt.Sprint(outputLimit)}, s.kafka,
		kfake.EnableSASL(), kfake.Superuser("PLAIN", saslUser, saslPassword))
	// The default user is off: only the ACL user, on its own keys and the commands the cache
	// needs, can do anything.
	s.redis = testredis.Start(t, redisACL()...)
	s.inv = newInventory(t, inventoryToken)

	cfg := testkit.Config(t, s.cluster, s.redis.Addr(), redisPrefix)
	cfg.RedisURL = config.Secret("redis://" + redisUser + ":" + redisPassword + "@" + s.redis.Addr() + "/0")
	cfg.KafkaSASLMechanism, cfg.KafkaSASLUsername, cfg.KafkaSASLPassword = "PLAIN", saslUser, saslPassword
	cfg.InventoryURL, cfg.InventoryToken = s.inv.URL, inventoryToken
	cfg.ClientsFile = writeClients(t, client{clientID, clientSecret, []string{"PA"}})
	cfg.LogLevel, cfg.LogFormat = "debug", "json"
	s.cfg = cfg
	return s
}

// TestCanaries runs the worker process at debug level on canary secrets and personal data,
// in both log formats, then looks for them everywhere the worker writes.
func TestCanaries(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) { canaries(t, format) })
	}
}

func canaries(t *testing.T, format string) {
	s := newCanarySetup(t)
	s.cfg.LogFormat = format
	s.cfg.HTTPAddr = "127.0.0.1:" + strconv.Itoa(sparePort(t))
	s.inv.fail.Store(1) // one 503 first: the retry path logs its error too
	recs, want := canaryRecords(t)
	produce(t, s.cluster, s.kafka, recs...)

	p := testkit.StartProcess(t, processEnv(t, s.cfg), "run")
	waitLog(t, p, "ordergate started", 1, time.Minute)
	s.cluster.WaitEvents(t, len(recs), time.Minute)
	endpoints := map[string][]byte{}
	for _, path := range []string{"/metrics", "/healthz", "/readyz"} {
		endpoints[path] = get(t, "http://"+s.cfg.HTTPAddr+path)
	}
	stop(t, p)
	logs := p.Logs()
	if strings.Contains(logs, "WARNING: DATA RACE") {
		t.Fatalf("data race in the worker:\n%s", logs)
	}

	t.Run("outcomes", func(t *testing.T) {
		got := outcomes(t, s.cluster, s.kafka)
		for _, m := range readTopic(t, s.cluster, s.kafka, testkit.Topics.DLQ) {
			src := headerValue(m, "dlq_source")
			off, err := strconv.ParseInt(src[strings.LastIndexByte(src, '/')+1:], 10, 64)
			must(t, err, "dlq_source %q", src)
			got[off] = "dlq"
		}
		for i, w := range want {
			if got[int64(i)] != w {
				t.Errorf("input %d: %q, want %q", i, got[int64(i)], w)
			}
		}
		if s.inv.unauthorized.Load() != 0 {
			t.Errorf("%d inventory calls without the bearer token", s.inv.unauthorized.Load())
		}
	})

	t.Run("logs", func(t *testing.T) {
		levels := map[string]int{}
		for _, l := range logLines(logs) {
			level := l.Level
			if format == "text" {
				if m := textLevel.FindStringSubmatch(l.Raw); m != nil {
					level = m[1]
				}
			}
			levels[level]++
			where := fmt.Sprintf("log line (level %q)", level)
			noLeak(t, where, []byte(l.Raw), secrets)
			// No line carries personal data, whatever its level: the debug lines name field
			// paths, codes and offsets, never values.
			noLeak(t, where, []byte(l.Raw), personal)
		}
		for _, level := range []string{"DEBUG", "INFO", "WARN", "ERROR"} {
			if levels[level] == 0 {
				t.Errorf("no %s line (lines by level: %v): the run should log at every level", level, levels)
			}
		}
		for _, msg := range []string{"configuration", "clients loaded", "batch step failed, retrying",
			"record sent to the dead-letter topic: the broker refused its event", "request rejected"} {
			quoted := `"msg":"` + msg + `"`
			if format == "text" {
				quoted = "msg=" + msg
				if strings.Contains(msg, " ") {
					quoted = "msg=" + strconv.Quote(msg)
				}
			}
			if !strings.Contains(logs, quoted) {
				t.Errorf("no %s line: the scan did not see the path it is meant to check", quoted)
			}
		}
	})

	t.Run("events", func(t *testing.T) {
		n, withPersonal := 0, 0
		for _, topic := range []string{testkit.Topics.Accepted, testkit.Topics.Rejected} {
			for _, m := range readTopic(t, s.cluster, s.kafka, topic) {
				n++
				where := fmt.Sprintf("%s event of offset %d", topic, m.Offset)
				noLeak(t, where+" (value)", m.Value, secrets)
				if len(leaks(m.Value, personal)) > 0 {
					withPersonal++ // the request is embedded, personal data included (by contract)
				}
				noLeak(t, where+" (key)", m.Key, secrets, personal)
				for _, h := range m.Headers {
					noLeak(t, where+" (header "+h.Key+")", []byte(h.Key+"="+string(h.Value)), secrets, personal)
				}
			}
		}
		if n != len(recs)-2 {
			t.Errorf("%d events, want %d", n, len(recs)-2)
		}
		if withPersonal == 0 {
			t.Error("no event embeds the request's personal data: the scan did not read the events")
		}
	})

	t.Run("dead letters", func(t *testing.T) {
		dlq := readTopic(t, s.cluster, s.kafka, testkit.Topics.DLQ)
		if len(dlq) != 2 {
			t.Fatalf("%d dead-letter records, want 2", len(dlq))
		}
		for i, m := range dlq {
			in := recs[len(recs)-2+i]
			if !bytes.Equal(m.Value, in.Value) || !bytes.Equal(m.Key, in.Key) {
				t.Errorf("dead-letter record %d: key or value not the input's, unchanged", i)
			}
			// The input's headers that the contract reads but client_secret, in order, then
			// the four of the DLQ (dlq_dropped_headers names the others, without values).
			var kept, wantKept, wantDropped []string
			names := map[string]bool{}
			for _, h := range m.Headers {
				names[h.Key] = true
				if strings.EqualFold(h.Key, "client_secret") {
					t.Errorf("dead-letter record %d keeps header %s", i, h.Key)
				}
				if h.Key != "dlq_reason" && h.Key != "dlq_source" && h.Key != "ce_id" && h.Key != "dlq_dropped_headers" {
					kept = append(kept, h.Key+"="+string(h.Value))
				}
				noLeak(t, fmt.Sprintf("dead-letter record %d (header %s)", i, h.Key), []byte(h.Key+"="+string(h.Value)), secrets, personal)
			}
			for _, h := range in.Headers {
				switch strings.ToLower(h.Key) {
				case "client_secret", "authorization", "cookie", "client-secret":
					wantDropped = append(wantDropped, h.Key)
				default:
					wantKept = append(wantKept, h.Key+"="+string(h.Value))
				}
			}
			if strings.Join(kept, "\n") != strings.Join(wantKept, "\n") {
				t.Errorf("dead-letter record %d keeps headers %q, want the input's but client_secret: %q", i, kept, wantKept)
			}
			if got := headerValue(m, "dlq_dropped_headers"); got != strings.Join(wantDropped, ",") {
				t.Errorf("dead-letter record %d: dlq_dropped_headers %q, want %q", i, got, strings.Join(wantDropped, ","))
			}
			for _, h := range []string{"dlq_reason", "dlq_source", "ce_id", "dlq_dropped_headers"} {
				if !names[h] {
					t.Errorf("dead-letter record %d lacks header %s (headers %v)", i, h, names)
				}
			}
			noLeak(t, fmt.Sprintf("dead-letter record %d (value)", i), m.Value, secrets)
		}
	})

	t.Run("endpoints", func(t *testing.T) {
		if !bytes.Contains(endpoints["/metrics"], []byte("ordergate_")) {
			t.Fatalf("/metrics holds no ordergate_ metric:\n%s", endpoints["/metrics"])
		}
		for path, b := range endpoints {
			noLeak(t, path, b, secrets, personal)
		}
	})

	t.Run("redis cache", func(t *testing.T) {
		// The cache holds service points only: no secret, no personal data.
		opts := &redis.Options{Addr: s.redis.Addr(), Username: redisUser, Password: redisPassword}
		keys := cachedKeys(t, opts)
		if len(keys) == 0 {
			t.Fatal("nothing cached")
		}
		rdb := redis.NewClient(opts)
		defer rdb.Close()
		for _, k := range keys {
			v, err := rdb.Get(context.Background(), k).Bytes()
			must(t, err, "GET %s", k)
			noLeak(t, "cached key "+k, []byte(k), secrets, personal)
			noLeak(t, "cached value of "+k, v, secrets, personal)
		}
	})

	t.Run("config command", func(t *testing.T) {
		c := testkit.StartProcess(t, processEnv(t, s.cfg), "config")
		if code := c.Wait(t, 30*time.Second); code != 0 {
			t.Fatalf("ordergate config: exit status %d:\n%s", code, c.Logs())
		}
		out := c.Logs()
		noLeak(t, "ordergate config", []byte(out), secrets)
		for _, line := range []string{
			"ORDERGATE_REDIS_URL=redis://" + redisUser + ":***@" + s.redis.Addr() + "/0",
			"ORDERGATE_KAFKA_SASL_PASSWORD=***",
			"ORDERGATE_INVENTORY_TOKEN=***",
			"ORDERGATE_KAFKA_SASL_USERNAME=" + saslUser,
		} {
			if !strings.Contains(out, line+"\n") {
				t.Errorf("ordergate config does not print %q:\n%s", line, out)
			}
		}
	})

	t.Run("check and produce commands", func(t *testing.T) {
		// The operators' tools read the same variables and work on the secured cluster.
		c := testkit.StartProcess(t, processEnv(t, s.cfg), "check")
		if code := c.Wait(t, time.Minute); code != 0 {
			t.Fatalf("ordergate check: exit status %d:\n%s", code, c.Logs())
		}
		noLeak(t, "ordergate check", []byte(c.Logs()), secrets, personal)
		file := filepath.Join(t.TempDir(), "disconnect.json")
		writeFile(t, file, body(t, "disconnect.json"))
		p := testkit.StartProcess(t, processEnv(t, s.cfg), "produce", "--brokers", strings.Join(s.cluster.Brokers, ","),
			"--key", "WAN-SEC-001", "-H", "client_id="+clientID, "-H", "client_secret="+clientSecret, file)
		if code := p.Wait(t, time.Minute); code != 0 {
			t.Fatalf("ordergate produce: exit status %d:\n%s", code, p.Logs())
		}
		noLeak(t, "ordergate produce", []byte(p.Logs()), secrets, personal)
		if n := s.cluster.Count(t, testkit.Topics.Requests); n != len(recs)+1 {
			t.Errorf("%d input records after ordergate produce, want %d", n, len(recs)+1)
		}
	})
}

// textLevel finds the level of a line of the text log format.
var textLevel = regexp.MustCompile(`\blevel=([A-Z]+)`)

// headerValue returns the value of a record's header, "" when it has none.
func headerValue(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

func get(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(t, err, "GET %s", url)
	return b
}

// TestCanaryStartupErrors checks the one line of a refused start-up: it names the variable
// to fix and shows no secret, neither the one given nor the right one.
func TestCanaryStartupErrors(t *testing.T) {
	s := newCanarySetup(t)
	urlWith := func(user, password string) string {
		return "ORDERGATE_REDIS_URL=redis://" + user + ":" + password + "@" + s.redis.Addr() + "/0"
	}
	cases := []struct {
		name    string
		command string
		env     []string
		names   []string // variables the line must name
	}{
		{"wrong Redis password", "run", []string{urlWith(redisUser, wrongRedis)}, []string{"ORDERGATE_REDIS_URL"}},
		{"unknown Redis user", "run", []string{urlWith("nobody", redisPassword)}, []string{"ORDERGATE_REDIS_URL"}},
		{"Redis password without user", "run", []string{"ORDERGATE_REDIS_URL=redis://:" + redisPassword + "@" + s.redis.Addr() + "/0"}, []string{"ORDERGATE_REDIS_URL"}},
		{"wrong SASL password", "run", []string{"ORDERGATE_KAFKA_SASL_PASSWORD=" + wrongSASL},
			[]string{"ORDERGATE_KAFKA_SASL_MECHANISM", "ORDERGATE_KAFKA_SASL_USERNAME", "ORDERGATE_KAFKA_SASL_PASSWORD"}},
		{"unknown SASL user", "run", []string{"ORDERGATE_KAFKA_SASL_USERNAME=nobody"},
			[]string{"ORDERGATE_KAFKA_SASL_MECHANISM", "ORDERGATE_KAFKA_SASL_USERNAME", "ORDERGATE_KAFKA_SASL_PASSWORD"}},
		{"wrong SASL mechanism", "run", []string{"ORDERGATE_KAFKA_SASL_MECHANISM=SCRAM-SHA-512"},
			[]string{"ORDERGATE_KAFKA_SASL_MECHANISM", "ORDERGATE_KAFKA_SASL_USERNAME", "ORDERGATE_KAFKA_SASL_PASSWORD"}},
		{"Redis URL with a bad escape in its password", "config",
			[]string{"ORDERGATE_REDIS_URL=redis://" + redisUser + ":" + redisPassword + "%zz@" + s.redis.Addr() + "/0"}, []string{"ORDERGATE_REDIS_URL"}},
		{"Redis URL with a password but no scheme", "config",
			[]string{"ORDERGATE_REDIS_URL=" + redisUser + ":" + redisPassword + "@" + s.redis.Addr()}, []string{"ORDERGATE_REDIS_URL"}},
		{"SASL password without a mechanism", "config",
			[]string{"ORDERGATE_KAFKA_SASL_MECHANISM=", "ORDERGATE_KAFKA_SASL_USERNAME=", "ORDERGATE_KAFKA_SASL_PASSWORD=" + saslPassword}, []string{"ORDERGATE_KAFKA_SASL_PASSWORD"}},
		{"SCRAM password that SASLprep refuses", "config",
			[]string{"ORDERGATE_KAFKA_SASL_MECHANISM=SCRAM-SHA-256", "ORDERGATE_KAFKA_SASL_PASSWORD=" + saslPassword + "\a"}, []string{"ORDERGATE_KAFKA_SASL_PASSWORD"}},
		{"inventory token with a space", "config", []string{"ORDERGATE_INVENTORY_TOKEN=" + inventoryToken + " x"}, []string{"ORDERGATE_INVENTORY_TOKEN"}},
		{"inventory URL with credentials", "config",
			[]string{"ORDERGATE_INVENTORY_URL=https://svc:" + inventoryToken + "@inventory.example/api"}, []string{"ORDERGATE_INVENTORY_URL"}},
		{"secret in a misspelt variable", "config",
			[]string{"ORDERGATE_KAFKA_SASL_PASSWROD=" + saslPassword, "ORDERGATE_CACHE_TTL=soon"}, []string{"ORDERGATE_CACHE_TTL"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := testkit.StartProcess(t, processEnv(t, s.cfg, tc.env...), tc.command)
			code := p.Wait(t, time.Minute)
			out := p.Logs()
			if code != 2 {
				t.Fatalf("ordergate %s: exit status %d, want 2 (a refused start-up):\n%s", tc.command, code, out)
			}
			line := problemLine(t, out)
			for _, name := range tc.names {
				if !strings.Contains(line, name) {
					t.Errorf("the line does not name %s: %s", name, line)
				}
			}
			noLeak(t, "ordergate "+tc.command+" output", []byte(out), secrets)
		})
	}
}

// TestCanaryRefusedInventoryToken runs a worker whose token the inventory refuses, echoing
// it in its answer: the worker retries (a refused token is an outage of the inventory, not
// a decision) and its logs show neither token.
func TestCanaryRefusedInventoryToken(t *testing.T) {
	s := newCanarySetup(t)
	produce(t, s.cluster, s.kafka, order.Record{Key: []byte("WAN-SEC-001"), Value: body(t, "disconnect.json"),
		Headers: headers(creds(clientSecret)), Time: testkit.RecordTime})
	p := testkit.StartProcess(t, processEnv(t, s.cfg, "ORDERGATE_INVENTORY_TOKEN="+wrongToken, "ORDERGATE_SHUTDOWN_TIMEOUT=1s"), "run")
	waitLog(t, p, `"msg":"batch step failed, retrying"`, 1, time.Minute)
	for deadline := time.Now().Add(30 * time.Second); s.inv.unauthorized.Load() < 2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the inventory saw %d calls with the wrong token, want at least 2", s.inv.unauthorized.Load())
		}
	}
	if n := s.cluster.Events(t); n != 0 {
		t.Fatalf("%d events while the inventory refused the token, want 0", n)
	}
	must(t, p.Cmd.Process.Signal(syscall.SIGTERM), "SIGTERM")
	p.Wait(t, 30*time.Second) // 1: the record was still in retries
	if !strings.Contains(p.Logs(), "401") {
		t.Errorf("the logs do not say that the inventory answered 401:\n%s", p.Logs())
	}
	for _, l := range logLines(p.Logs()) {
		noLeak(t, fmt.Sprintf("log line (level %q)", l.Level), []byte(l.Raw), secrets, personal)
	}
}
