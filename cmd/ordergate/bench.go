package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/internal/app/bench"
	"github.com/ordergate/ordergate/internal/app/worker"
)

func cmdBench(args []string, e *env) int {
	fs := newFlags(e, "bench", "[flags]", `On an embedded broker, measures in one run the Kafka client's own ceiling (the same consumer
loop and writer forwarding records unchanged), then the real worker with a cold and with a warm
Redis cache, then latency under a fixed produce rate. Each runs as its own process, so CPU and
peak RSS are the worker's alone. It checks first that Redis answers.`)
	records := fs.Int("records", 200000, "records to generate")
	partitions := fs.Int("partitions", 6, "partitions of the input topic")
	invalid := fs.Float64("invalid-ratio", 0.1, "share of invalid requests, 0 to 1")
	redis := fs.String("redis", "127.0.0.1:6379", "the Redis the worker uses, `HOST:PORT`")
	redisCluster := fs.String("redis-cluster", "", "seed nodes of a Redis Cluster the worker uses instead of --redis (comma-separated `HOST:PORT` list): the report gives the round trips per batch to each node")
	rate := fs.Int("rate", 0, "records/s of the paced phase (0: three phases at 10%, 25% and 50% of the warm rate; -1: none)")
	paced := fs.Int("paced-seconds", 10, "length of the paced phase")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the table")
	tracing := fs.String("tracing", "", "comma-separated tracing settings, each run as one more warm phase: off, or an OTEL_TRACES_SAMPLER_ARG ratio (1 traces every record, 0.01 one in a hundred) exported to a sink in the bench")
	profiles := fs.String("profile", "", "write a CPU profile of each phase's process into `DIR` (ceiling.pprof, cold.pprof...)")
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
		Tracing: splitList(*tracing),
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
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\trecords/s\tvs ceiling\tp50 ms\tp99 ms\tmax ms\tCPU s/100k\tpeak RSS MiB\tbytes/record\trecords/batch\tRedis trips/batch\tinventory calls\t")
	phases := []bench.Phase{r.Ceiling, r.Cold, r.Warm}
	phases = append(phases, r.Traced...)
	phases = append(phases, r.Paced...)
	for _, p := range phases {
		ratio := "1.00"
		switch p.Name {
		case "ceiling":
		case "cold":
			ratio = fmt.Sprintf("%.2f", r.RatioCold)
		case "warm":
			ratio = fmt.Sprintf("%.2f", r.RatioWarm)
		case "trace-off":
			ratio = "off"
		default:
			if p.Tracing != "" {
				ratio = fmt.Sprintf("%.2f spans/rec", p.SpansPerRecord)
				break
			}
			ratio = fmt.Sprintf("at %d/s", p.Rate)
		}
		lat := func(v float64) string {
			if p.Name == "ceiling" {
				return "-"
			}
			return fmt.Sprintf("%.1f", v)
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%s\t%s\t%.2f\t%.1f\t%.0f\t%.0f\t%.2f\t%.0f\t\n", p.Name, p.RecordsPerSecond, ratio,
			lat(p.LatencyP50Ms), lat(p.LatencyP99Ms), lat(p.LatencyMaxMs), p.CPUSecondsPer100k, p.PeakRSSMiB,
			p.BytesPerRecord, p.RecordsPerBatch, p.RedisTripsPerBatch, p.InventoryCalls)
	}
	tw.Flush()
	printNodeTrips(w, phases)
	fmt.Fprintln(w, "\nLatency is from the input record's timestamp to the event's write time; in the cold and warm")
	fmt.Fprintln(w, "phases every record was produced before the worker started, so it includes the queue. The paced")
	fmt.Fprintln(w, "phase produces at a fixed rate while the worker runs: its latency is the worker's own.")
	if len(r.Traced) > 0 {
		fmt.Fprintln(w, "The trace phases repeat the warm one with tracing off or at a sampler ratio, exporting over OTLP/HTTP")
		fmt.Fprintln(w, "to a sink in the bench's process; spans/rec counts the spans it received (the SDK drops what its queue")
		fmt.Fprintln(w, "cannot hold).")
	}
}

// cmdBenchCeiling is the ceiling process of `ordergate bench` (not listed in the help): the
// worker's consumer loop and writer, forwarding records unchanged (see bench.Ceiling).
func cmdBenchCeiling(args []string, e *env) int {
	fs := newFlags(e, "bench-ceiling", "[flags]", "The ceiling process of ordergate bench.")
	cpuProfile := fs.String("cpuprofile", "", "CPU profile `FILE`")
	if _, err := fs.parse(args); err != nil {
		return status(err)
	}
	stop, err := startProfiles(*cpuProfile, "")
	if err != nil {
		return exitUsage
	}
	defer stop()
	cfg, _, err := config.Load()
	if err != nil {
		fmt.Fprintln(e.stderr, "ordergate:", err)
		return exitUsage
	}
	log := worker.NewLogger(cfg, e.stderr)
	ctx, stopSignals := signalContext(e, nil)
	defer stopSignals()
	if err := bench.Ceiling(ctx, cfg, log); err != nil {
		fmt.Fprintln(e.stderr, "ordergate bench-ceiling:", err)
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
