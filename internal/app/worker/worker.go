// Package worker assembles ordergate from its configuration: the Kafka clients, the Redis
// cache and inventory, the processor, the publisher, the consumer loop, the metrics and the
// HTTP endpoints. `ordergate run`, `ordergate dev` and the integration tests all run the
// same Worker.
package worker

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/trace"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/consumer"
	"github.com/ordergate/ordergate/internal/foundation/health"
	"github.com/ordergate/ordergate/internal/foundation/metrics"
	"github.com/ordergate/ordergate/internal/foundation/tracing"
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
	// StartupTimeout bounds the wait for Kafka and Redis at start (DefaultStartupTimeout
	// when zero).
	StartupTimeout time.Duration
	// OnPublished, when set, is called with each result once the broker has acknowledged
	// its event or dead-letter record (`ordergate dev` prints what its worker decided). It
	// runs on the publisher's goroutine: it must return quickly and not keep r.
	OnPublished func(r *processor.Result, kind publisher.Kind)
	// TracerProvider traces the records through this provider (tests), whatever the
	// OTEL_* variables say; nil: the OTLP exporter of the OTEL_* variables when they set
	// an endpoint, else no tracing.
	TracerProvider trace.TracerProvider
}

// DefaultStartupTimeout is how long New waits for Kafka and Redis by default.
const DefaultStartupTimeout = 30 * time.Second

// loop is what the worker runs: the consumer (a fake in unit tests).
type loop interface {
	Run(l consumer.Lifecycle) error
}

// Worker is one running ordergate.
type Worker struct {
	cfg       config.Config
	log       *slog.Logger
	reg       *prometheus.Registry
	metrics   *metrics.Metrics
	health    *health.Health
	kafka     *Kafka
	redis     *servicepoint.Redis
	inv       servicepoint.Inventory
	writer    *kafka.Writer
	rejWriter *kafka.Writer
	dlqWriter *kafka.Writer
	proc      *processor.Processor
	pub       *publisher.Publisher
	cons      loop
	listener  net.Listener
	startup   early // the HTTP server, up from the start of New
	now       func() time.Time
	traces    *tracing.Provider // the OTLP exporter's, when the worker owns one
}

// New builds a worker and checks that Kafka and Redis answer and that the topics exist.
// Authentication failures and missing topics fail at once; unreachable servers are waited
// for up to the startup timeout. Every error is one line that says what to fix, and a
// failed start leaves no client or goroutine behind.
func New(ctx context.Context, cfg config.Config, opts Options) (_ *Worker, err error) {
	w := newWorker(cfg, opts)
	defer func() {
		if err != nil {
			w.Close()
		}
	}()
	if err := w.serveEarly(); err != nil {
		return nil, err
	}
	startup := opts.StartupTimeout
	if startup <= 0 {
		startup = DefaultStartupTimeout
	}
	sctx, cancel := context.WithTimeout(ctx, startup)
	defer cancel()
	rules, err := w.rules()
	if err != nil {
		return nil, err
	}
	if err := w.connectKafka(sctx); err != nil {
		return nil, err
	}
	if err := w.openRedis(sctx, opts.Redis); err != nil {
		return nil, err
	}
	resolver, err := w.newResolver(opts.Inventory)
	if err != nil {
		return nil, err
	}
	w.proc = processor.New(rules, resolver, w.now)
	if err := w.startTracing(sctx, opts.TracerProvider); err != nil {
		return nil, err
	}
	w.newPublisher(sctx, opts.OnPublished)
	w.cons = consumer.New(w.consumerConfig(), w.proc, w.pub)
	if err := w.listen(); err != nil {
		return nil, err
	}
	return w, nil
}

// newWorker returns a worker with its logger, registry, clock, metrics and health.
func newWorker(cfg config.Config, opts Options) *Worker {
	w := &Worker{cfg: cfg, log: opts.Logger, reg: opts.Registry, now: opts.Now}
	if w.log == nil {
		w.log = NewLogger(cfg, os.Stderr)
	}
	if w.reg == nil {
		w.reg = prometheus.NewRegistry()
	}
	if w.now == nil {
		w.now = time.Now
	}
	w.metrics = metrics.New(w.reg)
	declareRedisLabels(w.metrics)
	w.health = health.New(cfg.StuckAfter, nil)
	w.health.OnChange(func(ready bool) {
		w.metrics.Ready.Set(boolFloat(ready))
		w.metrics.StuckPartitions.Set(float64(len(w.health.Stuck())))
	})
	return w
}

