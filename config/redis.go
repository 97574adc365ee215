package config

import (
	"crypto/tls"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// The modes of ORDERGATE_REDIS_MODE.
const (
	// RedisSingle is one Redis server, named by ORDERGATE_REDIS_URL.
	RedisSingle = "single"
	// RedisCluster is a Redis Cluster whose seed nodes are ORDERGATE_REDIS_ADDRS.
	RedisCluster = "cluster"
	// RedisSentinel is a primary managed by the sentinels of ORDERGATE_REDIS_ADDRS.
	RedisSentinel = "sentinel"
)

// defaultRedisHost is the host of ORDERGATE_REDIS_URL's default, tolerated in the cluster
// and sentinel modes, where the URL names no node.
const defaultRedisHost = "localhost:6379"

// The reasons of a refused Redis URL that concern its user information. They never say
// which character is at fault, since it may belong to the password.
const (
	reasonUserinfoChars = "the user or password holds a character that must be percent-encoded " +
		"('/', '?', '#', '@', '%', a space...): percent-encode it (e.g. '/' as %2F, '?' as %3F, " +
		"'#' as %23, '@' as %40, '%' as %25)"
	reasonUserOnly = "names a user without a password (redis://USER@host): write redis://:PASSWORD@host " +
		"for a password alone, or redis://USER:PASSWORD@host for an ACL user"
)

// RedisOptions returns the client options of ORDERGATE_REDIS_URL for one node: TLS 1.2
// or later for rediss://, ORDERGATE_REDIS_TIMEOUT on dial, read and write, and
// ContextTimeoutEnabled so that a caller's deadline bounds a call to a hung server. It
// ignores ORDERGATE_REDIS_MODE: see RedisUniversalOptions.
func (c Config) RedisOptions() (*redis.Options, error) {
	u, err := parseRedisURL(string(c.RedisURL), RedisSingle)
	if err != nil {
		return nil, err
	}
	opts, err := u.options()
	if err != nil {
		return nil, redisURLError(string(c.RedisURL), err.Error())
	}
	opts.ContextTimeoutEnabled = true
	opts.DialTimeout = c.RedisTimeout
	opts.ReadTimeout = c.RedisTimeout
	opts.WriteTimeout = c.RedisTimeout
	if c.RedisTLSInsecureSkipVerify && opts.TLSConfig != nil {
		opts.TLSConfig.InsecureSkipVerify = true
	}
	return opts, nil
}

// RedisUniversalOptions returns the options of the Redis client of ORDERGATE_REDIS_MODE,
// for redis.NewUniversalClient:
//
//   - single: the node of ORDERGATE_REDIS_URL (Addrs has one entry);
//   - cluster: IsClusterMode, the seed nodes of ORDERGATE_REDIS_ADDRS;
//   - sentinel: MasterName, the sentinels of ORDERGATE_REDIS_ADDRS with their own
//     credentials (ORDERGATE_REDIS_SENTINEL_USERNAME and _PASSWORD).
//
// In every mode the user, password, TLS (rediss://) and options of ORDERGATE_REDIS_URL
// apply to every data node, and ReadOnly is ORDERGATE_REDIS_READ_FROM_REPLICA. With
// ReadOnly in the sentinel mode IsClusterMode is set too, so that go-redis reads from the
// replicas and still writes to the primary (its plain failover client would send the
// writes to a replica as well). In the cluster and sentinel modes TLS has no ServerName:
// the TLS dialer checks each node's certificate against the host it dials.
func (c Config) RedisUniversalOptions() (*redis.UniversalOptions, error) {
	mode := c.RedisMode
	if mode == "" {
		mode = RedisSingle
	}
	u, err := parseRedisURL(string(c.RedisURL), mode)
	if err != nil {
		return nil, err
	}
	o, err := u.options()
	if err != nil {
		return nil, redisURLError(string(c.RedisURL), err.Error())
	}
	uo := &redis.UniversalOptions{
		Addrs:    []string{o.Addr},
		DB:       o.DB,
		Username: o.Username, Password: o.Password,
		Protocol: o.Protocol, ClientName: o.ClientName,
		MaxRetries: o.MaxRetries, MinRetryBackoff: o.MinRetryBackoff, MaxRetryBackoff: o.MaxRetryBackoff,
		DialTimeout: c.RedisTimeout, ReadTimeout: c.RedisTimeout, WriteTimeout: c.RedisTimeout,
		ContextTimeoutEnabled: true,
		PoolFIFO:              o.PoolFIFO, PoolSize: o.PoolSize, PoolTimeout: o.PoolTimeout,
		MinIdleConns: o.MinIdleConns, MaxIdleConns: o.MaxIdleConns, MaxActiveConns: o.MaxActiveConns,
		ConnMaxIdleTime: o.ConnMaxIdleTime, ConnMaxLifetime: o.ConnMaxLifetime,
		TLSConfig: o.TLSConfig,
		ReadOnly:  c.RedisReadFromReplica,
	}
	if uo.TLSConfig != nil && c.RedisTLSInsecureSkipVerify {
		uo.TLSConfig.InsecureSkipVerify = true
	}
	switch mode {
	case RedisCluster:
		uo.Addrs = append([]string(nil), c.RedisAddrs...)
		uo.IsClusterMode = true
	case RedisSentinel:
		uo.Addrs = append([]string(nil), c.RedisAddrs...)
		uo.MasterName = c.RedisMasterName
		uo.SentinelUsername = c.RedisSentinelUsername
		uo.SentinelPassword = string(c.RedisSentinelPassword)
		uo.IsClusterMode = c.RedisReadFromReplica
	}
	if mode != RedisSingle && uo.TLSConfig != nil {
		uo.TLSConfig.ServerName = ""
	}
	return uo, nil
}

// redisURL is ORDERGATE_REDIS_URL read by its structure.
type redisURL struct {
	scheme         string // redis, rediss or unix
	user, password string // decoded
	host           string // host:port (with the default port); "" when the URL has none
	path           string // /db for redis and rediss, the socket for unix
	query          url.Values
	rawQuery       string
}

// parseRedisURL reads raw by its structure, scheme://[user:password@]host[:port][/db][?options],
// and refuses what the worker could only misread: a '#' or another reserved character left
// unencoded in the user information (the URL would otherwise end, or its host begin, inside
// the password), a user without a password, a timeout option (ORDERGATE_REDIS_TIMEOUT sets
// them), skip_verify=true (see ORDERGATE_REDIS_TLS_INSECURE_SKIP_VERIFY), and, in the
// cluster and sentinel modes, a host (ORDERGATE_REDIS_ADDRS names the nodes), a unix
// socket, and for a cluster a database other than 0. Its error names ORDERGATE_REDIS_URL,
// shows the URL masked by MaskURL and never quotes any part of the password.
func parseRedisURL(raw, mode string) (redisURL, error) {
	var u redisURL
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return u, redisURLError(raw, "not a Redis URL (redis://[user:password@]host:port/db or rediss://...)")
	}
	u.scheme = strings.ToLower(scheme)
	switch u.scheme {
	case "redis", "rediss", "unix":
	default:
		return u, redisURLError(raw, "invalid URL scheme: "+scheme+" (redis, rediss or unix)")
	}
	// The authority ends at the first '/', '?' or '#'. An '@' after that point can only be
	// the end of user information that holds one of those characters unencoded.
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	if strings.Contains(tail, "@") {
		return u, redisURLError(raw, reasonUserinfoChars)
	}
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		userinfo := authority[:at]
		authority = authority[at+1:]
		user, password, hasPassword := strings.Cut(userinfo, ":")
		if !hasPassword {
			return u, redisURLError(raw, reasonUserOnly)
		}
		var okUser, okPassword bool
		u.user, okUser = decodeUserinfo(user, false)
		u.password, okPassword = decodeUserinfo(password, true)
		if !okUser || !okPassword {
			return u, redisURLError(raw, reasonUserinfoChars)
		}
	}
	if strings.Contains(tail, "#") {
		return u, redisURLError(raw, "has a fragment ('#...'), which is not part of a Redis URL: remove it")
	}
	pathPart, rawQuery, _ := strings.Cut(tail, "?")
	u.path, u.rawQuery = pathPart, rawQuery
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return u, redisURLError(raw, "invalid query: "+err.Error())
	}
	u.query = query
	for _, timeout := range []string{"dial_timeout", "read_timeout", "write_timeout"} {
		if query.Has(timeout) {
			return u, redisURLError(raw, "sets "+timeout+": use ORDERGATE_REDIS_TIMEOUT instead")
		}
	}
	if v := query.Get("skip_verify"); query.Has("skip_verify") {
		if skip, err := strconv.ParseBool(v); err != nil || skip {
			return u, redisURLError(raw, "sets skip_verify, which turns the check of the server's certificate off: "+
				"remove it, or set ORDERGATE_REDIS_TLS_INSECURE_SKIP_VERIFY=true to accept any certificate on purpose (warned at every start)")
		}
	}
	if u.scheme == "unix" {
		if authority != "" {
			return u, redisURLError(raw, "a unix:// URL names a socket path, not a host: unix:///path/to/redis.sock?db=0")
		}
		if mode != RedisSingle {
			return u, redisURLError(raw, "a unix socket reaches one server: use redis:// or rediss:// with ORDERGATE_REDIS_MODE="+mode)
		}
		return u, nil
	}
	if authority != "" {
		host, reason := redisHost(authority)
		if reason != "" {
			return u, redisURLError(raw, "not a Redis URL (redis://[user:password@]host:port/db or rediss://...): "+reason)
		}
		u.host = host
	}
	if mode != RedisSingle && u.host != "" && u.host != defaultRedisHost {
		return u, redisURLError(raw, "names the host "+u.host+", but in "+mode+" mode the nodes are ORDERGATE_REDIS_ADDRS: "+
			"leave the host out, e.g. "+u.scheme+"://user:password@/0")
	}
	db, reason := redisDB(u.path)
	if reason != "" {
		return u, redisURLError(raw, reason)
	}
	if mode == RedisCluster && (db != 0 || query.Has("db") && query.Get("db") != "0") {
		return u, redisURLError(raw, "names a database other than 0: a Redis Cluster has database 0 only")
	}
	return u, nil
}

