package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/internal/app/produce"
	"github.com/ordergate/ordergate/internal/app/worker"
	"github.com/ordergate/ordergate/internal/foundation/samples"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/processor/servicepoint"
)

// devPartitions is the partition count of every topic of the embedded broker.
const devPartitions = 3

// devTopics are the topics of the embedded broker, with the contract's default names.
var devTopics = []string{"orders.requests", "orders.accepted", "orders.rejected", "orders.dlq"}

func cmdDev(args []string, e *env) int {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	once := fs.Bool("once", false, "exit after the samples: 0 when every outcome matches its golden file, 1 otherwise")
	httpAddr := fs.String("http", "127.0.0.1:8080", "address of /metrics, /healthz and /readyz (a free port is taken when it is busy)")
	verbose := fs.Bool("v", false, "show the worker's own log (info level) on stderr")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "Usage: ordergate dev [--once]\n\nRuns ordergate with nothing to set up: an embedded Kafka broker and Redis on loopback, the")
		fmt.Fprintln(e.stderr, "sample inventory, and the real worker. Publishes the sample requests of internal/foundation/samples/requests and")
		fmt.Fprintln(e.stderr, "prints one line per outcome, then keeps running (Ctrl-C stops it) so that you can publish")
		fmt.Fprintln(e.stderr, "your own requests with `ordergate produce`.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return parseStatus(err)
	}
	d := &devRun{e: e, color: isTerminal(e.stdout)}
	ctx, stop := signalContext(e)
	defer stop()
	if err := d.start(ctx, *httpAddr, *verbose); err != nil {
		fmt.Fprintln(e.stderr, "ordergate dev:", err)
		d.close()
		return exitInternal
	}
	defer d.close()
	return d.run(ctx, *once)
}

// devRun is one `ordergate dev`: the embedded servers, the worker and the printer.
type devRun struct {
	e       *env
	color   bool
	cluster *kfake.Cluster
	redis   *miniredis.Miniredis
	worker  *worker.Worker
	brokers []string
	samples []samples.Sample
	golden  map[string]goldenOutcome
	skipped []string
	client  *kafka.Client
	state   string
}

type goldenOutcome struct {
	outcome string // accepted or rejected
	code    int
	field   string
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
	})
	if err != nil {
		return err
	}
	d.client = &kafka.Client{Addr: kafka.TCP(d.brokers...), Timeout: 10 * time.Second}
	d.state = devStateFile()
	if b, err := json.Marshal(devState{Brokers: d.brokers, PID: os.Getpid()}); err == nil {
		_ = os.WriteFile(d.state, b, 0o600)
	}
	return nil
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
	if d.redis != nil {
		d.redis.Close()
	}
	if d.cluster != nil {
		d.cluster.Close()
	}
}

// run starts the worker, publishes the samples, prints the outcomes and waits.
func (d *devRun) run(ctx context.Context, once bool) int {
	e := d.e
	workerCtx, stopWorker := context.WithCancel(context.Background())
	workerDone := make(chan error, 1)
	go func() { workerDone <- d.worker.Run(workerCtx) }()
	defer func() {
		stopWorker()
		<-workerDone
	}()

	fmt.Fprintf(e.stdout, "ordergate dev: embedded Kafka at %s, embedded Redis at %s\n", strings.Join(d.brokers, ","), d.redis.Addr())
	fmt.Fprintf(e.stdout, "  metrics:  http://%s/metrics   (also /healthz, /readyz)\n", d.worker.Addr())
	fmt.Fprintf(e.stdout, "  topics:   %s (kcat -b %s -C -t orders.accepted)\n", strings.Join(devTopics, ", "), d.brokers[0])
	fmt.Fprintf(e.stdout, "  your own: go run ./cmd/ordergate produce -H lob=FIXED --key K FILE.json\n\n")

	printer := newPrinter(e.stdout, d.color, d.samples)
	bySource := map[string]*samples.Sample{}
	var mu sync.Mutex
	results := make(chan devOutcome, 64)
	pctx, stopPrinter := context.WithCancel(ctx)
	defer stopPrinter()
	go d.follow(pctx, results)

	for i := range d.samples {
		s := &d.samples[i]
		p, off, err := d.publish(ctx, s)
		if err != nil {
			fmt.Fprintf(e.stderr, "ordergate dev: publishing sample %s: %v\n", s.Name, err)
			return exitInternal
		}
		mu.Lock()
		bySource[fmt.Sprintf("%d/%d", p, off)] = s
		mu.Unlock()
	}
	if len(d.skipped) > 0 {
		fmt.Fprintf(e.stdout, "(%d samples need the clients file and are not replayed here: `ordergate validate --clients internal/foundation/samples/requests/clients.json ...` shows them)\n", len(d.skipped))
	}

	remaining := len(d.samples)
	mismatches := 0
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
			if once && remaining > 0 {
				fmt.Fprintf(e.stderr, "ordergate dev: %d samples got no event within 60s\n", remaining)
				return exitFailure
			}
		case o := <-results:
			mu.Lock()
			s := bySource[o.source]
			delete(bySource, o.source)
			mu.Unlock()
			name := ""
			ok := true
			if s != nil {
				name = s.Name
				g := d.golden[s.Name]
				ok = g.outcome == o.outcome && g.code == o.code && g.field == o.field
				if !ok {
					mismatches++
				}
				remaining--
			}
			printer.line(o, name, ok, d.golden[name])
			if remaining == 0 && s != nil {
				printer.summary(len(d.samples), mismatches)
				if once {
					if mismatches > 0 {
						return exitFailure
					}
					return exitOK
				}
				fmt.Fprintln(e.stdout, "\nStill running: publish your own requests with `go run ./cmd/ordergate produce FILE.json`; Ctrl-C stops.")
			}
		}
	}
}

