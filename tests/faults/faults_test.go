// Package faults is the fault matrix of ordergate: each scenario runs the worker on kfake
// and real redis-server processes, injects one fault on purpose with thousands of records in
// flight, and ends with the invariant checker reading the topics. Every generated request is
// valid, so "wrongly rejected" is any rejection at all.
package faults

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ordergate/ordergate/internal/app/audit"
	"github.com/ordergate/ordergate/internal/app/testkit"
	"github.com/ordergate/ordergate/internal/app/worker"
	"github.com/ordergate/ordergate/internal/foundation/testredis"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/processor/servicepoint"
)

const servicePoints = 2000

func disconnect(sp, seq int) []byte { return testkit.Disconnect(fmt.Sprintf("SP-%d", sp), seq) }

// records returns n valid requests over 40 keys, naming service points from spBase on.
func records(n, spBase int) []order.Record {
	recs := make([]order.Record, n)
	for i := range recs {
		recs[i] = testkit.Record(fmt.Sprintf("customer-%02d", i%40), disconnect(spBase+i%500, i), testkit.RecordTime)
	}
	return recs
}

func fileInventory(t *testing.T) *servicepoint.FileInventory {
	return testkit.Inventory(t, servicePoints)
}

func inventoryFile(t *testing.T) string { return testkit.InventoryFile(t, servicePoints) }

// result is one row of the matrix, logged by every scenario.
type result struct {
	scenario string
	inFlight int
	report   *audit.Report
	recover  time.Duration
}

func (r result) log(t *testing.T) {
	t.Logf("MATRIX | %s | records %d | missing %d | duplicates %d | wrongly rejected %d | recovered in %v",
		r.scenario, r.inFlight, r.report.Count("missing"), r.report.Repeats, r.report.Rejected, r.recover.Round(10*time.Millisecond))
}

// verify runs the checker and asserts the matrix's invariants: nothing missing (the checker
// fails on it), nothing rejected, every input accepted.
func verify(t *testing.T, c *testkit.Cluster, n int) *audit.Report {
	t.Helper()
	r := c.Check(t, audit.Options{SameDecision: true})
	if r.Inputs != n || r.Rejected != 0 || r.DLQ != 0 {
		t.Fatalf("%d inputs, %d rejected, %d dead-lettered: a fault changed decisions (want %d inputs, all accepted)", r.Inputs, r.Rejected, r.DLQ, n)
	}
	return r
}

// waitAll waits until every input has its event (the group committed them all) and
// returns how long it took since the fault ended.
func waitAll(t *testing.T, c *testkit.Cluster, n int, since time.Time) time.Duration {
	t.Helper()
	c.WaitEvents(t, n, 3*time.Minute)
	c.WaitCommitted(t, "ordergate-test", 3*time.Minute)
	return time.Since(since)
}

// 1. Redis killed and restarted mid-stream.
func TestRedisKilledAndRestarted(t *testing.T) {
	c := testkit.NewCluster(t, 6, nil)
	srv := testredis.Start(t)
	cfg := testkit.Config(t, c, srv.Addr(), testredis.Prefix(t))
	cfg.BatchMaxRecords = 200
	const n = 5000
	testkit.StartWorker(t, cfg, worker.Options{Inventory: fileInventory(t)})
	c.Produce(t, records(n/2, 0)...)
	c.WaitEvents(t, 500, time.Minute)
	srv.Kill()
	c.Produce(t, records(n/2, 500)...)
	time.Sleep(2 * time.Second)
	srv.Restart()
	recovered := waitAll(t, c, n, time.Now())
	result{"1 Redis killed and restarted", n, verify(t, c, n), recovered}.log(t)
}

// 2. Redis frozen for 10 s (SIGSTOP), then resumed.
func TestRedisFrozen(t *testing.T) {
	c := testkit.NewCluster(t, 6, nil)
	srv := testredis.Start(t)
	cfg := testkit.Config(t, c, srv.Addr(), testredis.Prefix(t))
	cfg.BatchMaxRecords = 200
	const n = 5000
	w := testkit.StartWorker(t, cfg, worker.Options{Inventory: fileInventory(t)})
	c.Produce(t, records(n/2, 0)...)
	c.WaitEvents(t, 500, time.Minute)
	srv.Freeze()
	c.Produce(t, records(n/2, 500)...)
	time.Sleep(10 * time.Second)
	if w.W.Metrics() != nil && c.Events(t) >= n {
		t.Fatalf("every event was published while Redis was frozen")
	}
	srv.Thaw()
	recovered := waitAll(t, c, n, time.Now())
	result{"2 Redis frozen 10s", n, verify(t, c, n), recovered}.log(t)
}

