package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/segmentio/kafka-go"
	"golang.org/x/term"

	"github.com/ordergate/ordergate/processor"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/publisher"
)

// outcome is one decision as dev and tail print it.
type outcome struct {
	source      string // input partition/offset
	requestType string
	key         string
	outcome     string // accepted, rejected, dlq
	code        int
	message     string
	field       string
	warnings    []string
}

// outcomeOf reads what a worker published for one result (dev's own worker).
func outcomeOf(r *processor.Result, kind publisher.Kind) outcome {
	d := &r.Decision
	o := outcome{
		source:      fmt.Sprintf("%d/%d", r.Record.Source.Partition, r.Record.Source.Offset),
		requestType: d.Type.String(),
		key:         string(r.Record.Key),
		outcome:     d.Outcome.String(),
		warnings:    d.Warnings,
	}
	if d.Type == order.TypeUnknown {
		o.requestType = ""
	}
	if v := d.Error(); v != nil {
		o.code, o.message, o.field = v.Code(), v.Message(), v.Field
	}
	if kind == publisher.KindDLQ {
		o.outcome, o.message = "dlq", "the broker refused the event"
	}
	return o
}

// parseOutcome reads an event (or a dead-letter record) read from an output topic.
func parseOutcome(dlq bool, m kafka.Message) outcome {
	o := outcome{key: string(m.Key)}
	if dlq {
		o.outcome = "dlq"
		for _, h := range m.Headers {
			switch h.Key {
			case "dlq_source":
				src := string(h.Value)
				o.source = src[strings.IndexByte(src, '/')+1:]
			case "dlq_reason":
				o.message = string(h.Value)
			case "type":
				o.requestType = string(h.Value)
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
	width int // of the first column
}

func newPrinter(w io.Writer, color bool, width int) *printer {
	return &printer{w: w, color: color, width: width}
}

func (p *printer) paint(code, s string) string {
	if !p.color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// line prints one outcome: label (the sample's name, or where the input was), type, key,
// verdict, warnings, and a difference from the expected outcome when want is given.
func (p *printer) line(o outcome, label string, want *goldenOutcome) {
	rt := o.requestType
	if rt == "" {
		rt = "(unknown type)"
	}
	key := o.key
	switch {
	case key == "":
		key = "(none)"
	case len(key) > 24:
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
	line := fmt.Sprintf("%-*s %-26s key=%-24s %s", p.width, label, rt, key, verdict)
	if len(o.warnings) > 0 {
		line += p.paint("33", "  warnings: "+strings.Join(o.warnings, "; "))
	}
	if want != nil && !want.matches(o) {
		line += p.paint("1;31", fmt.Sprintf("  DIFFERS from golden: want %s %d %s", want.outcome, want.code, want.field))
	}
	fmt.Fprintln(p.w, line)
}

// isTerminal reports whether w is a terminal (text logs, progress bars).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// useColor reports whether to paint the output: on a terminal, unless NO_COLOR or
// TERM=dumb says otherwise.
func useColor(w io.Writer) bool {
	return isTerminal(w) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}
