// Package consumer owns ordergate's loop: it joins the consumer group, runs one goroutine
// per assigned partition of each generation, fetches batches, hands them to the processor,
// hands the decisions to the publisher, and commits a partition's offset only once every
// record before it has its event acknowledged. Records of one partition are decided,
// published and committed in input order, so the events of one key keep their order.
//
// The parts, one a file: the Consumer and its group (consumer.go), a partition's loop
// (partition.go), how a batch is fetched (fetch.go) by the partition's fetcher
// (budgetfetch.go) within the byte budget shared by all partitions (budget.go), the
// committer of a generation (committer.go), the one retry hook of every step (step.go),
// the Lifecycle of a stop (lifecycle.go) and the lag measurement (lag.go).
package consumer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ordergate/ordergate/internal/foundation/retry"
	"github.com/ordergate/ordergate/processor"
	"github.com/ordergate/ordergate/processor/order"
)

// Processor decides a batch (see processor.Processor).
type Processor interface {
	Process(ctx context.Context, in []order.Record, out []processor.Result) error
}

// Publisher publishes the decisions of a batch (see publisher.Publisher). A partition
// prepares each batch once, then sends it until every record is acknowledged. B is the
// publisher's own batch, which the consumer only hands back.
type Publisher[B any] interface {
	// PrepareInto returns the records to publish for results, reusing the memory of reuse:
	// a batch of this publisher whose records are all acknowledged, or the zero B.
	PrepareInto(reuse B, results []processor.Result) B
	// Send writes the records of b not acknowledged yet, and returns nil once every one
	// is. Every error is transient: the consumer retries.
	Send(ctx context.Context, b B) error
	// Release is called once every record of b is acknowledged: b is kept for the
	// partition's next PrepareInto, and should hold nothing meanwhile (memory returns to
	// what every partition draws from, no reference to the records). An abandoned batch
	// is not released: a write given up with its context may still be under way.
	Release(b B)
}

// Health is told when a partition starts and stops retrying, and when the consumer's own
// Kafka requests fail and answer again (see health.Health).
type Health interface {
	Retrying(partition string, since time.Time)
	Recovered(partition string)
	// Failing reports that a signal of a dependency failed: the consumer reports
	// SignalJoin and a partition's fetches (FetchSignal) of DependencyKafka.
	Failing(dependency, signal string, err error)
	// Answering reports that the signal succeeded again, or is no longer tried.
	Answering(dependency, signal string)
}

// The consumer's signals of Kafka, as Health receives them.
const (
	// DependencyKafka is the dependency of the consumer's signals.
	DependencyKafka = "kafka"
	// SignalJoin fails while the consumer cannot join its group (the coordinator does not
	// answer, or refuses): no partition is consumed then. A rebalance in progress is an
	// answer, not a failure.
	SignalJoin = "consumer group join"
)

// FetchSignal names the fetches of a partition, a signal that fails while the partition's
// fetch requests fail (each failed one is reported, then tried again after a backoff).
func FetchSignal(partition int) string { return "fetches of partition " + strconv.Itoa(partition) }

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

// The defaults of Config, used for a field left at zero.
const (
	DefaultBatchMaxRecords = 1000
	DefaultBatchMaxBytes   = 4 << 20
	DefaultBatchMaxWait    = 2 * time.Millisecond
	DefaultFetchMaxBytes   = 512 << 10
	DefaultFetchMaxWait    = 250 * time.Millisecond
	DefaultFetchBudget     = 8 << 20
	DefaultSessionTimeout  = 10 * time.Second
	DefaultLagInterval     = 2 * time.Second
	// DefaultInFlightBatches and DefaultInFlightBytes bound a partition's pipeline (see
	// Config.InFlightBatches).
	DefaultInFlightBatches = 2
	DefaultInFlightBytes   = 4 << 20
	DefaultIdleBatchWait   = 250 * time.Microsecond
)

