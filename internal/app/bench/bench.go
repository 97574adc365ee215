package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ordergate/ordergate/internal/app/produce"
	"github.com/ordergate/ordergate/internal/foundation/syncbuf"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/processor/servicepoint"
)

// Options configure a run.
type Options struct {
	// Binary is the ordergate executable run as the worker and as the ceiling.
	Binary string
	// Records is the number of generated records (default 200000).
	Records int
	// Partitions of the input topic (default 6).
	Partitions int
	// InvalidRatio is the share of invalid requests (default 0.1).
	InvalidRatio float64
	// RedisAddr is the Redis of the worker (default 127.0.0.1:6379).
	RedisAddr string
	// RedisCluster, when set, are seed nodes of a Redis Cluster the worker uses instead of
	// RedisAddr (ORDERGATE_REDIS_MODE=cluster): the phases then report the round trips per
	// batch to each node.
	RedisCluster []string
	// ServicePoints is the size of the generated inventory (default 50000).
	ServicePoints int
	// Rate is the produce rate of the paced phase in records/s; 0 runs three paced phases,
	// at a tenth, a quarter and half of the warm rate; negative skips them.
	Rate int
	// PacedSeconds is the length of the paced phase (default 10).
	PacedSeconds int
	// ProfileDir, when set, receives a CPU profile of each phase's process.
	ProfileDir string
	// Tracing lists settings of tracing, each run as a warm phase after the warm one:
	// TracingOff, or a sampler ratio from 0 to 1 ("1" traces every record, "0.01" one in a
	// hundred) exporting to a sink in the bench's process. Empty: none.
	Tracing []string
	// Compression lists codecs of ORDERGATE_KAFKA_COMPRESSION (none, gzip, snappy, lz4,
	// zstd), each run as one more warm phase after the warm one. Empty: none.
	Compression []string
	// Sweep, when set, replaces the whole run by one passthrough phase per entry, each the
	// flags of `ordergate bench-passthrough` (its reader and writer settings): the sweep
	// that chose DefaultPassthrough.
	Sweep [][]string
	// Progress receives progress output; Terminal draws a bar instead of lines.
	Progress io.Writer
	Terminal bool
}