// rules returns the rules of the configuration (RulesOf, which replay --diff uses too),
// and says whether a clients file is in force.
func (w *Worker) rules() (*order.Rules, error) {
	rules, err := RulesOf(w.cfg)
	if err != nil {
		return nil, err
	}
	if rules.Clients == nil {
		w.log.Warn("ORDERGATE_CLIENTS_FILE is not set: only PATCH-billingAccountById requests need credentials, checked by presence and length (at least 5 characters)")
	} else {
		w.log.Info("clients loaded", "file", w.cfg.ClientsFile, "clients", rules.Clients.Len())
	}
	return rules, nil
}

// connectKafka builds the Kafka clients and waits until the cluster answers with the four
// topics.
func (w *Worker) connectKafka(ctx context.Context) error {
	k, err := KafkaClients(w.cfg, w.cfg.KafkaBrokers)
	if err != nil {
		return err
	}
	w.kafka = k
	cfg := w.cfg
	waiting := func(err error) {
		w.startup.setWaiting(fmt.Sprintf("waiting for Kafka at %s (ORDERGATE_KAFKA_BROKERS): %s", strings.Join(cfg.KafkaBrokers, ","), cfg.Scrub(err.Error())))
	}
	w.startup.setWaiting("waiting for Kafka at " + strings.Join(cfg.KafkaBrokers, ","))
	return k.check(ctx, w.log, waiting, cfg.KafkaBrokers, cfg.TopicRequests, cfg.TopicAccepted, cfg.TopicRejected, cfg.TopicDLQ)
}

// newResolver returns the service-point resolution: Redis in front of the inventory given,
// or the configuration's.
func (w *Worker) newResolver(given servicepoint.Inventory) (*servicepoint.Resolver, error) {
	if w.inv = given; w.inv == nil {
		inv, err := newInventory(w.cfg)
		if err != nil {
			return nil, err
		}
		w.inv = inv
	}
	opts := resolverOptions(w.cfg)
	opts.Observer = resolverObserver{w.metrics}
	opts.Logger = w.log
	return servicepoint.NewResolver(w.redis, w.inv, opts), nil
}

// newPublisher builds the writers of the events and of the dead letters and the publisher
// (onPublished: Options.OnPublished). Each output topic's own max.message.bytes decides the
// cut and the dead letter of its events and bounds the batches of its own writer (issue 19:
// the smallest of the two applied to both, and dead-lettered events that their own topic
// took).
func (w *Worker) newPublisher(ctx context.Context, onPublished func(*processor.Result, publisher.Kind)) {
	cfg := w.cfg
	accLimit := w.kafka.TopicLimit(ctx, w.log, cfg.TopicAccepted) - publisher.BatchMargin
	rejLimit := w.kafka.TopicLimit(ctx, w.log, cfg.TopicRejected) - publisher.BatchMargin
	dlqLimit := w.kafka.TopicLimit(ctx, w.log, cfg.TopicDLQ) - publisher.BatchMargin
	codec := cfg.KafkaCompressionCodec()
	w.writer = publisher.NewWriter(cfg.KafkaBrokers, w.kafka.Transport, accLimit, codec)
	w.rejWriter = publisher.NewWriter(cfg.KafkaBrokers, w.kafka.Transport, rejLimit, codec)
	w.dlqWriter = publisher.NewWriter(cfg.KafkaBrokers, w.kafka.Transport, dlqLimit, codec)
	w.pub = publisher.New(w.writer, publisher.Topics{Accepted: cfg.TopicAccepted, Rejected: cfg.TopicRejected, DLQ: cfg.TopicDLQ},
		accLimit, publishObserver{w.metrics, w.log, onPublished}, w.now)
	w.pub.SetTopicLimit(cfg.TopicAccepted, accLimit)
	w.pub.SetTopicLimit(cfg.TopicRejected, rejLimit)
	w.pub.SetTopicWriter(cfg.TopicRejected, w.rejWriter)
	w.pub.SetDeadLetterWriter(w.dlqWriter)
	w.pub.SetLimitSource(func(ctx context.Context) (map[string]int, error) {
		limits, err := publisher.TopicLimits(ctx, w.kafka.Client, cfg.TopicAccepted, cfg.TopicRejected)
		for t := range limits {
			limits[t] -= publisher.BatchMargin
		}
		return limits, err
	})
}

// consumerConfig is the configuration's consumer settings, measured by the worker's
// metrics and health.
func (w *Worker) consumerConfig() consumer.Config {
	c := ConsumerConfig(w.cfg, w.kafka, w.log)
	c.KafkaErrorLogger = kafkaErrorLogger(w.log, func() { w.metrics.OffsetResets.Inc() })
	c.Observer = consumerObserver{w.metrics}
	c.Health = w.health
	return c
}

// listen registers the readiness checks of Kafka and Redis (the listener is open since
// serveEarly).
func (w *Worker) listen() error {
	w.watchKafka()
	w.health.AddCheck("redis", w.probeRedis)
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

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
