// Package worker assembles ordergate from its configuration: the Kafka clients, the Redis
// cache and inventory, the processor, the publisher, the consumer loop, the metrics and the
// HTTP endpoints. `ordergate run`, `ordergate dev`, the benchmark and the integration tests
// all run the same Worker.
package worker

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/consumer"
	"github.com/ordergate/ordergate/internal/foundation/health"
	"github.com/ordergate/ordergate/internal/foundation/metrics"
	"github.com/ordergate/ordergate/internal/foundation/retry"
	"github.com/ordergate/ordergate/processor"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/processor/servicepoint"
	"github.com/ordergate/ordergate/publisher"
)

// Options are what a caller can give besides the configuration.
type Options struct {
	// Logger receives every log line (default: JSON or text on stderr per the config).
	Logger *slog.Logger
	// Registry receives the metrics (default: a new registry).
	Registry *prometheus.Registry
	// Now is the clock of eventTime (default time.Now).
	Now func() time.Time
	// Inventory replaces the inventory of the configuration (dev mode, tests).
	Inventory servicepoint.Inventory
	// Redis replaces the Redis client of the configuration (dev mode).
	Redis redis.UniversalClient
	// StartupTimeout bounds the wait for Kafka and Redis at start (default 30s).
	StartupTimeout time.Duration
	// Ceiling turns the worker into the Kafka client's own ceiling for `ordergate bench`:
	// the same consumer loop and writer settings, but every input is forwarded unchanged to
	// the accepted topic, with no decision, no Redis and no event.
	Ceiling bool
}

// Worker is one running ordergate.
type Worker struct {
	cfg       config.Config
	log       *slog.Logger
	reg       *prometheus.Registry
	metrics   *metrics.Metrics
	health    *health.Health
	redis     redis.UniversalClient
	inv       servicepoint.Inventory
	writer    *kafka.Writer
	dlqWriter *kafka.Writer
	client    *kafka.Client
	dialer    *kafka.Dialer
	proc      *processor.Processor
	pub       *publisher.Publisher
	cons      *consumer.Consumer
	listener  net.Listener
	now       func() time.Time
}

