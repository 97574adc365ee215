package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ordergate/ordergate/internal/app/audit"
)

func cmdCheck(args []string, e *env) int {
	fs := newFlags(e, "check", "[flags]", `Reads the input topic and the accepted, rejected and dead-letter topics (names from the
ORDERGATE_TOPIC_* variables) and reports inputs without an event, repeats with different ids,
events without an input and per-key order breaks. Exit status 1 if any.`)
	brokers := fs.String("brokers", "", "comma-separated `HOST:PORT` list (default: ORDERGATE_KAFKA_BROKERS, else a running dev)")
	same := fs.Bool("same-decision", false, "also require repeats of one input to carry the same decision")
	limit := fs.Int("limit", 20, "problems printed per kind (0: all)")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long")
	asJSON := fs.Bool("json", false, "print the report as one JSON object (every problem, whatever --limit)")
	if err := fs.parseNoArgs(args); err != nil {
		return status(err)
	}
	cfg, k, ok := toolClients(e, "check", *brokers)
	if !ok {
		return exitUsage
	}
	defer k.Close()
	ctx, cancel := context.WithTimeout(e.ctx, *timeout)
	defer cancel()
	topics := audit.Topics{Requests: cfg.TopicRequests, Accepted: cfg.TopicAccepted, Rejected: cfg.TopicRejected, DLQ: cfg.TopicDLQ}
	for _, t := range []string{topics.Requests, topics.Accepted, topics.Rejected, topics.DLQ} {
		if _, err := partitionsOf(ctx, k.Client, t); err != nil {
			printErr(e, "check", cfg, fmt.Errorf("%s: %w", strings.Join(cfg.KafkaBrokers, ","), err))
			return exitUsage
		}
	}
	report, err := audit.Read(ctx, k.Client, k.Dialer, cfg.KafkaBrokers, topics, audit.Options{SameDecision: *same})
	if err != nil {
		printErr(e, "check", cfg, fmt.Errorf("%s: %w", strings.Join(cfg.KafkaBrokers, ","), err))
		return exitUsage
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(checkReport(report))
	} else {
		report.Write(e.stdout, *limit)
	}
	if !report.OK() {
		return exitFailure
	}
	return exitOK
}

// checkJSON is the report of `check --json`.
type checkJSON struct {
	OK       bool           `json:"ok"`
	Inputs   int            `json:"inputs"`
	Events   int            `json:"events"`
	Accepted int            `json:"accepted"`
	Rejected int            `json:"rejected"`
	DLQ      int            `json:"deadLetters"`
	Repeats  int            `json:"repeatedDeliveries"`
	Problems []checkProblem `json:"problems"`
}

type checkProblem struct {
	Kind   string `json:"kind"` // missing, conflicting-ids, orphan, order, changed-decision
	Detail string `json:"detail"`
}

func checkReport(r *audit.Report) checkJSON {
	out := checkJSON{OK: r.OK(), Inputs: r.Inputs, Events: r.Events, Accepted: r.Accepted, Rejected: r.Rejected,
		DLQ: r.DLQ, Repeats: r.Repeats, Problems: []checkProblem{}}
	for _, p := range r.Problems {
		out.Problems = append(out.Problems, checkProblem{p.Kind, p.Detail})
	}
	return out
}
