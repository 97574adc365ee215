package operations

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/internal/app/produce"
	"github.com/ordergate/ordergate/internal/app/testkit"
	"github.com/ordergate/ordergate/internal/app/worker"
	"github.com/ordergate/ordergate/internal/foundation/samples"
	"github.com/ordergate/ordergate/internal/foundation/testredis"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/processor/servicepoint"
)

// livePartitions is the partition count of every topic of the live worker's broker.
const livePartitions = 3

var liveTopics = struct{ requests, accepted, rejected, dlq string }{
	"orders.requests", "orders.accepted", "orders.rejected", "orders.dlq"}

// liveWorker is one ordergate worker run in-process for the whole test binary, the way
// `ordergate dev` runs it: an embedded kfake broker, the machine's real Redis (its own key
// prefix), the sample inventory, and every sample of internal/foundation/samples/requests that needs no
// clients file, published and decided before any test looks at it. The tests share it
// through live(t); TestMain stops it.
type liveWorker struct {
	w       *worker.Worker
	cluster *kfake.Cluster
	brokers []string
	// published are the samples published, and want how many events each (outcome, code)
	// should have, from the samples' golden events.
	published []samples.Sample
	want      map[outcomeCode]int
	logs      *testkit.Buffer
	cancel    context.CancelFunc
	done      chan error
}

type outcomeCode struct {
	outcome string
	code    string
}

var (
	liveOnce sync.Once
	liveW    *liveWorker
	liveErr  error
)

