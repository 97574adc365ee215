package config

import (
	"crypto/tls"
	"reflect"
	"strings"
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

// TestRedisModes: each mode gives the options go-redis's UniversalClient needs, the URL's
// user, password and TLS applying to every data node.
func TestRedisModes(t *testing.T) {
	tests := []struct {
		name        string
		env         []string
		addrs       []string
		master      string
		cluster     bool
		readOnly    bool
		serverName  string
		db          int
		sentinelPw  string
		sentinelUsr string
	}{
		{"single", []string{"ORDERGATE_REDIS_URL=rediss://app:p%40ss@cache.example:6380/2"},
			[]string{"cache.example:6380"}, "", false, false, "cache.example", 2, "", ""},
		{"cluster", []string{"ORDERGATE_REDIS_MODE=cluster", "ORDERGATE_REDIS_URL=rediss://app:p%40ss@/0",
			"ORDERGATE_REDIS_ADDRS=node-1:6379, node-2:6379"},
			[]string{"node-1:6379", "node-2:6379"}, "", true, false, "", 0, "", ""},
		{"cluster reading from replicas, default URL host", []string{"ORDERGATE_REDIS_MODE=Cluster", "ORDERGATE_REDIS_URL=rediss://app:p%40ss@localhost:6379",
			"ORDERGATE_REDIS_ADDRS=node-1:6379", "ORDERGATE_REDIS_READ_FROM_REPLICA=true"},
			[]string{"node-1:6379"}, "", true, true, "", 0, "", ""},
		{"sentinel", []string{"ORDERGATE_REDIS_MODE=sentinel", "ORDERGATE_REDIS_URL=rediss://app:p%40ss@/3",
			"ORDERGATE_REDIS_ADDRS=s1:26379,s2:26379,s3:26379", "ORDERGATE_REDIS_MASTER_NAME=cache",
			"ORDERGATE_REDIS_SENTINEL_USERNAME=watcher", "ORDERGATE_REDIS_SENTINEL_PASSWORD=spw"},
			[]string{"s1:26379", "s2:26379", "s3:26379"}, "cache", false, false, "", 3, "spw", "watcher"},
		{"sentinel reading from replicas", []string{"ORDERGATE_REDIS_MODE=sentinel", "ORDERGATE_REDIS_URL=rediss://app:p%40ss@/0",
			"ORDERGATE_REDIS_ADDRS=s1:26379", "ORDERGATE_REDIS_MASTER_NAME=cache", "ORDERGATE_REDIS_READ_FROM_REPLICA=true"},
			[]string{"s1:26379"}, "cache", true, true, "", 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, warnings, err := loadWith(t, append(tt.env, "ORDERGATE_REDIS_TIMEOUT=250ms"))
			if err != nil || len(warnings) != 0 {
				t.Fatalf("Load: %v (warnings %q)", err, warnings)
			}
			o, err := c.RedisUniversalOptions()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(o.Addrs, tt.addrs) || o.MasterName != tt.master || o.IsClusterMode != tt.cluster ||
				o.ReadOnly != tt.readOnly || o.DB != tt.db || o.SentinelPassword != tt.sentinelPw || o.SentinelUsername != tt.sentinelUsr {
				t.Errorf("Addrs %q MasterName %q IsClusterMode %v ReadOnly %v DB %d Sentinel %q/%q", o.Addrs, o.MasterName, o.IsClusterMode,
					o.ReadOnly, o.DB, o.SentinelUsername, o.SentinelPassword)
			}
			if o.Username != "app" || o.Password != "p@ss" {
				t.Errorf("Username %q Password %q, want app and the decoded password", o.Username, o.Password)
			}
			if o.TLSConfig == nil || o.TLSConfig.ServerName != tt.serverName || o.TLSConfig.MinVersion < tls.VersionTLS12 || o.TLSConfig.InsecureSkipVerify {
				t.Errorf("TLS %+v, want ServerName %q, TLS 1.2 or later, certificates checked", o.TLSConfig, tt.serverName)
			}
			if !o.ContextTimeoutEnabled || o.ReadTimeout != 250*time.Millisecond || o.DialTimeout != 250*time.Millisecond || o.WriteTimeout != 250*time.Millisecond {
				t.Errorf("timeouts %v %v %v, ContextTimeoutEnabled %v", o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.ContextTimeoutEnabled)
			}
		})
	}
}

