package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/segmentio/kafka-go"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/internal/app/audit"
	"github.com/ordergate/ordergate/internal/app/deadletter"
	"github.com/ordergate/ordergate/publisher/event"
)

func cmdDLQ(args []string, e *env) int {
	usage := func(w io.Writer) {
		fmt.Fprintln(w, "Usage: ordergate dlq list|show|replay [flags]")
		fmt.Fprintln(w, "\n  list                 one line per dead letter (filters: --since, --until, --reason, --type, --key, --pending)")
		fmt.Fprintln(w, "  show REF...          dead letters whole (REF: partition/offset on the dead-letter topic, or an event id)")
		fmt.Fprintln(w, "  replay [REF...]      publish dead letters again on the input topic (--dry-run, --force, --credentials)")
		fmt.Fprintln(w, "\nRun `ordergate dlq COMMAND -h` for its flags; docs/operations.md has the runbook \"records in the DLQ\".")
	}
	if len(args) == 0 {
		usage(e.stderr)
		return exitUsage
	}
	switch args[0] {
	case "list":
		return dlqList(args[1:], e)
	case "show":
		return dlqShow(args[1:], e)
	case "replay":
		return dlqReplay(args[1:], e)
	case "help", "-h", "--help":
		usage(e.stdout)
		return exitOK
	}
	fmt.Fprintf(e.stderr, "ordergate dlq: unknown command %q (list, show or replay)\n", args[0])
	return exitUsage
}

// dlqCommand holds what the dlq commands share: the flags that find the cluster, --json,
// and the filters of list and replay.
type dlqCommand struct {
	name    string
	fs      *flags
	args    []string // the arguments besides the flags
	brokers *string
	timeout *time.Duration
	json    *bool
	since   *string
	until   *string
	filter  deadletter.Filter
	e       *env
}

func newDLQCommand(e *env, name, usage string, filters bool) *dlqCommand {
	line, about, _ := strings.Cut(usage, "\n\n")
	about += "\n\nThe topics are ORDERGATE_TOPIC_REQUESTS and ORDERGATE_TOPIC_DLQ; Kafka TLS and SASL are the\n" +
		"ORDERGATE_KAFKA_* settings of ordergate run."
	c := &dlqCommand{name: name, e: e, fs: newFlags(e, "dlq "+name, strings.TrimPrefix(line, "Usage: ordergate dlq "+name+" "), about)}
	c.brokers = c.fs.String("brokers", "", "comma-separated `HOST:PORT` list (default: ORDERGATE_KAFKA_BROKERS, else a running dev)")
	c.timeout = c.fs.Duration("timeout", 5*time.Minute, "give up after this long")
	c.json = c.fs.Bool("json", false, "print JSON (for scripts)")
	if filters {
		c.since = c.fs.String("since", "", "only dead letters from this `TIME` on: RFC 3339, or a duration ago (24h)")
		c.until = c.fs.String("until", "", "only dead letters before this `TIME`: RFC 3339, or a duration ago")
		c.fs.StringVar(&c.filter.Reason, "reason", "", "only dead letters whose reason contains this `TEXT` (any case)")
		c.fs.StringVar(&c.filter.Type, "type", "", "only this request `TYPE` (none: those that name no supported type)")
		c.fs.StringVar(&c.filter.Key, "key", "", "only dead letters of this record `KEY`")
		c.fs.BoolVar(&c.filter.Pending, "pending", false, "only dead letters not replayed yet")
	}
	return c
}

// parse reads the flags and the filters' times; it returns an exit status, or -1 to go on.
func (c *dlqCommand) parse(args []string) int {
	rest, err := c.fs.parse(args)
	if err != nil {
		return status(err)
	}
	c.args = rest
	if c.since != nil {
		var err error
		now := c.e.now()
		if c.filter.Since, err = parseSince(*c.since, now); err != nil {
			fmt.Fprintln(c.e.stderr, "ordergate dlq "+c.name+": --since:", err)
			return exitUsage
		}
		if c.filter.Until, err = parseSince(*c.until, now); err != nil {
			fmt.Fprintln(c.e.stderr, "ordergate dlq "+c.name+": --until:", err)
			return exitUsage
		}
	}
	return -1
}