func (o *Options) defaults() {
	if o.Records <= 0 {
		o.Records = 200000
	}
	if o.Partitions <= 0 {
		o.Partitions = 6
	}
	if o.InvalidRatio < 0 || o.InvalidRatio > 1 {
		o.InvalidRatio = 0.1
	}
	if o.RedisAddr == "" {
		o.RedisAddr = "127.0.0.1:6379"
	}
	if o.ServicePoints <= 0 {
		o.ServicePoints = 50000
	}
	if o.PacedSeconds <= 0 {
		o.PacedSeconds = 10
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
}

// Phase is what one process measured.
type Phase struct {
	Name              string  `json:"name"`
	Records           int     `json:"records"`
	Seconds           float64 `json:"seconds"`
	RecordsPerSecond  float64 `json:"recordsPerSecond"`
	CPUSecondsPer100k float64 `json:"cpuSecondsPer100k"`
	// CPUMicrosPerRecord is the process's CPU time (user and system, rusage) per record.
	CPUMicrosPerRecord float64 `json:"cpuMicrosPerRecord"`
	PeakRSSMiB         float64 `json:"peakRssMiB"`
	// BytesPerRecord is what each output record weighs, key, value and headers, before
	// compression; LogBytesPerRecord is what the broker's log holds per record (record
	// batches as written: compressed, with their framing).
	BytesPerRecord     float64 `json:"bytesWrittenPerRecord"`
	LogBytesPerRecord  float64 `json:"logBytesPerRecord"`
	LatencyP50Ms       float64 `json:"latencyP50Ms"`
	LatencyP99Ms       float64 `json:"latencyP99Ms"`
	LatencyMaxMs       float64 `json:"latencyMaxMs"`
	RedisTripsPerBatch float64 `json:"redisRoundTripsPerBatch"`
	// RedisNodeTripsPerBatch are the exchanges per batch with each Redis node (on a cluster
	// a logical round trip is one exchange per node involved, sent at once), and
	// RedisExchangesPerBatch their sum.
	RedisNodeTripsPerBatch map[string]float64 `json:"redisNodeRoundTripsPerBatch,omitempty"`
	RedisExchangesPerBatch float64            `json:"redisExchangesPerBatch"`
	RecordsPerBatch        float64            `json:"recordsPerBatch"`
	Batches                float64            `json:"batches"`
	InventoryCalls         float64            `json:"inventoryCalls"`
	Accepted               int                `json:"accepted"`
	Rejected               int                `json:"rejected"`
	Rate                   int                `json:"producedPerSecond,omitempty"`
	Tracing                string             `json:"tracing,omitempty"`
	SpansPerRecord         float64            `json:"spansPerRecord,omitempty"`
	// Compression is the codec of the phase's writer when the phase sets one.
	Compression string `json:"compression,omitempty"`
	// Settings are the passthrough's flags (a sweep row) or its padding.
	Settings string `json:"settings,omitempty"`
}

// Ceilings are the referee's rows: the plain kafka-go read-and-forward (Passthrough), the
// same writing values padded to the weight of the warm phase's events (Weighted), and
// ordergate's own consumer loop and writer forwarding records unchanged (Loop).
type Ceilings struct {
	Passthrough Phase `json:"passthrough"`
	Weighted    Phase `json:"weighted"`
	Loop        Phase `json:"loop"`
}

// Ratios compare records/s of the phases with the referee's rows.
type Ratios struct {
	WarmToWeighted    float64 `json:"warmToWeighted"`
	WarmToPassthrough float64 `json:"warmToPassthrough"`
	ColdToWeighted    float64 `json:"coldToWeighted"`
	LoopToPassthrough float64 `json:"loopToPassthrough"`
}

// Report is the result of a run.
type Report struct {
	Machine    string   `json:"machine"`
	Records    int      `json:"records"`
	Partitions int      `json:"partitions"`
	Invalid    float64  `json:"invalidRatio"`
	Ceilings   Ceilings `json:"ceilings"`
	Cold       Phase    `json:"cold"`
	Warm       Phase    `json:"warm"`
	Ratios     Ratios   `json:"ratios"`
	// Compression are the warm phase again with each codec of Options.Compression.
	Compression []Phase `json:"compression,omitempty"`
	Paced       []Phase `json:"paced,omitempty"`
	Traced      []Phase `json:"traced,omitempty"`
	// Sweep are the passthrough rows of Options.Sweep (then the report has nothing else).
	Sweep []Phase `json:"sweep,omitempty"`
}

// ratio is a/b, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

// Run runs, each as its own process, the referee's passthrough and loop, the cold and warm
// worker, the weighted passthrough (after the warm phase, whose events it weighs), the
// compression and tracing phases asked for and the paced phases; or only the sweep. It
// checks first that Redis answers: a worker without Redis would wait, and the run with it.
func Run(ctx context.Context, o Options) (*Report, error) {
	o.defaults()
	if o.ProfileDir != "" {
		// A phase whose profile cannot be written dies at start; the bench would then wait
		// for its events for ever.
		if err := os.MkdirAll(o.ProfileDir, 0o755); err != nil {
			return nil, fmt.Errorf("--profile %s: %v", o.ProfileDir, err)
		}
	}
	if err := pingRedis(o.RedisAddr, 3*time.Second); err != nil {
		return nil, fmt.Errorf("Redis at %s does not answer (%v): start redis-server there, or pass --redis HOST:PORT", o.RedisAddr, err)
	}
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		return nil, err
	}
	defer cluster.Close()
	brokers := cluster.ListenAddrs()
	dir, err := os.MkdirTemp("", "ordergate-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	// The inventory is a service of the bench process, as in production: the worker
	// holds none of it, and its misses cost an HTTP call.
	inv, err := servicepoint.ParseFileInventory(Inventory(o.ServicePoints))
	if err != nil {
		return nil, err
	}
	invSrv := httptest.NewServer(inventoryHandler(inv))
	defer invSrv.Close()
	topics := []string{"bench.requests", "bench.passthrough", "bench.weighted", "bench.loop",
		"bench.paced0.requests", "bench.paced1.requests", "bench.paced2.requests"}
	phases := []string{"cold", "warm", "paced0", "paced1", "paced2"}
	for i, setting := range o.Tracing {
		name, err := tracingPhase(setting)
		if err != nil {
			return nil, err
		}
		phases = append(phases, fmt.Sprintf("%s-%d", name, i))
	}
	for _, codec := range o.Compression {
		if !slices.Contains(codecs, codec) {
			return nil, fmt.Errorf("compression %q: one of %s", codec, strings.Join(codecs, ", "))
		}
		phases = append(phases, "warm-"+codec)
	}
	for i := range o.Sweep {
		topics = append(topics, fmt.Sprintf("bench.sweep%d", i))
	}
	for _, phase := range phases {
		for _, kind := range []string{"accepted", "rejected", "dlq"} {
			topics = append(topics, "bench."+phase+"."+kind)
		}
	}
	for _, t := range topics {
		if err := cluster.CreateTopic(t, int32(o.Partitions), nil); err != nil {
			return nil, err
		}
	}
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 30 * time.Second}
	admin, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	r := &Report{Machine: fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version()),
		Records: o.Records, Partitions: o.Partitions, Invalid: o.InvalidRatio}

	fmt.Fprintf(o.Progress, "producing %d records to %d partitions...\n", o.Records, o.Partitions)
	gen := NewGenerator(o.ServicePoints, o.InvalidRatio, 1)
	if err := feed(ctx, brokers, "bench.requests", o.Records, gen, time.Now, 0); err != nil {
		return nil, err
	}
	prefix := fmt.Sprintf("ordergate-bench:%d:%d:", os.Getpid(), time.Now().UnixNano())
	base := env{brokers: brokers, redis: o.RedisAddr, cluster: o.RedisCluster, prefix: prefix, inventory: invSrv.URL}

	run := func(name string, kind processKind, outs []string, args, extra []string) (Phase, error) {
		e := base
		e.group, e.in, e.outs, e.args, e.extra = "bench-"+name, "bench.requests", outs, args, extra
		p, err := runPhase(ctx, o, client, name, kind, e, o.Records)
		if err == nil {
			p.LogBytesPerRecord, err = logBytesPerRecord(ctx, admin, outs, p.Records)
		}
		return p, err
	}
	if len(o.Sweep) > 0 {
		for i, args := range o.Sweep {
			p, err := run(fmt.Sprintf("sweep%d", i), passthroughProcess, []string{fmt.Sprintf("bench.sweep%d", i)}, args, nil)
			if err != nil {
				return nil, err
			}
			p.Settings = strings.Join(args, " ")
			r.Sweep = append(r.Sweep, p)
		}
		return r, nil
	}
	if r.Ceilings.Passthrough, err = run("passthrough", passthroughProcess, []string{"bench.passthrough"}, nil, nil); err != nil {
		return nil, err
	}
	if r.Ceilings.Loop, err = run("loop", loopProcess, []string{"bench.loop"}, nil, nil); err != nil {
		return nil, err
	}
	out := func(p string) []string {
		return []string{"bench." + p + ".accepted", "bench." + p + ".rejected", "bench." + p + ".dlq"}
	}
	if r.Cold, err = run("cold", workerProcess, out("cold"), nil, nil); err != nil {
		return nil, err
	}
	if r.Warm, err = run("warm", workerProcess, out("warm"), nil, nil); err != nil {
		return nil, err
	}
	// The weight-matched ceiling runs after the warm phase, whose events it weighs.
	pad := max(0, int(math.Round(r.Warm.BytesPerRecord-r.Ceilings.Passthrough.BytesPerRecord)))
	padding := []string{"--pad", strconv.Itoa(pad)}
	if r.Ceilings.Weighted, err = run("weighted", passthroughProcess, []string{"bench.weighted"}, padding, nil); err != nil {
		return nil, err
	}
	r.Ceilings.Weighted.Settings = strings.Join(padding, " ")
	for _, codec := range o.Compression {
		p, err := run("warm-"+codec, workerProcess, out("warm-"+codec), nil, []string{"ORDERGATE_KAFKA_COMPRESSION=" + codec})
		if err != nil {
			return nil, err
		}
		p.Compression = codec
		r.Compression = append(r.Compression, p)
	}
	if len(o.Tracing) > 0 {
		sink := newSpanSink()
		defer sink.Close()
		for i, setting := range o.Tracing {
			name, _ := tracingPhase(setting)
			phase := fmt.Sprintf("%s-%d", name, i)
			e := base
			e.group, e.in, e.outs, e.extra = "bench-"+phase, "bench.requests", out(phase), tracingVars(setting, sink.URL)
			before := sink.spans.Load()
			p, err := runPhase(ctx, o, client, name, workerProcess, e, o.Records)
			if err != nil {
				return nil, err
			}
			p.Tracing = setting
			p.SpansPerRecord = float64(sink.spans.Load()-before) / float64(o.Records)
			r.Traced = append(r.Traced, p)
		}
	}
	c := r.Ceilings
	r.Ratios = Ratios{
		WarmToWeighted:    ratio(r.Warm.RecordsPerSecond, c.Weighted.RecordsPerSecond),
		WarmToPassthrough: ratio(r.Warm.RecordsPerSecond, c.Passthrough.RecordsPerSecond),
		ColdToWeighted:    ratio(r.Cold.RecordsPerSecond, c.Weighted.RecordsPerSecond),
		LoopToPassthrough: ratio(c.Loop.RecordsPerSecond, c.Passthrough.RecordsPerSecond),
	}
	var rates []int
	switch {
	case o.Rate > 0:
		rates = []int{o.Rate}
	case o.Rate == 0:
		for _, f := range []float64{0.1, 0.25, 0.5} {
			rates = append(rates, max(1, int(r.Warm.RecordsPerSecond*f)))
		}
	}
	for i, rate := range rates {
		name := fmt.Sprintf("paced%d", i)
		e := base
		e.group, e.in, e.outs = "bench-"+name, "bench."+name+".requests", out(name)
		p, err := runPaced(ctx, o, client, e, brokers, rate, rate*o.PacedSeconds)
		if err == nil {
			p.LogBytesPerRecord, err = logBytesPerRecord(ctx, admin, e.outs, p.Records)
		}
		if err != nil {
			return nil, err
		}
		r.Paced = append(r.Paced, p)
	}
	return r, nil
}