// TestRedisModeErrors: every combination that cannot mean what its author wants stops
// start-up with one line naming the variable at fault.
func TestRedisModeErrors(t *testing.T) {
	cluster := []string{"ORDERGATE_REDIS_MODE=cluster", "ORDERGATE_REDIS_ADDRS=n1:6379"}
	sentinel := []string{"ORDERGATE_REDIS_MODE=sentinel", "ORDERGATE_REDIS_ADDRS=s1:26379", "ORDERGATE_REDIS_MASTER_NAME=m"}
	tests := []struct {
		name   string
		env    []string
		errVar string
		reason string
	}{
		{"unknown mode", []string{"ORDERGATE_REDIS_MODE=ring"}, "ORDERGATE_REDIS_MODE", "must be single, cluster or sentinel"},
		{"addresses in single mode", []string{"ORDERGATE_REDIS_ADDRS=n1:6379"}, "ORDERGATE_REDIS_ADDRS", "set ORDERGATE_REDIS_MODE=cluster or sentinel"},
		{"master name in single mode", []string{"ORDERGATE_REDIS_MASTER_NAME=m"}, "ORDERGATE_REDIS_MASTER_NAME", "ORDERGATE_REDIS_MODE=single"},
		{"replica reads in single mode", []string{"ORDERGATE_REDIS_READ_FROM_REPLICA=true"}, "ORDERGATE_REDIS_READ_FROM_REPLICA", "no replica"},
		{"cluster without addresses", []string{"ORDERGATE_REDIS_MODE=cluster"}, "ORDERGATE_REDIS_ADDRS", "required with ORDERGATE_REDIS_MODE=cluster"},
		{"cluster address without port", append(cluster[:1:1], "ORDERGATE_REDIS_ADDRS=n1:6379,n2"), "ORDERGATE_REDIS_ADDRS", `address "n2" has no port`},
		{"cluster stray comma", append(cluster[:1:1], "ORDERGATE_REDIS_ADDRS=n1:6379,,n2:6379"), "ORDERGATE_REDIS_ADDRS", "empty entry"},
		{"cluster URL with a host", append(cluster, "ORDERGATE_REDIS_URL=redis://cache:6379/0"), "ORDERGATE_REDIS_URL", "leave the host out"},
		{"cluster database 1", append(cluster, "ORDERGATE_REDIS_URL=redis://:pw@/1"), "ORDERGATE_REDIS_URL", "database 0 only"},
		{"cluster unix socket", append(cluster, "ORDERGATE_REDIS_URL=unix:///run/redis.sock"), "ORDERGATE_REDIS_URL", "unix socket"},
		{"cluster with a master name", append(cluster, "ORDERGATE_REDIS_MASTER_NAME=m"), "ORDERGATE_REDIS_MASTER_NAME", "sentinel mode"},
		{"sentinel without master name", sentinel[:2], "ORDERGATE_REDIS_MASTER_NAME", "required with ORDERGATE_REDIS_MODE=sentinel"},
		{"sentinel user without password", append(sentinel, "ORDERGATE_REDIS_SENTINEL_USERNAME=u"), "ORDERGATE_REDIS_SENTINEL_PASSWORD", "required when"},
		{"sentinel URL with a host", append(sentinel, "ORDERGATE_REDIS_URL=rediss://primary:6379/0"), "ORDERGATE_REDIS_URL", "in sentinel mode the nodes are ORDERGATE_REDIS_ADDRS"},
		{"insecure without TLS", []string{"ORDERGATE_REDIS_TLS_INSECURE_SKIP_VERIFY=true"}, "ORDERGATE_REDIS_TLS_INSECURE_SKIP_VERIFY", "not rediss://"},
		{"negative stale window", []string{"ORDERGATE_CACHE_STALE_FOR=-1s"}, "ORDERGATE_CACHE_STALE_FOR", "must be greater than 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := loadWith(t, tt.env)
			checkError(t, err, tt.errVar, tt.reason)
		})
	}
}

// TestCacheStaleForZeroIsOff: 0s is the default and turns serve-stale off; it is the only
// duration that may be 0.
func TestCacheStaleForZeroIsOff(t *testing.T) {
	for _, v := range []string{"0s", "0"} {
		c, _, err := loadWith(t, []string{"ORDERGATE_CACHE_STALE_FOR=" + v})
		if err != nil || c.CacheStaleFor != 0 {
			t.Errorf("%s: %v, %v", v, c.CacheStaleFor, err)
		}
	}
	_, _, err := loadWith(t, []string{"ORDERGATE_CACHE_TTL=0s"})
	checkError(t, err, "ORDERGATE_CACHE_TTL", "must be greater than 0")
}

