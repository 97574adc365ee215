package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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

// headerFlags collects repeated -H flags, in order: name=value, or name: value as curl
// takes them.
type headerFlags []order.Header

func (h *headerFlags) String() string { return "" }

// Set adds one header. Its error never quotes the flag: a value may be a secret
// (-H 'client_secret X' must not print X; issue 23, item 5).
func (h *headerFlags) Set(s string) error {
	i := strings.IndexAny(s, "=:")
	if i <= 0 {
		return errors.New("want NAME=VALUE (or \"NAME: VALUE\")")
	}
	name, value := s[:i], s[i+1:]
	if s[i] == ':' {
		value = strings.TrimLeft(value, " \t")
	}
	if strings.TrimSpace(name) != name {
		return errors.New("the header name has spaces around it")
	}
	*h = append(*h, order.Header{Key: name, Value: []byte(value)})
	return nil
}

func cmdValidate(args []string, e *env) int {
	fs := newFlags(e, "validate", "[flags] FILE...  (- reads standard input)", `Prints, one JSON line per file, the event the worker would publish for a record with that
value (source topic "file", partition 0, offset = the file's index). Exit status: 0 when every
request is accepted, 1 when any is rejected, 2 on a usage or file error.`)
	var headers headerFlags
	fs.Var(&headers, "H", "a record header `NAME=VALUE` (or \"NAME: VALUE\"); repeatable")
	fs.secret["H"] = true
	key := fs.String("key", "", "the record `KEY`")
	at := fs.String("at", "", "the record timestamp, an RFC 3339 `TIME` (default: now); \"today\" of the date rules is its date in Paris")
	inventoryFile := fs.String("inventory", "", "service-point inventory `FILE` (JSON array), to decide rows 17-19 of BVPN requests")
	clientsFile := fs.String("clients", "", "clients `FILE`, as ORDERGATE_CLIENTS_FILE")
	maxBytes := fs.Int("max-message-bytes", order.DefaultMaxBodyBytes, "largest request value accepted, in `BYTES`, as ORDERGATE_MAX_MESSAGE_BYTES")
	pretty := fs.Bool("pretty", false, "indent the events")
	files, err := fs.parse(args)
	if err != nil {
		return status(err)
	}
	if len(files) == 0 {
		fs.failUsage("no request file given")
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
	for i, name := range files {
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
