// Package servicepoint resolves the service points that requests name (contract section 4):
// the inventory is the source of truth (an HTTP service, or a JSON file standing in for it)
// and Redis is its cache, always in the path. A batch of lookups costs one Redis round trip
// to read, one inventory call per missing key (however many records or concurrent batches
// wait for it, with bounded concurrency), and one round trip to write back.
package servicepoint

import "fmt"

// The causes of transient failures, used as metric labels and in logs.
const (
	CauseRedis                = "redis"
	CauseInventoryTimeout     = "inventory_timeout"
	CauseInventoryUnavailable = "inventory_unavailable"
	CauseInventoryStatus      = "inventory_status"
	CauseInventoryBody        = "inventory_body"
)

// TransientError is a failure of Redis or of the inventory. It is never a decision about a
// request: the caller retries the batch.
type TransientError struct {
	cause string
	err   error
}

func transient(cause string, format string, args ...any) *TransientError {
	return &TransientError{cause: cause, err: fmt.Errorf(format, args...)}
}

// Error implements error.
func (e *TransientError) Error() string { return e.cause + ": " + e.err.Error() }

// Cause is one of the Cause* constants.
func (e *TransientError) Cause() string { return e.cause }

// Unwrap returns the underlying error.
func (e *TransientError) Unwrap() error { return e.err }