// TestRedisURLPasswordStructure (issue 23, item 5): the URL is read by its structure. A
// password holding '#', '/', '?' or '@' unencoded is refused with the fix (percent-encode),
// never read as another host or a fragment, and no error shows any part of the password;
// the same password percent-encoded connects with the password decoded.
func TestRedisURLPasswordStructure(t *testing.T) {
	const secret = "S3cr3tT41l"
	for _, raw := range []string{
		"redis://:" + secret + "#x@cache:6379/0",
		"redis://u:" + secret + "/x@cache:6379/0",
		"redis://u:6379/" + secret + "@cache:6379/0",
		"redis://u:" + secret + "?x@cache:6379/0",
		"redis://u:" + secret + "@x@cache:6379/0",
		"redis://u:" + secret + " x@cache:6379/0",
		"redis://u:" + secret + "%zz@cache:6379/0",
		"redis://u:" + secret + "%@cache:6379/0",
		"rediss://u:" + secret + "#@/0",
		"redis://:#" + secret + "@cache:6379/0", // before: connected to localhost:6379
	} {
		t.Run(raw, func(t *testing.T) {
			_, _, err := loadWith(t, []string{"ORDERGATE_REDIS_URL=" + raw})
			checkError(t, err, "ORDERGATE_REDIS_URL", "percent-encode it")
			for i := 0; i+4 <= len(secret); i++ {
				if strings.Contains(err.Error(), secret[i:i+4]) {
					t.Fatalf("the error shows %q of the password: %v", secret[i:i+4], err)
				}
			}
			if !strings.Contains(err.Error(), ":***@") {
				t.Errorf("the error does not show the URL masked: %v", err)
			}
		})
	}
	for raw, want := range map[string]string{
		"redis://:S3cr%23t@cache:6379/0":            "S3cr#t",
		"redis://u:a%2Fb%3Fc%40d%25e@cache:6379/0":  "a/b?c@d%e",
		"redis://u:a:b!$&'()*+,;=-._~@cache:6379/0": "a:b!$&'()*+,;=-._~",
	} {
		c, _, err := loadWith(t, []string{"ORDERGATE_REDIS_URL=" + raw})
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		opts, err := c.RedisOptions()
		if err != nil || opts.Password != want || opts.Addr != "cache:6379" {
			t.Errorf("%s: password %q addr %q (%v), want %q at cache:6379", raw, opts.Password, opts.Addr, err, want)
		}
	}
	_, _, err := loadWith(t, []string{"ORDERGATE_REDIS_URL=redis://" + secret + "@cache:6379/0"})
	checkError(t, err, "ORDERGATE_REDIS_URL", "without a password")
	if strings.Contains(err.Error(), secret[:4]) {
		t.Errorf("the error shows the user information: %v", err)
	}
}

// TestRedisSkipVerify (issue 23, item 4): skip_verify=true in the URL is refused unless
// ORDERGATE_REDIS_TLS_INSECURE_SKIP_VERIFY=true says so on purpose, which every start warns
// about.
func TestRedisSkipVerify(t *testing.T) {
	for _, v := range []string{"true", "1", "TRUE", "nope"} {
		_, _, err := loadWith(t, []string{"ORDERGATE_REDIS_URL=rediss://:pw@cache:6380/0?skip_verify=" + v})
		checkError(t, err, "ORDERGATE_REDIS_URL", "ORDERGATE_REDIS_TLS_INSECURE_SKIP_VERIFY=true")
	}
	c, warnings, err := loadWith(t, []string{"ORDERGATE_REDIS_URL=rediss://:pw@cache:6380/0?skip_verify=false"})
	if err != nil || len(warnings) != 0 {
		t.Fatalf("skip_verify=false: %v %q", err, warnings)
	}
	if opts, _ := c.RedisOptions(); opts.TLSConfig.InsecureSkipVerify {
		t.Fatal("skip_verify=false skips the check")
	}
	c, warnings, err = loadWith(t, []string{"ORDERGATE_REDIS_URL=rediss://:pw@cache:6380/0", "ORDERGATE_REDIS_TLS_INSECURE_SKIP_VERIFY=true"})
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "ORDERGATE_REDIS_TLS_INSECURE_SKIP_VERIFY=true") || !strings.Contains(warnings[0], "not checked") {
		t.Errorf("warnings %q, want one about the certificate not being checked", warnings)
	}
	opts, err := c.RedisOptions()
	if err != nil || !opts.TLSConfig.InsecureSkipVerify {
		t.Fatalf("RedisOptions: %+v, %v", opts.TLSConfig, err)
	}
	uo, err := c.RedisUniversalOptions()
	if err != nil || !uo.TLSConfig.InsecureSkipVerify {
		t.Fatalf("RedisUniversalOptions: %+v, %v", uo.TLSConfig, err)
	}
}

// TestMaskURL: the password is masked by structure, whatever it holds.
func TestMaskURLRedis(t *testing.T) {
	for raw, want := range map[string]string{
		"redis://localhost:6379/0":                   "redis://localhost:6379/0",
		"redis://u:pw@cache:6379/0":                  "redis://u:***@cache:6379/0",
		"rediss://:pw@cache/1":                       "rediss://:***@cache/1",
		"redis://u:6379/SECRETTAIL2@cache:6379/0":    "redis://u:***@cache:6379/0",
		"redis://u:pa#ss@cache:6379/0":               "redis://u:***@cache:6379/0",
		"redis://u:p@ss@cache:6379/0":                "redis://u:***@cache:6379/0",
		"redis://onlysecret@cache:6379/0":            "redis://***@cache:6379/0",
		"redis://u:canary@host/0?client_name=canary": "redis://u:***@host/0?client_name=***",
		"not a url": "not a url",
	} {
		if got := MaskURL(raw); got != want {
			t.Errorf("MaskURL(%q) = %q, want %q", raw, got, want)
		}
	}
}
