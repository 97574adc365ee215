package bench

import (
	"context"
	"testing"
	"time"

	"github.com/ordergate/ordergate/processor"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/processor/servicepoint"
	"github.com/ordergate/ordergate/publisher"
)

// memResolver answers from a file inventory without Redis: the CPU of the worker's own
// steps, without I/O.
type memResolver struct{ inv *servicepoint.FileInventory }

func (m memResolver) Resolve(ctx context.Context, ls []order.Lookup) ([][]order.ServicePoint, error) {
	out := make([][]order.ServicePoint, len(ls))
	for i, l := range ls {
		out[i], _ = m.inv.Find(ctx, l)
	}
	return out, nil
}

// BenchmarkBatch measures what the worker does per record besides Kafka and Redis: decide,
// resolve from memory, build the events, for batches of 1000 generated records, the
// publisher's batch (and its arena) reused as the consumer reuses it.
func BenchmarkBatch(b *testing.B) {
	inv, err := servicepoint.ParseFileInventory(Inventory(5000))
	if err != nil {
		b.Fatal(err)
	}
	gen := NewGenerator(5000, 0.1, 1)
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	in := make([]order.Record, 1000)
	var bytes int64
	for i := range in {
		in[i] = gen.Next(i, at)
		in[i].Source = order.Source{Topic: "t", Partition: 1, Offset: int64(i)}
		bytes += int64(len(in[i].Value))
	}
	proc := processor.New(&order.Rules{}, memResolver{inv}, func() time.Time { return at })
	pub := publisher.New(nil, publisher.Topics{Accepted: "a", Rejected: "r", DLQ: "d"}, publisher.DefaultTopicLimit, nil, nil)
	out := make([]processor.Result, len(in))
	var batch *publisher.Batch // reused from batch to batch, as a consumer partition does
	b.SetBytes(bytes)
	b.ReportAllocs()
	for b.Loop() {
		if err := proc.Process(context.Background(), in, out); err != nil {
			b.Fatal(err)
		}
		batch = pub.PrepareInto(batch, out)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(in)), "ns/record")
}
