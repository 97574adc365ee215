// Package doctor checks everything `ordergate run` needs, with the worker's own
// configuration, and reports every finding at once, each with what to fix: the
// configuration, the brokers (reachable with TLS and SASL), the four topics (partitions,
// max.message.bytes, min.insync.replicas, message.timestamp.type), the ACLs where the
// broker lists them, Redis (reachable, writable, maxmemory-policy), the inventory (answers,
// and knows a given service point) and the clients file. It is `ordergate doctor` and
// `ordergate run --check`.
package doctor

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ordergate/ordergate/config"
)

// Severity says whether a finding blocks the worker.
type Severity string

// The severities. An error is something that stops `run` at start or makes it fail at its
// job (decide wrongly, or retry for ever); a warning works but is not what is recommended.
const (
	OK      Severity = "ok"
	Warning Severity = "warning"
	Error   Severity = "error"
)

// Finding is one result.
type Finding struct {
	Check    string   `json:"check"` // what was checked: config, kafka.brokers, kafka.topic...
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	Fix      string   `json:"fix,omitempty"` // what to do, for warnings and errors
}

// Report is every finding of a run, in the order checked.
type Report struct {
	Findings []Finding `json:"findings"`
}

// Count returns the number of findings of a severity.
func (r *Report) Count(s Severity) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == s {
			n++
		}
	}
	return n
}

// OK reports whether nothing blocks the worker (warnings allowed).
func (r *Report) OK() bool { return r.Count(Error) == 0 }

func (r *Report) add(check string, s Severity, msg, fix string) {
	r.Findings = append(r.Findings, Finding{Check: check, Severity: s, Message: msg, Fix: fix})
}

func (r *Report) ok(check, format string, args ...any) {
	r.add(check, OK, fmt.Sprintf(format, args...), "")
}

// Write prints the findings, errors first, then warnings, then what is fine, and a closing
// line that counts them.
func (r *Report) Write(w io.Writer) {
	for _, s := range []Severity{Error, Warning, OK} {
		for _, f := range r.Findings {
			if f.Severity != s {
				continue
			}
			fmt.Fprintf(w, "%-7s  %-22s %s\n", s, f.Check, f.Message)
			if f.Fix != "" {
				fmt.Fprintf(w, "%-7s  %-22s fix: %s\n", "", "", f.Fix)
			}
		}
	}
	verdict := "nothing blocks ordergate run"
	if !r.OK() {
		verdict = "ordergate run would not work until the errors are fixed"
	}
	fmt.Fprintf(w, "\n%d errors, %d warnings, %d checks fine: %s.\n", r.Count(Error), r.Count(Warning), r.Count(OK), verdict)
}

// Options are the configuration to check and the clients to check it with.
type Options struct {
	// Config is the configuration, as config.LoadPartial returns it; Problems and
	// Warnings are what it reported.
	Config   config.Config
	Problems config.Errors
	Warnings []string
	// Client and Dialer talk to the brokers with the configuration's TLS and SASL.
	Client *kafka.Client
	Dialer *kafka.Dialer
	// ServicePoint is the id of a service point the inventory must know ("" skips that
	// check; the inventory is then only asked for an id that does not exist).
	ServicePoint string
	// Timeout bounds each network check (default 10s).
	Timeout time.Duration
}

// Run checks everything and returns the report.
func Run(ctx context.Context, o Options) *Report {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	r := &Report{}
	checkConfig(r, o)
	checkClients(r, o)
	checkKafka(ctx, r, o)
	checkRedis(ctx, r, o)
	checkInventory(ctx, r, o)
	checkHTTP(r, o)
	return r
}

// checkConfig reports every problem and warning of the configuration.
func checkConfig(r *Report, o Options) {
	for _, p := range o.Problems {
		r.add("config", Error, p.Error(), "set "+p.Name+" to a valid value (docs/configuration.md)")
	}
	if !o.Problems.Has("ORDERGATE_INVENTORY_URL") && !o.Problems.Has("ORDERGATE_INVENTORY_FILE") {
		if err := o.Config.RequireInventory(); err != nil {
			r.add("config", Error, err.Error(), "set ORDERGATE_INVENTORY_URL (or ORDERGATE_INVENTORY_FILE)")
		}
	}
	for _, w := range o.Warnings {
		r.add("config", Warning, w, "")
	}
	if len(o.Problems) == 0 {
		r.ok("config", "every ORDERGATE_* variable is valid")
	}
}

// blocked reports whether any of the variables has a problem: a check that depends on
// them is skipped, the problem being reported already.
func (o Options) blocked(names ...string) bool {
	for _, n := range names {
		if o.Problems.Has(n) {
			return true
		}
	}
	return false
}

// scrub masks the secrets of the configuration in a message from a library.
func (o Options) scrub(err error) string {
	return o.Config.Scrub(strings.TrimSpace(err.Error()))
}