// New builds a worker and checks that Kafka and Redis answer and that the topics exist.
// Authentication failures and missing topics fail at once; unreachable servers are waited
// for up to the startup timeout. Every error is one line that says what to fix.
func New(ctx context.Context, cfg config.Config, opts Options) (_ *Worker, err error) {
	w := &Worker{cfg: cfg, log: opts.Logger, reg: opts.Registry, now: opts.Now}
	defer func() {
		if err != nil {
			w.Close() // a failed start leaves no client or goroutine behind
		}
	}()
	if w.log == nil {
		w.log = NewLogger(cfg, os.Stderr)
	}
	if w.reg == nil {
		w.reg = prometheus.NewRegistry()
	}
	if w.now == nil {
		w.now = time.Now
	}
	startup := opts.StartupTimeout
	if startup <= 0 {
		startup = 30 * time.Second
	}
	w.metrics = metrics.New(w.reg)
	w.health = health.New(cfg.StuckAfter, nil)
	w.health.OnChange(func(ready bool) {
		w.metrics.Ready.Set(boolFloat(ready))
		w.metrics.StuckPartitions.Set(float64(len(w.health.Stuck())))
	})

	rules := &order.Rules{MaxBodyBytes: cfg.MaxMessageBytes}
	if cfg.ClientsFile != "" {
		clients, err := LoadClients(cfg.ClientsFile)
		if err != nil {
			return nil, err
		}
		rules.Clients = clients
		w.log.Info("clients loaded", "file", cfg.ClientsFile, "clients", clients.Len())
	} else {
		w.log.Warn("ORDERGATE_CLIENTS_FILE is not set: only PATCH-billingAccountById requests need credentials, checked by presence and length (at least 5 characters)")
	}

	tlsConfig, err := cfg.KafkaTLS()
	if err != nil {
		return nil, err
	}
	mechanism, err := cfg.KafkaSASL()
	if err != nil {
		return nil, err
	}
	mechanism = watchSASL(mechanism) // tells refused credentials from a broker that is down
	w.dialer = &kafka.Dialer{Timeout: 10 * time.Second, DualStack: true, TLS: tlsConfig, SASLMechanism: mechanism}
	transport := &kafka.Transport{TLS: tlsConfig, SASL: mechanism, DialTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second}
	w.client = &kafka.Client{Addr: kafka.TCP(cfg.KafkaBrokers...), Transport: transport, Timeout: 10 * time.Second}

	sctx, cancel := context.WithTimeout(ctx, startup)
	defer cancel()
	if err := w.checkKafka(sctx, tlsConfig, mechanism); err != nil {
		return nil, err
	}
	if opts.Ceiling {
		limit := w.topicLimit(sctx, cfg.TopicAccepted)
		w.writer = publisher.NewWriter(cfg.KafkaBrokers, transport, limit-publisher.BatchMargin)
		w.pub = publisher.NewForwarder(w.writer, cfg.TopicAccepted, limit-publisher.BatchMargin, publishObserver{w.metrics, w.log})
		w.cons = consumer.New(w.consumerConfig(), passThrough{}, w.pub)
		return w, w.listen()
	}
	if err := w.openRedis(sctx, opts.Redis); err != nil {
		return nil, err
	}
	if w.inv = opts.Inventory; w.inv == nil {
		if w.inv, err = newInventory(cfg); err != nil {
			return nil, err
		}
	}
	resolver := servicepoint.NewResolver(w.redis, w.inv, servicepoint.Options{
		KeyPrefix:    cfg.RedisKeyPrefix,
		TTL:          cfg.CacheTTL,
		NegativeTTL:  cfg.CacheNegativeTTL,
		Concurrency:  cfg.InventoryConcurrency,
		RedisTimeout: cfg.RedisTimeout,
		Observer:     resolverObserver{w.metrics},
	})
	w.proc = processor.New(rules, resolver, w.now)
	limit := w.topicLimit(sctx, cfg.TopicAccepted, cfg.TopicRejected)
	dlqLimit := w.topicLimit(sctx, cfg.TopicDLQ)
	w.writer = publisher.NewWriter(cfg.KafkaBrokers, transport, limit-publisher.BatchMargin)
	w.dlqWriter = publisher.NewWriter(cfg.KafkaBrokers, transport, dlqLimit-publisher.BatchMargin)
	w.pub = publisher.New(w.writer, publisher.Topics{Accepted: cfg.TopicAccepted, Rejected: cfg.TopicRejected, DLQ: cfg.TopicDLQ},
		limit-publisher.BatchMargin, publishObserver{w.metrics, w.log}, w.now)
	w.pub.SetDeadLetterWriter(w.dlqWriter)
	w.pub.SetLimitSource(func(ctx context.Context) (int, error) {
		n, err := publisher.TopicLimit(ctx, w.client, cfg.TopicAccepted, cfg.TopicRejected)
		return n - publisher.BatchMargin, err
	})
	w.cons = consumer.New(w.consumerConfig(), w.proc, w.pub)
	w.health.AddCheck("redis", func(ctx context.Context) error { return w.redis.Ping(ctx).Err() })
	if err := w.listen(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *Worker) consumerConfig() consumer.Config {
	cfg := w.cfg
	return consumer.Config{
		Brokers:         cfg.KafkaBrokers,
		GroupID:         cfg.KafkaGroupID,
		Topic:           cfg.TopicRequests,
		Dialer:          w.dialer,
		BatchMaxRecords: cfg.BatchMaxRecords,
		BatchMaxWait:    cfg.BatchMaxWait,
		Retry:           retry.Policy{Initial: 100 * time.Millisecond, Max: cfg.RetryMaxBackoff},
		Client:          w.client,
		Logger:          w.log,
		KafkaLogger:     kafkaLogger(w.log, slog.LevelDebug),
		KafkaErrorLogger: kafkaErrorLogger(w.log, func() {
			w.metrics.OffsetResets.Inc()
		}),
		Observer: consumerObserver{w.metrics},
		Health:   w.health,
	}
}

// listen opens the HTTP listener and registers the Kafka readiness check.
func (w *Worker) listen() error {
	w.health.AddCheck("kafka", func(ctx context.Context) error {
		_, err := w.client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{w.cfg.TopicRequests}})
		return err
	})
	l, err := net.Listen("tcp", w.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("ORDERGATE_HTTP_ADDR=%s: %w", w.cfg.HTTPAddr, err)
	}
	w.listener = l
	return nil
}

// passThrough is the ceiling's processor: no decision at all.
type passThrough struct{}

func (passThrough) Process(_ context.Context, in []order.Record, out []processor.Result) error {
	for i := range in {
		out[i].Record = &in[i]
	}
	return nil
}

// Addr returns the address of the HTTP endpoints.
func (w *Worker) Addr() string { return w.listener.Addr().String() }

// Metrics returns the worker's collectors.
func (w *Worker) Metrics() *metrics.Metrics { return w.metrics }

// Registry returns the registry of the worker's metrics.
func (w *Worker) Registry() *prometheus.Registry { return w.reg }

// Processor returns the worker's processor (to replace its rules on reload).
func (w *Worker) Processor() *processor.Processor { return w.proc }

// Inventory returns the inventory the worker resolves through.
func (w *Worker) Inventory() servicepoint.Inventory { return w.inv }

// Handler serves /metrics, /healthz and /readyz.
func (w *Worker) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(w.reg, promhttp.HandlerOpts{Registry: w.reg}))
	hh := w.health.Handler()
	mux.Handle("/healthz", hh)
	mux.Handle("/readyz", hh)
	return mux
}

