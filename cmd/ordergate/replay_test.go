package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/app/shadow"
	"github.com/ordergate/ordergate/internal/app/testkit"
	"github.com/ordergate/ordergate/internal/app/worker"
	"github.com/ordergate/ordergate/internal/foundation/testredis"
	"github.com/ordergate/ordergate/processor/order"
)

// diffReport is the JSON of `ordergate replay --diff`.
type diffReport struct {
	shadow.Report
	Resolution string `json:"resolution"`
}

// TestReplayDiff has a worker decide a mixed topic, then runs `ordergate replay --diff` on
// it: with the worker's own configuration, no decision changes (exit 0); with a clients
// file that no longer lets channel-a act for JM, exactly the four accepted JM requests of
// channel-a change to 403/50 (exit 1), with their coordinates; --pure finds the same
// changes without Redis or the inventory. The diff publishes nothing and commits no offset.
func TestReplayDiff(t *testing.T) {
	c := testkit.NewCluster(t, 3, nil)
	redisAddr, prefix := testredis.Shared(t), testredis.Prefix(t)
	inventory := writeFile(t, "inventory.json", testInventory)
	cfg := testkit.Config(t, c, redisAddr, prefix)
	cfg.InventoryFile = inventory
	cfg.ClientsFile = writeClients(t, "channel-a:secret-a:PA,JM", "channel-b:secret-b:TT")
	denyJM := writeClients(t, "channel-a:secret-a:PA", "channel-b:secret-b:TT")

	account := func(bu string, n int, id, secret string) order.Record {
		return testkit.Record(fmt.Sprintf("%s-ACC-%d", bu, n), []byte(accountJSON), dlqRecordTime,
			"type", "PATCH-billingAccountById", "businessId", bu, "id", fmt.Sprint(n), "client_id", id, "client_secret", secret)
	}
	disconnect := func(sp string, n int) order.Record {
		return testkit.Record(fmt.Sprintf("WAN-%d", n), testkit.Disconnect(sp, n), dlqRecordTime, "client_id", "channel-a", "client_secret", "secret-a")
	}
	var recs []order.Record
	for i := range 6 {
		recs = append(recs, account("PA", i, "channel-a", "secret-a"))
	}
	for i := range 4 {
		recs = append(recs, account("JM", i, "channel-a", "secret-a"))
	}
	for i := range 3 {
		recs = append(recs, account("TT", i, "channel-b", "secret-b"), disconnect("SP-FR-1", i))
	}
	recs = append(recs, disconnect("SP-ES-1", 10), disconnect("SP-XX-9", 11), account("JM", 9, "channel-a", "wrong-secret"),
		testkit.Record("junk", []byte("{"), dlqRecordTime, "client_id", "channel-a", "client_secret", "secret-a"))
	c.Produce(t, recs...)
	testkit.StartWorker(t, cfg, worker.Options{})
	c.WaitCommitted(t, cfg.KafkaGroupID, time.Minute)
	committed := c.Committed(t, cfg.KafkaGroupID)
	events := c.Events(t)

	dlqEnv(t, c, redisAddr, prefix, inventory)
	diff := func(clients string, args ...string) (int, diffReport, string) {
		t.Helper()
		t.Setenv("ORDERGATE_CLIENTS_FILE", clients)
		code, out, errs := cli(t, "", append([]string{"replay", "--diff", "--json"}, args...)...)
		var rep diffReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("replay --diff %v: exit %d, %v\n%s%s", args, code, err, out, errs)
		}
		return code, rep, errs
	}

	code, rep, errs := diff(cfg.ClientsFile)
	if code != 0 || rep.Records != len(recs) || rep.Unchanged != len(recs) || rep.Changed != 0 || rep.NoEvent != 0 || len(rep.Changes) != 0 {
		t.Fatalf("same rules: exit %d, %+v\n%s", code, rep, errs)
	}
	if !strings.Contains(rep.Resolution, "configured Redis cache") || !strings.Contains(rep.Resolution, "service points may have changed") {
		t.Errorf("the report does not say how service points were resolved: %q", rep.Resolution)
	}

	for _, args := range [][]string{nil, {"--pure"}} {
		code, rep, errs = diff(denyJM, args...)
		if code != 1 || rep.Changed != 4 || rep.Unchanged != len(recs)-4 || len(rep.Changes) != 1 {
			t.Fatalf("JM denied %v: exit %d, %+v\n%s", args, code, rep, errs)
		}
		ch := rep.Changes[0]
		if ch.Old != "accepted" || ch.New != "rejected 50" || ch.Count != 4 || len(ch.Examples) != 4 {
			t.Fatalf("JM denied %v: change %+v", args, ch)
		}
		keys := map[string]bool{}
		for _, ex := range ch.Examples {
			if ex.Key != nil {
				keys[*ex.Key] = true
			}
			if ex.New.Field != "headers.businessId" || ex.EventID == "" {
				t.Errorf("example %+v", ex)
			}
		}
		if want := map[string]bool{"JM-ACC-0": true, "JM-ACC-1": true, "JM-ACC-2": true, "JM-ACC-3": true}; !maps.Equal(keys, want) {
			t.Errorf("changed records %v, want %v", keys, want)
		}
	}

	// The text report: the table and the coordinates of the examples.
	t.Setenv("ORDERGATE_CLIENTS_FILE", denyJM)
	code, out, _ := cli(t, "", "replay", "--diff", "--examples", "2", "--partitions", "0,1,2", "--from", "0")
	if code != 1 || !strings.Contains(out, "records 20: unchanged 16, changed 4") || !strings.Contains(out, "accepted -> rejected 50") ||
		strings.Count(out, "  orders.requests/") != 2 || !strings.Contains(out, "(headers.businessId)") {
		t.Fatalf("text report: exit %d\n%s", code, out)
	}
	// A range: the records before a time are left out.
	code, rep, _ = diff(denyJM, "--from", dlqRecordTime.Add(time.Hour).Format(time.RFC3339))
	if code != 0 || rep.Records != 0 {
		t.Errorf("range after every record: exit %d, %+v", code, rep)
	}
	if got := c.Committed(t, cfg.KafkaGroupID); !maps.Equal(got, committed) {
		t.Errorf("the diff moved the worker's offsets: %v, then %v", committed, got)
	}
	if n := c.Events(t); n != events {
		t.Errorf("the diff published: %d events, then %d", events, n)
	}
}
