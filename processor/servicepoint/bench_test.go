package servicepoint

import (
	"context"
	"fmt"
	"testing"

	"github.com/ordergate/ordergate/internal/foundation/testredis"
	"github.com/ordergate/ordergate/processor/order"
)

// BenchmarkResolveWarm resolves a batch of 1000 lookups whose keys are all in Redis (the
// shared one): the steady state of the worker. One in ten keys is a negative entry. The
// figures include the read round trip (a pipeline of bounded reads); ns/lookup and allocs
// are per batch divided by 1000.
func BenchmarkResolveWarm(b *testing.B) {
	for _, distinct := range []int{1000, 100} {
		b.Run(fmt.Sprintf("distinct=%d", distinct), func(b *testing.B) {
			points := make([]order.ServicePoint, 0, distinct)
			for i := range distinct {
				if i%10 != 9 {
					points = append(points, point(fmt.Sprintf("SP-FR-%06d", i)))
				}
			}
			inv, err := NewFileInventory(points)
			if err != nil {
				b.Fatal(err)
			}
			rdb, _ := newClient(b, testredis.Shared(b))
			r := NewResolver(rdb, inv, Options{KeyPrefix: testredis.Prefix(b)})
			lookups := make([]order.Lookup, 1000)
			for i := range lookups {
				lookups[i] = byID(fmt.Sprintf("SP-FR-%06d", i%distinct))
			}
			ctx := context.Background()
			if _, err := r.Resolve(ctx, lookups); err != nil {
				b.Fatal(err)
			}
			before := r.Stats()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Resolve(ctx, lookups); err != nil {
					b.Fatal(err)
				}
			}
			after := r.Stats()
			if calls := after.InventoryCalls - before.InventoryCalls; calls != 0 {
				b.Fatalf("%d inventory calls in a warm benchmark", calls)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(lookups)), "ns/lookup")
			b.ReportMetric(float64(after.RedisRoundTrips-before.RedisRoundTrips)/float64(b.N), "roundtrips/op")
		})
	}
}
