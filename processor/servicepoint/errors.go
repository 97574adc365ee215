package servicepoint

import (
	"errors"
	"fmt"

	"github.com/ordergate/ordergate/internal/foundation/retry"
)

// The causes of transient failures, from the catalog of package retry: metric labels
// ("retries by cause") and log values.
const (
	CauseRedis                = retry.CauseRedis
	CauseInventoryTimeout     = retry.CauseInventoryTimeout
	CauseInventoryUnavailable = retry.CauseInventoryUnavailable
	CauseInventoryStatus      = retry.CauseInventoryStatus
	CauseInventoryBody        = retry.CauseInventoryBody
)

// ErrTransient matches every *TransientError with errors.Is.
var ErrTransient = errors.New("servicepoint: transient failure")

// ErrInvalidLookup is returned (wrapped) for a lookup whose criterion is not one of the
// three of package order or whose value is empty. Package order never builds one: it is a
// programming error, so it is not transient, and it is never answered as "no match".
var ErrInvalidLookup = errors.New("servicepoint: invalid lookup")

// TransientError is a failure of Redis or of the inventory. It is never a decision about a
// request and never stands for "no match": the caller retries the batch (with backoff) and
// labels its retry metric with Cause.
type TransientError struct {
	cause string
	err   error
}

// transient returns a TransientError of cause; format may use %w to keep the underlying
// error reachable through errors.Is and errors.As.
func transient(cause string, format string, args ...any) *TransientError {
	return &TransientError{cause: cause, err: fmt.Errorf(format, args...)}
}

// Error returns the cause followed by what failed. It never contains the inventory's URL
// or token.
func (e *TransientError) Error() string { return e.cause + ": " + e.err.Error() }

// Cause is one of the Cause* constants (it satisfies retry.Causer).
func (e *TransientError) Cause() string { return e.cause }

// Unwrap returns the underlying error.
func (e *TransientError) Unwrap() error { return e.err }

// Is reports whether target is ErrTransient.
func (e *TransientError) Is(target error) bool { return target == ErrTransient }