// inventoryHandler serves GET /servicePoints?{criterion}={value} from an inventory.
func inventoryHandler(inv *servicepoint.FileInventory) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, c := range []order.Criterion{order.ByID, order.ByReference, order.ByCustomerReference} {
			if v := r.URL.Query().Get(string(c)); v != "" {
				list, _ := inv.Find(r.Context(), order.Lookup{Criterion: c, Value: v})
				w.Header().Set("Content-Type", "application/json")
				_ = json.NewEncoder(w).Encode(list)
				return
			}
		}
		http.Error(w, "no criterion", http.StatusBadRequest)
	})
}

// feed writes n generated records; with rate > 0 it paces them at rate records/s, every
// 5 ms, from a pool generated beforehand so that generating records does not take the CPU
// the worker runs on (the pool's bodies repeat; their keys, offsets and times do not).
func feed(ctx context.Context, brokers []string, topic string, n int, gen *Generator, now func() time.Time, rate int) error {
	w := produce.NewWriter(brokers, topic, nil)
	defer w.Close()
	chunk := produce.Chunk
	interval := time.Duration(0)
	pool := 0
	if rate > 0 {
		chunk = max(1, rate/200)
		interval = time.Duration(float64(time.Second) * float64(chunk) / float64(rate))
		pool = min(n, 20000)
	}
	var pooled []kafka.Message
	for i := range pool {
		rec := gen.Next(i, time.Time{})
		pooled = append(pooled, produce.Message(&rec))
	}
	start := time.Now()
	msgs := make([]kafka.Message, 0, chunk)
	for i := 0; i < n; {
		msgs = msgs[:0]
		at := now()
		for ; i < n && len(msgs) < chunk; i++ {
			var m kafka.Message
			if pool > 0 {
				m = pooled[i%pool]
				m.Key = fmt.Appendf(nil, "K-%07d", i%20000)
			} else {
				rec := gen.Next(i, at)
				m = produce.Message(&rec)
			}
			m.Time = at
			msgs = append(msgs, m)
		}
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			return fmt.Errorf("produce: %w", err)
		}
		if interval > 0 {
			next := start.Add(time.Duration(i/chunk) * interval)
			if d := time.Until(next); d > 0 {
				time.Sleep(d)
			}
		}
	}
	return nil
}

