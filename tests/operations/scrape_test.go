package operations

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// TestScrapeAfterSamples: after the sample requests, a scrape of a live worker's /metrics
// shows what the dashboard and the alerts are built on: outcomes by code matching the
// samples' decisions, a lag and a committed offset per assigned partition, readiness and
// the build.
func TestScrapeAfterSamples(t *testing.T) {
	l := live(t)
	fams, text := l.scrape(t)
	family := func(name string) *dto.MetricFamily {
		t.Helper()
		f := fams[name]
		if f == nil || len(f.GetMetric()) == 0 {
			t.Fatalf("%s is not in /metrics", name)
		}
		return f
	}
	label := func(m *dto.Metric, name string) string {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == name {
				return lp.GetValue()
			}
		}
		return ""
	}

	// Outcomes: every sample's event counted once, by outcome and code.
	got := map[outcomeCode]int{}
	rejectionCodes := map[string]bool{}
	for _, m := range family("ordergate_outcomes_total").GetMetric() {
		oc := outcomeCode{label(m, "outcome"), label(m, "code")}
		got[oc] += int(m.GetCounter().GetValue())
		if oc.outcome == "rejected" {
			rejectionCodes[oc.code] = true
		}
		if label(m, "request_type") == "" {
			t.Errorf("an outcome series has no request_type: %v", m.GetLabel())
		}
	}
	if got[outcomeCode{"accepted", "0"}] == 0 {
		t.Errorf("no accepted outcome counted; outcomes %v", got)
	}
	if len(rejectionCodes) < 3 {
		t.Errorf("rejection codes %v, want at least 3 distinct ones", keys(rejectionCodes))
	}
	if fmt.Sprint(sortedCounts(got)) != fmt.Sprint(sortedCounts(l.want)) {
		t.Errorf("outcomes by (outcome, code)\n got %v\nwant %v (the golden events of the %d samples)",
			sortedCounts(got), sortedCounts(l.want), len(l.published))
	}
	if v := family("ordergate_records_consumed_total").GetMetric()[0].GetCounter().GetValue(); int(v) != len(l.published) {
		t.Errorf("ordergate_records_consumed_total = %v, want %d", v, len(l.published))
	}
	for _, name := range []string{"ordergate_end_to_end_latency_seconds", "ordergate_decision_duration_seconds"} {
		if n := family(name).GetMetric()[0].GetHistogram().GetSampleCount(); int(n) != len(l.published) {
			t.Errorf("%s counts %d observations, want %d (one per event)", name, n, len(l.published))
		}
	}

	// Kafka: one lag series per assigned partition (the only member owns them all), and a
	// committed offset for the partitions that received samples.
	if v := family("ordergate_assigned_partitions").GetMetric()[0].GetGauge().GetValue(); v != livePartitions {
		t.Errorf("ordergate_assigned_partitions = %v, want %d", v, livePartitions)
	}
	lagParts := map[string]bool{}
	for _, m := range family("ordergate_consumer_lag").GetMetric() {
		lagParts[label(m, "partition")] = true
		if m.GetGauge().GetValue() < 0 {
			t.Errorf("negative lag on partition %s", label(m, "partition"))
		}
	}
	for p := range livePartitions {
		if !lagParts[strconv.Itoa(p)] {
			t.Errorf("no ordergate_consumer_lag series for assigned partition %d (have %v)", p, keys(lagParts))
		}
	}
	if len(lagParts) != livePartitions {
		t.Errorf("ordergate_consumer_lag partitions %v, want one per assigned partition (%d)", keys(lagParts), livePartitions)
	}
	var committed int64
	for _, m := range family("ordergate_committed_offset").GetMetric() {
		if label(m, "partition") == "" {
			t.Errorf("ordergate_committed_offset without a partition label")
		}
		committed += int64(m.GetGauge().GetValue())
	}
	if committed != int64(len(l.published)) {
		t.Errorf("committed offsets add up to %d, want %d (every sample, each partition from offset 0)", committed, len(l.published))
	}

	// Health and identity.
	if v := family("ordergate_ready").GetMetric()[0].GetGauge().GetValue(); v != 1 {
		t.Errorf("ordergate_ready = %v, want 1", v)
	}
	info := family("ordergate_build_info").GetMetric()
	if len(info) != 1 || info[0].GetGauge().GetValue() != 1 {
		t.Fatalf("ordergate_build_info: %v", info)
	}
	for _, name := range []string{"version", "revision", "goversion"} {
		if label(info[0], name) == "" {
			t.Errorf("ordergate_build_info has no %s label", name)
		}
	}
	// Every sample needs no retry, no DLQ and no truncation; the inventory was asked.
	if v := family("ordergate_dlq_records_total").GetMetric()[0].GetCounter().GetValue(); v != 0 {
		t.Errorf("ordergate_dlq_records_total = %v, want 0", v)
	}
	calls := 0.0
	for _, m := range family("ordergate_inventory_calls_total").GetMetric() {
		calls += m.GetCounter().GetValue()
	}
	if calls == 0 {
		t.Error("no inventory call counted, although every sample's service point was new to the cache")
	}
	// The Go and process collectors are there (the dashboard's Process row).
	for _, name := range []string{"process_resident_memory_bytes", "process_cpu_seconds_total", "go_goroutines"} {
		family(name)
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", ordergateLines(text))
	}
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedCounts(m map[outcomeCode]int) []string {
	var out []string
	for k, v := range m {
		if v != 0 {
			out = append(out, fmt.Sprintf("%s/%s=%d", k.outcome, k.code, v))
		}
	}
	sort.Strings(out)
	return out
}

// ordergateLines keeps the ordergate_ lines of an exposition (for failure messages).
func ordergateLines(text string) string {
	var b strings.Builder
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "ordergate_") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}
