package servicepoint

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ordergate/ordergate/internal/foundation/testredis"
	"github.com/ordergate/ordergate/processor/order"
)

// BenchmarkResolveWarm resolves a batch of 1000 lookups whose keys are all in Redis (a
// server of its own, so that its CPU is the benchmark's alone): the steady state of the
// worker. One in ten keys is a negative entry. The figures include the read round trip (a
// pipeline of bounded reads); ns/lookup and allocs are per batch divided by 1000;
// redis-cpu-ns/lookup is the Redis server's own CPU (INFO cpu, its main thread), which
// shares the machine's cores with the worker.
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
			rdb, _ := newClient(b, testredis.Start(b).Addr())
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
			cpuBefore := serverCPU(b, rdb)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Resolve(ctx, lookups); err != nil {
					b.Fatal(err)
				}
			}
			after := r.Stats()
			cpu := serverCPU(b, rdb) - cpuBefore
			if calls := after.InventoryCalls - before.InventoryCalls; calls != 0 {
				b.Fatalf("%d inventory calls in a warm benchmark", calls)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(lookups)), "ns/lookup")
			b.ReportMetric(float64(after.RedisRoundTrips-before.RedisRoundTrips)/float64(b.N), "roundtrips/op")
			b.ReportMetric(cpu.Seconds()*1e9/float64(b.N*len(lookups)), "redis-cpu-ns/lookup")
		})
	}
}

// serverCPU returns the CPU time the Redis server's main thread has used (INFO cpu).
func serverCPU(b *testing.B, c *redis.Client) time.Duration {
	b.Helper()
	info, err := c.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total float64
	for line := range strings.SplitSeq(info, "\n") {
		for _, k := range []string{"used_cpu_sys_main_thread:", "used_cpu_user_main_thread:"} {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), k); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					b.Fatal(err)
				}
				total += f
			}
		}
	}
	return time.Duration(total * float64(time.Second))
}
