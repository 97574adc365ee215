package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ordergate/ordergate/internal/app/audit"
	"github.com/ordergate/ordergate/internal/app/testkit"
	"github.com/ordergate/ordergate/internal/app/worker"
	"github.com/ordergate/ordergate/internal/foundation/testredis"
)

// dlqRecordTime is "today" of the test records: Friday 4 December 2026 in Paris.
var dlqRecordTime = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

// cli runs `ordergate args...` in-process with stdin and returns its exit status and
// output.
func cli(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := &env{stdin: strings.NewReader(stdin), stdout: &stdout, stderr: &stderr, now: time.Now, ctx: context.Background()}
	code := run(args, e)
	return code, stdout.String(), stderr.String()
}

const accountJSON = `{"contact":[{"contactName":"Jodian Malcolm","partyRoleType":"OWNER","contactMedium":[` +
	`{"mediumType":"Email","characteristic":{"emailAddress":"jodian@example.com","contactType":"email"}}]}]}`

// paddedAccount is an account request with a first-level attribute of n bytes, which the
// contract lets through.
func paddedAccount(n int) []byte {
	return []byte(`{"accountNote":"` + strings.Repeat("n", n) + `",` + accountJSON[1:])
}

// setLimit sets max.message.bytes of topics.
func setLimit(t *testing.T, c *testkit.Cluster, limit int, topics ...string) {
	t.Helper()
	req := &kafka.AlterConfigsRequest{}
	for _, topic := range topics {
		req.Resources = append(req.Resources, kafka.AlterConfigRequestResource{ResourceType: kafka.ResourceTypeTopic, ResourceName: topic,
			Configs: []kafka.AlterConfigRequestConfig{{Name: "max.message.bytes", Value: strconv.Itoa(limit)}}})
	}
	resp, err := c.Client.AlterConfigs(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	for r, err := range resp.Errors {
		if err != nil {
			t.Fatalf("alter %v: %v", r, err)
		}
	}
}

// dlqEnv sets the ORDERGATE_* variables of the commands for the cluster and Redis of a
// worker configuration.
func dlqEnv(t *testing.T, c *testkit.Cluster, redisAddr, prefix, inventory string) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir()) // no dev broker is found
	t.Setenv("ORDERGATE_KAFKA_BROKERS", strings.Join(c.Brokers, ","))
	t.Setenv("ORDERGATE_REDIS_URL", "redis://"+redisAddr+"/0")
	t.Setenv("ORDERGATE_REDIS_KEY_PREFIX", prefix)
	t.Setenv("ORDERGATE_INVENTORY_FILE", inventory)
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const testInventory = `[{"id":"SP-FR-1","reference":"R-FR-1","customerReference":"C-FR-1","name":"Bar","market":"FR","state":"OPERATIONAL"},
{"id":"SP-ES-1","reference":"R-ES-1","customerReference":"C-ES-1","name":"Bodega","market":"ES","state":"OPERATIONAL"}]`

