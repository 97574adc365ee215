package worker

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/segmentio/kafka-go"

	"github.com/ordergate/ordergate/consumer"
)

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
// leave the group, stop the readiness probes, close the writers, Kafka's idle connections
// and Redis, export the last trace spans (at most 5 s), and stop the HTTP server. Every goroutine it started has ended when it
// returns. It returns nil after a clean stop and consumer.ErrUnfinished when a batch was
// still in retries when the timeout ended (nothing past it was committed).
func (w *Worker) Run(ctx context.Context) error {
	w.startup.setWaiting("") // /readyz answers from the health checks from now on
	var probing sync.WaitGroup
	probeCtx, stopProbes := context.WithCancel(context.Background())
	// A probe a second, each bounded by 2 s: /readyz turns within 3 s of a dependency
	// stopped, hung or refusing, and back within 3 s of its return (issue 17).
	probing.Go(func() { w.health.Run(probeCtx, time.Second, 2*time.Second) })

	life, release := consumer.Graceful(ctx, w.cfg.ShutdownTimeout)
	stopLog := context.AfterFunc(ctx, func() {
		w.log.Info("stopping: no more fetching; finishing the batches in hand", "timeout", w.cfg.ShutdownTimeout)
	})
	w.log.Info("ordergate started", "brokers", w.cfg.KafkaBrokers, "group", w.cfg.KafkaGroupID,
		"topic", w.cfg.TopicRequests, "http", w.Addr())
	err := w.cons.Run(life)
	release()
	stopLog()

	stopProbes()
	probing.Wait()
	w.closeClients()
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	w.startup.stop(func(srv *http.Server) error { return srv.Shutdown(sctx) }) // closes the listener
	cancel()
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
	w.startup.stop((*http.Server).Close)
}

func (w *Worker) closeClients() {
	for _, wr := range []*kafka.Writer{w.writer, w.rejWriter, w.dlqWriter} {
		if wr != nil {
			if err := wr.Close(); err != nil {
				w.log.Warn("closing a writer", "err", err)
			}
		}
	}
	if w.kafka != nil {
		w.kafka.Close()
	}
	if w.redis != nil {
		_ = w.redis.Close()
	}
	w.stopTracing()
}
