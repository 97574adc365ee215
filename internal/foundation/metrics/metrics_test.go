package metrics

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/ordergate/ordergate/internal/foundation/retry"
)

func gather(t *testing.T, reg *prometheus.Registry) map[string]*dto.MetricFamily {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

func labelsOf(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, lp := range m.GetLabel() {
		out[lp.GetName()] = lp.GetValue()
	}
	return out
}

// TestRegistersOnTheGivenRegistryOnly: two workers in one process (tests, the benchmark)
// each get their own collectors, and nothing lands on the global registry.
func TestRegistersOnTheGivenRegistryOnly(t *testing.T) {
	a, b := prometheus.NewRegistry(), prometheus.NewRegistry()
	ma, mb := New(a), New(b)
	ma.RecordsConsumed.Add(3)
	if got := gather(t, b)["ordergate_records_consumed_total"].GetMetric()[0].GetCounter().GetValue(); got != 0 {
		t.Errorf("the second registry sees %v records of the first", got)
	}
	_ = mb
	global, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range global {
		if strings.HasPrefix(f.GetName(), "ordergate_") {
			t.Errorf("%s is on the global registry", f.GetName())
		}
	}
}

// TestNamesTypesAndLabels: every ordergate metric follows Prometheus's naming (prefix,
// _total counters, base units) and carries only bounded labels.
func TestNamesTypesAndLabels(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	// Give every vector one series, so that it shows in Gather.
	m.Outcomes.WithLabelValues("R_BVPN_FR_1", "accepted", "0")
	m.Retries.WithLabelValues("redis")
	m.PublishFailures.WithLabelValues("kafka_produce")
	m.ConsumerLag.WithLabelValues(Partition(0))
	m.CommittedOffset.WithLabelValues(Partition(0))
	m.CacheCorrupt.WithLabelValues("too_large")
	m.RedisNodeTrips.WithLabelValues("127.0.0.1:6379")
	m.RedisErrors.WithLabelValues("timeout")
	// node is bounded by the Redis deployment: its nodes' addresses.
	bounded := map[string]bool{"request_type": true, "outcome": true, "code": true, "result": true,
		"cause": true, "partition": true, "version": true, "revision": true, "goversion": true,
		"op": true, "reason": true, "kind": true, "role": true, "node": true}
	n := 0
	for name, f := range gather(t, reg) {
		if strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") {
			continue
		}
		n++
		if !strings.HasPrefix(name, "ordergate_") {
			t.Errorf("%s: not prefixed ordergate_", name)
		}
		if f.GetHelp() == "" {
			t.Errorf("%s: no help", name)
		}
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			if !strings.HasSuffix(name, "_total") {
				t.Errorf("counter %s does not end in _total", name)
			}
		case dto.MetricType_GAUGE:
			if strings.HasSuffix(name, "_total") {
				t.Errorf("gauge %s ends in _total", name)
			}
		case dto.MetricType_HISTOGRAM:
			if strings.Contains(name, "duration") || strings.Contains(name, "latency") {
				if !strings.HasSuffix(name, "_seconds") {
					t.Errorf("histogram %s measures time but not in _seconds", name)
				}
			}
		}
		for _, metric := range f.GetMetric() {
			for l := range labelsOf(metric) {
				if !bounded[l] {
					t.Errorf("%s: label %q is not one of the bounded labels", name, l)
				}
			}
		}
	}
	if n != 28 {
		t.Errorf("%d ordergate metrics, want 28 (update docs/operations.md and the dashboard with this test)", n)
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if gather(t, reg)[name] == nil {
			t.Errorf("%s missing: the Go and process collectors are registered by New", name)
		}
	}
}

// TestInventoryResultsStartAtZero: the six results exist from the start, so that the
// inventory error ratio is 0 and not "no data" before the first failure.
func TestInventoryResultsStartAtZero(t *testing.T) {
	reg := prometheus.NewRegistry()
	New(reg)
	got := map[string]float64{}
	for _, m := range gather(t, reg)["ordergate_inventory_calls_total"].GetMetric() {
		got[labelsOf(m)["result"]] = m.GetCounter().GetValue()
	}
	for _, r := range []string{"ok", "not_found", "timeout", "unavailable", "status", "body"} {
		if v, ok := got[r]; !ok || v != 0 {
			t.Errorf("result %s: %v (present %v), want 0", r, v, ok)
		}
	}
	if len(got) != 6 {
		t.Errorf("results %v, want exactly the six", got)
	}
}

// TestCacheErrorsTellReadsFromWriteBacks (issue 17, item 7): a failed read fails its batch,
// which is retried; a failed write-back is not. The metric used to be one counter whose
// help said "each one retried": it now counts each op apart, both from 0, and its help says
// which is retried.
func TestCacheErrorsTellReadsFromWriteBacks(t *testing.T) {
	reg := prometheus.NewRegistry()
	New(reg)
	f := gather(t, reg)["ordergate_cache_errors_total"]
	if help := f.GetHelp(); strings.Contains(help, "each one retried") || !strings.Contains(help, "write-back is not retried") {
		t.Errorf("help %q does not say that a failed write-back is not retried", help)
	}
	ops := map[string]bool{}
	for _, m := range f.GetMetric() {
		ops[labelsOf(m)["op"]] = m.GetCounter().GetValue() == 0
	}
	if len(ops) != 2 || !ops["read"] || !ops["write"] {
		t.Errorf("series %v, want op=read and op=write at 0", ops)
	}
}

