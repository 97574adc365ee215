package config

import (
	"errors"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"
)

// RedisOptions returns the client options of ORDERGATE_REDIS_URL: TLS for
// rediss:// (as redis.ParseURL sets it, TLS 1.2 or later), ORDERGATE_REDIS_TIMEOUT
// on dial, read and write, and ContextTimeoutEnabled so that a caller's
// deadline bounds a call to a hung server.
func (c Config) RedisOptions() (*redis.Options, error) {
	opts, err := parseRedisURL(string(c.RedisURL))
	if err != nil {
		return nil, err
	}
	opts.ContextTimeoutEnabled = true
	opts.DialTimeout = c.RedisTimeout
	opts.ReadTimeout = c.RedisTimeout
	opts.WriteTimeout = c.RedisTimeout
	return opts, nil
}

// parseRedisURL parses raw with redis.ParseURL; its error names
// ORDERGATE_REDIS_URL and never shows the password.
func parseRedisURL(raw string) (*redis.Options, error) {
	const name = "ORDERGATE_REDIS_URL"
	opts, err := redis.ParseURL(raw)
	if err != nil {
		reason := "not a Redis URL (redis://[user:password@]host:port/db or rediss://...)"
		// A *url.Error repeats the whole URL, and its cause can quote part
		// of the password (a bad escape): give its cause only for a URL
		// without user information. go-redis's own messages name a scheme,
		// a path or an option.
		var urlErr *url.Error
		switch {
		case !errors.As(err, &urlErr):
			reason += ": " + strings.TrimPrefix(err.Error(), "redis: ")
		case !strings.Contains(raw, "@"):
			reason += ": " + urlErr.Err.Error()
		}
		if _, _, password, _ := splitUserinfo(raw); password != "" {
			reason = strings.ReplaceAll(reason, password, "***")
		}
		return nil, errorf(name, raw, reason)
	}
	u, _ := url.Parse(raw) // cannot fail: redis.ParseURL parsed it
	for _, timeout := range []string{"dial_timeout", "read_timeout", "write_timeout"} {
		if u.Query().Has(timeout) {
			return nil, errorf(name, raw, "sets "+timeout+": use ORDERGATE_REDIS_TIMEOUT instead")
		}
	}
	return opts, nil
}
