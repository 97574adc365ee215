package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/internal/app/bench"
	"github.com/ordergate/ordergate/internal/app/worker"
)

func cmdBench(args []string, e *env) int {
	fs := newFlags(e, "bench", "[flags]", `On an embedded broker, measures in one run the referee (plain kafka-go forwarding records
unchanged; the same writing records as heavy as the worker's events; ordergate's own consumer
loop and writer forwarding), then the real worker with a cold and with a warm Redis cache, then
latency under a fixed produce rate. Each runs as its own process, so CPU and peak RSS are each
one's alone. It checks first that Redis answers.`)
	records := fs.Int("records", 200000, "records to generate")
	partitions := fs.Int("partitions", 6, "partitions of the input topic")
	invalid := fs.Float64("invalid-ratio", 0.1, "share of invalid requests, 0 to 1")
	redis := fs.String("redis", "127.0.0.1:6379", "the Redis the worker uses, `HOST:PORT`")
	redisCluster := fs.String("redis-cluster", "", "seed nodes of a Redis Cluster the worker uses instead of --redis (comma-separated `HOST:PORT` list): the report gives the round trips per batch to each node")
	rate := fs.Int("rate", 0, "records/s of the paced phase (0: three phases at 10%, 25% and 50% of the warm rate; -1: none)")
	paced := fs.Int("paced-seconds", 10, "length of the paced phase")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the table")
	tracing := fs.String("tracing", "", "comma-separated tracing settings, each run as one more warm phase: off, or an OTEL_TRACES_SAMPLER_ARG ratio (1 traces every record, 0.01 one in a hundred) exported to a sink in the bench")
	profiles := fs.String("profile", "", "write a CPU profile of each phase's process into `DIR` (passthrough.pprof, loop.pprof, cold.pprof...)")
	compression := fs.String("compression", "", "comma-separated codecs (none, gzip, snappy, lz4, zstd), each run as one more warm phase with ORDERGATE_KAFKA_COMPRESSION set to it")
	sweep := fs.String("sweep", "", "instead of the whole run, one passthrough phase per `SETTINGS` (semicolon-separated; each the flags of the passthrough, e.g. \"--queue 64 --max-bytes 1048576;--batch-size 500\"), to tune the referee")
	if err := fs.parseNoArgs(args); err != nil {
		return status(err)
	}
	if *invalid < 0 || *invalid > 1 || *records <= 0 || *partitions <= 0 {
		fmt.Fprintln(e.stderr, "ordergate bench: --records and --partitions must be positive, --invalid-ratio between 0 and 1")
		return exitUsage
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(e.stderr, "ordergate bench:", err)
		return exitInternal
	}
	progress := e.stderr
	if *asJSON {
		progress = io.Discard
	}
	report, err := bench.Run(e.ctx, bench.Options{
		Binary: exe, Records: *records, Partitions: *partitions, InvalidRatio: *invalid, RedisAddr: *redis, RedisCluster: splitList(*redisCluster),
		Rate: *rate, PacedSeconds: *paced, Progress: progress, Terminal: isTerminal(e.stderr), ProfileDir: *profiles,
		Tracing: splitList(*tracing), Compression: splitList(*compression), Sweep: sweepList(*sweep),
	})
	if err != nil {
		fmt.Fprintln(e.stderr, "ordergate bench:", err)
		return exitFailure
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(report)
		return exitOK
	}
	printReport(e.stdout, report)
	return exitOK
}

