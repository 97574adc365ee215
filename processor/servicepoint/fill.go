package servicepoint

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/ordergate/ordergate/processor/order"
)

// fill asks the inventory for the missing keys of a batch, at once, and writes the answers
// back in one pipeline. It waits for every key, so that the answers obtained before a
// failure are cached for the retry. A key whose call failed is answered from its stale
// entry when it has one (stale[i], see Resolver.read); otherwise fill returns the failure
// of the first such key. parents, when not nil, are the spans the calls are made in
// (parents[i] for unique[i]).
func (r *Resolver) fill(ctx context.Context, unique []order.Lookup, keys []string, missing []int, answers, stale [][]order.ServicePoint, parents []trace.Span) error {
	errs := make([]error, len(missing))
	var wg sync.WaitGroup
	for j, i := range missing {
		cctx := ctx
		if parents != nil && parents[i] != nil {
			cctx = trace.ContextWithSpan(ctx, parents[i])
		}
		wg.Go(func() { answers[i], errs[j] = r.fetch(cctx, keys[i], unique[i]) })
	}
	wg.Wait()
	var first error
	served := 0
	writeKeys := make([]string, 0, len(missing))
	writeAnswers := make([][]order.ServicePoint, 0, len(missing))
	for j, i := range missing {
		if errs[j] != nil {
			if stale != nil && stale[i] != nil && ctx.Err() == nil {
				answers[i] = markStale(stale[i])
				served++
				continue
			}
			if first == nil {
				first = errs[j]
			}
			continue
		}
		writeKeys = append(writeKeys, keys[i])
		writeAnswers = append(writeAnswers, answers[i])
	}
	if ctx.Err() == nil {
		r.writeBack(ctx, writeKeys, writeAnswers, r.opts.Now())
	}
	if first != nil {
		return first
	}
	if served > 0 {
		r.stale.Add(int64(served))
		r.obs.CacheStale(served)
	}
	return nil
}

// markStale returns a copy of matches, each marked Stale.
func markStale(matches []order.ServicePoint) []order.ServicePoint {
	out := make([]order.ServicePoint, len(matches))
	for i, sp := range matches {
		sp.Stale = true
		out[i] = sp
	}
	return out
}

// fetch returns the inventory's answer for one key: from the call already in flight for it
// if any (singleflight, across every batch of this resolver), else from the answer another
// batch has just received (see landing), else from a call of its own. The call runs on a
// context that the caller's cancellation does not end, since other batches may be waiting
// for it; the caller itself stops waiting when its context ends.
func (r *Resolver) fetch(ctx context.Context, key string, l order.Lookup) ([]order.ServicePoint, error) {
	called := false
	ch := r.flight.DoChan(key, func() (any, error) {
		if matches, ok := r.landing.get(key, r.opts.Now()); ok {
			return matches, nil
		}
		called = true
		return r.call(context.WithoutCancel(ctx), key, l)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		if !called { // read after the flight ended: no race with the closure
			r.shared.Add(1)
		}
		return res.Val.([]order.ServicePoint), nil
	case <-ctx.Done():
		cause := CauseInventoryUnavailable
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			cause = CauseInventoryTimeout
		}
		return nil, transient(cause, "gave up waiting for the inventory: %w", ctx.Err())
	}
}

// call asks the inventory, within the concurrency bound, and reports the call.
func (r *Resolver) call(ctx context.Context, key string, l order.Lookup) ([]order.ServicePoint, error) {
	r.sem <- struct{}{}
	defer func() { <-r.sem }()
	start := time.Now()
	matches, err := r.inv.Find(ctx, l)
	d := time.Since(start)
	r.calls.Add(1)
	if err != nil {
		result := resultOf(err)
		r.obs.InventoryCall(result, d)
		var te *TransientError
		if !errors.As(err, &te) {
			cause := CauseInventoryUnavailable
			if result == ResultTimeout {
				cause = CauseInventoryTimeout
			}
			err = transient(cause, "inventory: %w", err)
		}
		return nil, err
	}
	if len(matches) == 0 {
		r.obs.InventoryCall(ResultNotFound, d)
		matches = none
	} else {
		r.obs.InventoryCall(ResultOK, d)
	}
	r.landing.put(key, matches, r.opts.Now())
	return matches, nil
}
