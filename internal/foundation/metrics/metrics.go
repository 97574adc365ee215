// Package metrics holds ordergate's Prometheus collectors, registered on a registry the
// application owns (never the global one). Every label is bounded: request types, outcomes,
// codes, causes and results come from small fixed sets, and partitions from the topic.
package metrics

import (
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/ordergate/ordergate/internal/foundation/retry"
)

// Metrics are the collectors of one worker.
type Metrics struct {
	RecordsConsumed    prometheus.Counter
	Outcomes           *prometheus.CounterVec // request_type, outcome, code
	DecisionSeconds    prometheus.Histogram
	EndToEndSeconds    prometheus.Histogram
	CacheHits          prometheus.Counter
	CacheMisses        prometheus.Counter
	CacheErrors        *prometheus.CounterVec // op
	CacheCorrupt       *prometheus.CounterVec // reason
	CacheStale         prometheus.Counter
	RedisRoundTrips    prometheus.Counter
	RedisNodeTrips     *prometheus.CounterVec // node
	RedisErrors        *prometheus.CounterVec // kind
	RedisNodes         *prometheus.GaugeVec   // role
	InventoryCalls     *prometheus.CounterVec // result
	InventorySeconds   prometheus.Histogram
	Retries            *prometheus.CounterVec // cause
	PublishFailures    *prometheus.CounterVec // cause
	DLQRecords         prometheus.Counter
	TruncatedEvents    prometheus.Counter
	ConsumerLag        *prometheus.GaugeVec // partition
	CommittedOffset    *prometheus.GaugeVec // partition
	BatchSize          prometheus.Histogram
	InFlight           prometheus.Gauge
	OffsetResets       prometheus.Counter
	Ready              prometheus.Gauge
	StuckPartitions    prometheus.Gauge
	AssignedPartitions prometheus.Gauge

	// outcomes caches the child of Outcomes of each (request type, outcome, code) seen,
	// so that counting an event, once per record, neither formats the code nor hashes
	// the label values.
	outcomes sync.Map // outcomeKey -> prometheus.Counter
}

type outcomeKey struct {
	requestType, outcome string
	code                 int
}

// Latency buckets from 0.5 ms to about 16 s: an event normally leaves within milliseconds,
// and retries stretch it to the backoff cap.
var latencyBuckets = prometheus.ExponentialBuckets(0.0005, 2, 16)

