package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ordergate/ordergate/internal/app/doctor"
	"github.com/ordergate/ordergate/internal/foundation/testredis"
)

// doctorSetup is a broker, a Redis and an inventory for doctor to check.
type doctorSetup struct {
	brokers   string
	redisURL  string
	inventory string
	clients   string
}

// newDoctorSetup starts a kfake broker with the topics given (name: partitions and
// configs), a redis-server of the test's own with a maxmemory-policy, an inventory that
// knows SP-FR-0001 only (404 with an empty body for any other id) and a clients file.
func newDoctorSetup(t *testing.T, topics map[string]struct {
	partitions int
	configs    map[string]string
}, policy, clients string) doctorSetup {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	for name, tp := range topics {
		must(t, c.CreateTopic(name, int32(tp.partitions), tp.configs))
	}
	redis := testredis.Start(t, "--maxmemory", "64mb", "--maxmemory-policy", policy)
	inv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/servicePoints" && r.URL.Query().Get("id") == "SP-FR-0001" {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`[{"id":"SP-FR-0001","reference":"R","customerReference":"C","name":"n","market":"FR","state":"OPERATIONAL"}]`))
			return
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	t.Cleanup(inv.Close)
	file := filepath.Join(t.TempDir(), "clients.json")
	must(t, os.WriteFile(file, []byte(clients), 0o600))
	return doctorSetup{brokers: strings.Join(c.ListenAddrs(), ","), redisURL: redis.URL(), inventory: inv.URL + "/api", clients: file}
}

func (s doctorSetup) env(t *testing.T, extra ...string) {
	t.Helper()
	clearOrdergateEnv(t)
	for _, kv := range append([]string{"ORDERGATE_KAFKA_BROKERS=" + s.brokers, "ORDERGATE_REDIS_URL=" + s.redisURL,
		"ORDERGATE_INVENTORY_URL=" + s.inventory, "ORDERGATE_CLIENTS_FILE=" + s.clients, "ORDERGATE_HTTP_ADDR=127.0.0.1:0"}, extra...) {
		name, value, _ := strings.Cut(kv, "=")
		t.Setenv(name, value)
	}
}

type topicSpec = struct {
	partitions int
	configs    map[string]string
}

// doctorJSON runs `ordergate doctor --json ARGS...` and decodes its report.
func doctorJSON(t *testing.T, args ...string) (int, []doctor.Finding, string) {
	t.Helper()
	r := runCLI(t, "", append([]string{"doctor", "--json"}, args...)...)
	var out struct {
		OK       bool
		Findings []doctor.Finding
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("doctor --json: %v\n%s%s", err, r.stdout, r.stderr)
	}
	if out.OK != (r.code == exitOK) {
		t.Errorf("ok %v with exit status %d", out.OK, r.code)
	}
	return r.code, out.Findings, r.stdout
}