// options returns the go-redis options of u. go-redis reads the scheme, the host, the
// database and the query options from the URL without its user information, so that no
// message of go-redis can quote the password; the user and password are set after.
func (u redisURL) options() (*redis.Options, error) {
	host := u.host
	if host == "" {
		host = defaultRedisHost
	}
	s := u.scheme + "://" + host + u.path
	if u.scheme == "unix" {
		s = "unix://" + u.path
	}
	if u.rawQuery != "" {
		s += "?" + u.rawQuery
	}
	opts, err := redis.ParseURL(s)
	if err != nil {
		return nil, err
	}
	opts.Username, opts.Password = u.user, u.password
	if opts.TLSConfig != nil {
		opts.TLSConfig.MinVersion = max(opts.TLSConfig.MinVersion, tls.VersionTLS12)
	}
	return opts, nil
}

// redisHost returns the authority of a URL as host:port, with the default port 6379 when it
// has none, or what is wrong with it.
func redisHost(authority string) (string, string) {
	h, port, err := net.SplitHostPort(authority)
	if err != nil {
		switch {
		case strings.HasPrefix(authority, "[") && strings.HasSuffix(authority, "]"):
			return authority + ":6379", ""
		case !strings.Contains(authority, ":"):
			return net.JoinHostPort(authority, "6379"), ""
		}
		return "", "invalid port " + strconv.Quote(authority[strings.LastIndexByte(authority, ':'):]) + " after host"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", "invalid port " + strconv.Quote(":"+port) + " after host"
	}
	if h == "" {
		return "", "no host before the port"
	}
	return authority, ""
}

