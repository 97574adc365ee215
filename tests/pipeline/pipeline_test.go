// Package pipeline runs ordergate end to end on real parts: a kfake broker (a real
// Kafka-protocol server), the real redis-server and an HTTP or file inventory. Every test
// ends with the invariant checker reading the topics.
package pipeline

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/app/audit"
	"github.com/ordergate/ordergate/internal/app/testkit"
	"github.com/ordergate/ordergate/internal/app/worker"
	"github.com/ordergate/ordergate/internal/foundation/testredis"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/processor/servicepoint"
)

// disconnect is a valid R_BVPN_FR_1 request naming service point spID.
func disconnect(spID string, seq int) []byte { return testkit.Disconnect(spID, seq) }

// inventory returns a file inventory of n French service points SP-0 ... SP-(n-1).
func inventory(t testing.TB, n int) *servicepoint.FileInventory { return testkit.Inventory(t, n) }

// countingInventory is an HTTP inventory in front of a file inventory that counts calls and
// can be switched to answer 503.
type countingInventory struct {
	*httptest.Server
	calls       atomic.Int64
	unavailable atomic.Bool
}

func newCountingInventory(t testing.TB, inv *servicepoint.FileInventory) *countingInventory {
	c := &countingInventory{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.calls.Add(1)
		if c.unavailable.Load() {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		for _, crit := range []order.Criterion{order.ByID, order.ByReference, order.ByCustomerReference} {
			if v := r.URL.Query().Get(string(crit)); v != "" {
				list, _ := inv.Find(r.Context(), order.Lookup{Criterion: crit, Value: v})
				json.NewEncoder(w).Encode(list)
				return
			}
		}
		http.Error(w, "no criterion", http.StatusBadRequest)
	}))
	t.Cleanup(c.Close)
	return c
}

// outcomes reads every event and returns, by input source ("partition/offset"), the
// decision ("accepted" or "rejected:CODE").
func outcomes(t *testing.T, c *testkit.Cluster) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, topic := range []string{testkit.Topics.Accepted, testkit.Topics.Rejected} {
		for _, m := range c.Read(t, topic) {
			o, err := audit.ParseEvent(m.Value, testkit.Topics.Requests)
			if err != nil {
				t.Fatal(err)
			}
			out[o.Source.String()] = o.Decision
		}
	}
	return out
}

func TestPerKeyOrderUnderParallelism(t *testing.T) {
	c := testkit.NewCluster(t, 6, nil)
	cfg := testkit.Config(t, c, testredis.Shared(t), testredis.Prefix(t))
	cfg.BatchMaxRecords = 200
	var recs []order.Record
	const n, keys = 6000, 24
	for i := range n {
		key := fmt.Sprintf("customer-%02d", i%keys)
		body := disconnect(fmt.Sprintf("SP-%d", i%300), i)
		if i%7 == 0 { // rejected ones interleaved: a bad e-mail
			body = []byte(strings.Replace(string(body), "paul.langel@mycompany.com", "paul", 1))
		}
		recs = append(recs, testkit.Record(key, body, testkit.RecordTime))
	}
	c.Produce(t, recs...)
	testkit.StartWorker(t, cfg, worker.Options{Inventory: inventory(t, 300)})
	c.WaitEvents(t, n, 2*time.Minute)
	r := c.Check(t, audit.Options{SameDecision: true})
	if r.Inputs != n || r.Accepted != n-(n+6)/7 || r.Rejected != (n+6)/7 {
		t.Fatalf("report %+v", r)
	}
}