// TestDoctorReportsEverythingAtOnce (issue 21): each finding provoked at once against the
// embedded broker, a real redis-server and an HTTP inventory: a missing topic (misspelt),
// output partitions unlike the input's, an output limit too small for the largest event,
// CreateTime input timestamps, Redis with noeviction, the inventory's 404 for the probe id
// and a clients file that cannot be read as one. One run reports them all, each with what
// to fix, and exits 1.
func TestDoctorReportsEverythingAtOnce(t *testing.T) {
	s := newDoctorSetup(t, map[string]topicSpec{
		"orders.requests": {6, nil}, // CreateTime, kfake's default
		"orders.accepted": {3, map[string]string{"max.message.bytes": "100000"}},
		"orders.rejected": {6, nil},
		"orders.dlq":      {6, nil},
	}, "noeviction", "[\n  {\"clientId\": \"channel-pa\", \"clientSecret\": \"s3cret\"}\n]")
	s.env(t, "ORDERGATE_TOPIC_DLQ=orders.dql")
	code, findings, out := doctorJSON(t, "--service-point", "SP-FR-9999")
	if code != exitFailure {
		t.Errorf("exit status %d, want 1", code)
	}
	want := []struct {
		check    string
		severity doctor.Severity
		message  string
		fix      string
	}{
		{"kafka.topics", doctor.Error, `topic "orders.dql" (ORDERGATE_TOPIC_DLQ) does not exist (did you mean "orders.dlq"?)`, "ORDERGATE_TOPIC_DLQ"},
		{"kafka.partitions", doctor.Warning, `topic "orders.accepted" has 3 partitions, the input "orders.requests" has 6`, "as many partitions"},
		{"kafka.limits", doctor.Warning, `topic "orders.accepted" takes records up to 100000 bytes`, "raise its max.message.bytes"},
		{"kafka.timestamps", doctor.Warning, "message.timestamp.type=CreateTime", "LogAppendTime"},
		{"redis.eviction", doctor.Warning, "maxmemory-policy is noeviction", "allkeys-lru"},
		{"inventory", doctor.Error, `has no service point with id "SP-FR-9999"`, "ORDERGATE_INVENTORY_URL"},
		{"clients", doctor.Error, `line 2, column 30: entry 1: unknown field "clientSecret"`, "clients check"},
	}
	for _, w := range want {
		found := false
		for _, f := range findings {
			if f.Check == w.check && f.Severity == w.severity && strings.Contains(f.Message, w.message) && strings.Contains(f.Fix, w.fix) {
				found = true
			}
		}
		if !found {
			t.Errorf("no %s finding %q (fix: %q)", w.severity, w.message, w.fix)
		}
	}
	for _, f := range findings {
		if f.Severity != doctor.OK && f.Fix == "" && f.Check != "config" {
			t.Errorf("finding without a fix: %+v", f)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
	// The text report says the same, errors first, and closes with the counts.
	r := runCLI(t, "", "doctor", "--service-point", "SP-FR-9999")
	if r.code != exitFailure || !strings.HasPrefix(r.stdout, "error") || !strings.Contains(r.stdout, "3 errors, ") {
		t.Errorf("doctor: exit %d\n%s", r.code, r.stdout)
	}
	t.Logf("ordergate doctor:\n%s", r.stdout)
	// run --check is doctor.
	if r2 := runCLI(t, "", "run", "--check", "--service-point", "SP-FR-9999"); r2.code != r.code || r2.stdout != r.stdout {
		t.Errorf("run --check differs from doctor: exit %d\n%s", r2.code, r2.stdout)
	}
}

// TestDoctorPassesAHealthySetup: nothing blocks (exit 0); a single replica is a warning.
func TestDoctorPassesAHealthySetup(t *testing.T) {
	logAppend := map[string]string{"message.timestamp.type": "LogAppendTime"}
	s := newDoctorSetup(t, map[string]topicSpec{
		"orders.requests": {3, logAppend}, "orders.accepted": {3, nil}, "orders.rejected": {3, nil}, "orders.dlq": {3, nil},
	}, "allkeys-lru", `[{"clientId": "channel-pa", "secretSha256": "`+strings.Repeat("ab", 32)+`", "businessIds": ["PA"]}]`)
	s.env(t)
	code, findings, out := doctorJSON(t, "--service-point", "SP-FR-0001")
	if code != exitOK {
		t.Errorf("exit status %d, want 0:\n%s", code, out)
	}
	for _, f := range findings {
		if f.Severity == doctor.Warning && f.Check != "kafka.replicas" {
			t.Errorf("warning %+v", f)
		}
	}
	// Configuration problems are findings too, all of them, and the rest is still checked.
	s.env(t, "ORDERGATE_CACHE_TTL=soon", "ORDERGATE_LOG_LEVEL=loud")
	code, findings, _ = doctorJSON(t, "--service-point", "SP-FR-0001")
	var config, redis int
	for _, f := range findings {
		if f.Check == "config" && f.Severity == doctor.Error {
			config++
		}
		if f.Check == "redis" && f.Severity == doctor.OK {
			redis++
		}
	}
	if code != exitFailure || config != 2 || redis != 1 {
		t.Errorf("exit %d, %d config errors (want 2), Redis checked %d times (want 1)", code, config, redis)
	}
}

// TestDoctorACLs: where the broker lists its ACLs to the worker's user, a right the worker
// needs and lacks (Write on the dead-letter topic here) is an error naming the fix.
func TestDoctorACLs(t *testing.T) {
	const mech, user, password = "SCRAM-SHA-256", "worker", "worker-pw-1"
	acl := func(res kmsg.ACLResourceType, name string, op kmsg.ACLOperation) kfake.ACL {
		return kfake.ACL{Resource: res, Name: name, Pattern: kmsg.ACLResourcePatternTypeLiteral, Operation: op, Allow: true}
	}
	acls := []kfake.ACL{
		acl(kmsg.ACLResourceTypeCluster, "kafka-cluster", kmsg.ACLOperationDescribe), // to list the ACLs
		acl(kmsg.ACLResourceTypeTopic, "orders.requests", kmsg.ACLOperationRead),
		acl(kmsg.ACLResourceTypeGroup, "ordergate", kmsg.ACLOperationRead),
	}
	for _, topic := range []string{"orders.accepted", "orders.rejected", "orders.dlq"} {
		if topic != "orders.dlq" {
			acls = append(acls, acl(kmsg.ACLResourceTypeTopic, topic, kmsg.ACLOperationWrite))
		}
		acls = append(acls, acl(kmsg.ACLResourceTypeTopic, topic, kmsg.ACLOperationDescribeConfigs))
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.EnableACLs(),
		kfake.Superuser(mech, "admin", "admin-pw"), kfake.User(mech, user, password, acls...))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, topic := range []string{"orders.requests", "orders.accepted", "orders.rejected", "orders.dlq"} {
		must(t, c.CreateTopic(topic, 1, nil))
	}
	clearOrdergateEnv(t)
	for name, value := range map[string]string{
		"ORDERGATE_KAFKA_BROKERS": strings.Join(c.ListenAddrs(), ","), "ORDERGATE_KAFKA_SASL_MECHANISM": mech,
		"ORDERGATE_KAFKA_SASL_USERNAME": user, "ORDERGATE_KAFKA_SASL_PASSWORD": password,
		"ORDERGATE_INVENTORY_URL": "http://127.0.0.1:1", "ORDERGATE_REDIS_URL": "redis://127.0.0.1:1/0",
	} {
		t.Setenv(name, value)
	}
	_, findings, out := doctorJSON(t, "--timeout", "2s")
	var acl0 []doctor.Finding
	for _, f := range findings {
		if f.Check == "kafka.acls" {
			acl0 = append(acl0, f)
		}
	}
	if len(acl0) != 1 || acl0[0].Severity != doctor.Error || acl0[0].Message != `User:worker may not Write topic "orders.dlq"` ||
		!strings.Contains(acl0[0].Fix, "kafka-acls --add --allow-principal User:worker --operation Write --topic orders.dlq") {
		t.Errorf("ACL findings %+v\n%s", acl0, out)
	}
	if strings.Contains(out, password) {
		t.Error("the SASL password is shown")
	}
}