// redisDB reads the database of a path: "" or "/" is 0, "/N" is N.
func redisDB(path string) (int, string) {
	p := strings.Trim(path, "/")
	if p == "" {
		return 0, ""
	}
	if strings.Contains(p, "/") {
		return 0, "invalid URL path " + strconv.Quote(path) + ": only /db"
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 0 {
		return 0, "invalid database number: " + strconv.Quote(p)
	}
	return n, ""
}

// decodeUserinfo percent-decodes a user name or a password, refusing the characters RFC
// 3986 does not allow unencoded in user information (and ':' in a user name) and a bad
// escape.
func decodeUserinfo(s string, password bool) (string, bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-._~!$&'()*+,;=", c) >= 0:
		case c == ':' && password:
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return "", false
			}
			i += 2
		default:
			return "", false
		}
	}
	decoded, err := url.PathUnescape(s)
	return decoded, err == nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// redisURLError is an *Error about ORDERGATE_REDIS_URL, its value masked by MaskURL
// and its reason scrubbed of any copy of the password (a reason may quote a path or an
// option that repeats it).
func redisURLError(raw, reason string) *Error {
	return &Error{Name: "ORDERGATE_REDIS_URL", Value: MaskURL(raw), Reason: oneLine(scrub(strings.TrimPrefix(reason, "redis: "), raw))}
}