// TestDLQListShowReplay dead-letters a request whose event the output topics refuse, then,
// the cause fixed (the topics' limit raised, the worker restarted), lists it, shows it
// (its secrets dropped, never printed), replays it once with the client secret given on
// standard input, sees its new event name the original, and sees a second replay refused.
func TestDLQListShowReplay(t *testing.T) {
	const secret, bearer = "s3cret-CANARY-1", "Bearer tok-CANARY-2"
	c := testkit.NewCluster(t, 2, map[string]string{"max.message.bytes": "2000"})
	// The dead-letter topic takes the whole input.
	if err := c.DeleteTopic(testkit.Topics.DLQ); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateTopic(testkit.Topics.DLQ, 2, nil); err != nil {
		t.Fatal(err)
	}
	redisAddr, prefix := testredis.Shared(t), testredis.Prefix(t)
	inventory := writeFile(t, "inventory.json", testInventory)
	cfg := testkit.Config(t, c, redisAddr, prefix)
	cfg.InventoryFile = inventory
	headers := []string{"type", "PATCH-billingAccountById", "businessId", "PA", "id", "ACC-7",
		"client_id", "channel-1", "client_secret", secret, "Authorization", bearer,
		"X-Correlation-ID", "corr-dlq-1", "traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
	c.Produce(t,
		testkit.Record("PA-ACC-7", paddedAccount(1500), dlqRecordTime, headers...),
		testkit.Record("PA-ACC-8", []byte(accountJSON), dlqRecordTime, headers...))
	w := testkit.StartWorker(t, cfg, worker.Options{})
	c.WaitCommitted(t, cfg.KafkaGroupID, time.Minute)
	if n := c.Count(t, testkit.Topics.DLQ); n != 1 {
		t.Fatalf("%d dead letters, want 1", n)
	}
	// The cause fixed: the output topics take larger events, and a new worker reads it.
	if err := w.Stop(t, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	setLimit(t, c, 1<<20, testkit.Topics.Accepted, testkit.Topics.Rejected)
	testkit.StartWorker(t, cfg, worker.Options{})
	dlqEnv(t, c, redisAddr, prefix, inventory)
	var printed strings.Builder
	run := func(stdin string, args ...string) (int, string) {
		t.Helper()
		code, out, errs := cli(t, stdin, args...)
		printed.WriteString(out + errs)
		return code, out + errs
	}

	code, out := run("", "dlq", "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.Contains(lines[1], "PA-ACC-7") || !strings.Contains(lines[1], "PATCH-billingAccountById") ||
		!strings.Contains(lines[1], "larger than the output topic accepts") || !strings.Contains(lines[1], "orders.requests/") {
		t.Fatalf("dlq list: exit %d\n%s", code, out)
	}
	ref := strings.Fields(lines[1])[0]
	code, out = run("", "dlq", "list", "--json", "--type", "PATCH-billingAccountById", "--since", "1h")
	var listed []letterJSON
	if err := json.Unmarshal([]byte(out), &listed); code != 0 || err != nil || len(listed) != 1 {
		t.Fatalf("dlq list --json: exit %d, %v\n%s", code, err, out)
	}
	original := listed[0].EventID
	if strings.Join(listed[0].DroppedHeaders, ",") != "client_secret,Authorization" || len(listed[0].Replays) != 0 || listed[0].Ref != ref {
		t.Errorf("listed %+v", listed[0])
	}
	if code, out = run("", "dlq", "list", "--reason", "invalid record"); code != 0 || !strings.Contains(out, "0 of 1 dead letters") {
		t.Errorf("dlq list --reason: exit %d\n%s", code, out)
	}

	code, out = run("", "dlq", "show", ref)
	for _, want := range []string{"event id      " + original, `"client_id": "channel-1"`, "not kept      client_secret,Authorization", `"accountNote"`, "replays       none"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("dlq show: exit %d, no %q in\n%s", code, want, out)
		}
	}

	// Without the client's secret, the replay is refused: the dead letter has none.
	if code, out = run("", "dlq", "replay", ref); code != 1 || !strings.Contains(out, `needs the client_secret of client "channel-1"`) {
		t.Fatalf("replay without credentials: exit %d\n%s", code, out)
	}
	inputs := c.Count(t, testkit.Topics.Requests)
	code, out = run("channel-1="+secret+"\n", "dlq", "replay", "--dry-run", "--credentials", "-", ref)
	if code != 0 || !strings.Contains(out, "would replay "+ref) || !strings.Contains(out, `"client_secret": "(from the credentials given)"`) ||
		!strings.Contains(out, `"replay_of": "`+original+`"`) || c.Count(t, testkit.Topics.Requests) != inputs {
		t.Fatalf("dry run: exit %d\n%s", code, out)
	}

	code, out = run("channel-1="+secret+"\n", "dlq", "replay", "--credentials", "-", ref)
	if code != 0 || !strings.Contains(out, "replayed "+ref+" (event "+original+") as orders.requests/") {
		t.Fatalf("replay: exit %d\n%s", code, out)
	}
	replayed := strings.TrimSpace(out[strings.LastIndex(out, " as ")+4:])
	c.WaitCommitted(t, cfg.KafkaGroupID, time.Minute)
	ev := eventOf(t, c, replayed)
	if ev["replayOf"] != original || ev["eventType"] != "order.accepted" || ev["correlationId"] != "corr-dlq-1" || ev["eventId"] == original {
		t.Fatalf("event of the replay: %v", ev)
	}

	// A second replay is refused; the list says where the first went.
	if code, out = run("channel-1="+secret+"\n", "dlq", "replay", "--credentials", "-", ref); code != 1 || !strings.Contains(out, "already replayed") ||
		!strings.Contains(out, replayed) {
		t.Fatalf("second replay: exit %d\n%s", code, out)
	}
	if code, out = run("", "dlq", "list", "--pending"); code != 0 || !strings.Contains(out, "0 of 1 dead letters") {
		t.Errorf("dlq list --pending after the replay: exit %d\n%s", code, out)
	}
	if code, out = run("", "dlq", "list"); code != 0 || !strings.Contains(out, replayed) {
		t.Errorf("dlq list does not show the replay: exit %d\n%s", code, out)
	}
	r := c.Check(t, audit.Options{})
	if r.Replays != 1 || r.ReplayedDeadLetters != 1 || r.DLQ != 1 {
		t.Errorf("check: %+v", r)
	}
	// Forced, it replays again; check still sees no duplicate.
	if code, out = run("channel-1="+secret+"\n", "dlq", "replay", "--force", "--all", "--credentials", "-"); code != 0 || !strings.Contains(out, "replayed "+ref) {
		t.Fatalf("forced replay: exit %d\n%s", code, out)
	}
	c.WaitCommitted(t, cfg.KafkaGroupID, time.Minute)
	if r := c.Check(t, audit.Options{}); r.Replays != 2 || r.ReplayedDeadLetters != 1 {
		t.Errorf("check after a forced replay: %+v", r)
	}
	code, out = run("", "dlq", "show", "--json", original)
	var shown []letterJSON
	if err := json.Unmarshal([]byte(out), &shown); code != 0 || err != nil || len(shown) != 1 || len(shown[0].Replays) != 2 || !shown[0].Replays[1].Forced {
		t.Fatalf("dlq show --json: exit %d, %v\n%s", code, err, out)
	}
	for _, s := range []string{secret, bearer, "tok-CANARY"} {
		if strings.Contains(printed.String(), s) {
			t.Errorf("the dlq commands printed a secret (%s)", s)
		}
	}
	for _, m := range c.Read(t, testkit.Topics.DLQ) {
		for _, h := range m.Headers {
			if strings.Contains(string(h.Value), "CANARY") {
				t.Errorf("the dead-letter topic holds a secret in header %s", h.Key)
			}
		}
	}
}

// eventOf returns the event of the input record at topic/partition/offset.
func eventOf(t *testing.T, c *testkit.Cluster, where string) map[string]any {
	t.Helper()
	parts := strings.Split(where, "/")
	for _, topic := range []string{testkit.Topics.Accepted, testkit.Topics.Rejected} {
		for _, m := range c.Read(t, topic) {
			var ev map[string]any
			if err := json.Unmarshal(m.Value, &ev); err != nil {
				t.Fatal(err)
			}
			src := ev["source"].(map[string]any)
			if fmt.Sprint(src["partition"]) == parts[1] && fmt.Sprint(src["offset"]) == parts[2] {
				return ev
			}
		}
	}
	t.Fatalf("no event for %s", where)
	return nil
}

func TestDLQUsage(t *testing.T) {
	for _, args := range [][]string{{"dlq"}, {"dlq", "purge"}, {"dlq", "replay"}, {"dlq", "list", "--since", "yesterday"}, {"replay"}, {"replay", "--diff", "--from", "soon"}} {
		if code, _, errs := cli(t, "", args...); code != exitUsage || errs == "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs)
		}
	}
	// The secret of a credentials file never appears in its errors.
	if code, _, errs := cli(t, "channel-1 hunter22-CANARY\n", "dlq", "replay", "--all", "--credentials", "-"); code != exitUsage || !strings.Contains(errs, "line 1") || strings.Contains(errs, "CANARY") {
		t.Errorf("bad credentials: exit %d, %q", code, errs)
	}
}

// writeClients writes a clients file: each client "id:secret:BU,BU".
func writeClients(t *testing.T, clients ...string) string {
	t.Helper()
	var entries []string
	for _, c := range clients {
		f := strings.Split(c, ":")
		sum := sha256.Sum256([]byte(f[1]))
		bus, _ := json.Marshal(strings.Split(f[2], ","))
		entries = append(entries, fmt.Sprintf(`{"clientId":%q,"secretSha256":%q,"businessIds":%s}`, f[0], hex.EncodeToString(sum[:]), bus))
	}
	return writeFile(t, "clients.json", "["+strings.Join(entries, ",")+"]")
}
