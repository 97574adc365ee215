package main

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

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

// TestBenchChecksRedisFirst (issue 21, item 5): with an unreachable Redis, bench hung
// silently after "cold: 0/1000 events"; it says so at once.
func TestBenchChecksRedisFirst(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // it used to hang
	defer cancel()
	out, err := exec.CommandContext(ctx, testkit.Binary(t), "bench", "--records", "1000", "--redis", dead).CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitFailure {
		t.Fatalf("bench: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "Redis at "+dead+" does not answer") || !strings.Contains(string(out), "--redis") {
		t.Errorf("bench says:\n%s", out)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("bench took %v to give up", d)
	}
}