// env is the configuration of one phase's process.
type env struct {
	brokers                  []string
	redis, prefix, inventory string
	cluster                  []string // seed nodes of a Redis Cluster, instead of redis
	group, in                string
	outs                     []string
	httpAddr                 string
	args                     []string // more flags of the process
	extra                    []string // more variables (OTEL_*, ORDERGATE_KAFKA_COMPRESSION)
}

// processKind is what a phase's process runs.
type processKind int

const (
	workerProcess      processKind = iota // ordergate run
	loopProcess                           // ordergate bench-ceiling: the worker's loop forwarding
	passthroughProcess                    // ordergate bench-passthrough: plain kafka-go
)

// codecs are the values of ORDERGATE_KAFKA_COMPRESSION.
var codecs = []string{"none", "gzip", "snappy", "lz4", "zstd"}

func (e env) vars(kind processKind) []string {
	v := []string{
		"ORDERGATE_KAFKA_BROKERS=" + strings.Join(e.brokers, ","),
		"ORDERGATE_KAFKA_GROUP_ID=" + e.group,
		"ORDERGATE_TOPIC_REQUESTS=" + e.in,
		"ORDERGATE_REDIS_KEY_PREFIX=" + e.prefix,
		"ORDERGATE_INVENTORY_URL=" + e.inventory,
		"ORDERGATE_HTTP_ADDR=" + e.httpAddr,
		"ORDERGATE_LOG_LEVEL=warn",
	}
	if len(e.cluster) > 0 {
		v = append(v, "ORDERGATE_REDIS_MODE=cluster", "ORDERGATE_REDIS_ADDRS="+strings.Join(e.cluster, ","), "ORDERGATE_REDIS_URL=redis:///0")
	} else {
		v = append(v, "ORDERGATE_REDIS_URL=redis://"+e.redis+"/0")
	}
	if kind != workerProcess {
		// The referee writes only to its one topic; the other two names must exist.
		v = append(v, "ORDERGATE_TOPIC_ACCEPTED="+e.outs[0], "ORDERGATE_TOPIC_REJECTED=bench.cold.rejected",
			"ORDERGATE_TOPIC_DLQ=bench.cold.dlq")
	} else {
		v = append(v, "ORDERGATE_TOPIC_ACCEPTED="+e.outs[0], "ORDERGATE_TOPIC_REJECTED="+e.outs[1], "ORDERGATE_TOPIC_DLQ="+e.outs[2])
	}
	return v
}

