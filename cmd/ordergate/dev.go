package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/internal/app/produce"
	"github.com/ordergate/ordergate/internal/app/worker"
	"github.com/ordergate/ordergate/internal/foundation/samples"
	"github.com/ordergate/ordergate/processor"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/processor/servicepoint"
	"github.com/ordergate/ordergate/publisher"
)

// devPartitions is the partition count of every topic of the embedded broker.
const devPartitions = 3

// devTopics are the topics of the embedded broker, with the contract's default names.
var devTopics = []string{"orders.requests", "orders.accepted", "orders.rejected", "orders.dlq"}

func cmdDev(args []string, e *env) int {
	fs := newFlags(e, "dev", "[--once] [flags]", `Runs ordergate with nothing to set up: an embedded Kafka broker and Redis on loopback, the
sample inventory, and the real worker. Publishes the sample requests of
internal/foundation/samples/requests and prints one line per decision of its worker, then
keeps running (Ctrl-C stops it) so that you can publish your own requests with
ordergate produce (it finds this dev by itself) and watch the events with ordergate tail.`)
	once := fs.Bool("once", false, "exit after the samples: 0 when every outcome matches its golden file, 1 otherwise")
	httpAddr := fs.String("http", "127.0.0.1:8080", "`ADDRESS` of /metrics, /healthz and /readyz (a free port is taken when it is busy)")
	verbose := fs.Bool("v", false, "show the worker's own log (info level) on stderr")
	if err := fs.parseNoArgs(args); err != nil {
		return status(err)
	}
	d := &devRun{e: e, color: useColor(e.stdout), once: *once, decided: make(chan outcome, 1024), done: make(chan struct{})}
	ctx, stop := signalContext(e, func(os.Signal) {
		fmt.Fprintln(e.stderr, "ordergate dev: stopping (Ctrl-C again to exit at once)")
	})
	defer stop()
	if err := d.start(ctx, *httpAddr, *verbose); err != nil {
		fmt.Fprintln(e.stderr, "ordergate dev:", err)
		d.close()
		return exitInternal
	}
	defer d.close()
	return d.run(ctx)
}

// devRun is one `ordergate dev`: the embedded servers, the worker and the printer.
type devRun struct {
	e        *env
	color    bool
	once     bool
	cluster  *kfake.Cluster
	redis    *miniredis.Miniredis
	worker   *worker.Worker
	brokers  []string
	samples  []samples.Sample
	golden   map[string]goldenOutcome
	skipped  []string
	client   *kafka.Client
	state    string       // the dev state file, removed at exit ("" with --once)
	examples string       // the directory of the example request files of the banner
	decided  chan outcome // what the worker published, from OnPublished
	done     chan struct{}
}

type goldenOutcome struct {
	outcome string // accepted or rejected
	code    int
	field   string
}

// matches reports whether o is the expected outcome.
func (g goldenOutcome) matches(o outcome) bool {
	return g.outcome == o.outcome && g.code == o.code && g.field == o.field
}

func (d *devRun) start(ctx context.Context, httpAddr string, verbose bool) error {
	var err error
	fsys := samples.Files()
	all, err := samples.Load(fsys)
	if err != nil {
		return fmt.Errorf("samples: %w", err)
	}
	d.golden = map[string]goldenOutcome{}
	for _, s := range all {
		if s.Clients {
			d.skipped = append(d.skipped, s.Name)
			continue
		}
		d.samples = append(d.samples, s)
		d.golden[s.Name] = goldenOf(fsys, s)
	}
	invData, err := fs.ReadFile(fsys, "inventory.json")
	if err != nil {
		return err
	}
	inv, err := servicepoint.ParseFileInventory(invData)
	if err != nil {
		return fmt.Errorf("sample inventory: %w", err)
	}

	d.cluster, err = kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		return fmt.Errorf("embedded Kafka: %w", err)
	}
	for _, t := range devTopics {
		if err := d.cluster.CreateTopic(t, devPartitions, nil); err != nil {
			return fmt.Errorf("embedded Kafka: topic %s: %w", t, err)
		}
	}
	d.brokers = d.cluster.ListenAddrs()
	d.redis = miniredis.NewMiniRedis()
	if err := d.redis.StartAddr("127.0.0.1:0"); err != nil {
		return fmt.Errorf("embedded Redis: %w", err)
	}

	// The ORDERGATE_* variables still set the log level and the batch and retry settings;
	// everything that points at a server or a file is the embedded one.
	cfg, _, err := config.Load()
	if err != nil {
		return err
	}
	cfg.KafkaBrokers = d.brokers
	cfg.KafkaSASLMechanism, cfg.KafkaSASLUsername, cfg.KafkaSASLPassword = "", "", ""
	cfg.KafkaTLSEnabled, cfg.KafkaTLSCAFile, cfg.KafkaTLSCertFile, cfg.KafkaTLSKeyFile = false, "", "", ""
	cfg.TopicRequests, cfg.TopicAccepted, cfg.TopicRejected, cfg.TopicDLQ = devTopics[0], devTopics[1], devTopics[2], devTopics[3]
	cfg.ClientsFile, cfg.InventoryFile, cfg.InventoryURL = "", "", ""
	cfg.RedisURL = config.Secret("redis://" + d.redis.Addr() + "/0")
	cfg.KafkaGroupID = "ordergate-dev"
	cfg.HTTPAddr = freeAddr(httpAddr)
	cfg.LogFormat = "text"
	logOut := io.Discard
	if verbose {
		logOut = d.e.stderr
	}
	log := worker.NewLogger(cfg, logOut)
	worker.RouteLibraryLogs(log)
	opts, err := cfg.RedisOptions()
	if err != nil {
		return err
	}
	d.worker, err = worker.New(ctx, cfg, worker.Options{
		Logger: log, Now: d.e.now, Inventory: inv, Redis: servicepoint.NewRedisClient(opts),
		// What this worker decided, and nothing that another consumer of the topics
		// published (issue 21, item 9).
		OnPublished: func(r *processor.Result, kind publisher.Kind) {
			select {
			case d.decided <- outcomeOf(r, kind):
			case <-d.done:
			}
		},
	})
	if err != nil {
		return err
	}
	d.client = &kafka.Client{Addr: kafka.TCP(d.brokers...), Timeout: 10 * time.Second}
	if d.once {
		return nil // a dev that exits after the samples is no target for produce or tail
	}
	if d.state, err = writeDevState(devState{Brokers: d.brokers, PID: os.Getpid(), Started: d.e.now()}); err != nil {
		fmt.Fprintf(d.e.stderr, "ordergate dev: cannot record this dev for produce and tail (%v): pass them --brokers %s\n",
			err, strings.Join(d.brokers, ","))
	}
	return d.writeExamples(fsys)
}