// publish writes one sample to the input topic and returns its partition and offset.
func (d *devRun) publish(ctx context.Context, s *samples.Sample) (int, int64, error) {
	rec := order.Record{Key: []byte(s.Key), Value: s.Value, Headers: order.HeaderPairs(s.Headers), Time: s.Time}
	return produce.One(ctx, d.client, devTopics[0], []int{0, 1, 2}, &rec) // devPartitions
}

// devOutcome is one event read back from the output topics.
type devOutcome struct {
	source      string // input partition/offset
	requestType string
	key         string
	outcome     string // accepted, rejected, dlq
	code        int
	message     string
	field       string
	warnings    []string
}

// follow reads the output topics from the start and sends each event's outcome.
func (d *devRun) follow(ctx context.Context, out chan<- devOutcome) {
	var wg sync.WaitGroup
	for _, topic := range devTopics[1:] {
		for p := range devPartitions {
			wg.Go(func() {
				r := kafka.NewReader(kafka.ReaderConfig{Brokers: d.brokers, Topic: topic, Partition: p, MaxWait: 50 * time.Millisecond})
				defer r.Close()
				_ = r.SetOffset(kafka.FirstOffset)
				for {
					m, err := r.FetchMessage(ctx)
					if err != nil {
						if ctx.Err() != nil || errors.Is(err, io.EOF) {
							return
						}
						continue
					}
					select {
					case out <- parseOutcome(topic, m):
					case <-ctx.Done():
						return
					}
				}
			})
		}
	}
	wg.Wait()
}

func parseOutcome(topic string, m kafka.Message) devOutcome {
	o := devOutcome{key: string(m.Key)}
	if topic == "orders.dlq" {
		o.outcome = "dlq"
		for _, h := range m.Headers {
			switch h.Key {
			case "dlq_source":
				src := string(h.Value)
				o.source = src[strings.IndexByte(src, '/')+1:]
			case "dlq_reason":
				o.message = string(h.Value)
			}
		}
		return o
	}
	var ev struct {
		RequestType *string `json:"requestType"`
		EventType   string  `json:"eventType"`
		Source      struct {
			Partition int   `json:"partition"`
			Offset    int64 `json:"offset"`
		} `json:"source"`
		Errors []struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Field   string `json:"field"`
		} `json:"errors"`
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal(m.Value, &ev); err != nil {
		o.outcome, o.message = "unreadable", err.Error()
		return o
	}
	o.source = fmt.Sprintf("%d/%d", ev.Source.Partition, ev.Source.Offset)
	o.outcome = strings.TrimPrefix(ev.EventType, "order.")
	if ev.RequestType != nil {
		o.requestType = *ev.RequestType
	}
	if len(ev.Errors) > 0 {
		o.code, o.message, o.field = ev.Errors[0].Code, ev.Errors[0].Message, ev.Errors[0].Field
	}
	o.warnings = ev.Warnings
	return o
}

// printer writes outcome lines, with colours on a terminal only.
type printer struct {
	w     io.Writer
	color bool
	width int // of the sample-name column
}

func newPrinter(w io.Writer, color bool, names []samples.Sample) *printer {
	p := &printer{w: w, color: color, width: len("(yours)")}
	for _, s := range names {
		p.width = max(p.width, len(s.Name))
	}
	return p
}

func (p *printer) paint(code, s string) string {
	if !p.color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (p *printer) line(o devOutcome, sample string, ok bool, want goldenOutcome) {
	rt := o.requestType
	if rt == "" {
		rt = "(unknown type)"
	}
	key := o.key
	if len(key) > 24 {
		key = key[:21] + "..."
	}
	var verdict string
	switch o.outcome {
	case "accepted":
		verdict = p.paint("32", "accepted")
	case "rejected":
		verdict = p.paint("31", fmt.Sprintf("rejected %d %s", o.code, o.message))
		if o.field != "" {
			verdict += " (" + o.field + ")"
		}
	default:
		verdict = p.paint("35", o.outcome+" "+o.message)
	}
	name := sample
	if name == "" {
		name = "(yours)"
	}
	line := fmt.Sprintf("%-*s %-26s key=%-24s %s", p.width, name, rt, key, verdict)
	if len(o.warnings) > 0 {
		line += p.paint("33", "  warnings: "+strings.Join(o.warnings, "; "))
	}
	if !ok {
		line += p.paint("1;31", fmt.Sprintf("  DIFFERS from golden: want %s %d %s", want.outcome, want.code, want.field))
	}
	fmt.Fprintln(p.w, line)
}

func (p *printer) summary(n, mismatches int) {
	if mismatches == 0 {
		fmt.Fprintln(p.w, p.paint("32", fmt.Sprintf("\n%d samples, every outcome as in its golden file.", n)))
		return
	}
	fmt.Fprintln(p.w, p.paint("31", fmt.Sprintf("\n%d samples, %d outcomes differ from their golden file.", n, mismatches)))
}

// isTerminal reports whether w is a terminal (colours only then).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0 && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}
