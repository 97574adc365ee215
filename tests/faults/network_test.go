package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/Shopify/toxiproxy/v2"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/internal/app/audit"
	"github.com/ordergate/ordergate/internal/app/bench"
	"github.com/ordergate/ordergate/internal/app/testkit"
	"github.com/ordergate/ordergate/internal/foundation/testredis"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/processor/servicepoint"
)

// The network faults: toxiproxy (as a library) between a worker process and each of its
// dependencies, the broker included, so that each can be made slow, hung, reset,
// throttled or cut short while records flow.

// toxiServer carries the logger and metrics every proxy needs; it serves no API.
var toxiServer = toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())

// The toxics log through zerolog's global logger, at trace level: keep the test's output
// to the test.
func init() { zerolog.SetGlobalLevel(zerolog.Disabled) }

// proxy is a toxiproxy proxy on a spare loopback port in front of one upstream address.
type proxy struct {
	*toxiproxy.Proxy
	mu     sync.Mutex
	toxics []string // names of the toxics in place
}

// newProxy starts a proxy to upstream; it stops when the test ends.
func newProxy(t testing.TB, name, upstream string) *proxy {
	t.Helper()
	p := &proxy{Proxy: toxiproxy.NewProxy(toxiServer, name, "127.0.0.1:0", upstream)}
	if err := p.Start(); err != nil {
		t.Fatalf("toxiproxy %s: %v", name, err)
	}
	t.Cleanup(p.Stop)
	return p
}

// addr returns the proxy's listening address (fixed at the first start, so a proxy stopped
// and started again listens where it did).
func (p *proxy) addr() string {
	p.Lock()
	defer p.Unlock()
	return p.Listen
}

// toxic is one toxiproxy toxic: its type, the direction it acts on ("downstream": replies,
// "upstream": requests) and its attributes (see toxiproxy's README).
type toxic struct {
	Type       string         `json:"type"`
	Stream     string         `json:"stream"`
	Attributes map[string]any `json:"attributes"`
}

// The toxics of the matrix.
var (
	latency   = toxic{"latency", "downstream", map[string]any{"latency": 300, "jitter": 100}}
	hang      = toxic{"timeout", "downstream", map[string]any{"timeout": 0}} // data dropped, connections held
	reset     = toxic{"reset_peer", "upstream", map[string]any{"timeout": 0}}
	bandwidth = toxic{"bandwidth", "downstream", map[string]any{"rate": 1}} // 1 KB/s
	truncated = toxic{"limit_data", "downstream", map[string]any{"bytes": 200}}
)

// add puts toxics in place.
func (p *proxy) add(t testing.TB, toxics ...toxic) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, tx := range toxics {
		name := fmt.Sprintf("%s_%d", tx.Type, len(p.toxics))
		body, err := json.Marshal(struct {
			Name string `json:"name"`
			toxic
		}{name, tx})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Toxics.AddToxicJson(bytes.NewReader(body)); err != nil {
			t.Fatalf("toxic %s on %s: %v", body, p.Name, err)
		}
		p.toxics = append(p.toxics, name)
	}
}

// clear removes every toxic.
func (p *proxy) clear(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, name := range p.toxics {
		if err := p.Toxics.RemoveToxic(context.Background(), name); err != nil {
			t.Fatalf("remove toxic %s from %s: %v", name, p.Name, err)
		}
	}
	p.toxics = nil
}

// advertised is a broker's listener that tells clients (in metadata) to connect to another
// address: the proxy in front of it.
type advertised struct {
	net.Listener
	addr net.Addr
}

func (a advertised) Addr() net.Addr { return a.addr }

// proxiedCluster starts a one-broker kfake cluster behind a proxy: the broker advertises
// the proxy's address, so that every connection of a worker (bootstrap, group coordinator,
// partition leader) goes through it, while the test's own clients (producer, checker)
// dial the broker directly and never meet the toxics.
func proxiedCluster(t testing.TB, partitions int) (*testkit.Cluster, *proxy) {
	t.Helper()
	var p *proxy
	var direct string
	listen := func(network, address string) (net.Listener, error) {
		ln, err := net.Listen(network, address)
		if err != nil {
			return nil, err
		}
		direct = ln.Addr().String()
		p = newProxy(t, "kafka", direct)
		at, err := net.ResolveTCPAddr("tcp", p.addr())
		if err != nil {
			ln.Close()
			return nil, err
		}
		return advertised{ln, at}, nil
	}
	c := testkit.NewCluster(t, partitions, nil, kfake.ListenFn(listen))
	proxied := p.addr()
	dial := func(ctx context.Context, network, address string) (net.Conn, error) {
		if address == proxied {
			address = direct
		}
		var d net.Dialer
		return d.DialContext(ctx, network, address)
	}
	c.Dialer = &kafka.Dialer{Timeout: 10 * time.Second, DialFunc: dial}
	transport := &kafka.Transport{Dial: dial}
	c.Transport, c.Client.Transport = transport, transport
	return c, p
}

