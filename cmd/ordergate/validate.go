package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ordergate/ordergate/internal/app/worker"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/processor/servicepoint"
	"github.com/ordergate/ordergate/publisher/event"
)

// headerFlags collects repeated -H name=value flags, in order.
type headerFlags []order.Header

func (h *headerFlags) String() string { return "" }

func (h *headerFlags) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return fmt.Errorf("want name=value, got %q", s)
	}
	*h = append(*h, order.Header{Key: name, Value: []byte(value)})
	return nil
}

func cmdValidate(args []string, e *env) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var headers headerFlags
	fs.Var(&headers, "H", "a record header `name=value` (repeatable)")
	key := fs.String("key", "", "the record key")
	at := fs.String("at", "", "the record timestamp, RFC 3339 (default: now); \"today\" of the date rules is its date in Paris")
	inventoryFile := fs.String("inventory", "", "service-point inventory `file` (JSON array), to decide rows 17-19 of BVPN requests")
	clientsFile := fs.String("clients", "", "clients `file`, as ORDERGATE_CLIENTS_FILE")
	maxBytes := fs.Int("max-message-bytes", order.DefaultMaxBodyBytes, "largest request value accepted, as ORDERGATE_MAX_MESSAGE_BYTES")
	pretty := fs.Bool("pretty", false, "indent the events")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "Usage: ordergate validate [flags] FILE...  (- reads standard input)")
		fmt.Fprintln(e.stderr, "\nPrints, one JSON line per file, the event the worker would publish for a record with that")
		fmt.Fprintln(e.stderr, "value (source topic \"file\", partition 0, offset = the file's index). Exit status: 0 when every")
		fmt.Fprintln(e.stderr, "request is accepted, 1 when any is rejected, 2 on a usage or file error.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return parseStatus(err)
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitUsage
	}
	recordTime, err := parseAt(*at, e.now)
	if err != nil {
		fmt.Fprintln(e.stderr, "ordergate validate:", err)
		return exitUsage
	}
	rules := &order.Rules{MaxBodyBytes: *maxBytes}
	if *clientsFile != "" {
		c, err := worker.LoadClients(*clientsFile)
		if err != nil {
			// LoadClients names the variable ("ORDERGATE_CLIENTS_FILE: ..." or
			// "ORDERGATE_CLIENTS_FILE=path: ..."); here the flag is named instead.
			msg := strings.TrimLeft(strings.TrimPrefix(err.Error(), "ORDERGATE_CLIENTS_FILE"), ":= ")
			fmt.Fprintln(e.stderr, "ordergate validate: --clients:", msg)
			return exitUsage
		}
		rules.Clients = c
	}
	var inv *servicepoint.FileInventory
	if *inventoryFile != "" {
		var err error
		if inv, err = servicepoint.LoadFileInventory(*inventoryFile); err != nil {
			fmt.Fprintln(e.stderr, "ordergate validate: --inventory:", err)
			return exitUsage
		}
	}
	status := exitOK
	for i, name := range fs.Args() {
		value, err := readInput(name, e.stdin)
		if err != nil {
			fmt.Fprintf(e.stderr, "ordergate validate: %v\n", err)
			return exitUsage
		}
		in := &order.Record{
			Value:   value,
			Headers: headers,
			Time:    recordTime,
			Source:  order.Source{Topic: "file", Partition: 0, Offset: int64(i)},
		}
		if *key != "" {
			in.Key = []byte(*key)
		}
		d := rules.Decide(in)
		if d.Outcome == order.NeedsServicePoint {
			if inv == nil {
				fmt.Fprintf(e.stderr, "ordergate validate: %s: passes rows 1-16; resolving its service point (%s %q) needs --inventory FILE\n",
					name, d.Lookup.Criterion, d.Lookup.Value)
				return exitUsage
			}
			matches, err := inv.Find(context.Background(), d.Lookup)
			if err != nil {
				fmt.Fprintf(e.stderr, "ordergate validate: %s: %v\n", name, err)
				return exitUsage
			}
			d.Resolve(matches)
		}
		ev := event.Build(in, &d, e.now(), false)
		// The event embeds the request verbatim, line breaks included: compact it so that
		// each event is one line (the published value keeps the request as sent).
		out := ev.Value
		var buf bytes.Buffer
		format := func() error { return json.Compact(&buf, out) }
		if *pretty {
			format = func() error { return json.Indent(&buf, out, "", "  ") }
		}
		if err := format(); err == nil {
			out = buf.Bytes()
		}
		e.stdout.Write(out)
		io.WriteString(e.stdout, "\n")
		if d.Outcome != order.Accepted {
			status = exitFailure
		}
	}
	return status
}

// parseAt reads the --at flag of validate and produce: an RFC 3339 time, or now when empty.
func parseAt(at string, now func() time.Time) (time.Time, error) {
	if at == "" {
		return now(), nil
	}
	t, err := time.Parse(time.RFC3339, at)
	if err != nil {
		return time.Time{}, fmt.Errorf("--at %q is not an RFC 3339 time (e.g. 2026-12-04T10:00:00Z)", at)
	}
	return t, nil
}

// readInput reads a request file, or standard input for "-".
func readInput(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		b, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("standard input: %w", err)
		}
		return b, nil
	}
	b, err := os.ReadFile(name)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the message names the file already
		}
		return nil, fmt.Errorf("cannot read %s: %w", name, err)
	}
	return b, nil
}