func TestMalformedRecordHoldsNothingBack(t *testing.T) {
	c := testkit.NewCluster(t, 1, nil)
	cfg := testkit.Config(t, c, testredis.Shared(t), testredis.Prefix(t))
	recs := []order.Record{
		{Key: []byte("k"), Value: disconnect("SP-1", 1), Time: testkit.RecordTime},
		{Key: []byte("k"), Value: []byte("{\"type\": \"R_BVPN_FR_1\", \xff"), Time: testkit.RecordTime},
		{Key: []byte("k"), Value: nil, Time: testkit.RecordTime},
		{Key: []byte("k"), Value: []byte(`[1,2,3]`), Time: testkit.RecordTime},
		{Key: []byte("k"), Value: disconnect("SP-2", 2), Time: testkit.RecordTime},
	}
	c.Produce(t, recs...)
	testkit.StartWorker(t, cfg, worker.Options{Inventory: inventory(t, 3)})
	c.WaitEvents(t, len(recs), time.Minute)
	c.Check(t, audit.Options{})
	got := outcomes(t, c)
	want := map[string]string{"0/0": "accepted", "0/1": "rejected:22", "0/2": "rejected:21", "0/3": "rejected:22", "0/4": "accepted"}
	for src, w := range want {
		if got[src] != w {
			t.Errorf("input %s: %s, want %s", src, got[src], w)
		}
	}
}

func TestBurstOnOneServicePointMakesOneInventoryCall(t *testing.T) {
	c := testkit.NewCluster(t, 3, nil)
	inv := newCountingInventory(t, inventory(t, 5))
	cfg := testkit.Config(t, c, testredis.Shared(t), testredis.Prefix(t))
	cfg.InventoryURL = inv.URL
	var recs []order.Record
	for i := range 100 {
		recs = append(recs, testkit.Record(fmt.Sprintf("k%d", i), disconnect("SP-4", i), testkit.RecordTime))
	}
	c.Produce(t, recs...)
	testkit.StartWorker(t, cfg, worker.Options{})
	c.WaitEvents(t, 100, time.Minute)
	r := c.Check(t, audit.Options{})
	if r.Accepted != 100 {
		t.Fatalf("report %+v", r)
	}
	if n := inv.calls.Load(); n != 1 {
		t.Fatalf("%d inventory calls for 100 records on one service point, want 1", n)
	}
}

// TestOutagesDelayButNeverReject stops Redis, then makes the inventory answer 503: records
// wait (nothing is published for them), then are accepted once the dependency is back.
func TestOutagesDelayButNeverReject(t *testing.T) {
	c := testkit.NewCluster(t, 2, nil)
	srv := testredis.Start(t)
	inv := newCountingInventory(t, inventory(t, 100))
	cfg := testkit.Config(t, c, srv.Addr(), testredis.Prefix(t))
	cfg.InventoryURL = inv.URL
	cfg.RedisTimeout = 200 * time.Millisecond
	cfg.StuckAfter = time.Second
	w := testkit.StartWorker(t, cfg, worker.Options{})
	// batch names 50 service points from spBase on, none of them cached yet.
	batch := func(from, spBase int) []order.Record {
		var recs []order.Record
		for i := from; i < from+50; i++ {
			recs = append(recs, testkit.Record(fmt.Sprintf("k%d", i%5), disconnect(fmt.Sprintf("SP-%d", spBase+i%50), i), testkit.RecordTime))
		}
		return recs
	}

	srv.Stop()
	c.Produce(t, batch(0, 0)...)
	time.Sleep(2 * time.Second)
	if n := c.Events(t); n != 0 {
		t.Fatalf("%d events published while Redis was down", n)
	}
	// /readyz reflects the outage within 5 seconds.
	deadline := time.Now().Add(5 * time.Second)
	for get(t, "http://"+w.W.Addr()+"/readyz") == 200 {
		if time.Now().After(deadline) {
			t.Fatalf("/readyz still answers 200 5s after Redis stopped")
		}
		time.Sleep(100 * time.Millisecond)
	}
	srv.Restart()
	c.WaitEvents(t, 50, time.Minute)

	inv.unavailable.Store(true)
	c.Produce(t, batch(1000, 50)...)
	time.Sleep(2 * time.Second)
	if n := c.Events(t); n != 50 {
		t.Fatalf("%d events while the inventory answered 503, want the 50 of before", n)
	}
	if inv.calls.Load() <= 50 {
		t.Fatalf("no inventory call was retried during its outage")
	}
	inv.unavailable.Store(false)
	c.WaitEvents(t, 100, time.Minute)
	r := c.Check(t, audit.Options{SameDecision: true})
	if r.Accepted != 100 || r.Rejected != 0 {
		t.Fatalf("an outage changed decisions: %+v", r)
	}
	if w.W.Metrics() == nil {
		t.Fatal("no metrics")
	}
}

