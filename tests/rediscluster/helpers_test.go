package rediscluster

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/internal/app/audit"
	"github.com/ordergate/ordergate/internal/app/produce"
	"github.com/ordergate/ordergate/internal/app/testkit"
	"github.com/ordergate/ordergate/internal/app/worker"
	"github.com/ordergate/ordergate/internal/foundation/testredis"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/processor/servicepoint"
)

// servicePoints is the size of the inventory; the load names them in turn, so that the
// cache keeps missing (write-backs) as well as hitting, over every slot of the cluster.
const servicePoints = 6000

// group is the consumer group of testkit.Config.
const group = "ordergate-test"

func TestMain(m *testing.M) {
	redis.SetLogger(quiet{}) // the test's own clients meet the outages too
	os.Exit(m.Run())
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// inventory is the suite's inventory of servicePoints service points.
func inventory(t *testing.T) *servicepoint.FileInventory { return testkit.Inventory(t, servicePoints) }

// clusterConfig is a worker configuration for a Redis Cluster's nodes, with quick retries.
func clusterConfig(t *testing.T, c *testkit.Cluster, url string, addrs []string) config.Config {
	t.Helper()
	cfg := testkit.Config(t, c, "127.0.0.1:0", testredis.Prefix(t))
	cfg.RedisMode = config.RedisCluster
	cfg.RedisAddrs = addrs
	cfg.RedisURL = config.Secret(url)
	cfg.BatchMaxRecords = 200
	cfg.LogLevel = "info"
	return cfg
}

// sentinelConfig is a worker configuration for a Sentinel deployment.
func sentinelConfig(t *testing.T, c *testkit.Cluster, url string, s *testredis.Sentinel, sentinelPassword string) config.Config {
	t.Helper()
	cfg := testkit.Config(t, c, "127.0.0.1:0", testredis.Prefix(t))
	cfg.RedisMode = config.RedisSentinel
	cfg.RedisAddrs = s.Addrs()
	cfg.RedisMasterName = s.Master()
	cfg.RedisSentinelPassword = config.Secret(sentinelPassword)
	cfg.RedisURL = config.Secret(url)
	cfg.BatchMaxRecords = 200
	cfg.LogLevel = "info"
	return cfg
}

// load produces valid disconnect requests at a steady rate, each naming a service point
// that needs resolution, until stopped.
type load struct {
	t        *testing.T
	w        *kafka.Writer
	produced atomic.Int64
	stop     chan struct{}
	done     chan error
}

// startLoad produces rate records/s to the input topic, 40 keys, in batches every 50 ms.
func startLoad(t *testing.T, c *testkit.Cluster, rate int) *load {
	t.Helper()
	l := &load{t: t, stop: make(chan struct{}), done: make(chan error, 1),
		w: produce.NewWriter(c.Brokers, testkit.Topics.Requests, c.Transport)}
	per := max(1, rate/20)
	go func() {
		defer l.w.Close()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		seq := 0
		for {
			select {
			case <-l.stop:
				l.done <- nil
				return
			case <-tick.C:
			}
			recs := make([]order.Record, per)
			for i := range recs {
				recs[i] = testkit.Record(fmt.Sprintf("customer-%02d", seq%40), testkit.Disconnect(fmt.Sprintf("SP-%d", seq%servicePoints), seq), testkit.RecordTime)
				seq++
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err := produce.Write(ctx, l.w, recs)
			cancel()
			if err != nil {
				l.done <- fmt.Errorf("produce: %w", err)
				return
			}
			l.produced.Add(int64(per))
		}
	}()
	t.Cleanup(func() {
		select {
		case <-l.stop:
		default:
			close(l.stop)
			<-l.done
		}
	})
	return l
}

// Produced returns how many records were acknowledged so far.
func (l *load) Produced() int { return int(l.produced.Load()) }

// Stop ends the load and returns how many records it produced.
func (l *load) Stop() int {
	l.t.Helper()
	close(l.stop)
	if err := <-l.done; err != nil {
		l.t.Fatal(err)
	}
	return l.Produced()
}

// committed returns the records of the input topic committed by the group.
func committed(t *testing.T, c *testkit.Cluster) int {
	t.Helper()
	n := 0
	for _, off := range c.Committed(t, group) {
		if off > 0 {
			n += int(off)
		}
	}
	return n
}

// waitCommitted waits until the group has committed at least n records (then each has its
// event acknowledged) and returns when that happened.
func waitCommitted(t *testing.T, c *testkit.Cluster, n int, timeout time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if got := committed(t, c); got >= n {
			return time.Now()
		}
		if time.Now().After(deadline) {
			t.Fatalf("the group committed %d records after %v, want %d", committed(t, c), timeout, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// row is one line of the scenario table of docs/reliability.md.
type row struct {
	scenario    string
	records     int
	report      *audit.Report
	recoveredIn time.Duration
	note        string
}

func (r row) log(t *testing.T) {
	t.Logf("SCENARIO | %s | records %d | missing %d | wrongly rejected %d | duplicates %d (same eventId) | recovered in %v | %s",
		r.scenario, r.records, r.report.Count("missing"), r.report.Rejected, r.report.Repeats, r.recoveredIn.Round(10*time.Millisecond), r.note)
}

// finish stops the load, waits for every record to be committed, and runs the invariant
// checker: nothing missing, no conflicting ids (duplicates share their eventId), order per
// key kept, every record accepted (each is valid and its service point exists, so any
// rejection is a wrong one), none dead-lettered.
func finish(t *testing.T, c *testkit.Cluster, l *load) (int, *audit.Report) {
	t.Helper()
	n := l.Stop()
	waitCommitted(t, c, n, 3*time.Minute)
	r := c.Check(t, audit.Options{SameDecision: true})
	if r.Inputs != n || r.Rejected != 0 || r.DLQ != 0 || r.Accepted+r.Repeats != r.Events {
		t.Fatalf("%d inputs of %d produced, %d rejected, %d dead-lettered: a Redis fault changed decisions", r.Inputs, n, r.Rejected, r.DLQ)
	}
	return n, r
}

// metric sums the series of a metric of the worker whose labels hold every pair of match.
func metric(t *testing.T, w *testkit.Running, name string, match ...string) float64 {
	t.Helper()
	mfs, err := w.W.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			for i := 0; i+1 < len(match); i += 2 {
				if labels[match[i]] != match[i+1] {
					continue series
				}
			}
			switch {
			case m.GetCounter() != nil:
				total += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				total += m.GetGauge().GetValue()
			}
		}
	}
	return total
}

// byLabel returns the series of a metric by the value of one label.
func byLabel(t *testing.T, w *testkit.Running, name, label string) map[string]float64 {
	t.Helper()
	mfs, err := w.W.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label {
					out[lp.GetValue()] += m.GetCounter().GetValue() + m.GetGauge().GetValue()
				}
			}
		}
	}
	return out
}