func printReport(w io.Writer, r *bench.Report) {
	fmt.Fprintf(w, "\n%s; %d records, %d partitions, %.0f%% invalid\n\n", r.Machine, r.Records, r.Partitions, r.Invalid*100)
	if len(r.Sweep) > 0 {
		printSweep(w, r.Sweep)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\trecords/s\tratio\tp50 ms\tp99 ms\tmax ms\tCPU µs/record\tpeak RSS MiB\tbytes/record\tlog bytes/record\trecords/batch\tRedis trips/batch\tinventory calls\t")
	c := r.Ceilings
	type row struct {
		p     bench.Phase
		ratio string
	}
	of := func(a, b float64, what string) string {
		if b <= 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f %s", a/b, what)
	}
	rows := []row{
		{c.Passthrough, "referee"},
		{c.Weighted, of(c.Weighted.RecordsPerSecond, c.Passthrough.RecordsPerSecond, "of pass")},
		{c.Loop, of(c.Loop.RecordsPerSecond, c.Passthrough.RecordsPerSecond, "of pass")},
		{r.Cold, of(r.Cold.RecordsPerSecond, c.Weighted.RecordsPerSecond, "of wtd")},
		{r.Warm, of(r.Warm.RecordsPerSecond, c.Weighted.RecordsPerSecond, "of wtd")},
	}
	for _, p := range r.Compression {
		rows = append(rows, row{p, of(p.RecordsPerSecond, c.Weighted.RecordsPerSecond, "of wtd")})
	}
	for _, p := range r.Traced {
		ratio := "off"
		if p.Tracing != bench.TracingOff {
			ratio = fmt.Sprintf("%.2f spans/rec", p.SpansPerRecord)
		}
		rows = append(rows, row{p, ratio})
	}
	for _, p := range r.Paced {
		rows = append(rows, row{p, fmt.Sprintf("at %d/s", p.Rate)})
	}
	for _, x := range rows {
		p := x.p
		lat := func(v float64) string {
			if p.Accepted+p.Rejected == 0 {
				return "-"
			}
			return fmt.Sprintf("%.1f", v)
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%s\t%s\t%.2f\t%.1f\t%.0f\t%.0f\t%.0f\t%.2f\t%.0f\t\n", p.Name, p.RecordsPerSecond, x.ratio,
			lat(p.LatencyP50Ms), lat(p.LatencyP99Ms), lat(p.LatencyMaxMs), p.CPUMicrosPerRecord, p.PeakRSSMiB,
			p.BytesPerRecord, p.LogBytesPerRecord, p.RecordsPerBatch, p.RedisTripsPerBatch, p.InventoryCalls)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nratios: warm/weighted %.2f, warm/passthrough %.2f, cold/weighted %.2f, loop/passthrough %.2f\n",
		r.Ratios.WarmToWeighted, r.Ratios.WarmToPassthrough, r.Ratios.ColdToWeighted, r.Ratios.LoopToPassthrough)
	phases := []bench.Phase{r.Cold, r.Warm}
	phases = append(phases, r.Compression...)
	phases = append(phases, r.Traced...)
	phases = append(phases, r.Paced...)
	printNodeTrips(w, phases)
	fmt.Fprintln(w, "\nThe referee: passthrough is plain kafka-go (a consumer group, one reader per partition, one")
	fmt.Fprintln(w, "writer) forwarding each record unchanged; weighted is the same writing values padded to the")
	fmt.Fprintf(w, "weight of the warm phase's events (%s); loop is ordergate's consumer loop and writer forwarding.\n", c.Weighted.Settings)
	fmt.Fprintln(w, "CPU is the process's own (rusage, user and system); log bytes are what the broker stores per record")
	fmt.Fprintln(w, "(record batches, compressed when the writer compresses).")
	fmt.Fprintln(w, "Latency is from the input record's timestamp to the event's write time; in the cold and warm")
	fmt.Fprintln(w, "phases every record was produced before the worker started, so it includes the queue. The paced")
	fmt.Fprintln(w, "phase produces at a fixed rate while the worker runs: its latency is the worker's own.")
	if len(r.Traced) > 0 {
		fmt.Fprintln(w, "The trace phases repeat the warm one with tracing off or at a sampler ratio, exporting over OTLP/HTTP")
		fmt.Fprintln(w, "to a sink in the bench's process; spans/rec counts the spans it received (the SDK drops what its queue")
		fmt.Fprintln(w, "cannot hold).")
	}
}

// printSweep prints the passthrough rows of a sweep.
func printSweep(w io.Writer, rows []bench.Phase) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "settings\trecords/s\tCPU µs/record\tpeak RSS MiB\tbytes/record\tlog bytes/record\t")
	for _, p := range rows {
		settings := p.Settings
		if settings == "" {
			settings = "(defaults)"
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.2f\t%.1f\t%.0f\t%.0f\t\n", settings, p.RecordsPerSecond, p.CPUMicrosPerRecord, p.PeakRSSMiB,
			p.BytesPerRecord, p.LogBytesPerRecord)
	}
	tw.Flush()
}

// cmdBenchCeiling is the ceiling process of `ordergate bench` (not listed in the help): the
// worker's consumer loop and writer, forwarding records unchanged (see bench.Ceiling).
func cmdBenchCeiling(args []string, e *env) int {
	fs := newFlags(e, "bench-ceiling", "[flags]", "The ceiling process of ordergate bench.")
	cpuProfile := fs.String("cpuprofile", "", "CPU profile `FILE`")
	if _, err := fs.parse(args); err != nil {
		return status(err)
	}
	return runBenchProcess(e, "bench-ceiling", *cpuProfile, func(ctx context.Context, cfg config.Config, log *slog.Logger) error {
		return bench.Ceiling(ctx, cfg, log)
	})
}

