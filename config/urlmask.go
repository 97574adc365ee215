package config

import (
	"net/url"
	"slices"
	"strings"
)

// mask replaces a secret in printed text.
const mask = "***"

// harmlessQueryOptions are the query parameters of the URLs ordergate reads (go-redis's
// options) whose values are shown; every other parameter's value is masked, since a query
// can carry a token (?token=..., ?access_token=..., ?sentinel_password=...).
var harmlessQueryOptions = []string{
	"db", "protocol", "client_name", "max_retries", "min_retry_backoff", "max_retry_backoff",
	"dial_timeout", "read_timeout", "write_timeout", "pool_fifo", "pool_size", "pool_timeout",
	"min_idle_conns", "max_idle_conns", "max_active_conns", "max_concurrent_dials",
	"pipeline_pool_size", "pipeline_read_buffer_size", "pipeline_write_buffer_size",
	"conn_max_idle_time", "idle_timeout", "conn_max_lifetime", "max_conn_age",
	"conn_max_lifetime_jitter", "skip_verify", "addr", "master_name", "route_by_latency",
	"route_randomly", "readonly",
}

// urlParts is a URL cut by its structure, the way that hides the most: the user
// information is everything between "scheme://" and the last "@", whatever it holds, so
// that a password with an unencoded '/', '?', '#' or '@' (which a URL parser reads as the
// end of the authority) is still seen whole.
type urlParts struct {
	head     string // "scheme://", or "" for text without a scheme
	user     string // the user name, shown
	password string // "" when there is none
	hasColon bool   // the user information has a ':' (user:password, or user: alone)
	hasUser  bool   // an '@' separates user information from the host
	host     string // host[:port] and path: from after the '@' to the query
	query    string // after the first '?' of the rest, without it; "" when none
	hasQuery bool
	fragment string // after the first '#' of the rest, without it
	hasFrag  bool
}

func cutURL(raw string) urlParts {
	var p urlParts
	rest := raw
	if i := strings.Index(raw, "://"); i >= 0 {
		p.head, rest = raw[:i+3], raw[i+3:]
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		p.hasUser = true
		p.user, p.password, p.hasColon = strings.Cut(rest[:at], ":")
		if !p.hasColon { // a password written without its colon, maybe: hidden whole
			p.user, p.password = "", p.user
		}
		rest = rest[at+1:]
	}
	rest, p.fragment, p.hasFrag = strings.Cut(rest, "#")
	p.host, p.query, p.hasQuery = strings.Cut(rest, "?")
	return p
}

// MaskURL returns raw with the secrets a URL can hold replaced by ***: the password of its
// user information (the user name is kept; user information without a ':' is hidden whole,
// since it may be a password written without its colon), any copy of the password, the
// value of every query parameter that is not a known harmless option, and the fragment. It cuts raw by its structure (see urlParts)
// and never fails, so that it also masks text that does not parse as a URL, such as the
// value an error reports.
//
//	redis://app:s3cret@cache:6379/0          -> redis://app:***@cache:6379/0
//	redis://u:6379/TAIL@cache:6379/0         -> redis://u:***@cache:6379/0
//	https://inventory.example/api?token=abc  -> https://inventory.example/api?token=***
func MaskURL(raw string) string {
	p := cutURL(raw)
	var b strings.Builder
	b.WriteString(p.head)
	// A copy of the password elsewhere (a client_name set to it) is masked too.
	var copies []string
	if p.password != "" {
		copies = []string{p.password}
	}
	if p.hasUser {
		switch {
		case !p.hasColon:
			b.WriteString(mask)
		case p.password != "":
			b.WriteString(p.user + ":" + mask)
		default:
			b.WriteString(p.user + ":")
		}
		b.WriteString("@")
	}
	b.WriteString(scrubAll(p.host, copies))
	if p.hasQuery {
		b.WriteString("?")
		for i, kv := range strings.Split(p.query, "&") {
			if i > 0 {
				b.WriteString("&")
			}
			name, _, hasValue := strings.Cut(kv, "=")
			b.WriteString(name)
			if hasValue {
				b.WriteString("=")
				if slices.Contains(harmlessQueryOptions, name) {
					b.WriteString(scrubAll(kv[len(name)+1:], copies))
				} else {
					b.WriteString(mask)
				}
			}
		}
	}
	if p.hasFrag {
		b.WriteString("#" + mask)
	}
	return b.String()
}

// urlSecrets returns the texts of raw that MaskURL hides, longest first, so that a message
// about raw (a library's error, which may quote a piece of it as a host, a path or a
// database number) can be scrubbed of them: the password, as written and percent-decoded,
// and each piece of it between the characters a URL parser cuts at; the masked query
// values; the fragment. Pieces shorter than 3 bytes are left out: they would mask half of
// every message and say next to nothing.
func urlSecrets(raw string) []string {
	p := cutURL(raw)
	var out []string
	add := func(s string) {
		for _, v := range []string{s, unescape(s)} {
			if len(v) >= 3 && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	if p.password != "" {
		add(p.password)
		for _, piece := range strings.FieldsFunc(p.password, func(r rune) bool { return strings.ContainsRune("/?#@:&=;", r) }) {
			add(piece)
		}
	}
	if p.hasQuery {
		for _, kv := range strings.Split(p.query, "&") {
			if name, value, ok := strings.Cut(kv, "="); ok && !slices.Contains(harmlessQueryOptions, name) {
				add(value)
			}
		}
	}
	if p.hasFrag {
		add(p.fragment)
	}
	slices.SortStableFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// unescape percent-decodes s, or returns it as it is when it holds a bad escape.
func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// scrubAll replaces every occurrence of each secret in text with ***.
func scrubAll(text string, secrets []string) string {
	for _, s := range secrets {
		if s != "" {
			text = strings.ReplaceAll(text, s, mask)
		}
	}
	return text
}

// scrub replaces in s every secret of the URL raw (urlSecrets) with ***: the message of an
// error about raw may quote a piece of it.
func scrub(s, raw string) string { return scrubAll(s, urlSecrets(raw)) }