// freeAddr returns addr when it can be listened on, else a free port on loopback.
func freeAddr(addr string) string {
	l, err := net.Listen("tcp", addr)
	if err == nil {
		l.Close()
		return addr
	}
	return "127.0.0.1:0"
}

// goldenOf reads the expected outcome of a sample from its golden event, else from the
// manifest.
func goldenOf(fsys fs.FS, s samples.Sample) goldenOutcome {
	g := goldenOutcome{outcome: s.Outcome, code: s.Code, field: s.Field}
	data, err := fs.ReadFile(fsys, s.GoldenPath())
	if err != nil {
		return g
	}
	var ev struct {
		EventType string `json:"eventType"`
		Errors    []struct {
			Code  int    `json:"code"`
			Field string `json:"field"`
		} `json:"errors"`
	}
	if json.Unmarshal(data, &ev) != nil {
		return g
	}
	g = goldenOutcome{outcome: strings.TrimPrefix(ev.EventType, "order.")}
	if len(ev.Errors) > 0 {
		g.code, g.field = ev.Errors[0].Code, ev.Errors[0].Field
	}
	return g
}

func (d *devRun) close() {
	if d.state != "" {
		_ = os.Remove(d.state)
	}
	if d.examples != "" {
		_ = os.RemoveAll(d.examples)
	}
	if d.redis != nil {
		d.redis.Close()
	}
	if d.cluster != nil {
		d.cluster.Close()
	}
}

// run starts the worker, publishes the samples, prints the outcomes and waits.
func (d *devRun) run(ctx context.Context) int {
	e := d.e
	workerCtx, stopWorker := context.WithCancel(context.Background())
	workerDone := make(chan error, 1)
	go func() { workerDone <- d.worker.Run(workerCtx) }()
	defer func() {
		close(d.done) // OnPublished no longer waits for this loop
		stopWorker()
		<-workerDone
	}()

	fmt.Fprintf(e.stdout, "ordergate dev: embedded Kafka at %s, embedded Redis at %s\n", strings.Join(d.brokers, ","), d.redis.Addr())
	fmt.Fprintf(e.stdout, "  metrics:  http://%s/metrics   (also /healthz, /readyz)\n", d.worker.Addr())
	fmt.Fprintf(e.stdout, "            the samples' end-to-end latency counts from their pinned %s timestamps: ignore it here\n",
		d.samples[0].Time.Format("2006-01-02"))
	fmt.Fprintf(e.stdout, "  topics:   %s\n\n", strings.Join(devTopics, ", "))

	width := len("input 0/000")
	for _, s := range d.samples {
		width = max(width, len(s.Name))
	}
	printer := newPrinter(e.stdout, d.color, width)
	bySource := map[string]*samples.Sample{}
	for i := range d.samples {
		s := &d.samples[i]
		p, off, err := d.publish(ctx, s)
		if err != nil {
			fmt.Fprintf(e.stderr, "ordergate dev: publishing sample %s: %v\n", s.Name, err)
			return exitInternal
		}
		bySource[fmt.Sprintf("%d/%d", p, off)] = s
	}
	if len(d.skipped) > 0 {
		fmt.Fprintf(e.stdout, "(%d samples need the clients file and are not replayed here: `ordergate validate --clients internal/foundation/samples/requests/clients.json ...` shows them)\n", len(d.skipped))
	}

	remaining := len(d.samples)
	mismatches := 0
	seen := map[string]bool{}
	deadline := time.After(60 * time.Second)
	for {
		select {
		case <-ctx.Done():
			return exitOK
		case err := <-workerDone:
			workerDone <- err
			fmt.Fprintln(e.stderr, "ordergate dev: the worker stopped:", err)
			return exitInternal
		case <-deadline:
			if d.once && remaining > 0 {
				fmt.Fprintf(e.stderr, "ordergate dev: %d samples got no event within 60s\n", remaining)
				return exitFailure
			}
		case o := <-d.decided:
			label := "input " + o.source
			if seen[o.source] {
				label += " again" // a redelivery: same input, same eventId
			}
			seen[o.source] = true
			s := bySource[o.source]
			delete(bySource, o.source)
			if s == nil {
				printer.line(o, label, nil)
				continue
			}
			g := d.golden[s.Name]
			if !g.matches(o) {
				mismatches++
			}
			remaining--
			printer.line(o, s.Name, &g)
			if remaining > 0 {
				continue
			}
			d.summary(printer, mismatches)
			if d.once {
				if mismatches > 0 {
					return exitFailure
				}
				return exitOK
			}
			d.printExamples()
		}
	}
}