// Config configures the consumer. A field left at zero takes its Default... constant.
type Config struct {
	// Brokers are the bootstrap brokers.
	Brokers []string
	// GroupID is the consumer group.
	GroupID string
	// Topic is the input topic.
	Topic string
	// Dialer carries TLS and SASL settings (nil: plain TCP).
	Dialer *kafka.Dialer
	// BatchMaxRecords bounds a batch, in records (ORDERGATE_BATCH_MAX_RECORDS).
	BatchMaxRecords int
	// BatchMaxBytes ends a batch once its values reach this many bytes, so that large
	// records do not multiply a batch's memory.
	BatchMaxBytes int
	// BatchMaxWait is how long a batch waits to fill after its first record
	// (ORDERGATE_BATCH_MAX_WAIT).
	BatchMaxWait time.Duration
	// Retry is the backoff of failed batch steps; retries never stop by themselves.
	Retry retry.Policy
	// Memory of fetched records (see budgetFetcher, docs/configuration.md#memory).
	//
	// FetchBudget bounds, in bytes, the records fetched and not yet done (decided,
	// published and acknowledged) across all partitions of the consumer, whatever their
	// number and the records' size: a fetch takes its bytes from it before it is sent.
	// One record larger than the whole budget still passes, alone. Default
	// DefaultFetchBudget (8 MiB); the worker sizes it from its memory limit.
	FetchBudget int64
	// FetchMaxBytes is the limit of one fetch request, in bytes (Kafka still returns a
	// first record batch larger than it whole). Default DefaultFetchMaxBytes.
	FetchMaxBytes int
	// FetchMaxWait is how long the broker holds a fetch while the partition has no new
	// record. Default DefaultFetchMaxWait.
	FetchMaxWait time.Duration
	// InFlightBatches and InFlightBytes bound a partition's pipeline. A partition decides
	// (and resolves) a batch while the events of the batches before it are in flight to
	// Kafka: it holds at most InFlightBatches batches between fetching and
	// acknowledgement (DefaultInFlightBatches: one decided while the one before it is
	// published; 1 decides and publishes one batch at a time), and it fetches no new batch
	// while those it holds carry InFlightBytes bytes of keys, values and headers or more
	// (DefaultInFlightBytes), so it holds at most InFlightBytes plus one batch
	// (BatchMaxBytes). Events are still written one batch at a time, in input order, and
	// offsets committed in order.
	InFlightBatches int
	InFlightBytes   int
	// IdleBatchWait replaces BatchMaxWait for a batch whose first record arrives while the
	// partition has nothing in flight (DefaultIdleBatchWait, at most BatchMaxWait):
	// waiting to fill then only delays the records in hand, since nothing holds their
	// publication back. While a batch is in flight, the next one waits BatchMaxWait to
	// fill, so batches grow with the load.
	IdleBatchWait time.Duration
	// SessionTimeout is the group session timeout: a member that stops heartbeating is
	// replaced after it.
	SessionTimeout time.Duration
	// LagInterval is how often the lag of each partition is measured.
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
	setDefault(&c.BatchMaxRecords, DefaultBatchMaxRecords)
	setDefault(&c.BatchMaxBytes, DefaultBatchMaxBytes)
	setDefault(&c.BatchMaxWait, DefaultBatchMaxWait)
	setDefault(&c.FetchMaxBytes, DefaultFetchMaxBytes)
	setDefault(&c.FetchMaxWait, DefaultFetchMaxWait)
	setDefault(&c.FetchBudget, DefaultFetchBudget)
	setDefault(&c.InFlightBatches, DefaultInFlightBatches)
	setDefault(&c.InFlightBytes, DefaultInFlightBytes)
	setDefault(&c.IdleBatchWait, DefaultIdleBatchWait)
	c.IdleBatchWait = min(c.IdleBatchWait, c.BatchMaxWait)
	setDefault(&c.SessionTimeout, DefaultSessionTimeout)
	setDefault(&c.LagInterval, DefaultLagInterval)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.KafkaErrorLogger == nil {
		log := c.Logger
		c.KafkaErrorLogger = kafka.LoggerFunc(func(msg string, args ...any) {
			log.Warn("kafka-go: " + fmt.Sprintf(msg, args...))
		})
	}
	if c.Observer == nil {
		c.Observer = nopObserver{}
	}
	if c.Health == nil {
		c.Health = nopHealth{}
	}
}

func setDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Consumer runs the loop. B is its publisher's batch.
type Consumer[B any] struct {
	cfg  Config
	proc Processor
	pub  Publisher[B]
	lags lagTracker
	// budget is the FetchBudget shared by the partitions' fetchers, which fetch through
	// fetches (a client on the Dialer's TLS and SASL).
	budget  *budget
	fetches *kafka.Client
	// unfinished counts partitions that stopped with records decided or fetched but not
	// committed (shutdown deadline, or a step that could not finish).
	unfinished atomic.Int64
}

// New returns a consumer.
func New[B any](cfg Config, proc Processor, pub Publisher[B]) *Consumer[B] {
	cfg.defaults()
	return &Consumer[B]{cfg: cfg, proc: proc, pub: pub, budget: newBudget(cfg.FetchBudget),
		fetches: &kafka.Client{Addr: kafka.TCP(cfg.Brokers...), Transport: transportOf(cfg.Dialer)}}
}