// process is a running phase process.
type process struct {
	cmd    *exec.Cmd
	stderr *syncbuf.Buffer // read while the process writes it
	http   string
}

func start(o Options, e env, name string, kind processKind) (*process, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e.httpAddr = l.Addr().String()
	l.Close()
	args := []string{"run"}
	switch kind {
	case loopProcess:
		args = []string{"bench-ceiling"}
	case passthroughProcess:
		args = []string{"bench-passthrough"}
	}
	args = append(args, e.args...)
	if o.ProfileDir != "" {
		args = append(args, "--cpuprofile", filepath.Join(o.ProfileDir, name+".pprof"))
	}
	cmd := exec.Command(o.Binary, args...)
	for _, kv := range os.Environ() {
		if inherited(kv) {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, e.vars(kind)...)
	cmd.Env = append(cmd.Env, e.extra...)
	p := &process{cmd: cmd, stderr: &syncbuf.Buffer{}, http: e.httpAddr}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return p, nil
}

// PeakRSS returns the peak resident set size (VmHWM) of a running process, in MiB, or 0
// when it cannot be read. The rusage of a child is no use for this: Linux carries the
// parent's peak RSS over fork and exec into it.
func PeakRSS(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

// stop ends the process with SIGTERM and returns its CPU time and peak RSS; its exit status
// does not matter.
func (p *process) stop() (cpu time.Duration, rss float64, err error) {
	rss = PeakRSS(p.cmd.Process.Pid)
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
	ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, 0, errors.New("no resource usage")
	}
	cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return cpu, rss, nil
}

// nodeTrips is the metric of the exchanges with each Redis node.
const nodeTrips = "ordergate_redis_node_round_trips_total"

// scrape reads counters from the process's /metrics, each summed over its labels, and the
// exchanges with each Redis node as nodeTrips+"/"+node.
func (p *process) scrape() map[string]float64 {
	out := map[string]float64{}
	resp, err := http.Get("http://" + p.http + "/metrics")
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		f, _ := strconv.ParseFloat(value, 64)
		if node, ok := strings.CutPrefix(name, nodeTrips+`{node="`); ok {
			out[nodeTrips+"/"+strings.TrimSuffix(node, `"}`)] = f
		}
		if i := strings.IndexByte(name, '{'); i >= 0 {
			name = name[:i]
		}
		out[name] += f
	}
	return out
}

