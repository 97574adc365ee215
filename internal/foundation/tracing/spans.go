package tracing

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/ordergate/ordergate/internal/foundation/retry"
)

// ordergate's own span attributes and event names, beside the semantic conventions'.
const (
	// AttrRequestType is the request type the record names ("unknown" when none).
	AttrRequestType = attribute.Key("ordergate.request_type")
	// AttrOutcome is accepted, rejected or dlq.
	AttrOutcome = attribute.Key("ordergate.outcome")
	// AttrCode is the contract's code of a rejection (3621, 65...).
	AttrCode = attribute.Key("ordergate.code")
	// AttrStatus is the HTTP status the synchronous API would have answered for a
	// rejection (422, 412...).
	AttrStatus = attribute.Key("ordergate.status")
	// AttrCorrelationID is the event's correlationId when the input gave one.
	AttrCorrelationID = attribute.Key("ordergate.correlation_id")
	// AttrCacheHit says whether a record's service-point lookup was found in Redis.
	AttrCacheHit = attribute.Key("ordergate.cache.hit")
	// AttrRedisKeys is the number of keys of a batch's Redis read.
	AttrRedisKeys = attribute.Key("ordergate.redis.keys")
	// AttrLookupCriterion is the criterion of an inventory call (id, reference,
	// customerReference); its value is left out (it may identify a customer).
	AttrLookupCriterion = attribute.Key("ordergate.lookup.criterion")
	// AttrRetryCause is the cause of a failed step (the cause label of the metrics).
	AttrRetryCause = attribute.Key("ordergate.retry.cause")

	// EventRetry is added to the span of every record of a batch whose step failed and is
	// retried.
	EventRetry = "ordergate.retry"
)

// Child records an operation that has ended as a child span of parent, from start to end,
// when parent is recording (nothing otherwise). A failed operation (err not nil) gets the
// error status, error.type = its cause (see retry.CauseOf) and the error as an event.
func Child(parent trace.Span, name string, kind trace.SpanKind, start, end time.Time, err error, attrs ...attribute.KeyValue) {
	if parent == nil || !parent.IsRecording() {
		return
	}
	ctx := trace.ContextWithSpan(context.Background(), parent)
	_, span := Tracer(parent.TracerProvider()).Start(ctx, name, trace.WithSpanKind(kind), trace.WithTimestamp(start), trace.WithAttributes(attrs...))
	if err != nil {
		Fail(span, err, end)
	}
	span.End(trace.WithTimestamp(end))
}

// Fail marks span as failed by err (at time at): the error status with the error's text,
// error.type = its cause, and the error as an event.
func Fail(span trace.Span, err error, at time.Time) {
	span.SetAttributes(semconv.ErrorTypeKey.String(retry.CauseOf(err)))
	span.RecordError(err, trace.WithTimestamp(at))
	span.SetStatus(codes.Error, err.Error())
}

// Retrying adds EventRetry to span (when recording): a step of its batch failed with err
// and is retried. The span's status is left alone: a retried failure is not the record's
// failure, the step's child span says what failed.
func Retrying(span trace.Span, err error) {
	if span == nil || !span.IsRecording() {
		return
	}
	span.AddEvent(EventRetry, trace.WithAttributes(AttrRetryCause.String(retry.CauseOf(err)), semconv.ExceptionMessage(err.Error())))
}

type lookupSpansKey struct{}

// WithLookupSpans returns ctx carrying the spans of the records whose service-point
// lookups a resolution answers, in the order of its lookups (spans[i] is the span of the
// record of lookup i), so that the resolution records its Redis read and its inventory
// calls in their traces.
func WithLookupSpans(ctx context.Context, spans []trace.Span) context.Context {
	return context.WithValue(ctx, lookupSpansKey{}, spans)
}

// LookupSpans returns the spans of WithLookupSpans, or nil.
func LookupSpans(ctx context.Context) []trace.Span {
	spans, _ := ctx.Value(lookupSpansKey{}).([]trace.Span)
	return spans
}
