// Package consumer owns ordergate's loop: it joins the consumer group, runs one goroutine
// per assigned partition of each generation, fetches batches, hands them to the processor,
// hands the decisions to the publisher, and commits a partition's offset only once every
// record before it has its event acknowledged. Records of one partition are decided,
// published and committed in input order, so the events of one key keep their order.
package consumer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ordergate/ordergate/internal/foundation/retry"
	"github.com/ordergate/ordergate/processor"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/publisher"
)

// Processor decides a batch (see processor.Processor).
type Processor interface {
	Process(ctx context.Context, in []order.Record, out []processor.Result) error
}

// Publisher publishes the decisions of a batch (see publisher.Publisher).
type Publisher interface {
	PrepareInto(reuse *publisher.Batch, results []processor.Result) *publisher.Batch
	Send(ctx context.Context, b *publisher.Batch) error
}

// Health is told when a partition starts and stops retrying (see health.Health).
type Health interface {
	Retrying(partition string, since time.Time)
	Recovered(partition string)
}

// Observer receives the consumer's measurements. Implementations must be cheap and safe for
// concurrent use.
type Observer interface {
	Consumed(n int)
	InFlight(delta int)
	Committed(partition int, offset int64)
	Lag(partition int, lag int64)
	Assigned(partition int, assigned bool)
	Retry(cause string)
}

// Config configures the consumer.
type Config struct {
	// Brokers are the bootstrap brokers.
	Brokers []string
	// GroupID is the consumer group.
	GroupID string
	// Topic is the input topic.
	Topic string
	// Dialer carries TLS and SASL settings (nil: plain TCP).
	Dialer *kafka.Dialer
	// BatchMaxRecords bounds a batch (default 1000).
	BatchMaxRecords int
	// BatchMaxBytes ends a batch once its values reach this many bytes (default 4 MiB), so
	// that large records do not multiply a batch's memory.
	BatchMaxBytes int
	// BatchMaxWait is how long a batch waits to fill after its first record (default 2ms).
	BatchMaxWait time.Duration
	// Retry is the backoff of failed batch steps; retries never stop by themselves.
	Retry retry.Policy
	// FetchMaxBytes bounds one fetch response per partition (default 1 MiB).
	FetchMaxBytes int
	// QueueCapacity is how many fetched records a partition keeps ahead of processing
	// (default 64): with the batch in hand, it bounds a partition's memory.
	// kafka-go counts it in records, not bytes: with records of up to 1 MiB it can hold
	// up to that many MiB per partition.
	QueueCapacity int
	// SessionTimeout is the group session timeout (default 10s): a member that stops
	// heartbeating is replaced after it.
	SessionTimeout time.Duration
	// LagInterval is how often the lag of each partition is measured (default 2s).
	LagInterval time.Duration
	// Client is used to measure lag (ListOffsets); nil: lag is not measured.
	Client *kafka.Client
	// Logger receives the consumer's logs (default slog.Default()).
	Logger *slog.Logger
	// KafkaLogger and KafkaErrorLogger receive kafka-go's own logs (default: discarded
	// and Logger at warn level).
	KafkaLogger, KafkaErrorLogger kafka.Logger
	// Observer receives measurements (optional).
	Observer Observer
	// Health is told about retries (optional).
	Health Health
}

