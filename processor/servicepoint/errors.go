package servicepoint

import (
	"errors"
	"fmt"
)

// The causes of transient failures: a small fixed set, used as metric labels ("retries by
// cause") and in logs.
const (
	// CauseRedis: Redis did not answer the batch's read (refused, timed out, error reply).
	CauseRedis = "redis"
	// CauseInventoryTimeout: the inventory did not answer within its timeout, or the caller
	// gave up waiting for it.
	CauseInventoryTimeout = "inventory_timeout"
	// CauseInventoryUnavailable: the inventory could not be reached (refused, reset, DNS).
	CauseInventoryUnavailable = "inventory_unavailable"
	// CauseInventoryStatus: the inventory answered a status other than 200 and 404.
	CauseInventoryStatus = "inventory_status"
	// CauseInventoryBody: the inventory answered 200 with a body that is not a JSON array
	// of service points.
	CauseInventoryBody = "inventory_body"
)

// Causes lists every cause a TransientError can carry, for metrics that pre-declare their
// label values.
var Causes = []string{CauseRedis, CauseInventoryTimeout, CauseInventoryUnavailable, CauseInventoryStatus, CauseInventoryBody}

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
