package servicepoint

import (
	"context"
	"errors"
	"time"
)

// Results of inventory calls, as reported to Observer.InventoryCall: a small fixed set, fit
// for a metric label.
const (
	// ResultOK: the inventory answered one or more service points.
	ResultOK = "ok"
	// ResultNotFound: the inventory answered none (404, or 200 with an empty array).
	ResultNotFound = "not_found"
	// ResultTimeout: the call timed out (CauseInventoryTimeout).
	ResultTimeout = "timeout"
	// ResultUnavailable: the inventory could not be reached (CauseInventoryUnavailable).
	ResultUnavailable = "unavailable"
	// ResultStatus: the inventory answered an unexpected status (CauseInventoryStatus).
	ResultStatus = "status"
	// ResultBody: the inventory answered an unreadable body (CauseInventoryBody).
	ResultBody = "body"
)

// Results lists every result an inventory call can report, for metrics that pre-declare
// their label values.
var Results = []string{ResultOK, ResultNotFound, ResultTimeout, ResultUnavailable, ResultStatus, ResultBody}

// The Redis operations of resolution, as reported to Observer.CacheError.
const (
	// OpRead is the batch's read: its failure fails the batch, which the caller retries.
	OpRead = "read"
	// OpWrite is the write-back of the inventory's answers: its failure is not retried
	// (the answers are used; the keys miss again until a later write-back succeeds).
	OpWrite = "write"
)

// Observer receives the resolver's measurements; the worker feeds its Prometheus metrics
// from it, so this package stays free of any metrics library. Implementations must be cheap
// and safe for concurrent use. A nil Observer in Options measures nothing.
type Observer interface {
	// CacheHits counts distinct keys of a batch found fresh in Redis (negative entries
	// included).
	CacheHits(n int)
	// CacheMisses counts distinct keys of a batch absent from Redis, expired, or corrupt.
	CacheMisses(n int)
	// CacheError counts a failed Redis round trip of resolution, by op (OpRead, OpWrite).
	CacheError(op string)
	// CacheCorrupt counts one corrupt cache entry, by reason (one of CorruptReasons): it
	// was read as a miss and is replaced.
	CacheCorrupt(reason string)
	// CacheStale counts lookups answered by an entry past its TTL because the inventory
	// failed (serve-stale).
	CacheStale(n int)
	// RedisRoundTrip counts logical Redis round trips: one read per batch, one write-back
	// per batch that asked the inventory (on a cluster each is one exchange per node
	// involved: see RedisObserver).
	RedisRoundTrip()
	// InventoryCall counts one call to the inventory, with its result (one of Results) and
	// how long it took.
	InventoryCall(result string, d time.Duration)
}

type nopObserver struct{}

func (nopObserver) CacheHits(int)                       {}
func (nopObserver) CacheMisses(int)                     {}
func (nopObserver) CacheError(string)                   {}
func (nopObserver) CacheCorrupt(string)                 {}
func (nopObserver) CacheStale(int)                      {}
func (nopObserver) RedisRoundTrip()                     {}
func (nopObserver) InventoryCall(string, time.Duration) {}

// Stats is a snapshot of what a Resolver did since it was created. Cache counts are per
// distinct key of a batch, not per lookup.
type Stats struct {
	// RedisRoundTrips counts the reads and write-backs sent, failed ones included.
	RedisRoundTrips int64
	// RedisErrors counts the round trips that failed.
	RedisErrors int64
	// InventoryCalls counts the calls made to the inventory, failed ones included.
	InventoryCalls int64
	// CacheHits counts the distinct keys found in Redis.
	CacheHits int64
	// CacheMisses counts the distinct keys not found in Redis, corrupt entries included.
	CacheMisses int64
	// CorruptEntries counts the cache entries that could not be the answer to their key
	// (each was treated as a miss and overwritten).
	CorruptEntries int64
	// StaleServed counts the lookups answered by an entry past its TTL (serve-stale).
	StaleServed int64
	// Shared counts the misses answered without a call of their own: by a call another batch
	// had in flight, or had just made and was writing back.
	Shared int64
}

// resultOf maps the error of an inventory call to its result label.
func resultOf(err error) string {
	var te *TransientError
	if errors.As(err, &te) {
		switch te.cause {
		case CauseInventoryTimeout:
			return ResultTimeout
		case CauseInventoryStatus:
			return ResultStatus
		case CauseInventoryBody:
			return ResultBody
		}
		return ResultUnavailable
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return ResultTimeout
	}
	return ResultUnavailable
}