func runPhase(ctx context.Context, o Options, client *kafka.Client, name string, kind processKind, e env, n int) (Phase, error) {
	ph := Phase{Name: name, Records: n}
	p, err := start(o, e, name, kind)
	if err != nil {
		return ph, err
	}
	bar := newProgress(o.Progress, o.Terminal, name, n)
	stall := newStallWatch(name, time.Now())
	for {
		got, err := countAll(ctx, client, e.outs)
		if err == nil {
			bar.update(got)
			if got >= n {
				break
			}
		}
		if msg, giveUp := stall.check(got, n, time.Now(), p.lastLines()); msg != "" {
			fmt.Fprintln(o.Progress, msg)
			if giveUp {
				_, _, _ = p.stop()
				return ph, errors.New(msg)
			}
		}
		if p.cmd.ProcessState != nil {
			return ph, fmt.Errorf("%s: the process exited: %s", name, p.stderr.String())
		}
		select {
		case <-ctx.Done():
			_, _, _ = p.stop()
			return ph, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	bar.done()
	m := p.scrape()
	// The exit status is not a measure: a process SIGTERMed with work in retries exits 1.
	cpu, rss, err := p.stop()
	if err != nil {
		return ph, err
	}
	ph.PeakRSSMiB = rss
	ph.cpu(cpu, n)
	ph.batchFigures(m)
	st, err := readOutputs(ctx, e.brokers, client, e.outs, kind == workerProcess)
	if err != nil {
		return ph, err
	}
	st.fill(&ph)
	return ph, nil
}

// cpu fills the CPU figures of a phase of n records.
func (ph *Phase) cpu(cpu time.Duration, n int) {
	ph.CPUSecondsPer100k = cpu.Seconds() * 100000 / float64(n)
	ph.CPUMicrosPerRecord = float64(cpu.Microseconds()) / float64(n)
}

// logBytesPerRecord is what the broker's log holds for topics (DescribeLogDirs: the record
// batches as written, compressed), per record of n.
func logBytesPerRecord(ctx context.Context, admin *kgo.Client, topics []string, n int) (float64, error) {
	req := kmsg.NewPtrDescribeLogDirsRequest() // every topic: kfake then needs no partition list
	resp, err := req.RequestWith(ctx, admin)
	if err != nil {
		return 0, fmt.Errorf("describe log dirs: %w", err)
	}
	var size int64
	for _, d := range resp.Dirs {
		for _, t := range d.Topics {
			if !slices.Contains(topics, t.Topic) {
				continue
			}
			for _, p := range t.Partitions {
				size += p.Size
			}
		}
	}
	if n == 0 {
		return 0, nil
	}
	return float64(size) / float64(n), nil
}

// batchFigures fills the per-batch figures of a phase from its process's metrics.
func (ph *Phase) batchFigures(m map[string]float64) {
	ph.Batches = m["ordergate_batch_size_count"]
	ph.InventoryCalls = m["ordergate_inventory_calls_total"]
	if ph.Batches == 0 {
		return
	}
	ph.RecordsPerBatch = m["ordergate_batch_size_sum"] / ph.Batches
	ph.RedisTripsPerBatch = m["ordergate_redis_round_trips_total"] / ph.Batches
	ph.RedisExchangesPerBatch = m[nodeTrips] / ph.Batches
	for k, v := range m {
		if node, ok := strings.CutPrefix(k, nodeTrips+"/"); ok && v > 0 {
			if ph.RedisNodeTripsPerBatch == nil {
				ph.RedisNodeTripsPerBatch = map[string]float64{}
			}
			ph.RedisNodeTripsPerBatch[node] = v / ph.Batches
		}
	}
}

// runPaced starts the worker, then produces at a fixed rate and measures latency.
func runPaced(ctx context.Context, o Options, client *kafka.Client, e env, brokers []string, rate, n int) (Phase, error) {
	name := strings.TrimPrefix(e.group, "bench-")
	ph := Phase{Name: name, Records: n, Rate: rate}
	p, err := start(o, e, name, workerProcess)
	if err != nil {
		return ph, err
	}
	time.Sleep(2 * time.Second) // join the group before producing
	fmt.Fprintf(o.Progress, "%s: producing %d records/s for %ds\n", name, rate, o.PacedSeconds)
	gen := NewGenerator(o.ServicePoints, o.InvalidRatio, 2)
	produced := time.Now()
	if err := feed(ctx, brokers, e.in, n, gen, time.Now, rate); err != nil {
		_, _, _ = p.stop()
		return ph, err
	}
	if got, err := countAll(ctx, client, e.outs); err == nil {
		if msg := behind(name, got, n, rate, time.Since(produced)); msg != "" {
			fmt.Fprintln(o.Progress, msg)
		}
	}
	deadline := time.Now().Add(2 * time.Minute)
	stall := newStallWatch(name, time.Now())
	for {
		got, err := countAll(ctx, client, e.outs)
		if err == nil && got >= n {
			break
		}
		if msg, giveUp := stall.check(got, n, time.Now(), p.lastLines()); msg != "" {
			fmt.Fprintln(o.Progress, msg)
			if giveUp {
				_, _, _ = p.stop()
				return ph, errors.New(msg)
			}
		}
		if time.Now().After(deadline) {
			_, _, _ = p.stop()
			return ph, fmt.Errorf("%s: %d of %d events after 2 minutes", name, got, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	m := p.scrape()
	cpu, rss, _ := p.stop()
	ph.PeakRSSMiB = rss
	ph.batchFigures(m)
	ph.cpu(cpu, n)
	st, err := readOutputs(ctx, e.brokers, client, e.outs, true)
	if err != nil {
		return ph, err
	}
	st.fill(&ph)
	return ph, nil
}

// countAll sums the records of topics.
func countAll(ctx context.Context, client *kafka.Client, topics []string) (int, error) {
	req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return 0, err
	}
	for _, t := range meta.Topics {
		for _, p := range t.Partitions {
			req.Topics[t.Name] = append(req.Topics[t.Name], kafka.LastOffsetOf(p.ID))
		}
	}
	resp, err := client.ListOffsets(ctx, req)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, ps := range resp.Topics {
		for _, po := range ps {
			n += int(po.LastOffset)
		}
	}
	return n, nil
}

// outputStats are measured from the output records.
type outputStats struct {
	records            int
	bytes              int64
	first, last        time.Time
	latencies          []time.Duration
	accepted, rejected int
}

func (s *outputStats) fill(ph *Phase) {
	if s.records == 0 {
		return
	}
	ph.BytesPerRecord = float64(s.bytes) / float64(s.records)
	ph.Seconds = s.last.Sub(s.first).Seconds()
	if ph.Seconds > 0 {
		ph.RecordsPerSecond = float64(s.records) / ph.Seconds
	}
	ph.Accepted, ph.Rejected = s.accepted, s.rejected
	if len(s.latencies) > 0 {
		slices.Sort(s.latencies)
		q := func(f float64) float64 {
			return float64(s.latencies[int(f*float64(len(s.latencies)-1))].Microseconds()) / 1000
		}
		ph.LatencyP50Ms, ph.LatencyP99Ms, ph.LatencyMaxMs = q(0.5), q(0.99), q(1)
	}
}

// readOutputs reads every output record: sizes, write times and, for events, the latency
// from the input's timestamp to the event's write time.
func readOutputs(ctx context.Context, brokers []string, client *kafka.Client, topics []string, events bool) (*outputStats, error) {
	st := &outputStats{}
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return nil, err
	}
	for _, t := range meta.Topics {
		for _, p := range t.Partitions {
			resp, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{t.Name: {kafka.LastOffsetOf(p.ID)}}})
			if err != nil {
				return nil, err
			}
			last := resp.Topics[t.Name][0].LastOffset
			if last == 0 {
				continue
			}
			r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: t.Name, Partition: p.ID, MaxBytes: 16 << 20, MaxWait: 50 * time.Millisecond})
			for {
				m, err := r.FetchMessage(ctx)
				if err != nil {
					r.Close()
					return nil, err
				}
				st.records++
				st.bytes += int64(len(m.Key) + len(m.Value))
				for _, h := range m.Headers {
					st.bytes += int64(len(h.Key) + len(h.Value))
				}
				if st.first.IsZero() || m.Time.Before(st.first) {
					st.first = m.Time
				}
				if m.Time.After(st.last) {
					st.last = m.Time
				}
				if events {
					if strings.HasSuffix(t.Name, ".accepted") {
						st.accepted++
					} else if strings.HasSuffix(t.Name, ".rejected") {
						st.rejected++
					}
					if ts, ok := sourceTime(m.Value); ok {
						st.latencies = append(st.latencies, m.Time.Sub(ts))
					}
				}
				if m.Offset+1 >= last {
					break
				}
			}
			r.Close()
		}
	}
	return st, nil
}