// 3. The inventory answers 503, then hangs past its timeout.
func TestInventoryUnavailableThenHanging(t *testing.T) {
	c := testkit.NewCluster(t, 6, nil)
	var mode atomic.Value
	mode.Store("ok")
	url := inventoryStub(t, fileInventory(t), func(w http.ResponseWriter, r *http.Request) bool {
		switch mode.Load().(string) {
		case "503":
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return true
		case "hang":
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return true
		}
		return false
	})
	cfg := testkit.Config(t, c, testredis.Shared(t), testredis.Prefix(t))
	cfg.InventoryURL = url
	cfg.InventoryTimeout = 300 * time.Millisecond
	const n = 3000
	testkit.StartWorker(t, cfg, worker.Options{})
	c.Produce(t, records(1000, 0)...)
	c.WaitEvents(t, 1000, time.Minute)
	mode.Store("503")
	c.Produce(t, records(1000, 500)...)
	time.Sleep(3 * time.Second)
	mode.Store("hang")
	c.Produce(t, records(1000, 1000)...)
	time.Sleep(3 * time.Second)
	if got := c.Events(t); got != 1000 {
		t.Fatalf("%d events while the inventory failed, want the 1000 of before", got)
	}
	mode.Store("ok")
	recovered := waitAll(t, c, n, time.Now())
	result{"3 inventory 503 then hanging", n, verify(t, c, n), recovered}.log(t)
}

// 4. The worker process SIGKILLed mid-batch, then restarted.
func TestWorkerKilledMidBatch(t *testing.T) {
	c := testkit.NewCluster(t, 6, nil)
	cfg := testkit.Config(t, c, testredis.Shared(t), testredis.Prefix(t))
	cfg.InventoryFile = inventoryFile(t)
	cfg.BatchMaxRecords = 100
	const n = 8000
	c.Produce(t, records(n, 0)...)
	p := testkit.StartProcess(t, testkit.Env(t, cfg), "run")
	c.WaitEvents(t, 1500, time.Minute)
	if err := p.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.Wait(t, 10*time.Second)
	killed := time.Now()
	testkit.StartProcess(t, testkit.Env(t, cfg), "run")
	recovered := waitAll(t, c, n, killed)
	result{"4 worker SIGKILLed and restarted", n, verify(t, c, n), recovered}.log(t)
}

// 5. A second and a third worker join the group and leave it during the run.
func TestRebalances(t *testing.T) {
	c := testkit.NewCluster(t, 6, nil, kfake.GroupMinSessionTimeout(time.Second))
	cfg := testkit.Config(t, c, testredis.Shared(t), testredis.Prefix(t))
	cfg.BatchMaxRecords = 100
	const n = 12000
	inv := fileInventory(t)
	testkit.StartWorker(t, cfg, worker.Options{Inventory: inv})
	c.Produce(t, records(n/3, 0)...)
	c.WaitEvents(t, 1000, time.Minute)
	second := testkit.StartWorker(t, cfg, worker.Options{Inventory: inv})
	c.Produce(t, records(n/3, 500)...)
	third := testkit.StartWorker(t, cfg, worker.Options{Inventory: inv})
	time.Sleep(3 * time.Second)
	_ = second.Stop(t, 30*time.Second)
	c.Produce(t, records(n/3, 1000)...)
	_ = third.Stop(t, 30*time.Second)
	recovered := waitAll(t, c, n, time.Now())
	result{"5 workers joining and leaving", n, verify(t, c, n), recovered}.log(t)
}