// summary prints the closing line of the samples.
func (d *devRun) summary(p *printer, mismatches int) {
	n := len(d.samples)
	if mismatches == 0 {
		fmt.Fprintln(p.w, p.paint("32", fmt.Sprintf("\n%d samples, every outcome as in its golden file.", n)))
		return
	}
	fmt.Fprintln(p.w, p.paint("31", fmt.Sprintf("\n%d samples, %d outcomes differ from their golden file.", n, mismatches)))
}

// devExamples are the requests of the banner's produce examples, each accepted by the
// dev worker as it is given (TestDevExamplesAreAccepted runs them).
var devExamples = []struct {
	sample string // the sample whose body is sent
	args   string // produce's flags
}{
	{"update-by-customer-reference", "--key WAN-ABT-AB002-001"},
	{"seed-account-example", "--key PA-ACC-100234 -H type=PATCH-billingAccountById -H businessId=PA -H id=PA-ACC-100234 -H client_id=my-client -H client_secret=my-secret"},
}

// writeExamples writes the bodies of devExamples to a directory of their own, so that the
// banner's commands work from any directory.
func (d *devRun) writeExamples(fsys fs.FS) error {
	dir, err := os.MkdirTemp("", "ordergate-dev-examples-")
	if err != nil {
		return err
	}
	d.examples = dir
	for _, ex := range devExamples {
		for _, s := range d.samples {
			if s.Name != ex.sample {
				continue
			}
			body, err := fs.ReadFile(fsys, s.Body)
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dir, ex.sample+".json"), body, 0o600); err != nil {
				return err
			}
		}
	}
	return nil
}

// printExamples prints what to do next while dev keeps running: commands to copy and
// paste, with this program's own name.
func (d *devRun) printExamples() {
	self := selfCommand()
	fmt.Fprintf(d.e.stdout, "\nStill running; Ctrl-C stops it. From another terminal (these requests are accepted):\n")
	for _, ex := range devExamples {
		fmt.Fprintf(d.e.stdout, "  %s produce %s %s\n", self, ex.args, filepath.Join(d.examples, ex.sample+".json"))
	}
	fmt.Fprintf(d.e.stdout, "  %s tail                  (every event from now on, one line each; --from-beginning, --json)\n", self)
	fmt.Fprintf(d.e.stdout, "Their decisions show here too.\n")
}

// selfCommand is how the user ran this program: `go run ./cmd/ordergate` from a go run
// build, `ordergate` when that name on PATH is this program, else the path as invoked.
func selfCommand() string {
	exe, err := os.Executable()
	if err != nil {
		return "ordergate"
	}
	if strings.Contains(exe, string(filepath.Separator)+"go-build") {
		return "go run ./cmd/ordergate"
	}
	if onPath, err := exec.LookPath("ordergate"); err == nil {
		if a, err1 := os.Stat(onPath); err1 == nil {
			if b, err2 := os.Stat(exe); err2 == nil && os.SameFile(a, b) {
				return "ordergate"
			}
		}
	}
	return os.Args[0]
}

// publish writes one sample to the input topic and returns its partition and offset.
func (d *devRun) publish(ctx context.Context, s *samples.Sample) (int, int64, error) {
	rec := order.Record{Key: []byte(s.Key), Value: s.Value, Headers: order.HeaderPairs(s.Headers), Time: s.Time}
	return produce.One(ctx, d.client, devTopics[0], []int{0, 1, 2}, &rec) // devPartitions
}
