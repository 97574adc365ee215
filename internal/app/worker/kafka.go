package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/consumer"
	"github.com/ordergate/ordergate/internal/foundation/retry"
	"github.com/ordergate/ordergate/publisher"
)

// Kafka is how ordergate reaches the brokers of a configuration: the dialer of the
// consumer group's connections (the consumer builds the transport of its partitions'
// fetches from it), the transport of every other request, and the client that asks the
// cluster for metadata, offsets and topic configs. TLS and SASL are those of the
// configuration.
type Kafka struct {
	Dialer    *kafka.Dialer
	Transport *kafka.Transport
	Client    *kafka.Client
	// mechanism is the SASL mechanism, wrapped to tell refused credentials from a broker
	// that is down (nil: no SASL).
	mechanism sasl.Mechanism
}

// KafkaClients builds the Kafka clients of the configuration for brokers (the commands
// may name other brokers than the configuration's). `ordergate run`, produce and check all
// connect through it.
func KafkaClients(cfg config.Config, brokers []string) (*Kafka, error) {
	tlsConfig, err := cfg.KafkaTLS()
	if err != nil {
		return nil, err
	}
	mechanism, err := cfg.KafkaSASL()
	if err != nil {
		return nil, err
	}
	mechanism = watchSASL(mechanism)
	transport := &kafka.Transport{TLS: tlsConfig, SASL: mechanism, DialTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second}
	return &Kafka{
		Dialer:    &kafka.Dialer{Timeout: 10 * time.Second, DualStack: true, TLS: tlsConfig, SASLMechanism: mechanism},
		Transport: transport,
		Client:    &kafka.Client{Addr: kafka.TCP(brokers...), Transport: transport, Timeout: 10 * time.Second},
		mechanism: mechanism,
	}, nil
}

// Close closes the idle connections of the transport, and with them the goroutines that
// serve them.
func (k *Kafka) Close() { k.Transport.CloseIdleConnections() }

// check waits until a broker answers a metadata request and checks that topics exist.
// Refused credentials and missing topics fail at once; an unreachable cluster is waited for
// until ctx ends, and waiting is told each failed attempt's error.
func (k *Kafka) check(ctx context.Context, log *slog.Logger, waiting func(error), brokers []string, topics ...string) error {
	var last error
	for attempt := 1; ; attempt++ {
		resp, err := k.Client.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
		if err == nil {
			for _, t := range resp.Topics {
				if t.Error != nil {
					return fmt.Errorf("kafka topic %s: %v (create it, see docs/deploy.md)", t.Name, t.Error)
				}
			}
			return nil
		}
		if isAuthError(err) || saslRefused(k.mechanism, err) {
			return fmt.Errorf("kafka at %v: authentication failed (check ORDERGATE_KAFKA_SASL_MECHANISM, ORDERGATE_KAFKA_SASL_USERNAME and ORDERGATE_KAFKA_SASL_PASSWORD): %v", brokers, err)
		}
		last = keepCause(ctx, last, err)
		if attempt == 1 {
			log.Warn("kafka does not answer yet, waiting", "brokers", brokers, "err", err)
		}
		waiting(err)
		if retry.Sleep(ctx, time.Second) != nil {
			return fmt.Errorf("kafka at %v does not answer (check ORDERGATE_KAFKA_BROKERS and ORDERGATE_KAFKA_TLS_*): %v", brokers, last)
		}
	}
}

// TopicLimit reads the smallest max.message.bytes of topics, or assumes Kafka's default
// when it cannot be read (a warning says so).
func (k *Kafka) TopicLimit(ctx context.Context, log *slog.Logger, topics ...string) int {
	limit, err := publisher.TopicLimit(ctx, k.Client, topics...)
	if err != nil {
		log.Warn("cannot read max.message.bytes of output topics; assuming Kafka's default",
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

// ConsumerConfig returns the consumer settings of the configuration (those of `ordergate
// run`) for the Kafka clients k, without observer or health: the worker adds its own, and
// the bench's ceiling runs the same loop with these settings.
func ConsumerConfig(cfg config.Config, k *Kafka, log *slog.Logger) consumer.Config {
	return consumer.Config{
		Brokers:         cfg.KafkaBrokers,
		GroupID:         cfg.KafkaGroupID,
		Topic:           cfg.TopicRequests,
		Dialer:          k.Dialer,
		FetchBudget:     cfg.EffectiveMemoryLimit(os.DirFS("/")).FetchBudget(),
		BatchMaxRecords: cfg.BatchMaxRecords,
		BatchMaxWait:    cfg.BatchMaxWait,
		Retry:           retry.Policy{Initial: 100 * time.Millisecond, Max: cfg.RetryMaxBackoff},
		Client:          k.Client,
		Logger:          log,
		KafkaLogger:     kafkaLogger(log, slog.LevelDebug),
	}
}