// 6. Broker faults: produce errors, offset-commit errors, a broker removed and returned.
func TestBrokerFaults(t *testing.T) {
	c := testkit.NewCluster(t, 6, nil, kfake.NumBrokers(3))
	cfg := testkit.Config(t, c, testredis.Shared(t), testredis.Prefix(t))
	cfg.BatchMaxRecords = 200
	const n = 8000
	testkit.StartWorker(t, cfg, worker.Options{Inventory: fileInventory(t)})
	c.Produce(t, records(n/4, 0)...)
	c.WaitEvents(t, 500, time.Minute)

	// Produce errors on the accepted topic: nothing is lost, nothing is skipped.
	produce := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: testkit.Topics.Accepted, Err: kerr.NotEnoughReplicas, Count: -1})
	c.Produce(t, records(n/4, 500)...)
	waitHits(t, produce, 20)
	produce.Remove()
	c.WaitEvents(t, n/2, time.Minute)

	// Offset-commit errors: events go on, offsets wait.
	commit := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.OffsetCommit}, Err: kerr.CoordinatorNotAvailable, Count: -1})
	c.Produce(t, records(n/4, 1000)...)
	waitHits(t, commit, 3)
	commit.Remove()
	c.WaitEvents(t, 3*n/4, time.Minute)

	// A broker that leads partitions removed, then returned.
	leader := c.LeaderFor(testkit.Topics.Accepted, 0)
	if err := c.RemoveNode(leader); err != nil {
		t.Fatalf("remove node %d: %v", leader, err)
	}
	c.Produce(t, records(n/4, 1500)...)
	time.Sleep(2 * time.Second)
	if _, _, err := c.AddNode(leader, 0); err != nil {
		t.Fatalf("add node %d back: %v", leader, err)
	}
	recovered := waitAll(t, c, n, time.Now())
	result{"6 produce errors, commit errors, broker removed and returned", n, verify(t, c, n), recovered}.log(t)
}

// waitHits waits until a fault answered at least n requests.
func waitHits(t *testing.T, f *kfake.FaultHandle, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for f.Hits() < n {
		if time.Now().After(deadline) {
			t.Fatalf("the fault answered %d requests in 30s, want %d", f.Hits(), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// 7. An event over the output topic's limit is cut and published; an output topic whose
// limit is below even the cut event sends the record to the DLQ, and its offset is
// committed.
func TestSizeLimits(t *testing.T) {
	bigBody := func(seq int) []byte {
		return []byte(strings.Replace(string(disconnect(1, seq)), `"firstName":"Paul"`, `"firstName":"`+strings.Repeat("P", 200)+`"`, 1))
	}
	t.Run("cut", func(t *testing.T) {
		c := testkit.NewCluster(t, 2, map[string]string{"max.message.bytes": "8000"})
		cfg := testkit.Config(t, c, testredis.Shared(t), testredis.Prefix(t))
		var recs []order.Record
		for i := range 200 {
			v := disconnect(1, i)
			if i%10 == 0 { // every tenth request: a 20 KB unknown member pushes its event over 8000 bytes
				v = []byte(strings.Replace(string(v), `"customerReference"`, `"comment":"`+strings.Repeat("x", 20000)+`","customerReference"`, 1))
			}
			recs = append(recs, testkit.Record("k", v, testkit.RecordTime))
		}
		c.Produce(t, recs...)
		w := testkit.StartWorker(t, cfg, worker.Options{Inventory: fileInventory(t)})
		c.WaitEvents(t, 200, time.Minute)
		r := c.Check(t, audit.Options{})
		if r.DLQ != 0 || r.Rejected != 20 {
			t.Fatalf("report %+v", r)
		}
		if got := testutilValue(t, w, "ordergate_truncated_events_total"); got != 20 {
			t.Fatalf("%v truncated events, want 20", got)
		}
	})
	t.Run("dead letter", func(t *testing.T) {
		c := testkit.NewCluster(t, 2, map[string]string{"max.message.bytes": "700"})
		// The DLQ topic takes the input unchanged; give it room.
		cfg := testkit.Config(t, c, testredis.Shared(t), testredis.Prefix(t))
		cfg.TopicDLQ = "orders.dlq.big"
		if err := c.CreateTopic(cfg.TopicDLQ, 2, nil); err != nil {
			t.Fatal(err)
		}
		var recs []order.Record
		for i := range 100 {
			recs = append(recs, testkit.Record("k", bigBody(i), testkit.RecordTime))
		}
		c.Produce(t, recs...)
		testkit.StartWorker(t, cfg, worker.Options{Inventory: fileInventory(t)})
		deadline := time.Now().Add(time.Minute)
		for c.Count(t, cfg.TopicDLQ) < 100 {
			if time.Now().After(deadline) {
				t.Fatalf("%d dead-letter records, want 100", c.Count(t, cfg.TopicDLQ))
			}
			time.Sleep(50 * time.Millisecond)
		}
		committed := int64(0)
		for time.Now().Before(deadline) {
			committed = 0
			for _, off := range c.Committed(t, cfg.KafkaGroupID) {
				if off > 0 {
					committed += off
				}
			}
			if committed == 100 {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if committed != 100 {
			t.Fatalf("%d offsets committed after the dead-letter records, want 100", committed)
		}
	})
}

// testutilValue reads a counter of a running worker.
func testutilValue(t *testing.T, w *testkit.Running, name string) float64 {
	t.Helper()
	mfs, err := w.W.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return total
}