// parseSince reads a time flag: RFC 3339, or a duration before now; "" is no bound.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor a duration (24h)", s)
	}
	return t, nil
}

// read connects as the configuration says and reads the dead-letter topic.
func (c *dlqCommand) read() (context.Context, context.CancelFunc, config.Config, audit.Cluster, []deadletter.Letter, int) {
	cfg, kc, ok := toolClients(c.e, "dlq "+c.name, *c.brokers)
	if !ok {
		return nil, nil, cfg, audit.Cluster{}, nil, exitUsage
	}
	addrs := cfg.KafkaBrokers
	k := audit.Cluster{Client: kc.Client, Dialer: kc.Dialer, Brokers: addrs}
	ctx, cancel := context.WithTimeout(c.e.ctx, *c.timeout)
	p := newProgress(c.e, "reading "+cfg.TopicDLQ)
	letters, err := deadletter.Read(ctx, k, cfg.TopicDLQ, p.update)
	p.done()
	if err != nil {
		cancel()
		fmt.Fprintf(c.e.stderr, "ordergate dlq %s: %s at %s: %v\n", c.name, cfg.TopicDLQ, strings.Join(addrs, ","), err)
		return nil, nil, cfg, k, nil, exitFailure
	}
	return ctx, cancel, cfg, k, letters, -1
}

func (c *dlqCommand) filtered(letters []deadletter.Letter) []*deadletter.Letter {
	var out []*deadletter.Letter
	for i := range letters {
		if c.filter.Match(&letters[i]) {
			out = append(out, &letters[i])
		}
	}
	return out
}

