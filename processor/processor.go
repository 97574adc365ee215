// Package processor turns a batch of input records into final decisions: the pure rules of
// package order for every record, then one service-point resolution for the records of the
// batch that passed every pure row. It does no Kafka I/O and never publishes.
package processor

import (
	"context"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/ordergate/ordergate/processor/order"
)

// Resolver answers the service-point lookups of a batch: matches[i] are the service points
// that match lookups[i]. An error is transient (Redis or the inventory is unavailable): the
// caller retries the batch; it never means "no match".
type Resolver interface {
	Resolve(ctx context.Context, lookups []order.Lookup) (matches [][]order.ServicePoint, err error)
}

// Result is the final decision for one input record.
type Result struct {
	Record   *order.Record
	Decision order.Decision
	// Decided is when the decision was made (the event's eventTime).
	Decided time.Time
	// DecideDuration is the CPU time spent on the pure rules of this record.
	DecideDuration time.Duration
	// Span is the record's trace span when the processor traces (see Tracing), nil
	// otherwise; it ends when the record's event is acknowledged (TraceDone).
	Span trace.Span
}

// Processor decides batches. It is safe for concurrent use by the consumer's partitions.
type Processor struct {
	rules    atomic.Pointer[order.Rules]
	resolver Resolver
	now      func() time.Time
	tracing  *recordTracer // nil: tracing off
}

// New returns a processor with the given rules, resolver and clock (time.Now when nil).
func New(rules *order.Rules, resolver Resolver, now func() time.Time) *Processor {
	if now == nil {
		now = time.Now
	}
	p := &Processor{resolver: resolver, now: now}
	p.rules.Store(rules)
	return p
}

// SetRules replaces the rules for the batches that start after the call (for instance when
// the clients file is reloaded).
func (p *Processor) SetRules(r *order.Rules) { p.rules.Store(r) }

// Rules returns the rules in force.
func (p *Processor) Rules() *order.Rules { return p.rules.Load() }

// Process decides every input and writes the results to out (same length and order as in).
// Resolution is one Resolver call for the whole batch. When the processor traces, the
// first call for a batch starts the span of each record (see Tracing). On an error, which is always
// transient, out is incomplete and the whole batch must be processed again.
func (p *Processor) Process(ctx context.Context, in []order.Record, out []Result) error {
	if p.tracing != nil {
		p.tracing.start(ctx, in, out)
	}
	rules := p.rules.Load()
	// Sized for the whole batch once: most records of a batch of BVPN requests need one.
	lookups := make([]order.Lookup, 0, len(in))
	pending := make([]int, 0, len(in))
	// One clock reading per record: each record's decision lasts from the previous
	// reading to its own.
	last := time.Now()
	for i := range in {
		r := &out[i]
		r.Record = &in[i]
		r.Decision = rules.Decide(&in[i])
		now := time.Now()
		r.DecideDuration = now.Sub(last)
		last = now
		if r.Decision.Outcome == order.NeedsServicePoint {
			lookups = append(lookups, r.Decision.Lookup)
			pending = append(pending, i)
		}
	}
	if len(lookups) > 0 {
		rctx := ctx
		if p.tracing != nil {
			rctx = withLookupSpans(ctx, out, pending)
		}
		matches, err := p.resolver.Resolve(rctx, lookups)
		if err != nil {
			if p.tracing != nil {
				retrying(out, err)
			}
			return err
		}
		for j, i := range pending {
			out[i].Decision.Resolve(matches[j])
		}
	}
	now := p.now()
	for i := range in {
		out[i].Decided = now
	}
	return nil
}