// Run serves the endpoints and consumes until ctx ends, then stops in order: stop fetching,
// finish, publish and commit the batches in hand (bounded by ORDERGATE_SHUTDOWN_TIMEOUT),
// leave the group, close the writer and Redis, and stop the HTTP server. It returns nil
// after a clean stop and consumer.ErrUnfinished when a batch was still in retries when the
// timeout ended (nothing past it was committed).
func (w *Worker) Run(ctx context.Context) error {
	srv := &http.Server{Handler: w.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(w.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			w.log.Error("http server stopped", "err", err)
		}
	}()
	hctx, stopHealth := context.WithCancel(context.Background())
	go w.health.Run(hctx, 2*time.Second, 2*time.Second)

	work, cancelWork := context.WithCancel(context.Background())
	defer cancelWork()
	stopTimer := context.AfterFunc(ctx, func() {
		w.log.Info("stopping: no more fetching; finishing the batches in hand", "timeout", w.cfg.ShutdownTimeout)
		time.AfterFunc(w.cfg.ShutdownTimeout, cancelWork)
	})
	defer stopTimer()
	w.log.Info("ordergate started", "brokers", w.cfg.KafkaBrokers, "group", w.cfg.KafkaGroupID,
		"topic", w.cfg.TopicRequests, "http", w.Addr())
	err := w.cons.Run(ctx, work)
	stopHealth()
	w.closeClients()
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx) // closes the listener
	if err != nil {
		w.log.Error("ordergate stopped with unfinished work", "err", err)
		return err
	}
	w.log.Info("ordergate stopped")
	return nil
}

// Close releases the clients and the listener of a worker that never ran (Run releases
// them itself).
func (w *Worker) Close() {
	w.closeClients()
	if w.listener != nil {
		_ = w.listener.Close()
	}
}

func (w *Worker) closeClients() {
	for _, wr := range []*kafka.Writer{w.writer, w.dlqWriter} {
		if wr != nil {
			if err := wr.Close(); err != nil {
				w.log.Warn("closing a writer", "err", err)
			}
		}
	}
	if w.redis != nil {
		_ = w.redis.Close()
	}
}

// checkKafka waits until a broker answers a metadata request and checks the four topics.
func (w *Worker) checkKafka(ctx context.Context, tlsConfig *tls.Config, mechanism sasl.Mechanism) error {
	cfg := w.cfg
	topics := []string{cfg.TopicRequests, cfg.TopicAccepted, cfg.TopicRejected, cfg.TopicDLQ}
	var last error
	for attempt := 1; ; attempt++ {
		resp, err := w.client.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
		if err == nil {
			for _, t := range resp.Topics {
				if t.Error != nil {
					return fmt.Errorf("kafka topic %s: %v (create it, see docs/deploy.md)", t.Name, t.Error)
				}
			}
			return nil
		}
		if isAuthError(err) || saslRefused(mechanism, err) {
			return fmt.Errorf("kafka at %v: authentication failed (check ORDERGATE_KAFKA_SASL_MECHANISM, ORDERGATE_KAFKA_SASL_USERNAME and ORDERGATE_KAFKA_SASL_PASSWORD): %v", cfg.KafkaBrokers, err)
		}
		last = keepCause(ctx, last, err)
		if attempt == 1 {
			w.log.Warn("kafka does not answer yet, waiting", "brokers", cfg.KafkaBrokers, "err", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kafka at %v does not answer (check ORDERGATE_KAFKA_BROKERS and ORDERGATE_KAFKA_TLS_*): %v", cfg.KafkaBrokers, last)
		case <-time.After(time.Second):
		}
	}
}

// topicLimit reads the smallest max.message.bytes of topics, or assumes Kafka's default
// when it cannot be read (a warning says so).
func (w *Worker) topicLimit(ctx context.Context, topics ...string) int {
	limit, err := publisher.TopicLimit(ctx, w.client, topics...)
	if err != nil {
		w.log.Warn("cannot read max.message.bytes of output topics; assuming Kafka's default",
			"topics", topics, "err", err, "limit", publisher.DefaultTopicLimit)
		return publisher.DefaultTopicLimit
	}
	return limit
}

func isAuthError(err error) bool {
	return errors.Is(err, kafka.SASLAuthenticationFailed) || errors.Is(err, kafka.IllegalSASLState) ||
		errors.Is(err, kafka.UnsupportedSASLMechanism) || errors.Is(err, kafka.TopicAuthorizationFailed) ||
		errors.Is(err, kafka.ClusterAuthorizationFailed)
}

// openRedis connects to Redis and waits until it answers PING; a refused password fails
// at once.
func (w *Worker) openRedis(ctx context.Context, given redis.UniversalClient) error {
	if given != nil {
		w.redis = given
	} else {
		opts, err := w.cfg.RedisOptions()
		if err != nil {
			return err
		}
		w.redis = servicepoint.NewRedisClient(opts)
	}
	var last error
	for attempt := 1; ; attempt++ {
		err := w.redis.Ping(ctx).Err()
		if err == nil {
			return nil
		}
		if isRedisAuthError(err) {
			return fmt.Errorf("redis: authentication failed (check the user and password in ORDERGATE_REDIS_URL): %v", err)
		}
		last = keepCause(ctx, last, err)
		if attempt == 1 {
			w.log.Warn("redis does not answer yet, waiting", "err", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("redis does not answer (check ORDERGATE_REDIS_URL): %v", last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func isRedisAuthError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"WRONGPASS", "NOAUTH", "NOPERM", "invalid password", "invalid username-password"} {
		if containsFold(msg, p) {
			return true
		}
	}
	return false
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
