package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/internal/app/audit"
	"github.com/ordergate/ordergate/internal/app/worker"
)

func cmdCheck(args []string, e *env) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	brokers := fs.String("brokers", "", "comma-separated brokers (default: a running `ordergate dev`, else ORDERGATE_KAFKA_BROKERS)")
	same := fs.Bool("same-decision", false, "also require repeats of one input to carry the same decision")
	limit := fs.Int("limit", 20, "problems printed per kind (0: all)")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "Usage: ordergate check [flags]\n\nReads the input topic and the accepted, rejected and dead-letter topics (names from the")
		fmt.Fprintln(e.stderr, "ORDERGATE_TOPIC_* variables) and reports inputs without an event, repeats with different ids,")
		fmt.Fprintln(e.stderr, "events without an input and per-key order breaks. Exit status 1 if any.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return parseStatus(err)
	}
	cfg, _, err := config.Load()
	if err != nil {
		fmt.Fprintln(e.stderr, "ordergate:", err)
		return exitUsage
	}
	addrs := resolveBrokers(*brokers, cfg)
	k, err := worker.KafkaClients(cfg, addrs)
	if err != nil {
		fmt.Fprintln(e.stderr, "ordergate:", err)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(e.ctx, *timeout)
	defer cancel()
	report, err := audit.Read(ctx, k.Client, k.Dialer, addrs, audit.Topics{
		Requests: cfg.TopicRequests, Accepted: cfg.TopicAccepted, Rejected: cfg.TopicRejected, DLQ: cfg.TopicDLQ,
	}, audit.Options{SameDecision: *same})
	if err != nil {
		fmt.Fprintf(e.stderr, "ordergate check: %s: %v\n", strings.Join(addrs, ","), err)
		return exitUsage
	}
	report.Write(e.stdout, *limit)
	if !report.OK() {
		return exitFailure
	}
	return exitOK
}
