package worker

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/ordergate/ordergate/internal/foundation/metrics"
	"github.com/ordergate/ordergate/processor"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/processor/servicepoint"
	"github.com/ordergate/ordergate/publisher"
)

// consumerObserver feeds the consumer's measurements to the metrics.
type consumerObserver struct{ m *metrics.Metrics }

func (o consumerObserver) Consumed(n int) {
	o.m.RecordsConsumed.Add(float64(n))
	o.m.BatchSize.Observe(float64(n))
}
func (o consumerObserver) InFlight(delta int) { o.m.InFlight.Add(float64(delta)) }
func (o consumerObserver) Committed(p int, offset int64) {
	o.m.CommittedOffset.WithLabelValues(metrics.Partition(p)).Set(float64(offset))
}
func (o consumerObserver) Lag(p int, lag int64) {
	o.m.ConsumerLag.WithLabelValues(metrics.Partition(p)).Set(float64(lag))
}
func (o consumerObserver) Assigned(p int, assigned bool) {
	if assigned {
		o.m.AssignedPartitions.Inc()
		o.m.ConsumerLag.WithLabelValues(metrics.Partition(p))
		return
	}
	o.m.AssignedPartitions.Dec()
	o.m.ConsumerLag.DeleteLabelValues(metrics.Partition(p))
	o.m.CommittedOffset.DeleteLabelValues(metrics.Partition(p))
}
func (o consumerObserver) Retry(cause string) { o.m.Retries.WithLabelValues(cause).Inc() }

// publishObserver counts outcomes when the broker acknowledges them, and logs each DLQ
// record (without the request's content) and, at debug level, each rejection.
type publishObserver struct {
	m           *metrics.Metrics
	log         *slog.Logger
	onPublished func(*processor.Result, publisher.Kind) // Options.OnPublished, may be nil
}

func (o publishObserver) Published(r *processor.Result, kind publisher.Kind, acked time.Time) {
	d := &r.Decision
	code := 0
	outcome := "accepted"
	if d.Outcome != order.Accepted {
		outcome = "rejected"
		if e := d.Error(); e != nil {
			code = e.Code()
		}
	}
	switch kind {
	case publisher.KindTruncated:
		o.m.TruncatedEvents.Inc()
	case publisher.KindDLQ:
		o.m.DLQRecords.Inc()
		outcome = "dlq"
		o.log.Error("record sent to the dead-letter topic: the broker refused its event",
			"topic", r.Record.Source.Topic, "partition", r.Record.Source.Partition, "offset", r.Record.Source.Offset,
			"request_type", d.Type.String(), "value_bytes", len(r.Record.Value))
	}
	if o.onPublished != nil {
		o.onPublished(r, kind)
	}
	o.m.DecisionSeconds.Observe(r.DecideDuration.Seconds())
	o.m.ObserveOutcome(d.Type.String(), outcome, code, r.Record.Time, acked)
	if outcome == "rejected" && o.log.Enabled(context.Background(), slog.LevelDebug) {
		e := d.Error()
		o.log.Debug("request rejected", "request_type", d.Type.String(), "code", e.Code(), "field", e.Field,
			"source", r.Record.Source.Topic+"/"+strconv.Itoa(r.Record.Source.Partition)+"/"+strconv.FormatInt(r.Record.Source.Offset, 10))
	}
}

func (o publishObserver) Failed(cause string, n int) {
	o.m.PublishFailures.WithLabelValues(cause).Add(float64(n))
}

// resolverObserver feeds service-point resolution's measurements to the metrics.
type resolverObserver struct{ m *metrics.Metrics }

func (o resolverObserver) CacheHits(n int)            { o.m.CacheHits.Add(float64(n)) }
func (o resolverObserver) CacheMisses(n int)          { o.m.CacheMisses.Add(float64(n)) }
func (o resolverObserver) CacheError(op string)       { o.m.CacheErrors.WithLabelValues(op).Inc() }
func (o resolverObserver) CacheCorrupt(reason string) { o.m.CacheCorrupt.WithLabelValues(reason).Inc() }
func (o resolverObserver) CacheStale(n int)           { o.m.CacheStale.Add(float64(n)) }
func (o resolverObserver) RedisRoundTrip()            { o.m.RedisRoundTrips.Inc() }
func (o resolverObserver) InventoryCall(result string, d time.Duration) {
	o.m.InventoryCalls.WithLabelValues(result).Inc()
	o.m.InventorySeconds.Observe(d.Seconds())
}

// redisObserver feeds what the Redis connection sees, node by node, to the metrics.
type redisObserver struct{ m *metrics.Metrics }

func (o redisObserver) RedisNodeRoundTrip(node string) {
	o.m.RedisNodeTrips.WithLabelValues(node).Inc()
}
func (o redisObserver) RedisError(kind string) { o.m.RedisErrors.WithLabelValues(kind).Inc() }

// declareRedisLabels gives the Redis error kinds and the corrupt-entry reasons a series at
// 0 from the start, so that rate() and the dashboards see the first one.
func declareRedisLabels(m *metrics.Metrics) {
	for _, kind := range servicepoint.RedisErrorKinds {
		m.RedisErrors.WithLabelValues(kind)
	}
	for _, reason := range servicepoint.CorruptReasons {
		m.CacheCorrupt.WithLabelValues(reason)
	}
}

// probeRedis is the readiness check of Redis: what the mode needs answers (see
// servicepoint.Redis.Probe), and the nodes seen go to ordergate_redis_nodes.
func (w *Worker) probeRedis(ctx context.Context) error {
	n, err := w.redis.Probe(ctx)
	w.metrics.RedisNodes.WithLabelValues("primary").Set(float64(n.Primaries))
	w.metrics.RedisNodes.WithLabelValues("replica").Set(float64(n.Replicas))
	w.metrics.RedisNodes.WithLabelValues("sentinel").Set(float64(n.Sentinels))
	return err
}
