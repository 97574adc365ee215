package main

import (
	"encoding/json"
	"os/exec"
	"testing"

	"github.com/ordergate/ordergate/internal/app/bench"
	"github.com/ordergate/ordergate/internal/app/testkit"
	"github.com/ordergate/ordergate/internal/foundation/testredis"
)

// TestBenchSmoke runs `ordergate bench` on a few records: every phase must give every
// record its event. Speed is measured by the command, never asserted here.
func TestBenchSmoke(t *testing.T) {
	out, err := exec.Command(testkit.Binary(t), "bench", "--records", "3000", "--partitions", "3",
		"--rate", "500", "--paced-seconds", "2", "--redis", testredis.Shared(t), "--json").Output()
	if err != nil {
		t.Fatalf("bench: %v", err)
	}
	var r bench.Report
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("bench --json: %v\n%s", err, out)
	}
	for _, p := range []bench.Phase{r.Cold, r.Warm} {
		if p.Accepted+p.Rejected != 3000 || p.Accepted == 0 || p.Rejected == 0 {
			t.Errorf("%s: %d accepted + %d rejected, want 3000 events of both kinds", p.Name, p.Accepted, p.Rejected)
		}
		if p.RecordsPerSecond <= 0 || p.PeakRSSMiB <= 0 || p.CPUSecondsPer100k <= 0 {
			t.Errorf("%s: missing figures: %+v", p.Name, p)
		}
	}
	if r.Ceiling.RecordsPerSecond <= 0 || len(r.Paced) != 1 || r.Paced[0].Accepted+r.Paced[0].Rejected != 1000 {
		t.Errorf("ceiling %+v, paced %+v", r.Ceiling, r.Paced)
	}
	// A batch without a record to resolve makes no round trip; none makes more than one read.
	if r.Cold.InventoryCalls == 0 || r.Warm.InventoryCalls != 0 || r.Warm.RedisTripsPerBatch <= 0 || r.Warm.RedisTripsPerBatch > 1 {
		t.Errorf("cold %v inventory calls, warm %v calls and %v Redis trips per batch: the warm phase must be all cache hits",
			r.Cold.InventoryCalls, r.Warm.InventoryCalls, r.Warm.RedisTripsPerBatch)
	}
}
