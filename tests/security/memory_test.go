package security

import (
	"bytes"
	"encoding/json"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/internal/app/audit"
	"github.com/ordergate/ordergate/internal/app/bench"
	"github.com/ordergate/ordergate/internal/app/testkit"
	"github.com/ordergate/ordergate/internal/foundation/testredis"
	"github.com/ordergate/ordergate/processor/order"
)

// largeRecordBoundMiB is the peak RSS a worker without a memory limit keeps under a flood
// of 1 MiB records (issue 18): the fetch budget's 8 MiB, the batches being decided, and
// the ~30 MiB the worker takes with nothing in hand.
const largeRecordBoundMiB = 160

// floodSetting reads a setting of the flood from the environment (`make flood` sets them),
// or def.
func floodSetting(t *testing.T, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a whole number", name, s)
	}
	return n
}

// TestLargeRecordFloodStaysUnderTheMemoryLimit is issue 17's item 5 and issue 18's memory
// bound: a backlog of 1 MiB records on 128 partitions, waiting when the worker starts (a
// restart behind a backlog), stays under ORDERGATE_MEMORY_LIMIT=128MiB of peak RSS (VmHWM
// of the worker process, built as users build it), and every record gets its event:
// rejected 413/66, as the records are over ORDERGATE_MAX_MESSAGE_BYTES. Before the fetch
// budget, kafka-go's readers queued up to 64 records per partition and the same flood took
// the worker past 1.5 GiB.
//
// `make flood` runs it at the size of issue 18 (FLOOD_PARTITIONS=6, FLOOD_RECORDS=2000,
// FLOOD_LIMIT_MIB=0: no limit, bound largeRecordBoundMiB).
func TestLargeRecordFloodStaysUnderTheMemoryLimit(t *testing.T) {
	partitions := floodSetting(t, "FLOOD_PARTITIONS", 128)
	n := floodSetting(t, "FLOOD_RECORDS", 256)
	limitMiB := floodSetting(t, "FLOOD_LIMIT_MIB", 128)
	bound := float64(largeRecordBoundMiB)
	if limitMiB > 0 {
		bound = float64(limitMiB)
	}
	c := testkit.NewCluster(t, partitions, nil)
	// The input topic takes records of 1 MiB (and the test producer's batches of them).
	must(t, c.DeleteTopic(testkit.Topics.Requests), "delete topic")
	must(t, c.CreateTopic(testkit.Topics.Requests, int32(partitions), map[string]string{"max.message.bytes": strconv.Itoa(16 << 20)}), "create topic")
	cfg := testkit.Config(t, c, testredis.Shared(t), testredis.Prefix(t))
	cfg.InventoryFile = testkit.InventoryFile(t, 10)
	cfg.LogFormat, cfg.LogLevel = "json", "info"
	cfg.MemoryLimit = config.ByteSize(limitMiB) << 20

	value := bytes.Repeat([]byte{'x'}, 1<<20)
	for sent := 0; sent < n; {
		var recs []order.Record
		for ; sent < n && len(recs) < 64; sent++ {
			recs = append(recs, testkit.Record("big-"+strconv.Itoa(sent), value, testkit.RecordTime))
		}
		c.Produce(t, recs...)
	}
	start := time.Now()
	p := testkit.StartBinary(t, testkit.PlainBinary(t), processEnv(t, cfg), "run")
	httpAddr(t, p)
	c.WaitEvents(t, n, 3*time.Minute)
	peak := bench.PeakRSS(p.Cmd.Process.Pid)
	took := time.Since(start)
	stop(t, p)
	t.Logf("LARGE RECORDS | %d records of 1 MiB on %d partitions, memory limit %d MiB | decided in %v | worker peak RSS %.1f MiB, bound %.0f MiB",
		n, partitions, limitMiB, took.Round(100*time.Millisecond), peak, bound)

	r := c.Check(t, audit.Options{})
	if !r.OK() || r.Rejected != n || r.Events != n {
		var b bytes.Buffer
		r.Write(&b, 10)
		t.Errorf("audit: want %d records each with one rejection:\n%s", n, b.String())
	}
	for _, m := range c.Read(t, testkit.Topics.Rejected) {
		var ev struct {
			Error struct{ Status, Code int } `json:"error"`
		}
		must(t, json.Unmarshal(m.Value, &ev), "event")
		if ev.Error.Status != 413 || ev.Error.Code != 66 {
			t.Fatalf("event of %s: error %d/%d, want 413/66", m.Key, ev.Error.Status, ev.Error.Code)
		}
	}
	if peak == 0 {
		t.Fatal("cannot read the worker's VmHWM")
	}
	if peak > bound {
		t.Errorf("peak RSS %.1f MiB over the bound of %.0f MiB", peak, bound)
	}
}
