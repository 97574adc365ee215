package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
)

// PassthroughSettings are the reader and writer settings of the plain kafka-go
// read-and-forward loop (see Passthrough). The defaults are the best of the sweep recorded
// in docs/performance.md (Passthrough sweep).
type PassthroughSettings struct {
	// QueueCapacity is kafka-go's ReaderConfig.QueueCapacity: records fetched ahead per
	// partition.
	QueueCapacity int
	// MinBytes, MaxBytes and MaxWait are the fetch request's bounds (ReaderConfig).
	MinBytes, MaxBytes int
	MaxWait            time.Duration
	// ReadBatch is how many records one WriteMessages call forwards at most, and ReadWait
	// how long the loop waits for them after the first (as the worker's batch).
	ReadBatch int
	ReadWait  time.Duration
	// BatchSize, BatchBytes and BatchTimeout are the Writer's; RequiredAcks is -1 (all
	// in-sync replicas, as the worker) or 1 (the leader).
	BatchSize    int
	BatchBytes   int64
	BatchTimeout time.Duration
	RequiredAcks int
	// Compression is the Writer's codec (0: none).
	Compression kafka.Compression
	// Pad is how many bytes are appended to every value, so that the loop writes as many
	// bytes per record as the worker's events weigh (the weight-matched ceiling).
	Pad int
}

// DefaultPassthrough returns the settings the sweep kept.
func DefaultPassthrough() PassthroughSettings {
	return PassthroughSettings{
		QueueCapacity: 100, MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 250 * time.Millisecond,
		ReadBatch: 1000, ReadWait: 2 * time.Millisecond,
		BatchSize: 1000, BatchBytes: 1000000, BatchTimeout: 100 * time.Microsecond, RequiredAcks: -1,
	}
}

// PassthroughTarget is where the loop reads and writes.
type PassthroughTarget struct {
	Brokers []string
	Group   string
	Input   string
	Output  string
}

// Passthrough is the referee's plain kafka-go read-and-forward (`ordergate
// bench-passthrough`): a consumer group (kafka.NewConsumerGroup), one partition Reader per
// assigned partition, every record forwarded unchanged (key, value, headers; the value
// padded by s.Pad bytes) to the output topic by one shared Writer, offsets committed every
// 50 ms after the writes are acknowledged. No ordergate code runs in it: it is what the
// Kafka client can do on this broker and machine. It stops when ctx ends.
func Passthrough(ctx context.Context, t PassthroughTarget, s PassthroughSettings, log *slog.Logger) error {
	acks := kafka.RequireAll
	if s.RequiredAcks == 1 {
		acks = kafka.RequireOne
	}
	w := &kafka.Writer{
		Addr: kafka.TCP(t.Brokers...), Topic: t.Output, Balancer: kafka.Murmur2Balancer{},
		RequiredAcks: acks, BatchSize: s.BatchSize, BatchBytes: s.BatchBytes, BatchTimeout: s.BatchTimeout,
		Compression: s.Compression, MaxAttempts: 3, WriteTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second,
	}
	defer w.Close()
	pad := paddingPool(s.Pad)
	group, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID: t.Group, Brokers: t.Brokers, Topics: []string{t.Input}, StartOffset: kafka.FirstOffset,
		SessionTimeout: 10 * time.Second, HeartbeatInterval: 2 * time.Second, JoinGroupBackoff: time.Second,
	})
	if err != nil {
		return fmt.Errorf("consumer group: %w", err)
	}
	defer group.Close()
	for {
		gen, err := group.Next(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if errors.Is(err, kafka.ErrGroupClosed) {
				return nil
			}
			log.Warn("passthrough: joining failed, retrying", "err", err)
			continue
		}
		runGeneration(gen, t, s, w, pad, log)
	}
}

// runGeneration forwards the generation's partitions until it ends, and commits.
func runGeneration(gen *kafka.Generation, t PassthroughTarget, s PassthroughSettings, w *kafka.Writer, pad []byte, log *slog.Logger) {
	assignments := gen.Assignments[t.Input]
	next := make([]atomic.Int64, len(assignments)) // offset to commit per assignment, -1 none
	var partitions sync.WaitGroup
	for i, a := range assignments {
		next[i].Store(-1)
		partitions.Add(1)
		gen.Start(func(ctx context.Context) {
			defer partitions.Done()
			forwardPartition(ctx, t, s, w, pad, a, &next[i], log)
		})
	}
	commit := func(done []int64) {
		offsets := map[int]int64{}
		for i, a := range assignments {
			if n := next[i].Load(); n >= 0 && n != done[i] {
				offsets[a.ID], done[i] = n, n
			}
		}
		if len(offsets) > 0 {
			if err := gen.CommitOffsets(map[string]map[int]int64{t.Input: offsets}); err != nil {
				log.Warn("passthrough: commit failed", "err", err)
			}
		}
	}
	gen.Start(func(ctx context.Context) {
		done := make([]int64, len(assignments))
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				partitions.Wait()
				commit(done)
				return
			case <-tick.C:
				commit(done)
			}
		}
	})
}

// forwardPartition reads one partition and forwards its records in batches.
func forwardPartition(ctx context.Context, t PassthroughTarget, s PassthroughSettings, w *kafka.Writer, pad []byte,
	a kafka.PartitionAssignment, next *atomic.Int64, log *slog.Logger) {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: t.Brokers, Topic: t.Input, Partition: a.ID, QueueCapacity: s.QueueCapacity,
		MinBytes: s.MinBytes, MaxBytes: s.MaxBytes, MaxWait: s.MaxWait, ReadBatchTimeout: 10 * time.Second,
	})
	defer r.Close()
	if err := r.SetOffset(a.Offset); err != nil {
		log.Error("passthrough: cannot position the reader", "partition", a.ID, "err", err)
		return
	}
	batch := make([]kafka.Message, 0, s.ReadBatch)
	padAt := 0
	for ctx.Err() == nil {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("passthrough: fetch failed, retrying", "partition", a.ID, "err", err)
				time.Sleep(10 * time.Millisecond)
			}
			continue
		}
		batch = append(batch[:0], m)
		if s.ReadBatch > 1 {
			wait, cancel := context.WithTimeout(ctx, s.ReadWait)
			for len(batch) < s.ReadBatch {
				m, err := r.FetchMessage(wait)
				if err != nil {
					break
				}
				batch = append(batch, m)
			}
			cancel()
		}
		last := batch[len(batch)-1].Offset
		for i := range batch {
			m := &batch[i]
			if s.Pad > 0 {
				// A slice of generated request bodies, not spaces: with compression on, the
				// padding must compress as the events' text does.
				v := make([]byte, len(m.Value)+s.Pad)
				copy(v, m.Value)
				copy(v[len(m.Value):], pad[padAt:padAt+s.Pad])
				padAt = (padAt + 4099) % (len(pad) - s.Pad)
				m.Value = v
			}
			*m = kafka.Message{Key: m.Key, Value: m.Value, Headers: m.Headers}
		}
		for {
			err := w.WriteMessages(ctx, batch...)
			if err == nil {
				next.Store(last + 1)
				break
			}
			if ctx.Err() != nil {
				return
			}
			log.Warn("passthrough: write failed, retrying", "err", err)
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// paddingPool returns generated request bodies, back to back, at least 64 KiB and four
// times n long.
func paddingPool(n int) []byte {
	if n <= 0 {
		return nil
	}
	gen := NewGenerator(1000, 0, 7)
	var pool []byte
	for i := 0; len(pool) < max(64<<10, 4*n); i++ {
		pool = append(pool, gen.Next(i, time.Time{}).Value...)
	}
	return pool
}
