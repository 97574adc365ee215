package processor

import (
	"context"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/ordergate/ordergate/internal/foundation/tracing"
	"github.com/ordergate/ordergate/processor/order"
)

// Tracing says how the processor traces records (OpenTelemetry's messaging conventions):
// one "process {topic}" span per record, of kind consumer, child of the input's trace
// context (else the root of a new trace), from its batch's first decision to its event's
// acknowledgement. The span's context goes into the record's Trace, hence into its event,
// so that a consumer of the event continues the trace. The resolution records its Redis
// read and inventory calls as child spans, the publisher each send; the span ends with the
// outcome. Without a Tracer (tracing off) the processor creates no span and no context.
type Tracing struct {
	// Tracer starts the spans; nil traces nothing.
	Tracer trace.Tracer
	// Topic is the input topic, named by the spans.
	Topic string
	// Group is the consumer group (messaging.consumer.group.name).
	Group string
}

// SetTracing makes the processor trace records; call it before the first batch.
func (p *Processor) SetTracing(t Tracing) {
	if t.Tracer == nil {
		p.tracing = nil
		return
	}
	p.tracing = &recordTracer{Tracing: t, name: spanName("process", t.Topic),
		startOpts: []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer)}}
}

func spanName(operation, topic string) string {
	if topic == "" {
		return operation
	}
	return operation + " " + topic
}

// recordTracer starts and ends the spans of records.
type recordTracer struct {
	Tracing
	name string // "process {Topic}"
	// startOpts are the options of every span's start, made once: built per record they
	// cost two allocations each.
	startOpts []trace.SpanStartOption
}

// start starts the span of every record of a batch that has none yet (a batch step that is
// retried keeps the spans of its first attempt), storing it in out[i].Span and its context
// in in[i].Trace.
func (t *recordTracer) start(ctx context.Context, in []order.Record, out []Result) {
	for i := range in {
		r := &in[i]
		if r.Trace.Valid() {
			continue
		}
		parent := ctx
		if up := order.TraceContextOf(r.Headers); up.Valid() {
			parent = trace.ContextWithRemoteSpanContext(ctx, spanContext(&up))
		}
		name := t.name
		if r.Source.Topic != t.Topic {
			name = spanName("process", r.Source.Topic)
		}
		_, span := t.Tracer.Start(parent, name, t.startOpts...)
		if span.IsRecording() {
			t.describe(span, r)
		}
		out[i].Span = span
		sc := span.SpanContext()
		r.Trace = order.TraceContext{TraceID: sc.TraceID(), SpanID: sc.SpanID(), Flags: byte(sc.TraceFlags()) & (order.FlagSampled | order.FlagRandom)}
		if sc.TraceState().Len() > 0 {
			r.Trace.State = []byte(sc.TraceState().String())
		}
	}
}

// describe sets the attributes of a record's span that its input gives.
func (t *recordTracer) describe(span trace.Span, r *order.Record) {
	attrs := make([]attribute.KeyValue, 0, 10)
	attrs = append(attrs,
		semconv.MessagingSystemKafka,
		semconv.MessagingOperationTypeProcess,
		semconv.MessagingOperationName("process"),
		semconv.MessagingDestinationName(r.Source.Topic),
		semconv.MessagingDestinationPartitionID(strconv.Itoa(r.Source.Partition)),
		semconv.MessagingKafkaOffset(int(r.Source.Offset)),
		semconv.MessagingMessageBodySize(len(r.Value)),
	)
	if t.Group != "" {
		attrs = append(attrs, semconv.MessagingConsumerGroupName(t.Group))
	}
	if len(r.Key) > 0 {
		attrs = append(attrs, semconv.MessagingKafkaMessageKey(strings.ToValidUTF8(string(r.Key), "\uFFFD")))
	}
	if c := order.CorrelationID(r.Headers); c != "" {
		attrs = append(attrs, tracing.AttrCorrelationID.String(c))
	}
	span.SetAttributes(attrs...)
}

// spanContext is the remote span context of an input's trace context.
func spanContext(tc *order.TraceContext) trace.SpanContext {
	cfg := trace.SpanContextConfig{TraceID: tc.TraceID, SpanID: tc.SpanID, TraceFlags: trace.TraceFlags(tc.Flags), Remote: true}
	if len(tc.State) > 0 {
		if ts, err := trace.ParseTraceState(string(tc.State)); err == nil {
			cfg.TraceState = ts
		}
	}
	return trace.NewSpanContext(cfg)
}

// withLookupSpans returns ctx carrying the spans of the records of pending, whose lookups
// the resolution answers in that order.
func withLookupSpans(ctx context.Context, out []Result, pending []int) context.Context {
	spans := make([]trace.Span, len(pending))
	for j, i := range pending {
		spans[j] = out[i].Span
	}
	return tracing.WithLookupSpans(ctx, spans)
}

// retrying tells the spans of a batch that a step failed with err and is retried.
func retrying(out []Result, err error) {
	for i := range out {
		tracing.Retrying(out[i].Span, err)
	}
}

// TraceSend records an attempt to publish the record's event (or dead-letter record) on
// topic as a child span "send {topic}", failed when err is not nil. It does nothing for a
// record that is not traced.
func (r *Result) TraceSend(topic string, start, end time.Time, err error) {
	if r.Span != nil && r.Span.IsRecording() {
		tracing.Child(r.Span, spanName("send", topic), trace.SpanKindProducer, start, end, err,
			semconv.MessagingSystemKafka, semconv.MessagingOperationTypeSend, semconv.MessagingOperationName("send"),
			semconv.MessagingDestinationName(topic))
	}
}

// TraceDone ends the record's span at the acknowledgement of what was published for it
// (at), with the request type, the outcome and, for a rejection, its code and status. A
// rejection is the answer the contract asks for, not a failure of ordergate: its span's
// status stays unset, as an accepted one's. A record whose event the broker refused for
// good (dlq) is a failure of delivery: error status. It does nothing for a record that is
// not traced.
func (r *Result) TraceDone(dlq bool, at time.Time) {
	span := r.Span
	if span == nil {
		return
	}
	r.Span = nil
	if !span.IsRecording() {
		return
	}
	d := &r.Decision
	typ := d.Type.String()
	if typ == "" {
		typ = "unknown"
	}
	outcome := "accepted"
	attrs := make([]attribute.KeyValue, 0, 4)
	if d.Outcome != order.Accepted {
		outcome = "rejected"
		if e := d.Error(); e != nil {
			attrs = append(attrs, tracing.AttrCode.Int(e.Code()), tracing.AttrStatus.Int(e.Status()))
		}
	}
	if dlq {
		outcome = "dlq"
		span.SetStatus(codes.Error, "the broker refused the event for good: the record went to the dead-letter topic")
	}
	span.SetAttributes(append(attrs, tracing.AttrRequestType.String(typ), tracing.AttrOutcome.String(outcome))...)
	span.End(trace.WithTimestamp(at))
}
