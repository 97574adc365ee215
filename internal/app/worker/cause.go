package worker

import "context"

// keepCause returns the error a failed start-up reports after its wait: err, unless the
// attempt failed only because the start-up timeout ended during it (ctx is done), in which
// case the earlier attempt's error (an untrusted certificate, a refused connection) says
// what to fix, and "context deadline exceeded" does not.
func keepCause(ctx context.Context, last, err error) error {
	if last != nil && ctx.Err() != nil {
		return last
	}
	return err
}
