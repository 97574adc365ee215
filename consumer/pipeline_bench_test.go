package consumer

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ordergate/ordergate/processor"
	"github.com/ordergate/ordergate/processor/order"
)

// slowProcessor takes d per batch, as a Redis round trip does.
type slowProcessor struct{ d time.Duration }

func (s slowProcessor) Process(_ context.Context, in []order.Record, out []processor.Result) error {
	time.Sleep(s.d)
	for i := range in {
		out[i].Record = &in[i]
	}
	return nil
}

// slowPublisher takes d per batch, as a produce round trip does.
type slowPublisher struct{ d time.Duration }

func (slowPublisher) PrepareInto(_ struct{}, _ []processor.Result) struct{} { return struct{}{} }
func (slowPublisher) Release(struct{})                                      {}
func (s slowPublisher) Send(context.Context, struct{}) error {
	time.Sleep(s.d)
	return nil
}

// BenchmarkPartitionPipeline measures one partition's loop on batches of 100 records
// whose decision takes 1 ms (the Redis round trip) and whose publication takes 1 ms (the
// produce round trip), with one batch in hand (no pipeline) and with two or three. It
// reports records/s; CPU is not the bound, so a loaded machine moves it little.
func BenchmarkPartitionPipeline(b *testing.B) {
	const batch = 100
	for _, inHand := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("batches=%d", inHand), func(b *testing.B) {
			items := make([]any, b.N*batch)
			for i := range items {
				items[i] = kafka.Message{Topic: "in", Offset: int64(i), Value: []byte("v")}
			}
			rec := newRecorder()
			cfg := testConfig(rec)
			cfg.BatchMaxRecords, cfg.InFlightBatches = batch, inHand
			c := New(*cfg, slowProcessor{time.Millisecond}, slowPublisher{time.Millisecond})
			var commits commits
			k := newCommitter(&c.cfg, commits.commit)
			p := &partition[struct{}]{c: c, k: k, start: 0}
			k.register(0, 0, &p.committed)
			kctx, stopK := context.WithCancel(context.Background())
			kdone := make(chan struct{})
			go func() { defer close(kdone); k.run(kctx) }()
			stop, stopFetching := context.WithCancel(context.Background())
			life := Lifecycle{Stop: stop, Abandon: context.Background()}.within(context.Background())
			done := make(chan struct{})
			b.ResetTimer()
			start := time.Now()
			go func() {
				defer close(done)
				p.consume(life, &queue{items: items})
			}()
			for p.committed.Load() < int64(len(items)) {
				time.Sleep(100 * time.Microsecond)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			stopFetching()
			<-done
			life.release()
			stopK()
			<-kdone
			b.ReportMetric(float64(len(items))/elapsed.Seconds(), "records/s")
		})
	}
}
