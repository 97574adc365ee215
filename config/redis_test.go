package config

import (
	"crypto/tls"
	"testing"
	"time"
)

func TestRedisOptions(t *testing.T) {
	tests := []struct {
		url      string
		addr     string
		db       int
		user, pw string
		tls      bool
	}{
		{"redis://localhost:6379/0", "localhost:6379", 0, "", "", false},
		{"redis://:pw@cache/3", "cache:6379", 3, "", "pw", false},
		{"rediss://app:pw@cache.example:6380/2", "cache.example:6380", 2, "app", "pw", true},
	}
	for _, tt := range tests {
		c, _, err := loadWith(t, []string{"ORDERGATE_REDIS_URL=" + tt.url, "ORDERGATE_REDIS_TIMEOUT=250ms"})
		if err != nil {
			t.Fatal(err)
		}
		opts, err := c.RedisOptions()
		if err != nil {
			t.Fatalf("%s: RedisOptions: %v", tt.url, err)
		}
		if opts.Addr != tt.addr || opts.DB != tt.db || opts.Username != tt.user || opts.Password != tt.pw {
			t.Errorf("%s: Addr %q DB %d Username %q Password %q; want %q %d %q %q",
				tt.url, opts.Addr, opts.DB, opts.Username, opts.Password, tt.addr, tt.db, tt.user, tt.pw)
		}
		if !opts.ContextTimeoutEnabled {
			t.Errorf("%s: ContextTimeoutEnabled is false", tt.url)
		}
		const timeout = 250 * time.Millisecond
		if opts.DialTimeout != timeout || opts.ReadTimeout != timeout || opts.WriteTimeout != timeout {
			t.Errorf("%s: timeouts dial %v read %v write %v, want %v", tt.url, opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout, timeout)
		}
		switch {
		case !tt.tls && opts.TLSConfig != nil:
			t.Errorf("%s: TLSConfig is set, want none", tt.url)
		case tt.tls && opts.TLSConfig == nil:
			t.Errorf("%s: TLSConfig is nil, want TLS", tt.url)
		case tt.tls && (opts.TLSConfig.ServerName != "cache.example" || opts.TLSConfig.MinVersion < tls.VersionTLS12):
			t.Errorf("%s: TLS ServerName %q MinVersion %x; want cache.example and TLS 1.2 or later",
				tt.url, opts.TLSConfig.ServerName, opts.TLSConfig.MinVersion)
		}
	}
}

func TestRedisOptionsOfABadURLNamesTheVariable(t *testing.T) {
	t.Parallel()
	_, err := Config{RedisURL: "redis://app:pw@cache/x"}.RedisOptions()
	checkError(t, err, "ORDERGATE_REDIS_URL", "invalid database number")
}
