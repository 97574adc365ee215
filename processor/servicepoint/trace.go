package servicepoint

import (
	"time"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/ordergate/ordergate/internal/foundation/tracing"
)

// traceRead records a batch's Redis read (its MGET, from start to end, failed when err is
// not nil) as a child span "MGET" of the span of each record that has a lookup in the
// batch (spans[i] is lookup i's, slot[i] its key), saying whether its key was found.
func traceRead(spans []trace.Span, slot, missing []int, keys int, start, end time.Time, err error) {
	var absent []bool
	if err == nil {
		absent = make([]bool, keys)
		for _, i := range missing {
			absent[i] = true
		}
	}
	for j, span := range spans {
		if span == nil || !span.IsRecording() {
			continue
		}
		attrs := []attribute.KeyValue{semconv.DBSystemNameRedis, semconv.DBOperationName("MGET"), tracing.AttrRedisKeys.Int(keys)}
		if absent != nil {
			attrs = append(attrs, tracing.AttrCacheHit.Bool(!absent[slot[j]]))
		}
		tracing.Child(span, "MGET", trace.SpanKindClient, start, end, err, attrs...)
	}
}

// inventoryParents returns, for each distinct lookup, the span of the first record that
// asked for it: the parent of the inventory call made for that key, whose HTTP request
// carries its trace context. Records that share the key (in this batch or another) share
// the call, which appears in the first one's trace only.
func inventoryParents(spans []trace.Span, slot []int, unique int) []trace.Span {
	parents := make([]trace.Span, unique)
	for j, s := range slot {
		if parents[s] == nil {
			parents[s] = spans[j]
		}
	}
	return parents
}