// transportOf returns a transport with the TLS, SASL and timeouts of d (nil: plain TCP).
func transportOf(d *kafka.Dialer) *kafka.Transport {
	t := &kafka.Transport{DialTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second}
	if d != nil {
		t.TLS, t.SASL, t.ClientID = d.TLS, d.SASLMechanism, d.ClientID
		if d.Timeout > 0 {
			t.DialTimeout = d.Timeout
		}
	}
	return t
}

// ErrUnfinished is returned by Run when a partition stopped with a batch it could not
// finish (its retries outlived the shutdown): nothing past that batch was committed.
var ErrUnfinished = errors.New("stopped with a batch in retries: its records were not committed and will be consumed again")

// Run consumes until l.Stop ends, then finishes the batches in hand, commits them, leaves
// the group and returns; every goroutine it started has ended by then. When l.Abandon ends
// first, batches still in retries are abandoned without a commit and Run returns
// ErrUnfinished. Run returns nil after a clean stop.
func (c *Consumer[B]) Run(l Lifecycle) error {
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
		ErrorLogger:       c.cfg.KafkaErrorLogger,
	})
	if err != nil {
		return fmt.Errorf("consumer group: %w", err)
	}
	var running sync.WaitGroup // the lag measurement and every generation's goroutines
	lagCtx, stopLag := context.WithCancel(l.Abandon)
	running.Go(func() { c.measureLag(lagCtx) })
	for {
		gen, err := group.Next(l.Stop)
		if l.Stop.Err() != nil {
			break
		}
		if err != nil {
			if errors.Is(err, kafka.ErrGroupClosed) {
				break
			}
			if !errors.Is(err, kafka.RebalanceInProgress) {
				c.cfg.Health.Failing(DependencyKafka, SignalJoin, err)
			}
			log.Warn("consumer group: joining failed, retrying", "err", err)
			continue
		}
		c.cfg.Health.Answering(DependencyKafka, SignalJoin)
		c.startGeneration(l, gen, &running)
	}
	c.cfg.Health.Answering(DependencyKafka, SignalJoin)
	stopLag()
	running.Wait()
	c.fetches.Transport.(*kafka.Transport).CloseIdleConnections()
	if err := group.Close(); err != nil && !errors.Is(err, kafka.ErrGroupClosed) {
		log.Warn("consumer group: leaving failed", "err", err)
	}
	if c.unfinished.Load() > 0 {
		return ErrUnfinished
	}
	return nil
}

// startGeneration starts one goroutine per assigned partition and the generation's
// committer, all counted in running. kafka-go ends a generation as soon as one of its
// goroutines returns, so they stop together: a partition that stopped (after flushing its
// offsets) waits for the others, and the committer runs until the last one stopped.
func (c *Consumer[B]) startGeneration(l Lifecycle, gen *kafka.Generation, running *sync.WaitGroup) {
	topic := c.cfg.Topic
	assignments := gen.Assignments[topic]
	c.cfg.Logger.Info("consumer group: generation started", "generation", gen.ID, "member", gen.MemberID,
		"partitions", partitionIDs(assignments))
	k := newCommitter(&c.cfg, func(offsets map[int]int64) error {
		return gen.CommitOffsets(map[string]map[int]int64{topic: offsets})
	})
	// The committer retries until the shutdown deadline, and stops once every partition
	// has stopped or the generation ended.
	commitCtx, stopCommitter := context.WithCancel(l.Abandon)
	var stopped sync.WaitGroup
	stopped.Add(len(assignments))
	remaining := atomic.Int64{}
	remaining.Store(int64(len(assignments)))
	if len(assignments) == 0 {
		stopCommitter()
	}
	for _, a := range assignments {
		running.Add(1)
		gen.Start(func(genCtx context.Context) {
			defer running.Done()
			life := l.within(genCtx)
			p := &partition[B]{c: c, k: k, id: a.ID, start: a.Offset}
			p.run(life)
			life.release()
			if remaining.Add(-1) == 0 {
				stopCommitter()
			}
			stopped.Done()
			stopped.Wait()
		})
	}
	running.Add(1)
	gen.Start(func(genCtx context.Context) {
		defer running.Done()
		ctx, cancel := mergeCancel(commitCtx, genCtx)
		defer cancel()
		defer stopCommitter()
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

type nopObserver struct{}

func (nopObserver) Consumed(int)         {}
func (nopObserver) InFlight(int)         {}
func (nopObserver) Committed(int, int64) {}
func (nopObserver) Lag(int, int64)       {}
func (nopObserver) Assigned(int, bool)   {}
func (nopObserver) Retry(string)         {}

type nopHealth struct{}

func (nopHealth) Retrying(string, time.Time)    {}
func (nopHealth) Recovered(string)              {}
func (nopHealth) Failing(string, string, error) {}
func (nopHealth) Answering(string, string)      {}
