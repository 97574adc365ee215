package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"log/slog"
	"math"
	"runtime/debug"
	"testing"
	"testing/fstest"

	"github.com/ordergate/ordergate/config"
)

// memoryLimitLog runs applyMemoryLimit and returns its log record and the runtime's soft
// limit after it; the runtime's limit is restored at the end of the test.
func memoryLimitLog(t *testing.T, cfg config.Config, root fs.FS) (map[string]any, int64) {
	t.Helper()
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	var buf bytes.Buffer
	applyMemoryLimit(cfg, root, slog.New(slog.NewJSONHandler(&buf, nil)))
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("log %q: %v", buf.String(), err)
	}
	return rec, debug.SetMemoryLimit(-1)
}

// TestRunSetsTheGoSoftLimit: ORDERGATE_MEMORY_LIMIT=1016MiB gives the runtime a soft limit
// of 900 MiB (90% of what the untracked 16 MiB leave), and the start-up log says so.
func TestRunSetsTheGoSoftLimit(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	rec, soft := memoryLimitLog(t, config.Config{MemoryLimit: 1016 << 20}, fstest.MapFS{})
	if soft != 900<<20 {
		t.Errorf("soft limit %d, want %d (90%% of 1016MiB less 16MiB)", soft, 900<<20)
	}
	for k, want := range map[string]string{"msg": "memory limit", "limit": "1016MiB", "source": "ORDERGATE_MEMORY_LIMIT", "go_soft_limit": "900.0MiB",
		"fetch_budget": "123.2MiB", "fetch_budget_source": "limit"} {
		if rec[k] != want {
			t.Errorf("log %s = %v, want %q", k, rec[k], want)
		}
	}
}

// TestGOMEMLIMITWins: the runtime's own variable is the operator's choice; run leaves it.
func TestGOMEMLIMITWins(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "300MiB")
	before := debug.SetMemoryLimit(300 << 20)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	rec, soft := memoryLimitLog(t, config.Config{MemoryLimit: 1000 << 20}, fstest.MapFS{})
	if soft != 300<<20 {
		t.Errorf("soft limit %d, want GOMEMLIMIT's %d", soft, 300<<20)
	}
	if rec["go_soft_limit"] != "300.0MiB" || rec["go_soft_limit_source"] != "GOMEMLIMIT" {
		t.Errorf("log %v", rec)
	}
}

// TestCgroupLimitWithoutTheVariable: the cgroup's limit is used when the variable is unset.
func TestCgroupLimitWithoutTheVariable(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	root := fstest.MapFS{
		"proc/self/cgroup":         {Data: []byte("0::/\n")},
		"sys/fs/cgroup/memory.max": {Data: []byte("268435456\n")},
	}
	rec, soft := memoryLimitLog(t, config.Config{}, root)
	if soft != 226492416 || rec["limit"] != "256MiB" || rec["source"] != "/sys/fs/cgroup/memory.max" || rec["go_soft_limit"] != "216.0MiB" {
		t.Errorf("soft limit %d, log %v", soft, rec)
	}
}

// TestNoLimitLeavesTheRuntime: without a limit the runtime keeps "no soft limit".
func TestNoLimitLeavesTheRuntime(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	before := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	rec, soft := memoryLimitLog(t, config.Config{}, fstest.MapFS{})
	if soft != math.MaxInt64 || rec["limit"] != "none" || rec["go_soft_limit"] != "none" || rec["source"] != "none" ||
		rec["fetch_budget"] != "8.0MiB" || rec["fetch_budget_source"] != "default" {
		t.Errorf("soft limit %d, log %v", soft, rec)
	}
}