// sourceTime finds source.timestamp in an event without decoding it all.
func sourceTime(v []byte) (time.Time, bool) {
	i := bytes.Index(v, []byte(`"source":{`))
	if i < 0 {
		return time.Time{}, false
	}
	j := bytes.Index(v[i:], []byte(`"timestamp":"`))
	if j < 0 {
		return time.Time{}, false
	}
	start := i + j + len(`"timestamp":"`)
	end := bytes.IndexByte(v[start:], '"')
	if end < 0 {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(v[start:start+end]))
	return t, err == nil
}

// progress shows how far a phase is.
type progress struct {
	w        io.Writer
	terminal bool
	name     string
	n        int
	last     int
	start    time.Time
}

func newProgress(w io.Writer, terminal bool, name string, n int) *progress {
	return &progress{w: w, terminal: terminal, name: name, n: n, start: time.Now(), last: -1}
}

func (p *progress) update(got int) {
	pct := got * 100 / max(p.n, 1)
	if p.terminal {
		width := 30
		filled := pct * width / 100
		fmt.Fprintf(p.w, "\r%-8s [%s%s] %3d%% %d/%d", p.name, strings.Repeat("=", filled), strings.Repeat(" ", width-filled), pct, got, p.n)
		return
	}
	if step := pct / 25; step != p.last {
		p.last = step
		fmt.Fprintf(p.w, "%s: %d/%d events (%d%%) after %.1fs\n", p.name, got, p.n, pct, time.Since(p.start).Seconds())
	}
}

func (p *progress) done() {
	if p.terminal {
		fmt.Fprintln(p.w)
	}
}
