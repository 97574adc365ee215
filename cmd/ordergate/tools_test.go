package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ordergate/ordergate/internal/app/testkit"
)

// TestToolsJSON: --json of produce and check (issue 21), and an unknown topic named with
// the closest one the broker has (issue 21, item 13: "[3] Unknown Topic Or Partition").
func TestToolsJSON(t *testing.T) {
	clearOrdergateEnv(t)
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	c := testkit.NewCluster(t, 2, nil)
	brokers := strings.Join(c.Brokers, ",")
	file := filepath.Join(t.TempDir(), "r.json")
	must(t, os.WriteFile(file, []byte(`{"contact":[]}`), 0o600))

	r := runCLI(t, "", "produce", file, "--brokers", brokers, "--key", "K-1", "--json", file)
	var lines []produced
	for line := range strings.Lines(r.stdout) {
		var p produced
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatalf("produce --json line %q: %v", line, err)
		}
		lines = append(lines, p)
	}
	if r.code != exitOK || len(lines) != 2 || lines[0].File != file || lines[0].Topic != "orders.requests" || lines[1].Offset != lines[0].Offset+1 {
		t.Fatalf("produce --json: exit %d, %+v, %s", r.code, lines, r.stderr)
	}

	// check: two inputs without an event.
	r = runCLI(t, "", "check", "--brokers", brokers, "--json", "--timeout", "1m")
	var report checkJSON
	if err := json.Unmarshal([]byte(r.stdout), &report); err != nil {
		t.Fatalf("check --json: %v: %s %s", err, r.stdout, r.stderr)
	}
	if r.code != exitFailure || report.OK || report.Inputs != 2 || len(report.Problems) != 2 || report.Problems[0].Kind != "missing" {
		t.Errorf("check --json: exit %d, %+v", r.code, report)
	}

	// A topic name with a typo.
	r = runCLI(t, "", "produce", "--brokers", brokers, "--topic", "orders.requets", file)
	if r.code != exitFailure || !strings.Contains(r.stderr, `topic "orders.requets" does not exist (did you mean "orders.requests"?)`) {
		t.Errorf("produce to a misspelt topic: exit %d, %q", r.code, r.stderr)
	}
	t.Setenv("ORDERGATE_TOPIC_DLQ", "orders.dql")
	r = runCLI(t, "", "check", "--brokers", brokers, "--timeout", "30s")
	if r.code != exitUsage || !strings.Contains(r.stderr, `topic "orders.dql" does not exist (did you mean "orders.dlq"?)`) {
		t.Errorf("check with a misspelt topic: exit %d, %q", r.code, r.stderr)
	}
}