// redisErrors summarizes the Redis errors the worker saw, by kind, for the scenario's note.
func redisErrors(t *testing.T, w *testkit.Running) string {
	t.Helper()
	kinds := byLabel(t, w, "ordergate_redis_errors_total", "kind")
	var parts []string
	for k, v := range kinds {
		if v > 0 {
			parts = append(parts, fmt.Sprintf("%s %.0f", k, v))
		}
	}
	sort.Strings(parts)
	if len(parts) == 0 {
		return "no Redis error seen"
	}
	return "Redis errors seen: " + strings.Join(parts, ", ")
}

// readiness polls the worker's /readyz until stop is closed and records whether it ever
// said that Redis was not ready, and the last answer.
type readiness struct {
	mu       sync.Mutex
	redisOut bool
	last     string
	done     chan struct{}
}

func watchReadiness(t *testing.T, w *testkit.Running) (*readiness, func()) {
	t.Helper()
	r := &readiness{done: make(chan struct{})}
	stop := make(chan struct{})
	go func() {
		defer close(r.done)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			body := get(ctx, "http://"+w.W.Addr()+"/readyz")
			cancel()
			r.mu.Lock()
			r.last = body
			if strings.Contains(body, "redis:") {
				r.redisOut = true
			}
			r.mu.Unlock()
		}
	}()
	return r, func() { close(stop); <-r.done }
}

// startWorker runs a worker on cfg with the inventory file of the suite.
func startWorker(t *testing.T, cfg config.Config, inv servicepoint.Inventory) *testkit.Running {
	t.Helper()
	return testkit.StartWorker(t, cfg, worker.Options{Inventory: inv, StartupTimeout: time.Minute})
}

// get returns the status line and body of a GET, or the error.
func get(ctx context.Context, url string) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err.Error()
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.Status + " " + string(b)
}
