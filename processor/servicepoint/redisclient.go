package servicepoint

import "github.com/redis/go-redis/v9"

// NewRedisClient returns a go-redis client built from a copy of opts with
// ContextTimeoutEnabled set. Without it a frozen Redis (SIGSTOP, a long fork, a network
// partition) blocks each call for the client's full read timeout whatever the caller's
// context deadline says.
func NewRedisClient(opts *redis.Options) *redis.Client {
	o := *opts
	o.ContextTimeoutEnabled = true
	return redis.NewClient(&o)
}