// inventoryStub serves the inventory over HTTP as the contract's service does (GET
// /servicePoints?id=...); intercept, when set, may answer a request itself (it returns
// true then).
func inventoryStub(t testing.TB, inv servicepoint.Inventory, intercept func(http.ResponseWriter, *http.Request) bool) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if intercept != nil && intercept(w, r) {
			return
		}
		list, err := inv.Find(r.Context(), order.Lookup{Criterion: order.ByID, Value: r.URL.Query().Get("id")})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(list)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// rig is a worker process with a proxy in front of each dependency: Kafka (kfake), Redis
// (the shared redis-server, under a prefix of the test's) and the inventory (an HTTP stub).
type rig struct {
	c                       *testkit.Cluster
	kafka, redis, inventory *proxy
	cfg                     config.Config
	worker                  *testkit.Process
}

// rigOptions change a rig's parts.
type rigOptions struct {
	redisAddr string                                        // the Redis behind the proxy (default: the shared one)
	intercept func(http.ResponseWriter, *http.Request) bool // see inventoryStub
}

// newRig builds the rig; startWorker starts its worker.
func newRig(t *testing.T, opts rigOptions) *rig {
	t.Helper()
	r := &rig{}
	r.c, r.kafka = proxiedCluster(t, 6)
	if opts.redisAddr == "" {
		opts.redisAddr = testredis.Shared(t)
	}
	r.redis = newProxy(t, "redis", opts.redisAddr)
	stub := inventoryStub(t, fileInventory(t), opts.intercept)
	r.inventory = newProxy(t, "inventory", strings.TrimPrefix(stub, "http://"))
	r.cfg = testkit.Config(t, r.c, r.redis.addr(), testredis.Prefix(t))
	r.cfg.InventoryURL = "http://" + r.inventory.addr()
	r.cfg.InventoryTimeout = time.Second
	r.cfg.BatchMaxRecords = 100
	r.cfg.HTTPAddr = spareAddr(t)
	return r
}

func (r *rig) startWorker(t *testing.T) {
	t.Helper()
	r.worker = testkit.StartProcess(t, testkit.Env(t, r.cfg), "run")
	r.waitReady(t, 60*time.Second)
}

// spareAddr returns a loopback address with a port nothing listens on.
func spareAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// readyz returns the status and body of the worker's /readyz (0 when it does not answer).
func (r *rig) readyz() (int, string) { return get("http://" + r.cfg.HTTPAddr + "/readyz") }

// waitReadiness waits until /readyz answers want with every one of contains in its body,
// and returns how long that took and the body.
func (r *rig) waitReadiness(t *testing.T, want int, timeout time.Duration, contains ...string) (time.Duration, string) {
	t.Helper()
	return waitStatus(t, r.readyz, want, timeout, contains...)
}

func (r *rig) waitReady(t *testing.T, timeout time.Duration) {
	r.waitReadiness(t, http.StatusOK, timeout)
}