// checkRedisSettings validates the Redis variables together: the mode, the URL read for
// that mode, the nodes, and the settings that belong to one mode only. It normalizes the
// mode (lower case) and the addresses (spaces trimmed).
func checkRedisSettings(c *Config) error {
	const (
		modeName   = "ORDERGATE_REDIS_MODE"
		addrsName  = "ORDERGATE_REDIS_ADDRS"
		masterName = "ORDERGATE_REDIS_MASTER_NAME"
		sUserName  = "ORDERGATE_REDIS_SENTINEL_USERNAME"
		sPassName  = "ORDERGATE_REDIS_SENTINEL_PASSWORD"
		replica    = "ORDERGATE_REDIS_READ_FROM_REPLICA"
	)
	mode := strings.ToLower(strings.TrimSpace(c.RedisMode))
	switch mode {
	case RedisSingle, RedisCluster, RedisSentinel:
		c.RedisMode = mode
	default:
		return errorf(modeName, c.RedisMode, "must be single, cluster or sentinel")
	}
	u, err := parseRedisURL(string(c.RedisURL), mode)
	if err != nil {
		return err
	}
	if _, err := u.options(); err != nil {
		return redisURLError(string(c.RedisURL), err.Error())
	}
	raw := strings.Join(c.RedisAddrs, ",")
	if len(c.RedisAddrs) == 0 {
		c.RedisAddrs = nil // "ORDERGATE_REDIS_ADDRS=" is unset, as the output of Write says
	}
	if mode == RedisSingle {
		for _, v := range []struct{ name, value string }{
			{addrsName, raw}, {masterName, c.RedisMasterName},
			{sUserName, c.RedisSentinelUsername}, {sPassName, string(c.RedisSentinelPassword)},
		} {
			if v.value != "" {
				return errorf(v.name, v.value, "set with ORDERGATE_REDIS_MODE=single, which uses ORDERGATE_REDIS_URL alone: set ORDERGATE_REDIS_MODE=cluster or sentinel, or unset it")
			}
		}
		if c.RedisReadFromReplica {
			return errorf(replica, "true", "a single Redis has no replica to read from (ORDERGATE_REDIS_MODE=single)")
		}
	} else {
		if len(c.RedisAddrs) == 0 {
			return errorf(addrsName, "", "required with ORDERGATE_REDIS_MODE="+mode+": the "+nodesOf(mode)+", comma-separated host:port")
		}
		if err := checkAddrList(addrsName, c.RedisAddrs, "address", "redis-1:6379"); err != nil {
			return err
		}
	}
	switch mode {
	case RedisCluster:
		for _, v := range []struct{ name, value string }{
			{masterName, c.RedisMasterName}, {sUserName, c.RedisSentinelUsername}, {sPassName, string(c.RedisSentinelPassword)},
		} {
			if v.value != "" {
				return errorf(v.name, v.value, "set with ORDERGATE_REDIS_MODE=cluster: it belongs to the sentinel mode")
			}
		}
	case RedisSentinel:
		if strings.TrimSpace(c.RedisMasterName) == "" {
			return errorf(masterName, c.RedisMasterName, "required with ORDERGATE_REDIS_MODE=sentinel: the name the sentinels monitor the primary under")
		}
		if c.RedisSentinelUsername != "" && c.RedisSentinelPassword == "" {
			return errorf(sPassName, "", "required when "+sUserName+" is set")
		}
	}
	if c.RedisTLSInsecureSkipVerify && u.scheme != "rediss" {
		return errorf("ORDERGATE_REDIS_TLS_INSECURE_SKIP_VERIFY", "true", "set without TLS: ORDERGATE_REDIS_URL is not rediss://")
	}
	return nil
}

// nodesOf names what ORDERGATE_REDIS_ADDRS lists in a mode.
func nodesOf(mode string) string {
	if mode == RedisSentinel {
		return "sentinels"
	}
	return "cluster's seed nodes"
}
