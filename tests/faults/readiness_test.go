package faults

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ordergate/ordergate/internal/app/testkit"
	"github.com/ordergate/ordergate/internal/app/worker"
	"github.com/ordergate/ordergate/internal/foundation/testredis"
)

// readinessBound is the contract's bound (section 8): /readyz reflects a failure within 5
// seconds, and (issue 17) a recovery too.
const readinessBound = 5 * time.Second

// TestKafkaReadiness (issue 17, item 1): /readyz stayed 200 through a Kafka outage, since
// its check was answered from kafka-go's metadata cache. A worker process behind a proxy:
// the broker stopped (the proxy closed: connections refused, the open ones cut), hung
// (replies dropped, connections held) or refusing (each connection reset at once). Within
// 5 s /readyz answers 503 naming Kafka and ordergate_ready is 0; within 5 s of the broker's
// return it answers 200, and the records produced during the outage all get their event.
//
// Broken on purpose (the check back on kafka.Client.Metadata), each case failed with
// `after 10s: 200 "ready", want 503 with ["kafka: "]`.
func TestKafkaReadiness(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		fail, recover func(p *proxy, t testing.TB)
	}{
		{"stopped",
			func(p *proxy, _ testing.TB) { p.Stop() },
			func(p *proxy, t testing.TB) {
				if err := p.Start(); err != nil {
					t.Fatalf("proxy back on %s: %v", p.addr(), err)
				}
			}},
		{"hung", func(p *proxy, t testing.TB) { p.add(t, hang) }, (*proxy).clear},
		{"refusing", func(p *proxy, t testing.TB) { p.add(t, reset) }, (*proxy).clear},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, rigOptions{})
			r.startWorker(t)
			const n = 300
			r.c.Produce(t, records(n/2, 0)...)
			r.c.WaitEvents(t, n/2, time.Minute)

			tc.fail(r.kafka, t)
			down, body := r.waitReadiness(t, http.StatusServiceUnavailable, 2*readinessBound, "kafka: ")
			if down > readinessBound {
				t.Errorf("/readyz turned 503 %v after the broker was %s, want within %v", down, tc.name, readinessBound)
			}
			if v := r.gauge(t, "ordergate_ready"); v != 0 {
				t.Errorf("ordergate_ready = %v while /readyz answers %q, want 0", v, body)
			}
			r.c.Produce(t, records(n/2, 150)...)
			time.Sleep(2 * time.Second) // an outage a little longer than its detection

			tc.recover(r.kafka, t)
			up, _ := r.waitReadiness(t, http.StatusOK, 2*readinessBound)
			if up > readinessBound {
				t.Errorf("/readyz turned 200 %v after the broker's return, want within %v", up, readinessBound)
			}
			waitAll(t, r.c, n, time.Now())
			r.stop(t)
			verify(t, r.c, n)
			t.Logf("READINESS | broker %s | 503 after %v (%q) | 200 again after %v", tc.name,
				down.Round(10*time.Millisecond), body, up.Round(10*time.Millisecond))
		})
	}
}

// TestKafkaReadinessFromConsumerSignals (issue 17, item 1): the brokers answer the probe,
// but the consumer cannot join its group, or cannot fetch: once that has lasted longer
// than health.DefaultSignalAfter, /readyz answers 503 and names the signal; it answers 200
// again once the consumer joins (at once) or its fetches went quiet (health.SignalQuiet).
//
// Broken on purpose (the consumer not reporting its failures), both cases failed with
// `after 40s: 200 "ready", want 503 with ["kafka: ... failing for "]`.
func TestKafkaReadinessFromConsumerSignals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fault kfake.Fault
		want  string
	}{
		{"joins refused", kfake.Fault{Keys: []kmsg.Key{kmsg.FindCoordinator}, Err: kerr.CoordinatorNotAvailable, Count: -1},
			"kafka: consumer group join failing for "},
		{"fetches failing", kfake.Fault{Keys: []kmsg.Key{kmsg.Fetch}, Partitions: []int32{1}, Err: kerr.KafkaStorageError, Count: -1},
			"kafka: fetches of partition 1 failing for "},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			c := testkit.NewCluster(t, 2, nil)
			cfg := testkit.Config(t, c, testredis.Shared(t), testredis.Prefix(t))
			fault := c.Fault(tc.fault)
			w := testkit.StartWorker(t, cfg, worker.Options{Inventory: fileInventory(t)})
			readyz := func() (int, string) { return get("http://" + w.W.Addr() + "/readyz") }
			down, body := waitStatus(t, readyz, http.StatusServiceUnavailable, 40*time.Second, tc.want)
			fault.Remove()
			up, _ := waitStatus(t, readyz, http.StatusOK, 40*time.Second)
			t.Logf("READINESS | %s | 503 after %v (%q) | 200 again %v after the fault's removal", tc.name,
				down.Round(100*time.Millisecond), body, up.Round(100*time.Millisecond))
			c.Produce(t, records(100, 0)...)
			c.WaitEvents(t, 100, time.Minute)
		})
	}
}