// get returns the status and the body of a GET (status 0 when nothing answers).
func get(url string) (int, string) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// waitStatus polls probe every 50 ms until it answers want with every one of contains in
// its body; it returns how long that took and the body.
func waitStatus(t *testing.T, probe func() (int, string), want int, timeout time.Duration, contains ...string) (time.Duration, string) {
	t.Helper()
	start := time.Now()
	for {
		status, body := probe()
		if status == want && containsAll(body, contains) {
			return time.Since(start), body
		}
		if time.Since(start) > timeout {
			t.Fatalf("after %v: %d %q, want %d with %q", timeout, status, body, want, contains)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// peakRSS returns the worker process's peak resident memory, in MiB.
func (r *rig) peakRSS() float64 { return bench.PeakRSS(r.worker.Cmd.Process.Pid) }

// stop ends the worker with SIGTERM; it must exit 0 (everything in hand committed).
func (r *rig) stop(t *testing.T) {
	t.Helper()
	_ = r.worker.Cmd.Process.Signal(syscall.SIGTERM)
	if code := r.worker.Wait(t, time.Minute); code != 0 {
		t.Fatalf("worker exit status %d after SIGTERM, want 0", code)
	}
}

// networkFault is one row of the network fault matrix: toxics on one dependency's proxy,
// held while records flow, for hold at least. A row proves that its fault was felt: a
// slowdown lets events out during the fault; an outage makes the worker retry with one of
// causes, and, when notReady is set, makes /readyz answer 503 naming it.
type networkFault struct {
	name     string
	target   func(*rig) *proxy
	toxics   []toxic
	hold     time.Duration
	slowdown bool
	causes   []string
	notReady string
}

func onRedis(r *rig) *proxy     { return r.redis }
func onInventory(r *rig) *proxy { return r.inventory }
func onKafka(r *rig) *proxy     { return r.kafka }

var kafkaCauses = []string{"kafka_fetch", "kafka_produce", "kafka_commit"}

// networkFaults are the rows: each dependency latent, hung, reset, throttled to 1 KB/s
// and cut after 200 bytes of a reply. kafka-go waits 10 s for a hung broker before it
// errs, so a 3 s hang of Kafka shows in readiness, not in retries.
var networkFaults = []networkFault{
	{name: "Redis 300±100 ms latency", target: onRedis, toxics: []toxic{latency}, hold: 3 * time.Second, slowdown: true},
	{name: "Redis hung (replies dropped)", target: onRedis, toxics: []toxic{hang}, hold: 3 * time.Second, causes: []string{"redis"}, notReady: "redis"},
	{name: "Redis connections reset", target: onRedis, toxics: []toxic{reset}, hold: 3 * time.Second, causes: []string{"redis"}, notReady: "redis"},
	{name: "Redis at 1 KB/s", target: onRedis, toxics: []toxic{bandwidth}, hold: 3 * time.Second, causes: []string{"redis"}},
	{name: "Redis replies cut after 200 bytes", target: onRedis, toxics: []toxic{truncated}, hold: 3 * time.Second, causes: []string{"redis"}},
	{name: "inventory 300±100 ms latency", target: onInventory, toxics: []toxic{latency}, hold: 3 * time.Second, slowdown: true},
	{name: "inventory hung past its 1 s timeout", target: onInventory, toxics: []toxic{hang}, hold: 3 * time.Second, causes: []string{"inventory_timeout"}},
	{name: "inventory connections reset", target: onInventory, toxics: []toxic{reset}, hold: 3 * time.Second, causes: []string{"inventory_unavailable"}},
	{name: "inventory at 1 KB/s", target: onInventory, toxics: []toxic{bandwidth}, hold: 3 * time.Second, slowdown: true},
	{name: "inventory replies cut after 200 bytes", target: onInventory, toxics: []toxic{truncated}, hold: 3 * time.Second, causes: []string{"inventory_unavailable", "inventory_body"}},
	{name: "Kafka 300±100 ms latency", target: onKafka, toxics: []toxic{latency}, hold: 3 * time.Second, slowdown: true},
	{name: "Kafka hung (replies dropped)", target: onKafka, toxics: []toxic{hang}, hold: 3 * time.Second, notReady: "kafka"},
	{name: "Kafka connections reset", target: onKafka, toxics: []toxic{reset}, hold: 3 * time.Second, causes: kafkaCauses, notReady: "kafka"},
	// A fetch response is read whole and Kafka returns a record batch whole: at 1 KB/s a
	// batch of the backlog outlasts the fetch timeout, so the fault shows as fetch retries
	// (each with a longer timeout), not as events during it; nothing is lost (verify).
	{name: "Kafka at 1 KB/s", target: onKafka, toxics: []toxic{bandwidth}, hold: 3 * time.Second, causes: []string{"kafka_fetch"}},
	{name: "Kafka replies cut after 200 bytes", target: onKafka, toxics: []toxic{truncated}, hold: 3 * time.Second, causes: kafkaCauses},
}

// TestNetworkFaults runs each row on a rig of its own (in parallel): half the records
// before the fault, half during it (naming service points not cached yet, so that the
// inventory is called and the cache written through the fault), then the fault removed.
// The checker then finds every input with its event, no rejection (every request is
// valid), no repeat with a new id and the order of each key kept.
func TestNetworkFaults(t *testing.T) {
	t.Parallel()
	runNetworkFaults(t, 1200, 0)
}

// runNetworkFaults runs every row with n records, each fault held for hold (or the row's
// own hold when zero).
func runNetworkFaults(t *testing.T, n int, hold time.Duration) {
	for i, f := range networkFaults {
		if hold > 0 {
			f.hold = hold
		}
		t.Run(strings.ReplaceAll(f.name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			r := newRig(t, rigOptions{})
			r.startWorker(t)
			r.c.Produce(t, records(n/2, 0)...)
			r.c.WaitEvents(t, n/4, time.Minute)
			before, retriedBefore := r.c.Events(t), r.retries(t)
			f.target(r).add(t, f.toxics...)
			r.c.Produce(t, records(n/2, 500)...)
			time.Sleep(f.hold)
			r.felt(t, f, before, retriedBefore)
			f.target(r).clear(t)
			recovered := waitAll(t, r.c, n, time.Now())
			rss := r.peakRSS()
			r.stop(t)
			rep := verify(t, r.c, n)
			networkRow{fmt.Sprintf("N%d %s", i+1, f.name), n, rep, recovered, rss}.log(t)
		})
	}
}

// felt waits until the fault is felt (see networkFault), for 20 s at most: the fault is
// held that long then. A hung inventory, say, fails a batch only once its calls, 16 at a
// time, have each waited for their timeout.
func (r *rig) felt(t *testing.T, f networkFault, eventsBefore int, retriedBefore map[string]float64) {
	t.Helper()
	if f.notReady != "" {
		r.waitReadiness(t, http.StatusServiceUnavailable, 10*time.Second, f.notReady)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		retried := r.retries(t)
		var felt []string
		for _, c := range f.causes {
			if retried[c] > retriedBefore[c] {
				felt = append(felt, fmt.Sprintf("%s +%.0f", c, retried[c]-retriedBefore[c]))
			}
		}
		events := r.c.Events(t)
		if (len(f.causes) == 0 || len(felt) > 0) && (!f.slowdown || events > eventsBefore) {
			t.Logf("%s: %d events before the fault, %d at its end; retries %v", f.name, eventsBefore, events, felt)
			return
		}
		if time.Now().After(deadline) {
			if f.slowdown {
				t.Fatalf("%s: no event published during a slowdown (%d before, %d after)", f.name, eventsBefore, events)
			}
			t.Fatalf("%s: no retry with cause %v during the fault (retries %v): the fault was not on the worker's path", f.name, f.causes, retried)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// gauge returns the value of a gauge of the worker (without labels).
func (r *rig) gauge(t *testing.T, name string) float64 {
	t.Helper()
	ms := r.metric(t, name)
	if len(ms) != 1 {
		t.Fatalf("%s: %d series, want 1", name, len(ms))
	}
	return ms[0].GetGauge().GetValue()
}

// retries returns the worker's ordergate_retries_total by cause.
func (r *rig) retries(t *testing.T) map[string]float64 {
	return r.counters(t, "ordergate_retries_total", "cause")
}

// counters returns the values of a counter vector of the worker by the value of label.
func (r *rig) counters(t *testing.T, name, label string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, m := range r.metric(t, name) {
		for _, l := range m.GetLabel() {
			if l.GetName() == label {
				out[l.GetValue()] = m.GetCounter().GetValue()
			}
		}
	}
	return out
}

// metric returns the series of one metric of the worker's /metrics.
func (r *rig) metric(t *testing.T, name string) []*dto.Metric {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + r.cfg.HTTPAddr + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	if f := fams[name]; f != nil {
		return f.GetMetric()
	}
	return nil
}

// networkRow is a row of the network matrix, logged as the docs' table has it.
type networkRow struct {
	scenario  string
	records   int
	report    *audit.Report
	recovered time.Duration
	rssMiB    float64
}

func (r networkRow) log(t *testing.T) {
	t.Logf("MATRIX | %s | records %d | missing %d | wrongly rejected %d | duplicates with a new id %d | same-id repeats %d | recovered in %v | peak RSS %.0f MiB",
		r.scenario, r.records, r.report.Count("missing"), r.report.Rejected, r.report.Count("conflicting-ids"),
		r.report.Repeats, r.recovered.Round(10*time.Millisecond), r.rssMiB)
}