func get(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestCrashThenNewWorker SIGKILLs a worker process mid-stream; a new one in the same group
// finishes the topic: no event is missing, and repeats carry the same ids.
func TestCrashThenNewWorker(t *testing.T) {
	c := testkit.NewCluster(t, 3, nil)
	cfg := testkit.Config(t, c, testredis.Shared(t), testredis.Prefix(t))
	cfg.InventoryFile = testkit.InventoryFile(t, 100)
	cfg.BatchMaxRecords = 100
	var recs []order.Record
	const n = 6000
	for i := range n {
		recs = append(recs, testkit.Record(fmt.Sprintf("k%d", i%31), disconnect(fmt.Sprintf("SP-%d", i%100), i), testkit.RecordTime))
	}
	c.Produce(t, recs...)
	first := testkit.StartProcess(t, testkit.Env(t, cfg), "run")
	c.WaitEvents(t, 500, time.Minute)
	if err := first.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.Wait(t, 10*time.Second)
	second := testkit.StartProcess(t, testkit.Env(t, cfg), "run")
	c.WaitCommitted(t, cfg.KafkaGroupID, 2*time.Minute)
	r := c.Check(t, audit.Options{SameDecision: true})
	if r.Inputs != n || r.Accepted+r.Rejected != r.Events {
		t.Fatalf("report %+v", r)
	}
	t.Logf("events %d for %d inputs (%d repeated after the crash)", r.Events, n, r.Repeats)
	_ = second.Cmd.Process.Signal(syscall.SIGTERM)
	if code := second.Wait(t, 30*time.Second); code != 0 {
		t.Fatalf("second worker exit %d", code)
	}
}

// TestSIGTERMCommitsWhatItDecided stops a worker process with SIGTERM mid-stream: it exits 0,
// everything it published is committed (so a next worker repeats nothing), and the next
// worker finishes the rest.
func TestSIGTERMCommitsWhatItDecided(t *testing.T) {
	c := testkit.NewCluster(t, 3, nil)
	cfg := testkit.Config(t, c, testredis.Shared(t), testredis.Prefix(t))
	cfg.InventoryFile = testkit.InventoryFile(t, 100)
	cfg.BatchMaxRecords = 50
	var recs []order.Record
	const n = 6000
	for i := range n {
		recs = append(recs, testkit.Record(fmt.Sprintf("k%d", i%17), disconnect(fmt.Sprintf("SP-%d", i%100), i), testkit.RecordTime))
	}
	c.Produce(t, recs...)
	p := testkit.StartProcess(t, testkit.Env(t, cfg), "run")
	c.WaitEvents(t, 300, time.Minute)
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.Wait(t, cfg.ShutdownTimeout+5*time.Second); code != 0 {
		t.Fatalf("exit status %d after SIGTERM, want 0", code)
	}
	published := c.Events(t)
	committed := 0
	for _, off := range c.Committed(t, cfg.KafkaGroupID) {
		if off > 0 {
			committed += int(off)
		}
	}
	if committed != published {
		t.Fatalf("after SIGTERM: %d events published, %d offsets committed: a stop must commit exactly what it published", published, committed)
	}
	if published >= n {
		t.Fatalf("the worker finished everything before the signal (%d): the test did not stop it mid-stream", published)
	}
	testkit.StartProcess(t, testkit.Env(t, cfg), "run")
	c.WaitCommitted(t, cfg.KafkaGroupID, 2*time.Minute)
	r := c.Check(t, audit.Options{SameDecision: true})
	if r.Repeats != 0 {
		t.Fatalf("%d repeated events after a graceful stop, want 0", r.Repeats)
	}
}