// TestObserveOutcome: an outcome is counted by type, outcome and code (an unreadable type
// as "unknown"), and its end-to-end latency is the time from the record to the ack; a
// record without a timestamp is counted but not timed.
func TestObserveOutcome(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	rec := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	m.ObserveOutcome("R_BVPN_FR_1", "accepted", 0, rec, rec.Add(2500*time.Millisecond))
	m.ObserveOutcome("", "rejected", 22, rec, rec.Add(time.Millisecond))
	m.ObserveOutcome("", "rejected", 22, time.Time{}, rec)
	fams := gather(t, reg)
	got := map[[3]string]float64{}
	for _, metric := range fams["ordergate_outcomes_total"].GetMetric() {
		l := labelsOf(metric)
		got[[3]string{l["request_type"], l["outcome"], l["code"]}] = metric.GetCounter().GetValue()
	}
	want := map[[3]string]float64{{"R_BVPN_FR_1", "accepted", "0"}: 1, {"unknown", "rejected", "22"}: 2}
	if len(got) != len(want) {
		t.Errorf("outcomes %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("outcome %v: %v, want %v", k, got[k], v)
		}
	}
	h := fams["ordergate_end_to_end_latency_seconds"].GetMetric()[0].GetHistogram()
	if h.GetSampleCount() != 2 || h.GetSampleSum() < 2.5009 || h.GetSampleSum() > 2.5011 {
		t.Errorf("end-to-end latency: %d observations summing to %v, want 2 summing to 2.501", h.GetSampleCount(), h.GetSampleSum())
	}
}

// TestBuildInfo: one series, always 1, naming the build.
func TestBuildInfo(t *testing.T) {
	reg := prometheus.NewRegistry()
	New(reg)
	ms := gather(t, reg)["ordergate_build_info"].GetMetric()
	if len(ms) != 1 || ms[0].GetGauge().GetValue() != 1 {
		t.Fatalf("ordergate_build_info: %v", ms)
	}
	l := labelsOf(ms[0])
	if l["goversion"] != runtime.Version() || l["version"] == "" || l["revision"] == "" {
		t.Errorf("labels %v", l)
	}
}

// TestBuckets: the latency histograms cover what they measure: a decision of a microsecond
// and an event delayed by retries up to the backoff's usual cap.
func TestBuckets(t *testing.T) {
	reg := prometheus.NewRegistry()
	New(reg)
	fams := gather(t, reg)
	for _, c := range []struct {
		name           string
		first, atLeast float64
	}{
		{"ordergate_decision_duration_seconds", 0.000_000_5, 0.1},
		{"ordergate_end_to_end_latency_seconds", 0.0005, 16},
		{"ordergate_inventory_call_duration_seconds", 0.0005, 16},
		{"ordergate_batch_size", 1, 1000},
	} {
		b := fams[c.name].GetMetric()[0].GetHistogram().GetBucket()
		if len(b) == 0 || b[0].GetUpperBound() != c.first || b[len(b)-1].GetUpperBound() < c.atLeast {
			t.Errorf("%s: buckets %v..%v, want %v..>=%v", c.name, b[0].GetUpperBound(), b[len(b)-1].GetUpperBound(), c.first, c.atLeast)
		}
	}
}

func TestPartition(t *testing.T) {
	for p, want := range map[int]string{0: "0", 7: "7", 11: "11"} {
		if got := Partition(p); got != want {
			t.Errorf("Partition(%d) = %q, want %q", p, got, want)
		}
	}
}

// TestEveryCauseStartsAtZero: each cause of the catalog is a series from the start, so that
// rate() and the dashboards see its first retry; the publish causes label the publish
// failures too, and no other label does.
func TestEveryCauseStartsAtZero(t *testing.T) {
	reg := prometheus.NewRegistry()
	New(reg)
	fams := gather(t, reg)
	series := func(name string) map[string]bool {
		out := map[string]bool{}
		for _, m := range fams[name].GetMetric() {
			out[labelsOf(m)["cause"]] = true
		}
		return out
	}
	retries, publish := series("ordergate_retries_total"), series("ordergate_publish_failures_total")
	wantPublish := 0
	for _, c := range retry.Causes {
		if !retries[c.Label] {
			t.Errorf("ordergate_retries_total{cause=%q} does not exist from the start", c.Label)
		}
		if c.Publish {
			wantPublish++
			if !publish[c.Label] {
				t.Errorf("ordergate_publish_failures_total{cause=%q} does not exist from the start", c.Label)
			}
		}
	}
	if len(retries) != len(retry.Causes) || len(publish) != wantPublish {
		t.Errorf("%d retry and %d publish series, want %d and %d", len(retries), len(publish), len(retry.Causes), wantPublish)
	}
}

// BenchmarkObserveOutcome counts an acknowledged event, as the worker does once per record.
func BenchmarkObserveOutcome(b *testing.B) {
	m := New(prometheus.NewRegistry())
	rec := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveOutcome("R_BVPN_FR_1", "rejected", 3621, rec, rec)
	}
}
