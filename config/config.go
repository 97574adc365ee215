// Package config reads, validates and prints the worker's configuration:
// environment variables with the prefix ORDERGATE_ (contract, section 7).
//
// The Config struct is the single source of truth: its envconfig tags give
// each variable's full name, its default tags the defaults (stated nowhere
// else: not in comments, not in desc tags; the packages' Default constants
// are checked against them), and its desc tags the reference printed by
// WriteReference and checked against docs/configuration.md. Load reads the environment with
// github.com/kelseyhightower/envconfig. A bad value stops start-up with one
// line naming the variable; secrets never appear in an error, a warning or
// the printed configuration.
package config

import (
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Config is the worker's configuration. Fields are in the contract's order,
// which is also the order of Write and WriteReference.
//
// Every field is read from the variable its envconfig tag names in full
// (ORDERGATE_ included, upper case); the default tag applies when the
// variable is unset. A variable set to the empty string is set: it does not
// fall back to the default.
type Config struct {
	// KafkaBrokers are the bootstrap brokers, each host:port; comma-separated
	// in the environment.
	KafkaBrokers []string `envconfig:"ORDERGATE_KAFKA_BROKERS" default:"localhost:9092" desc:"bootstrap brokers, comma-separated host:port list"`
	// KafkaGroupID is the consumer group.
	KafkaGroupID string `envconfig:"ORDERGATE_KAFKA_GROUP_ID" default:"ordergate" desc:"consumer group id; a new group starts at the earliest offset"`

	// TopicRequests is the input topic.
	TopicRequests string `envconfig:"ORDERGATE_TOPIC_REQUESTS" default:"orders.requests" desc:"input topic: one request per record"`
	// TopicAccepted receives order.accepted events.
	TopicAccepted string `envconfig:"ORDERGATE_TOPIC_ACCEPTED" default:"orders.accepted" desc:"output topic of order.accepted events"`
	// TopicRejected receives order.rejected events.
	TopicRejected string `envconfig:"ORDERGATE_TOPIC_REJECTED" default:"orders.rejected" desc:"output topic of order.rejected events"`
	// TopicDLQ receives the input records whose event the broker refused for
	// good.
	TopicDLQ string `envconfig:"ORDERGATE_TOPIC_DLQ" default:"orders.dlq" desc:"dead-letter topic: inputs whose event the broker refused for good"`

	// RedisURL locates the service-point cache: redis://[user:password@]host:port/db,
	// rediss:// for TLS. Secret: it may hold a password; use RedisOptions to
	// connect.
	RedisURL Secret `envconfig:"ORDERGATE_REDIS_URL" default:"redis://localhost:6379/0" mask:"url" desc:"Redis URL (cache): redis://[user:password@]host:port/db, rediss:// for TLS; password masked"`
	// RedisMode is single, cluster or sentinel (lower case once loaded): one
	// server (RedisURL), a Redis Cluster or a primary managed by Sentinel (the
	// nodes of RedisAddrs; RedisURL then gives only the scheme, the user, the
	// password, the database and the options).
	RedisMode string `envconfig:"ORDERGATE_REDIS_MODE" default:"single" desc:"single, cluster or sentinel: one Redis (REDIS_URL), a Redis Cluster or a Sentinel-managed primary (REDIS_ADDRS)"`
	// RedisAddrs are the cluster's seed nodes or the sentinels, each
	// host:port; required in the cluster and sentinel modes, refused in the
	// single mode.
	RedisAddrs []string `envconfig:"ORDERGATE_REDIS_ADDRS" desc:"cluster seed nodes or sentinels, comma-separated host:port list (cluster and sentinel modes)"`
	// RedisMasterName is the name the sentinels monitor the primary under;
	// required in the sentinel mode only.
	RedisMasterName string `envconfig:"ORDERGATE_REDIS_MASTER_NAME" desc:"name of the primary the sentinels monitor (sentinel mode)"`
	// RedisSentinelUsername is the ACL user of the sentinels, if they have one.
	RedisSentinelUsername string `envconfig:"ORDERGATE_REDIS_SENTINEL_USERNAME" desc:"ACL user of the sentinels, with SENTINEL_PASSWORD (sentinel mode)"`
	// RedisSentinelPassword is the sentinels' password (their requirepass, or
	// the password of RedisSentinelUsername). Secret.
	RedisSentinelPassword Secret `envconfig:"ORDERGATE_REDIS_SENTINEL_PASSWORD" desc:"password of the sentinels (sentinel mode); secret"`
	// RedisReadFromReplica reads the cache from replicas (the writes still go
	// to the primaries); cluster and sentinel modes only.
	RedisReadFromReplica bool `envconfig:"ORDERGATE_REDIS_READ_FROM_REPLICA" default:"false" desc:"true or false: read the cache from replicas, write to primaries (cluster and sentinel modes)"`
	// RedisTLSInsecureSkipVerify accepts any certificate from Redis (rediss://
	// only); a warning says so at every start.
	RedisTLSInsecureSkipVerify bool `envconfig:"ORDERGATE_REDIS_TLS_INSECURE_SKIP_VERIFY" default:"false" desc:"true or false: accept any certificate from Redis (insecure: warned at every start)"`

	// InventoryURL is the base URL of the service-point inventory
	// (GET {InventoryURL}/servicePoints?...), http or https, without a
	// trailing slash once loaded. Unset: see InventoryFile.
	InventoryURL string `envconfig:"ORDERGATE_INVENTORY_URL" mask:"url" desc:"base URL of the service-point inventory (http or https); exclusive with INVENTORY_FILE"`
	// InventoryToken is sent as "Authorization: Bearer ..." to the
	// inventory; unset, no header. Secret.
	InventoryToken Secret `envconfig:"ORDERGATE_INVENTORY_TOKEN" desc:"bearer token sent to the inventory; secret"`
	// InventoryFile is a JSON array of service points used instead of the
	// inventory service.
	InventoryFile string `envconfig:"ORDERGATE_INVENTORY_FILE" desc:"JSON file of service points used instead of INVENTORY_URL"`

	// CacheTTL is how long Redis keeps a found service point; > 0.
	CacheTTL time.Duration `envconfig:"ORDERGATE_CACHE_TTL" default:"10m" desc:"duration: how long Redis keeps a lookup that found service points"`
	// CacheNegativeTTL is how long Redis keeps a lookup that found nothing;
	// > 0 (may exceed CacheTTL).
	CacheNegativeTTL time.Duration `envconfig:"ORDERGATE_CACHE_NEGATIVE_TTL" default:"30s" desc:"duration: how long Redis keeps a lookup that found nothing"`
	// CacheStaleFor is how long past its TTL a cached service point may still
	// answer a lookup while the inventory fails (the event then says
	// servicePointStale); 0 turns it off. Never for a lookup that found
	// nothing.
	CacheStaleFor time.Duration `envconfig:"ORDERGATE_CACHE_STALE_FOR" default:"0s" desc:"duration: while the inventory fails, serve a cached service point this long past its TTL (servicePointStale in the event); 0s: off"`

	// ClientsFile is the JSON file of clients and their secret digests; unset,
	// only the account request needs credentials.
	ClientsFile string `envconfig:"ORDERGATE_CLIENTS_FILE" desc:"JSON file of clients; unset: only the account request needs credentials"`

	// HTTPAddr is the listen address of /metrics, /healthz and /readyz,
	// host:port.
	HTTPAddr string `envconfig:"ORDERGATE_HTTP_ADDR" default:":8080" desc:"host:port of /metrics, /healthz and /readyz"`
	// MaxMessageBytes is the largest request value decided; larger ones are
	// rejected (413/66). In bytes, 1 to 104857600 (100 MiB).
	MaxMessageBytes int `envconfig:"ORDERGATE_MAX_MESSAGE_BYTES" default:"524288" desc:"bytes: largest request value accepted, 1 to 104857600"`
	// RedisKeyPrefix starts every Redis key; may be empty.
	RedisKeyPrefix string `envconfig:"ORDERGATE_REDIS_KEY_PREFIX" default:"ordergate:" desc:"prefix of every Redis key"`

	// LogLevel is debug, info, warn or error (lower case once loaded).
	LogLevel string `envconfig:"ORDERGATE_LOG_LEVEL" default:"info" desc:"debug, info, warn or error"`
	// LogFormat is json or text (lower case once loaded).
	LogFormat string `envconfig:"ORDERGATE_LOG_FORMAT" default:"json" desc:"json or text"`

	// ShutdownTimeout bounds the graceful stop after SIGINT or SIGTERM; > 0.
	ShutdownTimeout time.Duration `envconfig:"ORDERGATE_SHUTDOWN_TIMEOUT" default:"20s" desc:"duration: bound on the graceful stop after SIGINT or SIGTERM"`

	// KafkaSASLMechanism is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (upper
	// case once loaded); unset, no SASL.
	KafkaSASLMechanism string `envconfig:"ORDERGATE_KAFKA_SASL_MECHANISM" desc:"PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; unset: no SASL"`
	// KafkaSASLUsername is the SASL user; required with a mechanism.
	KafkaSASLUsername string `envconfig:"ORDERGATE_KAFKA_SASL_USERNAME" desc:"SASL user name; required with a mechanism"`
	// KafkaSASLPassword is the SASL password; required with a mechanism.
	// Secret.
	KafkaSASLPassword Secret `envconfig:"ORDERGATE_KAFKA_SASL_PASSWORD" desc:"SASL password; required with a mechanism; secret"`

	// KafkaTLSEnabled connects to the brokers with TLS (1.2 or later).
	KafkaTLSEnabled bool `envconfig:"ORDERGATE_KAFKA_TLS_ENABLED" default:"false" desc:"true or false: connect to the brokers with TLS"`
	// KafkaTLSCAFile is a PEM bundle of the CAs trusted for the brokers;
	// unset, the system roots.
	KafkaTLSCAFile string `envconfig:"ORDERGATE_KAFKA_TLS_CA_FILE" desc:"PEM file of the CAs that sign the brokers; unset: system roots"`
	// KafkaTLSCertFile is the PEM client certificate, with KafkaTLSKeyFile;
	// unset, no client certificate.
	KafkaTLSCertFile string `envconfig:"ORDERGATE_KAFKA_TLS_CERT_FILE" desc:"PEM client certificate, with KAFKA_TLS_KEY_FILE; unset: none"`
	// KafkaTLSKeyFile is the PEM private key of KafkaTLSCertFile.
	KafkaTLSKeyFile string `envconfig:"ORDERGATE_KAFKA_TLS_KEY_FILE" desc:"PEM private key of the client certificate"`
	// KafkaCompression is the codec of the batches the worker writes (events
	// and dead letters): none, gzip, snappy, lz4 or zstd (lower case once
	// loaded). See KafkaCompressionCodec.
	KafkaCompression string `envconfig:"ORDERGATE_KAFKA_COMPRESSION" default:"none" desc:"none, gzip, snappy, lz4 or zstd: compression of the events and dead letters written"`

	// RedisTimeout bounds each Redis call (dial, read, write); > 0.
	RedisTimeout time.Duration `envconfig:"ORDERGATE_REDIS_TIMEOUT" default:"500ms" desc:"duration: bound on each Redis call (dial, read, write)"`
	// InventoryTimeout bounds each inventory HTTP call; > 0.
	InventoryTimeout time.Duration `envconfig:"ORDERGATE_INVENTORY_TIMEOUT" default:"2s" desc:"duration: bound on each inventory HTTP call"`
	// InventoryConcurrency is the most inventory calls in flight at once;
	// >= 1.
	InventoryConcurrency int `envconfig:"ORDERGATE_INVENTORY_CONCURRENCY" default:"16" desc:"count: inventory calls in flight at most, >= 1"`

	// BatchMaxRecords is the most records decided as one batch; 1 to 100000.
	BatchMaxRecords int `envconfig:"ORDERGATE_BATCH_MAX_RECORDS" default:"1000" desc:"count: records per batch at most, 1 to 100000"`
	// BatchMaxWait is how long a batch waits to fill before it is decided, while
	// the batch before it is in flight (with nothing in flight, at most
	// consumer.DefaultIdleBatchWait); > 0.
	BatchMaxWait time.Duration `envconfig:"ORDERGATE_BATCH_MAX_WAIT" default:"2ms" desc:"duration: how long a batch waits to fill"`
	// RetryMaxBackoff caps the backoff between retries; retries never stop.
	// > 0.
	RetryMaxBackoff time.Duration `envconfig:"ORDERGATE_RETRY_MAX_BACKOFF" default:"30s" desc:"duration: cap of the backoff between retries (retries never stop)"`
	// StuckAfter is how long a partition may stay in retries before /readyz
	// fails; > 0.
	StuckAfter time.Duration `envconfig:"ORDERGATE_STUCK_AFTER" default:"60s" desc:"duration: a partition in retries this long makes /readyz fail"`

	// MemoryLimit is the memory the worker may use, at least 32MiB; unset, the
	// container's cgroup limit applies (see EffectiveMemoryLimit). `run` gives
	// MemoryLimitFraction of it, less UntrackedMemory, to the Go runtime as its soft limit.
	MemoryLimit ByteSize `envconfig:"ORDERGATE_MEMORY_LIMIT" desc:"bytes or 512MiB, 1GiB, 2Gi: memory the worker may use; unset: the cgroup's limit, if any"`
}

// SlogLevel returns LogLevel as a slog.Level (info for an unknown value,
// which Load never returns).
func (c Config) SlogLevel() slog.Level {
	switch c.LogLevel {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// Secret is a string that never prints: fmt, slog and encoders show "***"
// (or "" when it is empty). Convert it with string(s) where the value is
// really needed, e.g. to build an Authorization header.
type Secret string

// String returns "***", or "" when s is empty.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "***"
}

// Format prints s masked whatever the verb, so %v, %+v, %#v, %q or %x on a
// Config cannot leak it.
func (s Secret) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

// LogValue masks s in log/slog records.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText masks s in encoding/json and other text encoders.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Error is a configuration error: one variable, its value as given (masked
// when secret) and what is wrong. Its message is one line:
//
//	ORDERGATE_CACHE_TTL="10 minutes": not a duration (e.g. 10m, 30s)
type Error struct {
	Name   string // full variable name, e.g. ORDERGATE_CACHE_TTL
	Value  string // the value as given, masked when secret
	Reason string // what is wrong, one line
}

// Error returns the one-line message NAME="value": reason.
func (e *Error) Error() string {
	return fmt.Sprintf("%s=%q: %s", e.Name, e.Value, e.Reason)
}
