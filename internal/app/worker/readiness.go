package worker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/ordergate/ordergate/consumer"
	"github.com/ordergate/ordergate/internal/foundation/health"
)

// The readiness of Kafka. kafka.Client.Metadata cannot tell it: the Transport answers it
// from its metadata cache, so a check built on it stayed ready through a broker stopped,
// hung or refusing connections (issue 17). Readiness asks the brokers themselves, and
// listens to the consumer's own signals (see consumer.Health).

// Probe returns the readiness check of Kafka: each bootstrap broker is asked for the
// cluster's metadata on a connection of its own, opened for this probe with the consumer's
// dialer (its TLS and SASL) and bounded by the check's deadline; Kafka answers when one
// broker does. The request names no topic, so it never creates one on a cluster that
// creates topics on demand.
func (k *Kafka) Probe(brokers []string) health.Check {
	return func(ctx context.Context) error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		errs := make(chan error, len(brokers))
		var asking sync.WaitGroup
		for _, b := range brokers {
			asking.Go(func() { errs <- k.ask(ctx, b) })
		}
		var failures []string
		var answered bool
		for range brokers {
			err := <-errs
			if err == nil {
				answered = true
				cancel() // one broker answered: the others need not
				break
			}
			failures = append(failures, err.Error())
		}
		asking.Wait()
		if answered {
			return nil
		}
		if len(failures) == 0 {
			return errors.New("no broker configured")
		}
		return fmt.Errorf("no broker answers: %s", strings.Join(failures, "; "))
	}
}

// ask opens a connection to broker and asks it for the cluster's brokers, within ctx.
func (k *Kafka) ask(ctx context.Context, broker string) error {
	conn, err := k.Dialer.DialContext(ctx, "tcp", broker)
	if err != nil {
		return fmt.Errorf("%s: %w", broker, err)
	}
	defer conn.Close()
	// The connection reads with deadlines, not contexts: set the check's, and close the
	// connection when the probe ends earlier (another broker answered).
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	if _, err := conn.Brokers(); err != nil {
		if ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded) {
			return fmt.Errorf("%s: no answer within the probe's deadline: %w", broker, err)
		}
		return fmt.Errorf("%s: %w", broker, err)
	}
	return nil
}

// watchKafka registers the probe of the brokers as the check "kafka". The consumer's
// signals (failed joins, failed fetches) reach the same Health under the same name through
// consumerConfig, and count after health.DefaultSignalAfter.
func (w *Worker) watchKafka() {
	w.health.AddCheck(consumer.DependencyKafka, w.kafka.Probe(w.cfg.KafkaBrokers))
}
