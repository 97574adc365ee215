//go:build long

package faults

import (
	"math/rand/v2"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/app/audit"
	"github.com/ordergate/ordergate/internal/app/bench"
	"github.com/ordergate/ordergate/internal/app/testkit"
	"github.com/ordergate/ordergate/internal/foundation/testredis"
	"github.com/ordergate/ordergate/processor/order"
)

// TestPoisonFlood publishes 10,000 records of random bytes, from 1 byte to 1 MiB
// (log-uniform), to a worker process: every one is rejected, nothing is lost, and the
// worker's peak RSS is reported. Run it with `make poison` (build tag long).
func TestPoisonFlood(t *testing.T) {
	c := testkit.NewCluster(t, 6, nil)
	// The input topic must take 1 MiB values (and the test producer's 8 MiB batches).
	if err := c.DeleteTopic(testkit.Topics.Requests); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateTopic(testkit.Topics.Requests, 6, map[string]string{"max.message.bytes": strconv.Itoa(16 << 20)}); err != nil {
		t.Fatal(err)
	}
	cfg := testkit.Config(t, c, testredis.Shared(t), testredis.Prefix(t))
	cfg.InventoryFile = inventoryFile(t)
	rnd := rand.New(rand.NewPCG(7, 11))
	const n = 10000
	total := 0
	for sent := 0; sent < n; {
		var recs []order.Record
		for ; sent < n && len(recs) < 200; sent++ {
			size := 1 << rnd.IntN(21) // 1 B .. 1 MiB
			size += rnd.IntN(size)
			size = min(size, 1<<20)
			v := make([]byte, size)
			for i := range v {
				v[i] = byte(rnd.Uint32())
			}
			total += size
			recs = append(recs, testkit.Record("poison-"+strconv.Itoa(sent%50), v, testkit.RecordTime))
		}
		c.Produce(t, recs...)
	}
	p := testkit.StartProcess(t, testkit.Env(t, cfg), "run")
	c.WaitEvents(t, n, 10*time.Minute)
	rss := bench.PeakRSS(p.Cmd.Process.Pid)
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	if code := p.Wait(t, time.Minute); code != 0 {
		t.Fatalf("exit %d", code)
	}
	r := c.Check(t, audit.Options{})
	if r.Rejected != n {
		t.Fatalf("%d of %d random records rejected", r.Rejected, n)
	}
	t.Logf("POISON | %d records, %.0f MiB of random bytes | all rejected | worker peak RSS %.1f MiB", n, float64(total)/(1<<20), rss)
}