func dlqList(args []string, e *env) int {
	c := newDLQCommand(e, "list", "Usage: ordergate dlq list [flags]\n\nLists the dead letters: one line each with its reference (partition/offset on the dead-letter\ntopic), time, source record, key, request type, replays and reason.", true)
	if status := c.parse(args); status >= 0 {
		return status
	}
	if len(c.args) > 0 {
		c.fs.fail(fmt.Sprintf("unexpected argument %q", c.args[0]))
		return exitUsage
	}
	_, cancel, cfg, _, letters, status := c.read()
	if status >= 0 {
		return status
	}
	defer cancel()
	selected := c.filtered(letters)
	if *c.json {
		out := make([]letterJSON, len(selected))
		for i, l := range selected {
			out[i] = toJSON(l, false)
		}
		return writeJSON(e, out)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REF\tTIME\tSOURCE\tKEY\tTYPE\tREPLAYED\tREASON")
	for _, l := range selected {
		replayed := "-"
		if n := len(l.Replays); n > 0 {
			replayed = l.Replays[n-1].Record
			if n > 1 {
				replayed += " (" + strconv.Itoa(n) + " replays)"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.Ref(), l.Time.UTC().Format("2006-01-02T15:04:05.000Z"), l.Source,
			shownKey(l.Key), orDash(l.RequestType), replayed, l.Reason)
	}
	tw.Flush()
	fmt.Fprintf(e.stdout, "%d of %d dead letters on %s\n", len(selected), len(letters), cfg.TopicDLQ)
	return exitOK
}

func dlqShow(args []string, e *env) int {
	c := newDLQCommand(e, "show", "Usage: ordergate dlq show [flags] REF...\n\nPrints dead letters whole: where they come from, why, their headers (values of headers the\ncontract does not read are never printed) and their value. REF is partition/offset on the\ndead-letter topic (see `ordergate dlq list`), or an event id.", false)
	if status := c.parse(args); status >= 0 {
		return status
	}
	if len(c.args) == 0 {
		c.fs.failUsage("name the dead letters to show (REF...)")
		return exitUsage
	}
	_, cancel, _, _, letters, status := c.read()
	if status >= 0 {
		return status
	}
	defer cancel()
	var shown []*deadletter.Letter
	for _, ref := range c.args {
		found, err := deadletter.Find(letters, ref)
		if err != nil {
			fmt.Fprintln(e.stderr, "ordergate dlq show:", err)
			return exitFailure
		}
		shown = append(shown, found...)
	}
	if *c.json {
		out := make([]letterJSON, len(shown))
		for i, l := range shown {
			out[i] = toJSON(l, true)
		}
		return writeJSON(e, out)
	}
	for i, l := range shown {
		if i > 0 {
			fmt.Fprintln(e.stdout)
		}
		writeLetter(e.stdout, l)
	}
	return exitOK
}

func writeLetter(w io.Writer, l *deadletter.Letter) {
	fmt.Fprintf(w, "dead letter   %s/%s\n", l.Topic, l.Ref())
	fmt.Fprintf(w, "time          %s\n", l.Time.UTC().Format(time.RFC3339Nano))
	fmt.Fprintf(w, "source        %s\n", l.Source)
	fmt.Fprintf(w, "event id      %s\n", l.EventID)
	fmt.Fprintf(w, "reason        %s\n", l.Reason)
	fmt.Fprintf(w, "request type  %s\n", orDash(l.RequestType))
	fmt.Fprintf(w, "key           %s\n", shownKey(l.Key))
	if l.Dropped != "" {
		fmt.Fprintf(w, "not kept      %s (headers the contract does not read; a replay needs the client_secret again)\n", l.Dropped)
	}
	fmt.Fprintln(w, "headers")
	for _, h := range l.Headers {
		fmt.Fprintf(w, "  %s: %s\n", strconv.Quote(h.Key), shownHeader(h))
	}
	if len(l.Replays) == 0 {
		fmt.Fprintln(w, "replays       none")
	}
	for _, r := range l.Replays {
		forced := ""
		if r.Forced {
			forced = " (forced)"
		}
		fmt.Fprintf(w, "replayed      %s as %s%s\n", r.Time.UTC().Format(time.RFC3339), r.Record, forced)
	}
	fmt.Fprintf(w, "value         %d bytes\n%s\n", len(l.Value), l.Value)
}

// shownHeader is a header value as the dlq commands print it: the headers the contract
// reads and those the DLQ adds as they are, any other masked (a dead letter written before
// the allow-list can carry an Authorization or a Cookie).
func shownHeader(h kafka.Header) string {
	if printableHeader(h.Key) {
		return strconv.Quote(string(h.Value))
	}
	return "(not shown: not a header the contract reads)"
}

func printableHeader(name string) bool {
	if strings.EqualFold(name, "client_secret") {
		return false
	}
	switch name {
	case event.HeaderDLQReason, event.HeaderDLQSource, event.HeaderID, event.HeaderDLQDroppedHeaders:
		return true
	}
	return event.KeptInDeadLetter(name)
}

// letterJSON is a dead letter in the JSON of list and show.
type letterJSON struct {
	Ref            string          `json:"ref"`
	Topic          string          `json:"topic"`
	Partition      int             `json:"partition"`
	Offset         int64           `json:"offset"`
	Time           time.Time       `json:"time"`
	Source         string          `json:"source"`
	EventID        string          `json:"eventId"`
	Key            *string         `json:"key"`
	RequestType    *string         `json:"requestType"`
	Reason         string          `json:"reason"`
	DroppedHeaders []string        `json:"droppedHeaders,omitempty"`
	Replays        []replayJSON    `json:"replays"`
	Headers        []headerJSON    `json:"headers,omitempty"`
	Value          json.RawMessage `json:"value,omitempty"`
	ValueString    *string         `json:"valueString,omitempty"`
}

type replayJSON struct {
	Time   time.Time `json:"time"`
	Record string    `json:"record"`
	Forced bool      `json:"forced"`
}

type headerJSON struct {
	Key    string  `json:"key"`
	Value  *string `json:"value"`
	Hidden bool    `json:"hidden,omitempty"`
}

func toJSON(l *deadletter.Letter, whole bool) letterJSON {
	j := letterJSON{Ref: l.Ref(), Topic: l.Topic, Partition: l.Partition, Offset: l.Offset, Time: l.Time.UTC(),
		Source: l.Source, EventID: l.EventID, Reason: l.Reason, Replays: []replayJSON{}}
	if len(l.Key) > 0 {
		k := string(l.Key)
		j.Key = &k
	}
	if l.RequestType != "" {
		j.RequestType = &l.RequestType
	}
	if l.Dropped != "" {
		j.DroppedHeaders = strings.Split(l.Dropped, ",")
	}
	for _, r := range l.Replays {
		j.Replays = append(j.Replays, replayJSON{Time: r.Time.UTC(), Record: r.Record, Forced: r.Forced})
	}
	if whole {
		j.Headers = headersJSON(l.Headers, printableHeader)
		if json.Valid(l.Value) {
			j.Value = l.Value
		} else {
			s := strings.ToValidUTF8(string(l.Value), "\uFFFD")
			j.ValueString = &s
		}
	}
	return j
}

func headersJSON(hs []kafka.Header, printable func(string) bool) []headerJSON {
	out := make([]headerJSON, len(hs))
	for i, h := range hs {
		out[i] = headerJSON{Key: h.Key, Hidden: !printable(h.Key)}
		if printable(h.Key) {
			v := string(h.Value)
			out[i].Value = &v
		}
	}
	return out
}

func writeJSON(e *env, v any) int {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintln(e.stderr, "ordergate:", err)
		return exitInternal
	}
	return exitOK
}

// shownKey writes a record key on one line: as it is when plain text, quoted otherwise,
// "-" when there is none.
func shownKey(k []byte) string {
	if len(k) == 0 {
		return "-"
	}
	s := string(k)
	for _, r := range s {
		if !unicode.IsPrint(r) || r == ' ' {
			return strconv.Quote(s)
		}
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func dlqReplay(args []string, e *env) int {
	c := newDLQCommand(e, "replay", "Usage: ordergate dlq replay [flags] [REF...]\n\n"+
		"Publishes dead letters again on the input topic, with their original key, value and the\n"+
		"headers the contract reads, plus replay_of (the original event id) and replay_dead_letter.\n"+
		"The worker decides them anew; their events say replayOf. A replay marker on the dead-letter\n"+
		"topic remembers each replay: a dead letter replayed once is refused unless --force.\n"+
		"Select dead letters by REF (partition/offset, or event id), or by filters, or --all.\n"+
		"A dead letter with a client_id needs that client's secret: --credentials FILE (or - for\n"+
		"standard input), lines client_id=client_secret; never stored, never printed.\n"+
		"Exit status 1 when any selected dead letter is refused or fails.", true)
	all := c.fs.Bool("all", false, "replay every dead letter the filters select (needed when no REF and no filter is given)")
	dryRun := c.fs.Bool("dry-run", false, "print what would be sent, send nothing")
	force := c.fs.Bool("force", false, "replay dead letters that were replayed already")
	credsFile := c.fs.String("credentials", "", "`FILE` of client_id=client_secret lines, - for standard input")
	if status := c.parse(args); status >= 0 {
		return status
	}
	filtering := c.filter != (deadletter.Filter{})
	if len(c.args) == 0 && !filtering && !*all {
		fmt.Fprintln(e.stderr, "ordergate dlq replay: name the dead letters (REF...), or select them with filters, or give --all")
		return exitUsage
	}
	var creds deadletter.Credentials
	if *credsFile != "" {
		var err error
		if creds, err = readCredentials(*credsFile, e.stdin); err != nil {
			fmt.Fprintln(e.stderr, "ordergate dlq replay: --credentials:", err)
			return exitUsage
		}
	}
	ctx, cancel, cfg, k, letters, status := c.read()
	if status >= 0 {
		return status
	}
	defer cancel()
	var selected []*deadletter.Letter
	if len(c.args) == 0 {
		selected = c.filtered(letters)
	}
	for _, ref := range c.args {
		found, err := deadletter.Find(letters, ref)
		if err != nil {
			fmt.Fprintln(e.stderr, "ordergate dlq replay:", err)
			return exitFailure
		}
		for _, l := range found {
			if c.filter.Match(l) {
				selected = append(selected, l)
			}
		}
	}
	plan := deadletter.Plan(selected, creds, *force)
	var results []deadletter.Result
	if !*dryRun {
		var err error
		results, err = deadletter.Publish(ctx, k, deadletter.Topics{Requests: cfg.TopicRequests, DLQ: cfg.TopicDLQ}, plan, *force, e.now())
		if err != nil {
			fmt.Fprintf(e.stderr, "ordergate dlq replay: %s: %v\n", strings.Join(k.Brokers, ","), err)
			return exitFailure
		}
	}
	return writeReplays(e, *c.json, *dryRun, cfg.TopicRequests, plan, results)
}

func readCredentials(name string, stdin io.Reader) (deadletter.Credentials, error) {
	var r io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return deadletter.Credentials{}, fmt.Errorf("%s: %w", name, err)
		}
		defer f.Close()
		r = f
	}
	return deadletter.ParseCredentials(r)
}

// replayJSONOut is one selected dead letter in the JSON of replay.
type replayJSONOut struct {
	Ref     string       `json:"ref"`
	EventID string       `json:"eventId"`
	Refused string       `json:"refused,omitempty"`
	Record  string       `json:"record,omitempty"`
	Error   string       `json:"error,omitempty"`
	DryRun  bool         `json:"dryRun,omitempty"`
	Topic   string       `json:"topic,omitempty"`
	Key     *string      `json:"key,omitempty"`
	Headers []headerJSON `json:"headers,omitempty"`
	Value   *string      `json:"value,omitempty"`
}

func writeReplays(e *env, asJSON, dryRun bool, topic string, plan []deadletter.Planned, results []deadletter.Result) int {
	byPlan := map[*deadletter.Planned]*deadletter.Result{}
	for i := range results {
		byPlan[results[i].Planned] = &results[i]
	}
	status := exitOK
	var out []replayJSONOut
	for i := range plan {
		p := &plan[i]
		l := p.Letter
		o := replayJSONOut{Ref: l.Ref(), EventID: l.EventID, Refused: p.Refused}
		switch {
		case p.Refused != "":
			status = exitFailure
			if !asJSON {
				fmt.Fprintf(e.stdout, "refused %s (event %s): %s\n", l.Ref(), l.EventID, p.Refused)
			}
		case dryRun:
			o.DryRun, o.Topic = true, topic
			if len(l.Key) > 0 {
				k := string(l.Key)
				o.Key = &k
			}
			o.Headers = headersJSON(p.PrintableHeaders(), func(string) bool { return true })
			v := string(l.Value)
			o.Value = &v
			if !asJSON {
				fmt.Fprintf(e.stdout, "would replay %s (event %s) to %s, key %s\n", l.Ref(), l.EventID, topic, shownKey(l.Key))
				for _, h := range p.PrintableHeaders() {
					fmt.Fprintf(e.stdout, "  %s: %s\n", strconv.Quote(h.Key), strconv.Quote(string(h.Value)))
				}
				fmt.Fprintf(e.stdout, "  value (%d bytes): %s\n", len(l.Value), l.Value)
			}
		default:
			r := byPlan[p]
			o.Record = r.Record
			if r.Err != nil {
				status = exitFailure
				o.Error = r.Err.Error()
				if !asJSON {
					fmt.Fprintf(e.stdout, "failed %s (event %s): %v\n", l.Ref(), l.EventID, r.Err)
				}
			} else if !asJSON {
				fmt.Fprintf(e.stdout, "replayed %s (event %s) as %s\n", l.Ref(), l.EventID, r.Record)
			}
		}
		out = append(out, o)
	}
	if asJSON {
		if out == nil {
			out = []replayJSONOut{}
		}
		if s := writeJSON(e, out); s != exitOK {
			return s
		}
	} else if len(plan) == 0 {
		fmt.Fprintln(e.stdout, "no dead letter selected")
	}
	return status
}
