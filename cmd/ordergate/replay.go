package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/internal/app/audit"
	"github.com/ordergate/ordergate/internal/app/shadow"
	"github.com/ordergate/ordergate/internal/app/worker"
)

func cmdReplay(args []string, e *env) int {
	fs := newFlags(e, "replay", "--diff [flags]", `Decides a range of the input topic again with the rules of this binary and this configuration
(ORDERGATE_CLIENTS_FILE, ORDERGATE_MAX_MESSAGE_BYTES), resolving service points through the
configured Redis cache and inventory, and compares each decision with the event published for
the same record (found by its eventId). Reports unchanged and changed decisions, a table of
changes (old -> new) and examples. Never publishes, never commits an offset of any group.
Exit status: 0 no change, 1 some decision changed, 2 usage or connection error.`)
	diff := fs.Bool("diff", false, "compare the decisions of this binary with the published events (the only mode: nothing is published)")
	brokers := fs.String("brokers", "", "comma-separated `HOST:PORT` list (default: ORDERGATE_KAFKA_BROKERS, else a running dev)")
	partitions := fs.String("partitions", "", "comma-separated input `PARTITIONS` (default: all)")
	from := fs.String("from", "", "first record of each partition: an `OFFSET`, or an RFC 3339 time (default: the start)")
	to := fs.String("to", "", "end of each partition, excluded: an `OFFSET`, or an RFC 3339 time (default: the end)")
	pure := fs.Bool("pure", false, "compare rows 1-16 only: no service-point resolution, no Redis, no inventory")
	examples := fs.Int("examples", 5, "examples printed per change")
	asJSON := fs.Bool("json", false, "print the report as JSON (for scripts)")
	timeout := fs.Duration("timeout", 30*time.Minute, "give up after this long")
	if err := fs.parseNoArgs(args); err != nil {
		return status(err)
	}
	if !*diff {
		fs.failUsage("--diff is the only mode (nothing is ever published): give it")
		return exitUsage
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(e.stderr, "ordergate replay: "+format+"\n", a...)
		return exitUsage
	}
	parts, err := parseInts(*partitions)
	if err != nil {
		return fail("--partitions: %v", err)
	}
	fromBound, err := parseBound(*from)
	if err != nil {
		return fail("--from: %v", err)
	}
	toBound, err := parseBound(*to)
	if err != nil {
		return fail("--to: %v", err)
	}
	cfg, _, err := config.Load()
	if err != nil {
		fmt.Fprintln(e.stderr, "ordergate:", err)
		return exitUsage
	}
	rules, err := worker.RulesOf(cfg)
	if err != nil {
		fmt.Fprintln(e.stderr, "ordergate:", err)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(e.ctx, *timeout)
	defer cancel()
	opts := shadow.Options{
		Topics:     audit.Topics{Requests: cfg.TopicRequests, Accepted: cfg.TopicAccepted, Rejected: cfg.TopicRejected, DLQ: cfg.TopicDLQ},
		Partitions: parts, From: fromBound, To: toBound, Rules: rules, Examples: *examples,
	}
	if !*pure {
		resolver, closeRedis, err := worker.NewResolver(ctx, cfg)
		if err != nil {
			fmt.Fprintln(e.stderr, "ordergate replay:", err, "(or give --pure to compare rows 1-16 only)")
			return exitUsage
		}
		defer closeRedis()
		opts.Resolver = resolver
	}
	target, err := toolTarget(*brokers, cfg)
	if err != nil {
		printErr(e, "replay", cfg, err)
		return exitUsage
	}
	addrs := target.KafkaBrokers
	kc, err := worker.KafkaClients(target, addrs)
	if err != nil {
		printErr(e, "replay", cfg, err)
		return exitUsage
	}
	defer kc.Close()
	p := newProgress(e, "replay --diff")
	opts.Progress = p.update
	rep, err := shadow.Diff(ctx, audit.Cluster{Client: kc.Client, Dialer: kc.Dialer, Brokers: addrs}, opts)
	p.done()
	if err != nil {
		fmt.Fprintf(e.stderr, "ordergate replay: %s: %v\n", strings.Join(addrs, ","), err)
		return exitUsage
	}
	if *asJSON {
		out := struct {
			*shadow.Report
			Resolution string `json:"resolution"`
		}{rep, resolution(cfg, *pure)}
		if s := writeJSON(e, out); s != exitOK {
			return s
		}
	} else {
		writeDiff(e.stdout, rep, resolution(cfg, *pure))
	}
	if rep.Changed > 0 {
		return exitFailure
	}
	return exitOK
}

// resolution says how rows 17-19 were decided, since service points may have changed since
// the events were published.
func resolution(cfg config.Config, pure bool) string {
	if pure {
		return "none (--pure): rows 1-16 only; an acceptance of a BVPN request and the rejections of rows 17-19 compare as \"passes rows 1-16\""
	}
	inv := "the inventory at ORDERGATE_INVENTORY_URL"
	if cfg.InventoryFile != "" {
		inv = "the inventory file " + cfg.InventoryFile
	}
	return "through the configured Redis cache (prefix " + strconv.Quote(cfg.RedisKeyPrefix) + ") and " + inv +
		": service points may have changed since the events were published"
}

func writeDiff(w io.Writer, rep *shadow.Report, resolution string) {
	var rs []string
	for _, r := range rep.Ranges {
		rs = append(rs, fmt.Sprintf("%d [%d, %d)", r.Partition, r.From, r.To))
	}
	fmt.Fprintf(w, "input:      %s, partitions %s\n", rep.Topic, strings.Join(rs, ", "))
	fmt.Fprintf(w, "rules:      this binary's, with this configuration (ORDERGATE_CLIENTS_FILE, ORDERGATE_MAX_MESSAGE_BYTES)\n")
	fmt.Fprintf(w, "resolution: %s\n", resolution)
	fmt.Fprintf(w, "records %d: unchanged %d, changed %d, without a published event %d, dead-lettered %d (not compared)\n",
		rep.Records, rep.Unchanged, rep.Changed, rep.NoEvent, rep.DeadLettered)
	if len(rep.Changes) == 0 {
		fmt.Fprintln(w, "no decision changed")
		return
	}
	fmt.Fprintln(w, "\nchanges (old -> new):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range rep.Changes {
		fmt.Fprintf(tw, "  %s -> %s\t%d\n", c.Old, c.New, c.Count)
	}
	tw.Flush()
	for _, c := range rep.Changes {
		fmt.Fprintf(w, "\nfirst %d of %s -> %s:\n", len(c.Examples), c.Old, c.New)
		for _, ex := range c.Examples {
			key := "-"
			if ex.Key != nil {
				key = shownKey([]byte(*ex.Key))
			}
			fmt.Fprintf(w, "  %s/%d/%d  key %s  event %s  %s -> %s\n", rep.Topic, ex.Partition, ex.Offset, key, ex.EventID,
				described(ex.Old), described(ex.New))
		}
	}
}

// described is an outcome with the field of its error.
func described(o shadow.Outcome) string {
	if o.Field != "" {
		return o.Label() + " (" + o.Field + ")"
	}
	return o.Label()
}

func parseInts(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%q is not a partition number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// parseBound reads --from and --to: an offset, or an RFC 3339 time.
func parseBound(s string) (shadow.Bound, error) {
	if s == "" {
		return shadow.Bound{}, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		return shadow.Bound{Offset: n, Set: true}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return shadow.Bound{}, fmt.Errorf("%q is neither an offset nor an RFC 3339 time", s)
	}
	return shadow.Bound{Time: t, Set: true}, nil
}
