// Package retry runs an operation until it succeeds, with capped exponential backoff and
// jitter. Retries never stop by themselves: only the context ends them, because giving up
// on a record would lose it or turn an outage into a rejection.
package retry

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// Causer is implemented by errors that know their cause: one label of Causes, used for
// metrics and logs.
type Causer interface {
	Cause() string
}

// CauseOf returns the cause of err, or CauseOther.
func CauseOf(err error) string {
	var c Causer
	if errors.As(err, &c) {
		return c.Cause()
	}
	return CauseOther
}

// The defaults of Policy, used for a field left at zero.
const (
	DefaultInitial = 50 * time.Millisecond
	DefaultMax     = 30 * time.Second
)

// Policy says how to wait between attempts.
type Policy struct {
	// Initial is the first wait (DefaultInitial when zero).
	Initial time.Duration
	// Max caps the wait (ORDERGATE_RETRY_MAX_BACKOFF; DefaultMax when zero).
	Max time.Duration
	// OnRetry, when set, is called after each failed attempt with the error, the attempt
	// number (1 for the first failure) and when the first failure happened.
	OnRetry func(err error, attempt int, since time.Time)
	// Sleep waits for d or until ctx ends; nil means a timer (tests replace it).
	Sleep func(ctx context.Context, d time.Duration) error
}

// Backoff returns the wait after the given failed attempt (1-based): Initial doubled each
// time, capped at Max, with "equal jitter" (between half and all of it) so that workers
// that failed together do not retry together.
func (p Policy) Backoff(attempt int) time.Duration {
	initial, max := p.Initial, p.Max
	if initial <= 0 {
		initial = DefaultInitial
	}
	if max <= 0 {
		max = DefaultMax
	}
	d := initial
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	half := d / 2
	return half + rand.N(half+1)
}

// Do calls op until it returns nil, waiting Backoff between attempts. It returns nil on
// success, or the context's error (joined with op's last error) when ctx ends first.
func (p Policy) Do(ctx context.Context, op func(ctx context.Context) error) error {
	var since time.Time
	for attempt := 1; ; attempt++ {
		err := op(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return errors.Join(ctx.Err(), err)
		}
		if attempt == 1 {
			since = time.Now()
		}
		if p.OnRetry != nil {
			p.OnRetry(err, attempt, since)
		}
		if serr := p.Wait(ctx, attempt); serr != nil {
			return errors.Join(serr, err)
		}
	}
}

// Sleep waits for d or until ctx ends, whichever comes first, and stops its timer; it
// returns ctx's error when ctx ended first.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Wait waits the backoff of the given failed attempt (1-based), or until ctx ends; it
// returns ctx's error when ctx ended first.
func (p Policy) Wait(ctx context.Context, attempt int) error {
	sleep := p.Sleep
	if sleep == nil {
		sleep = Sleep
	}
	return sleep(ctx, p.Backoff(attempt))
}