// runBenchProcess is the life of a bench phase process that is not the worker: a CPU
// profile to cpuProfile (none when empty), the configuration the bench gave it, a logger,
// and run until it returns or a signal ends its context.
func runBenchProcess(e *env, name, cpuProfile string, run func(context.Context, config.Config, *slog.Logger) error) int {
	stop, err := startProfiles(cpuProfile, "")
	if err != nil {
		return exitUsage
	}
	defer stop()
	cfg, _, err := config.Load()
	if err != nil {
		fmt.Fprintln(e.stderr, "ordergate:", err)
		return exitUsage
	}
	ctx, stopSignals := signalContext(e, nil)
	defer stopSignals()
	if err := run(ctx, cfg, worker.NewLogger(cfg, e.stderr)); err != nil {
		fmt.Fprintf(e.stderr, "ordergate %s: %v\n", name, err)
		return exitFailure
	}
	return exitOK
}

// printNodeTrips prints, for a worker on a Redis Cluster, the round trips per batch to each
// node: a logical round trip (one read, one write-back) is one exchange per node involved.
func printNodeTrips(w io.Writer, phases []bench.Phase) {
	var nodes []string
	for _, p := range phases {
		for n := range p.RedisNodeTripsPerBatch {
			if !slices.Contains(nodes, n) {
				nodes = append(nodes, n)
			}
		}
	}
	if len(nodes) < 2 {
		return
	}
	slices.Sort(nodes)
	fmt.Fprintln(w, "\nRedis round trips per batch, per node (a logical round trip is one exchange per node involved, sent at once):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "\t%s\tall nodes\tlogical\t\n", strings.Join(nodes, "\t"))
	for _, p := range phases {
		if len(p.RedisNodeTripsPerBatch) == 0 {
			continue
		}
		fmt.Fprintf(tw, "%s", p.Name)
		for _, n := range nodes {
			fmt.Fprintf(tw, "\t%.2f", p.RedisNodeTripsPerBatch[n])
		}
		fmt.Fprintf(tw, "\t%.2f\t%.2f\t\n", p.RedisExchangesPerBatch, p.RedisTripsPerBatch)
	}
	tw.Flush()
}

// sweepList splits the settings of --sweep: semicolon-separated, each a list of flags
// separated by spaces; "-" alone stands for the defaults.
func sweepList(s string) [][]string {
	var out [][]string
	for _, v := range strings.Split(s, ";") {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		args := strings.Fields(v)
		if v == "-" {
			args = []string{}
		}
		out = append(out, args)
	}
	return out
}

// splitList splits a comma-separated list, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// cmdBenchPassthrough is the passthrough process of `ordergate bench` (not listed in the
// help): plain kafka-go reading ORDERGATE_TOPIC_REQUESTS and forwarding every record to
// ORDERGATE_TOPIC_ACCEPTED (see bench.Passthrough); the flags are its reader and writer
// settings, for the sweep (`ordergate bench --sweep`).
func cmdBenchPassthrough(args []string, e *env) int {
	fs := newFlags(e, "bench-passthrough", "[flags]", "The passthrough process of ordergate bench.")
	d := bench.DefaultPassthrough()
	cpuProfile := fs.String("cpuprofile", "", "CPU profile `FILE`")
	queue := fs.Int("queue", d.QueueCapacity, "reader QueueCapacity (records per partition)")
	minBytes := fs.Int("min-bytes", d.MinBytes, "reader MinBytes")
	maxBytes := fs.Int("max-bytes", d.MaxBytes, "reader MaxBytes")
	maxWait := fs.Duration("max-wait", d.MaxWait, "reader MaxWait")
	readBatch := fs.Int("read-batch", d.ReadBatch, "records per WriteMessages call at most")
	readWait := fs.Duration("read-wait", d.ReadWait, "how long a batch waits to fill")
	batchSize := fs.Int("batch-size", d.BatchSize, "writer BatchSize")
	batchBytes := fs.Int64("batch-bytes", d.BatchBytes, "writer BatchBytes")
	batchTimeout := fs.Duration("batch-timeout", d.BatchTimeout, "writer BatchTimeout")
	acks := fs.Int("acks", d.RequiredAcks, "writer RequiredAcks: -1 (all) or 1 (leader)")
	pad := fs.Int("pad", 0, "bytes appended to every value")
	if _, err := fs.parse(args); err != nil {
		return status(err)
	}
	return runBenchProcess(e, "bench-passthrough", *cpuProfile, func(ctx context.Context, cfg config.Config, log *slog.Logger) error {
		s := bench.PassthroughSettings{QueueCapacity: *queue, MinBytes: *minBytes, MaxBytes: *maxBytes, MaxWait: *maxWait,
			ReadBatch: *readBatch, ReadWait: *readWait, BatchSize: *batchSize, BatchBytes: *batchBytes, BatchTimeout: *batchTimeout,
			RequiredAcks: *acks, Compression: cfg.KafkaCompressionCodec(), Pad: *pad}
		t := bench.PassthroughTarget{Brokers: cfg.KafkaBrokers, Group: cfg.KafkaGroupID, Input: cfg.TopicRequests, Output: cfg.TopicAccepted}
		return bench.Passthrough(ctx, t, s, log)
	})
}
