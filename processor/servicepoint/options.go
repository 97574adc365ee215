package servicepoint

import "time"

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
	// Observer receives measurements. Nil measures nothing.
	Observer Observer
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
	return o
}
