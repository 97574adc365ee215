package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/segmentio/kafka-go"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/consumer"
	"github.com/ordergate/ordergate/internal/app/produce"
	"github.com/ordergate/ordergate/internal/app/worker"
	"github.com/ordergate/ordergate/internal/foundation/metrics"
	"github.com/ordergate/ordergate/processor"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/publisher"
)

// Ceiling is the process of the referee's loop row (`ordergate bench-ceiling`): the
// worker's consumer loop, consumer settings and writer settings, but every input forwarded
// unchanged (key, value, headers) to the accepted topic, with no
// decision, no Redis and no event. It serves /metrics on ORDERGATE_HTTP_ADDR, where the
// bench reads the batch sizes, and stops as the worker does when ctx ends.
func Ceiling(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	k, err := worker.KafkaClients(cfg, cfg.KafkaBrokers)
	if err != nil {
		return err
	}
	defer k.Close()
	limit := k.TopicLimit(ctx, log, cfg.TopicAccepted) - publisher.BatchMargin
	w := publisher.NewWriter(cfg.KafkaBrokers, k.Transport, limit, cfg.KafkaCompressionCodec())
	defer w.Close()
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	cons := consumer.New(worker.ConsumerConfig(cfg, k, log), countBatches{m}, &forwarder{w: w, topic: cfg.TopicAccepted})

	l, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("ORDERGATE_HTTP_ADDR=%s: %w", cfg.HTTPAddr, err)
	}
	srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
	var serving sync.WaitGroup
	serving.Go(func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server stopped", "err", err)
		}
	})
	life, release := consumer.Graceful(ctx, cfg.ShutdownTimeout)
	err = cons.Run(life)
	release()
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	_ = srv.Shutdown(sctx)
	cancel()
	serving.Wait()
	return err
}

// countBatches is the ceiling's processor: no decision, only the measurements the bench
// reads (records consumed, batch sizes).
type countBatches struct{ m *metrics.Metrics }

func (c countBatches) Process(_ context.Context, in []order.Record, out []processor.Result) error {
	c.m.RecordsConsumed.Add(float64(len(in)))
	c.m.BatchSize.Observe(float64(len(in)))
	for i := range in {
		out[i].Record = &in[i]
	}
	return nil
}

// forwarder is the ceiling's publisher: each input record, unchanged, to one topic, with
// one WriteMessages call per batch; a failed call is sent again whole.
type forwarder struct {
	w     publisher.Writer
	topic string
}

// forwardBatch is the records of one batch.
type forwardBatch struct {
	msgs []kafka.Message
	sent bool
}

func (f *forwarder) PrepareInto(b *forwardBatch, results []processor.Result) *forwardBatch {
	if b == nil {
		b = &forwardBatch{}
	}
	b.msgs, b.sent = b.msgs[:0], false
	for i := range results {
		m := produce.Message(results[i].Record)
		m.Topic, m.Time = f.topic, time.Time{}
		b.msgs = append(b.msgs, m)
	}
	return b
}

// Release drops the batch's references to its records, as the worker's publisher does.
func (f *forwarder) Release(b *forwardBatch) {
	clear(b.msgs)
	b.msgs = b.msgs[:0]
}

func (f *forwarder) Send(ctx context.Context, b *forwardBatch) error {
	if b.sent {
		return nil
	}
	if err := f.w.WriteMessages(ctx, b.msgs...); err != nil {
		return err
	}
	b.sent = true
	return nil
}