func (c *Config) defaults() {
	if c.BatchMaxRecords <= 0 {
		c.BatchMaxRecords = 1000
	}
	if c.BatchMaxBytes <= 0 {
		c.BatchMaxBytes = 4 << 20
	}
	if c.BatchMaxWait <= 0 {
		c.BatchMaxWait = 2 * time.Millisecond
	}
	if c.FetchMaxBytes <= 0 {
		c.FetchMaxBytes = 1 << 20
	}
	if c.QueueCapacity <= 0 {
		c.QueueCapacity = 64
	}
	if c.SessionTimeout <= 0 {
		c.SessionTimeout = 10 * time.Second
	}
	if c.LagInterval <= 0 {
		c.LagInterval = 2 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Observer == nil {
		c.Observer = nopObserver{}
	}
	if c.Health == nil {
		c.Health = nopHealth{}
	}
}

// Consumer runs the loop.
type Consumer struct {
	cfg  Config
	proc Processor
	pub  Publisher
	lags lagTracker
	// unfinished counts partitions that stopped with records decided or fetched but not
	// committed (shutdown timeout or a step that could not finish).
	unfinished atomic.Int64
}

// New returns a consumer.
func New(cfg Config, proc Processor, pub Publisher) *Consumer {
	cfg.defaults()
	return &Consumer{cfg: cfg, proc: proc, pub: pub}
}

// ErrUnfinished is returned by Run when a partition stopped with a batch it could not
// finish (its retries outlived the shutdown): nothing past that batch was committed.
var ErrUnfinished = errors.New("stopped with a batch in retries: its records were not committed and will be consumed again")

// Run consumes until fetch ends, then finishes the batches in flight, commits them, leaves
// the group and returns. work bounds that finish: when it ends, batches still in retries are
// abandoned without a commit and Run returns ErrUnfinished. Run returns nil after a clean
// stop.
func (c *Consumer) Run(fetch, work context.Context) error {
	log := c.cfg.Logger
	group, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID:                c.cfg.GroupID,
		Brokers:           c.cfg.Brokers,
		Dialer:            c.cfg.Dialer,
		Topics:            []string{c.cfg.Topic},
		StartOffset:       kafka.FirstOffset,
		SessionTimeout:    c.cfg.SessionTimeout,
		HeartbeatInterval: c.cfg.SessionTimeout / 4,
		RebalanceTimeout:  c.cfg.SessionTimeout * 3,
		JoinGroupBackoff:  time.Second,
		Timeout:           10 * time.Second,
		Logger:            c.cfg.KafkaLogger,
		ErrorLogger:       c.errorLogger(),
	})
	if err != nil {
		return fmt.Errorf("consumer group: %w", err)
	}
	lagCtx, stopLag := context.WithCancel(work)
	defer stopLag()
	go c.measureLag(lagCtx)
	var wg sync.WaitGroup
	for {
		gen, err := group.Next(fetch)
		if fetch.Err() != nil {
			break
		}
		if err != nil {
			if errors.Is(err, kafka.ErrGroupClosed) {
				break
			}
			log.Warn("consumer group: joining failed, retrying", "err", err)
			continue
		}
		c.startGeneration(fetch, work, gen, &wg)
	}
	wg.Wait()
	if err := group.Close(); err != nil && !errors.Is(err, kafka.ErrGroupClosed) {
		log.Warn("consumer group: leaving failed", "err", err)
	}
	if c.unfinished.Load() > 0 {
		return ErrUnfinished
	}
	return nil
}

func (c *Consumer) errorLogger() kafka.Logger {
	if c.cfg.KafkaErrorLogger != nil {
		return c.cfg.KafkaErrorLogger
	}
	log := c.cfg.Logger
	return kafka.LoggerFunc(func(msg string, args ...any) {
		log.Warn("kafka-go: " + fmt.Sprintf(msg, args...))
	})
}

// startGeneration starts one goroutine per assigned partition. They stop together: a
// partition that stops for a shutdown waits for the others, so that the generation (whose
// end kafka-go signals to every goroutine) stays valid until every partition committed.
func (c *Consumer) startGeneration(fetch, work context.Context, gen *kafka.Generation, wg *sync.WaitGroup) {
	assignments := gen.Assignments[c.cfg.Topic]
	c.cfg.Logger.Info("consumer group: generation started", "generation", gen.ID, "member", gen.MemberID,
		"partitions", partitionIDs(assignments))
	k := newCommitter(c, gen, c.cfg.Topic)
	var stopping sync.WaitGroup
	stopping.Add(len(assignments))
	for _, a := range assignments {
		wg.Add(1)
		gen.Start(func(genCtx context.Context) {
			defer wg.Done()
			p := &partition{c: c, k: k, id: a.ID, start: a.Offset}
			p.run(fetch, work, genCtx)
			stopping.Done()
			stopping.Wait()
		})
	}
	wg.Add(1)
	gen.Start(func(genCtx context.Context) {
		defer wg.Done()
		// The committer retries until the shutdown timeout, and stops once every
		// partition has stopped (after flushing its offsets) or the generation ended.
		ctx, cancel := mergeCancel(work, genCtx)
		defer cancel()
		go func() {
			stopping.Wait()
			cancel()
		}()
		k.run(ctx)
	})
}

func partitionIDs(as []kafka.PartitionAssignment) []int {
	ids := make([]int, len(as))
	for i, a := range as {
		ids[i] = a.ID
	}
	return ids
}

// mergeCancel returns a context that ends when parent or other ends.
func mergeCancel(parent, other context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	stop := context.AfterFunc(other, cancel)
	return ctx, func() { stop(); cancel() }
}

type nopObserver struct{}

func (nopObserver) Consumed(int)             {}
func (nopObserver) InFlight(int)             {}
func (nopObserver) Committed(int, int64)     {}
func (nopObserver) Lag(int, int64)           {}
func (nopObserver) Assigned(int, bool)       {}
func (nopObserver) Retry(string)             {}
func (nopHealth) Retrying(string, time.Time) {}
func (nopHealth) Recovered(string)           {}

type nopHealth struct{}