// New creates the collectors and registers them, with the Go and process collectors and
// ordergate_build_info, on reg.
func New(reg prometheus.Registerer) *Metrics {
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	m := &Metrics{
		RecordsConsumed: prometheus.NewCounter(prometheus.CounterOpts{Name: "ordergate_records_consumed_total",
			Help: "Records fetched from the input topic."}),
		Outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ordergate_outcomes_total",
			Help: "Events acknowledged by the broker, by request type, outcome and error code (0 when accepted)."},
			[]string{"request_type", "outcome", "code"}),
		DecisionSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ordergate_decision_duration_seconds",
			Help:    "Time to parse and decide one record (rows 1-16, without resolution).",
			Buckets: prometheus.ExponentialBuckets(0.000_000_5, 4, 10)}),
		EndToEndSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ordergate_end_to_end_latency_seconds",
			Help: "From the input record's timestamp to its event acknowledged by the broker.", Buckets: latencyBuckets}),
		CacheHits: prometheus.NewCounter(prometheus.CounterOpts{Name: "ordergate_cache_hits_total",
			Help: "Service-point lookups answered by Redis."}),
		CacheMisses: prometheus.NewCounter(prometheus.CounterOpts{Name: "ordergate_cache_misses_total",
			Help: "Service-point lookups not in Redis (asked of the inventory)."}),
		CacheErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ordergate_cache_errors_total",
			Help: "Failed Redis round trips of service-point resolution, by op: a failed read fails its batch, which is retried; a failed write-back is not retried (its answers are used, its keys miss again)."},
			[]string{"op"}),
		CacheCorrupt: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ordergate_cache_corrupt_entries_total",
			Help: "Cache entries that could not be the answer to their key, read as misses and replaced, by reason."},
			[]string{"reason"}),
		CacheStale: prometheus.NewCounter(prometheus.CounterOpts{Name: "ordergate_cache_stale_served_total",
			Help: "Service-point lookups answered by a cache entry past its TTL because the inventory failed (serve-stale)."}),
		RedisRoundTrips: prometheus.NewCounter(prometheus.CounterOpts{Name: "ordergate_redis_round_trips_total",
			Help: "Redis round trips made by service-point resolution (one read per batch, one write-back per batch that asked the inventory)."}),
		RedisNodeTrips: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ordergate_redis_node_round_trips_total",
			Help: "Exchanges of service-point resolution with each Redis node (a cluster splits a round trip into one per node involved)."},
			[]string{"node"}),
		RedisErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ordergate_redis_errors_total",
			Help: "Redis errors seen, by kind (redirections included, which go-redis follows)."}, []string{"kind"}),
		RedisNodes: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ordergate_redis_nodes",
			Help: "Redis nodes the last readiness probe saw in good health, by role (primary, replica, sentinel)."}, []string{"role"}),
		InventoryCalls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ordergate_inventory_calls_total",
			Help: "Calls to the service-point inventory by result (ok, not_found, timeout, unavailable, status, body)."},
			[]string{"result"}),
		InventorySeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ordergate_inventory_call_duration_seconds",
			Help: "Duration of inventory calls.", Buckets: latencyBuckets}),
		Retries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ordergate_retries_total",
			Help: "Retries of a batch step after a transient failure, by cause."}, []string{"cause"}),
		PublishFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ordergate_publish_failures_total",
			Help: "Events the broker did not acknowledge on an attempt (each retried), by cause."}, []string{"cause"}),
		DLQRecords: prometheus.NewCounter(prometheus.CounterOpts{Name: "ordergate_dlq_records_total",
			Help: "Records published to the dead-letter topic because the broker refused their event for good."}),
		TruncatedEvents: prometheus.NewCounter(prometheus.CounterOpts{Name: "ordergate_truncated_events_total",
			Help: "Events published with the request cut to 4 KiB to fit the output topic."}),
		ConsumerLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ordergate_consumer_lag",
			Help: "Records of an assigned input partition not yet committed: high watermark minus committed offset."},
			[]string{"partition"}),
		CommittedOffset: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ordergate_committed_offset",
			Help: "Last offset committed for an assigned input partition."}, []string{"partition"}),
		BatchSize: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ordergate_batch_size",
			Help: "Records per batch.", Buckets: prometheus.ExponentialBuckets(1, 4, 7)}),
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "ordergate_in_flight_records",
			Help: "Records fetched and not yet committed."}),
		OffsetResets: prometheus.NewCounter(prometheus.CounterOpts{Name: "ordergate_offset_resets_total",
			Help: "Times a partition's position was before the log start (records deleted by retention) and moved to it."}),
		Ready: prometheus.NewGauge(prometheus.GaugeOpts{Name: "ordergate_ready",
			Help: "1 while /readyz answers 200."}),
		StuckPartitions: prometheus.NewGauge(prometheus.GaugeOpts{Name: "ordergate_stuck_partitions",
			Help: "Partitions in retries for longer than ORDERGATE_STUCK_AFTER."}),
		AssignedPartitions: prometheus.NewGauge(prometheus.GaugeOpts{Name: "ordergate_assigned_partitions",
			Help: "Input partitions assigned to this worker."}),
	}
	for _, c := range []prometheus.Collector{m.RecordsConsumed, m.Outcomes, m.DecisionSeconds, m.EndToEndSeconds,
		m.CacheHits, m.CacheMisses, m.CacheErrors, m.CacheCorrupt, m.CacheStale, m.RedisRoundTrips, m.RedisNodeTrips,
		m.RedisErrors, m.RedisNodes, m.InventoryCalls, m.InventorySeconds,
		m.Retries, m.PublishFailures, m.DLQRecords, m.TruncatedEvents, m.ConsumerLag, m.CommittedOffset,
		m.BatchSize, m.InFlight, m.OffsetResets, m.Ready, m.StuckPartitions, m.AssignedPartitions} {
		f(c)
	}
	b := Build()
	info := prometheus.NewGauge(prometheus.GaugeOpts{Name: "ordergate_build_info",
		Help:        "Always 1; the labels say which build is running.",
		ConstLabels: prometheus.Labels{"version": b.Version, "revision": b.Revision, "goversion": b.GoVersion}})
	info.Set(1)
	f(info)
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Pre-create the fixed label values so that dashboards and rate() see zeros, not gaps.
	for _, r := range []string{"ok", "not_found", "timeout", "unavailable", "status", "body"} {
		m.InventoryCalls.WithLabelValues(r)
	}
	for _, c := range retry.Causes {
		m.Retries.WithLabelValues(c.Label)
		if c.Publish {
			m.PublishFailures.WithLabelValues(c.Label)
		}
	}
	for _, op := range []string{"read", "write"} {
		m.CacheErrors.WithLabelValues(op)
	}
	for _, role := range []string{"primary", "replica", "sentinel"} {
		m.RedisNodes.WithLabelValues(role)
	}
	return m
}

// BuildInfo says which build is running: the labels of ordergate_build_info and what
// `ordergate version` prints.
type BuildInfo struct {
	// Version is the module version, or "devel" for a build from a work tree.
	Version string
	// Revision is the VCS revision stamped by the Go toolchain, or "unknown".
	Revision string
	// GoVersion is the Go release that built the binary.
	GoVersion string
}

// Build reads the module version and VCS revision stamped by the Go toolchain.
func Build() BuildInfo {
	b := BuildInfo{Version: "devel", Revision: "unknown", GoVersion: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		b.Version = v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && s.Value != "" {
			b.Revision = s.Value
		}
	}
	return b
}

// Partition returns the label value of a partition.
func Partition(p int) string { return strconv.Itoa(p) }

// ObserveOutcome counts one acknowledged event. Its series must not be deleted from
// Outcomes (the counter of each is kept for the next event).
func (m *Metrics) ObserveOutcome(requestType, outcome string, code int, recordTime, acked time.Time) {
	if requestType == "" {
		requestType = "unknown"
	}
	k := outcomeKey{requestType, outcome, code}
	c, ok := m.outcomes.Load(k)
	if !ok {
		// The label values are bounded (types, outcomes and codes of fixed sets), and so
		// is the cache.
		c, _ = m.outcomes.LoadOrStore(k, m.Outcomes.WithLabelValues(requestType, outcome, strconv.Itoa(code)))
	}
	c.(prometheus.Counter).Inc()
	if !recordTime.IsZero() {
		m.EndToEndSeconds.Observe(acked.Sub(recordTime).Seconds())
	}
}