func TestMain(m *testing.M) {
	// config.Load must see the defaults, whatever the shell exported.
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "ORDERGATE_") && name != testredis.SharedAddrEnv {
			os.Unsetenv(name)
		}
	}
	code := m.Run()
	if liveW != nil {
		if err := liveW.stop(); err != nil {
			fmt.Fprintln(os.Stderr, "operations: stopping the live worker:", err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

// live returns the shared live worker, starting it (and waiting for the samples' events)
// on the first call.
func live(t *testing.T) *liveWorker {
	t.Helper()
	redisAddr := testredis.Shared(t) // fails, with what to do, when no Redis answers
	liveOnce.Do(func() {
		liveW, liveErr = startLive(redisAddr, testredis.Prefix(t))
	})
	if liveErr != nil {
		logs := ""
		if liveW != nil {
			logs = "\nworker log:\n" + liveW.logs.String()
		}
		t.Fatalf("live worker: %v%s", liveErr, logs)
	}
	return liveW
}

func startLive(redisAddr, prefix string) (*liveWorker, error) {
	fsys := samples.Files()
	all, err := samples.Load(fsys)
	if err != nil {
		return nil, fmt.Errorf("samples: %w", err)
	}
	l := &liveWorker{logs: &testkit.Buffer{}, want: map[outcomeCode]int{}, done: make(chan error, 1)}
	for _, s := range all {
		if s.Clients {
			continue // decided with clients.json, which this worker does not load
		}
		l.published = append(l.published, s)
		outcome, code, err := goldenOutcome(fsys, s)
		if err != nil {
			return nil, err
		}
		l.want[outcomeCode{outcome, code}]++
	}
	invData, err := fs.ReadFile(fsys, "inventory.json")
	if err != nil {
		return nil, err
	}
	inv, err := servicepoint.ParseFileInventory(invData)
	if err != nil {
		return nil, fmt.Errorf("sample inventory: %w", err)
	}

	l.cluster, err = kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		return nil, fmt.Errorf("kfake: %w", err)
	}
	for _, topic := range []string{liveTopics.requests, liveTopics.accepted, liveTopics.rejected, liveTopics.dlq} {
		if err := l.cluster.CreateTopic(topic, livePartitions, nil); err != nil {
			l.cluster.Close()
			return nil, fmt.Errorf("kfake topic %s: %w", topic, err)
		}
	}
	l.brokers = l.cluster.ListenAddrs()

	cfg, _, err := config.Load()
	if err != nil {
		l.cluster.Close()
		return nil, fmt.Errorf("default configuration: %w", err)
	}
	cfg.KafkaBrokers = l.brokers
	cfg.KafkaGroupID = "ordergate-sre"
	cfg.TopicRequests, cfg.TopicAccepted, cfg.TopicRejected, cfg.TopicDLQ = liveTopics.requests, liveTopics.accepted, liveTopics.rejected, liveTopics.dlq
	cfg.RedisURL = config.Secret("redis://" + redisAddr + "/0")
	cfg.RedisKeyPrefix = prefix
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.RetryMaxBackoff = 500 * time.Millisecond
	cfg.ShutdownTimeout = 10 * time.Second
	opts, err := cfg.RedisOptions()
	if err != nil {
		l.cluster.Close()
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(l.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	l.w, err = worker.New(ctx, cfg, worker.Options{Logger: log, Inventory: inv, Redis: servicepoint.NewRedisClient(opts)})
	if err != nil {
		cancel()
		l.cluster.Close()
		return nil, fmt.Errorf("worker: %w", err)
	}
	go func() { l.done <- l.w.Run(ctx) }()

	if err := l.produce(l.published); err != nil {
		return l, err
	}
	return l, l.waitSettled(90 * time.Second)
}

// goldenOutcome reads a sample's expected outcome and code label from its golden event,
// else from the manifest (as `ordergate dev` does).
func goldenOutcome(fsys fs.FS, s samples.Sample) (outcome, code string, err error) {
	outcome, c := s.Outcome, s.Code
	data, err := fs.ReadFile(fsys, s.GoldenPath())
	if err == nil {
		var ev struct {
			EventType string `json:"eventType"`
			Errors    []struct {
				Code int `json:"code"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(data, &ev); err != nil {
			return "", "", fmt.Errorf("%s: %w", s.GoldenPath(), err)
		}
		outcome, c = strings.TrimPrefix(ev.EventType, "order."), 0
		if len(ev.Errors) > 0 {
			c = ev.Errors[0].Code
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", "", err
	}
	return outcome, fmt.Sprint(c), nil
}

// produce publishes samples to the input topic, keyed records by murmur2 as Java producers
// do, with their headers and record times.
func (l *liveWorker) produce(list []samples.Sample) error {
	w := produce.NewWriter(l.brokers, liveTopics.requests, nil)
	defer w.Close()
	recs := make([]order.Record, len(list))
	for i := range list {
		recs[i] = testkit.SampleRecord(&list[i])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := produce.Write(ctx, w, recs); err != nil {
		return fmt.Errorf("publishing the samples: %w", err)
	}
	return nil
}

// waitSettled waits until every published sample has its event acknowledged (the outcomes
// add up to the samples), everything fetched is committed, and the worker reports ready.
func (l *liveWorker) waitSettled(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		fams, err := l.w.Registry().Gather()
		if err != nil {
			return err
		}
		events, inFlight, committed, ready := 0.0, -1.0, 0, 0.0
		for _, f := range fams {
			switch f.GetName() {
			case "ordergate_outcomes_total":
				for _, m := range f.GetMetric() {
					events += m.GetCounter().GetValue()
				}
			case "ordergate_in_flight_records":
				inFlight = f.GetMetric()[0].GetGauge().GetValue()
			case "ordergate_committed_offset":
				committed = len(f.GetMetric())
			case "ordergate_ready":
				ready = f.GetMetric()[0].GetGauge().GetValue()
			}
		}
		if int(events) >= len(l.published) && inFlight == 0 && committed > 0 && ready == 1 {
			return nil
		}
		select {
		case err := <-l.done:
			l.done <- err
			return fmt.Errorf("the worker stopped: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %v: %v events of %d samples, %v records in flight, %d partitions committed, ready %v",
				timeout, events, len(l.published), inFlight, committed, ready)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop stops the worker as SIGTERM does and closes the broker.
func (l *liveWorker) stop() error {
	defer l.cluster.Close()
	l.cancel()
	select {
	case err := <-l.done:
		return err
	case <-time.After(30 * time.Second):
		return errors.New("the worker did not stop within 30s")
	}
}

// scrape reads the worker's /metrics over HTTP, as Prometheus does.
func (l *liveWorker) scrape(t *testing.T) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	resp, err := http.Get("http://" + l.w.Addr() + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s\n%s", resp.Status, body)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return fams, string(body)
}

// series describes what a live worker exports: every series name Prometheus stores from its
// /metrics (a histogram's _bucket, _sum and _count, not its base name), each with the label
// names its series carry. Prometheus adds the target's job and instance to all of them.
type series map[string]map[string]bool

// targetLabels are the labels Prometheus attaches to every scraped series.
var targetLabels = map[string]bool{"job": true, "instance": true}

var descName = regexp.MustCompile(`^Desc\{fqName: "([^"]+)"`)
var descVariableLabels = regexp.MustCompile(`variableLabels: \{([^{}]*)\}\}$`)

// exported returns the series of the live worker: the families of its /metrics, with
// their types, and the collectors its registry describes that have no series yet (a
// counter vector before its first increment), taken as counters or gauges with the labels
// they declare.
func (l *liveWorker) exported(t *testing.T) series {
	t.Helper()
	fams, _ := l.scrape(t)
	out := series{}
	add := func(name string, labels ...string) {
		if out[name] == nil {
			out[name] = map[string]bool{}
		}
		for _, lb := range labels {
			out[name][lb] = true
		}
	}
	for name, f := range fams {
		var labels []string
		for _, m := range f.GetMetric() {
			for _, lp := range m.GetLabel() {
				labels = append(labels, lp.GetName())
			}
		}
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM:
			add(name+"_bucket", append(labels, "le")...)
			add(name+"_sum", labels...)
			add(name+"_count", labels...)
		case dto.MetricType_SUMMARY:
			add(name, append(labels, "quantile")...)
			add(name+"_sum", labels...)
			add(name+"_count", labels...)
		default:
			add(name, labels...)
		}
	}
	ch := make(chan *prometheus.Desc)
	go func() {
		l.w.Registry().Describe(ch)
		close(ch)
	}()
	for d := range ch {
		s := d.String()
		m := descName.FindStringSubmatch(s)
		if m == nil {
			t.Fatalf("unreadable descriptor %s", s)
		}
		if _, scraped := fams[m[1]]; scraped {
			continue
		}
		var labels []string
		if v := descVariableLabels.FindStringSubmatch(s); v != nil && v[1] != "" {
			for _, lb := range strings.Split(v[1], ",") {
				labels = append(labels, strings.TrimSuffix(strings.TrimPrefix(lb, "c("), ")"))
			}
		}
		add(m[1], labels...)
	}
	return out
}

// names returns the sorted series names of s.
func (s series) names() []string {
	out := make([]string, 0, len(s))
	for n := range s {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// without returns a copy of s without the named series (to prove the checks catch a
// renamed metric).
func (s series) without(names ...string) series {
	out := series{}
	for n, l := range s {
		out[n] = l
	}
	for _, n := range names {
		delete(out, n)
	}
	return out
}
