package servicepoint

import (
	"log/slog"
	"time"
)

// Defaults of Options, those of the contract (section 7).
const (
	DefaultTTL         = 10 * time.Minute
	DefaultNegativeTTL = 30 * time.Second
	DefaultConcurrency = 16
)

// Options configure a Resolver. The zero value is usable: every field has a default.
type Options struct {
	// KeyPrefix starts every Redis key (ORDERGATE_REDIS_KEY_PREFIX). Empty means no
	// prefix.
	KeyPrefix string
	// TTL is how long a lookup that found service points stays cached
	// (ORDERGATE_CACHE_TTL; DefaultTTL when zero). Written with EX, or PX when it is not a
	// whole number of seconds.
	TTL time.Duration
	// NegativeTTL is how long a lookup that found none stays cached
	// (ORDERGATE_CACHE_NEGATIVE_TTL; DefaultNegativeTTL when zero).
	NegativeTTL time.Duration
	// Concurrency bounds the inventory calls in flight, across all the batches a Resolver
	// serves at once (ORDERGATE_INVENTORY_CONCURRENCY; DefaultConcurrency when zero).
	Concurrency int
	// RedisTimeout, when positive, bounds each Redis round trip of a batch (its read and its
	// write-back) whatever the caller's context and the client's retries. Zero leaves it to
	// the client's own timeouts (ORDERGATE_REDIS_TIMEOUT sets them), which go-redis applies
	// per attempt: with MaxRetries a frozen Redis can then hold a read for several timeouts.
	RedisTimeout time.Duration
	// StaleFor is how long past its TTL a positive entry may still answer a lookup when the
	// inventory fails for it (ORDERGATE_CACHE_STALE_FOR): the answer then carries
	// ServicePoint.Stale. Positive entries live in Redis for TTL + StaleFor. Zero is off;
	// an entry that matched nothing is never served stale.
	StaleFor time.Duration
	// Observer receives measurements. Nil measures nothing.
	Observer Observer
	// Logger receives one warning per corrupt cache entry (with its key) and per
	// uncacheable answer. Nil logs nothing.
	Logger *slog.Logger
	// Now is the clock of the entries' fresh-until times (default time.Now).
	Now func() time.Time
}

// withDefaults returns o with every unset field at its default.
func (o Options) withDefaults() Options {
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.NegativeTTL <= 0 {
		o.NegativeTTL = DefaultNegativeTTL
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Observer == nil {
		o.Observer = nopObserver{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.StaleFor = max(o.StaleFor, 0)
	return o
}
