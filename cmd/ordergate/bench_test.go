package main

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net"
	"os/exec"
	"reflect"
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
		"--rate", "500", "--paced-seconds", "2", "--redis", testredis.Shared(t), "--compression", "zstd", "--json").Output()
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
	if len(r.Paced) != 1 || r.Paced[0].Accepted+r.Paced[0].Rejected != 1000 {
		t.Errorf("paced %+v", r.Paced)
	}
	// The referee: each row forwarded every record, with its figures; the weighted row
	// writes what the warm phase's events weigh (within a byte of rounding).
	for _, p := range []bench.Phase{r.Ceilings.Passthrough, r.Ceilings.Weighted, r.Ceilings.Loop} {
		if p.RecordsPerSecond <= 0 || p.CPUMicrosPerRecord <= 0 || p.PeakRSSMiB <= 0 || p.BytesPerRecord <= 0 || p.LogBytesPerRecord <= 0 {
			t.Errorf("ceiling %s: missing figures: %+v", p.Name, p)
		}
	}
	if d := r.Ceilings.Weighted.BytesPerRecord - r.Warm.BytesPerRecord; d < -1 || d > 1 {
		t.Errorf("the weighted ceiling writes %.1f bytes per record, the warm phase %.1f", r.Ceilings.Weighted.BytesPerRecord, r.Warm.BytesPerRecord)
	}
	if r.Ceilings.Passthrough.BytesPerRecord >= r.Warm.BytesPerRecord {
		t.Errorf("passthrough %.1f bytes per record, warm %.1f: an event embeds its request", r.Ceilings.Passthrough.BytesPerRecord, r.Warm.BytesPerRecord)
	}
	ratios := r.Ratios
	for name, v := range map[string]float64{"warmToWeighted": ratios.WarmToWeighted, "warmToPassthrough": ratios.WarmToPassthrough,
		"coldToWeighted": ratios.ColdToWeighted, "loopToPassthrough": ratios.LoopToPassthrough} {
		if v <= 0 {
			t.Errorf("ratio %s = %v", name, v)
		}
	}
	// Compression: the warm phase again with zstd writes the same events in fewer bytes.
	if len(r.Compression) != 1 || r.Compression[0].Accepted+r.Compression[0].Rejected != 3000 {
		t.Fatalf("compression phases %+v", r.Compression)
	}
	if z := r.Compression[0]; z.Compression != "zstd" || z.LogBytesPerRecord <= 0 || z.LogBytesPerRecord >= r.Warm.LogBytesPerRecord ||
		math.Abs(z.BytesPerRecord-r.Warm.BytesPerRecord) > 5 {
		t.Errorf("zstd: %.0f bytes per record in the log (%.0f written), none: %.0f (%.0f written)",
			z.LogBytesPerRecord, z.BytesPerRecord, r.Warm.LogBytesPerRecord, r.Warm.BytesPerRecord)
	}
	// The JSON names of the referee, as documented.
	var raw struct{ Ceilings, Ratios map[string]any }
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"passthrough", "weighted", "loop"} {
		if _, ok := raw.Ceilings[k]; !ok {
			t.Errorf("--json has no ceilings.%s", k)
		}
	}
	for _, k := range []string{"warmToWeighted", "warmToPassthrough", "coldToWeighted", "loopToPassthrough"} {
		if _, ok := raw.Ratios[k]; !ok {
			t.Errorf("--json has no ratios.%s", k)
		}
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

// TestSweepList: --sweep takes semicolon-separated flag lists; "-" stands for the defaults
// (no flag), blanks are dropped.
func TestSweepList(t *testing.T) {
	got := sweepList(" - ; --queue 64 --max-bytes 1048576;; --acks 1 ")
	want := [][]string{{}, {"--queue", "64", "--max-bytes", "1048576"}, {"--acks", "1"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sweepList = %q, want %q", got, want)
	}
}
