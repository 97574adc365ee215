package deadletter

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ordergate/ordergate/internal/app/audit"
	"github.com/ordergate/ordergate/internal/app/produce"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/publisher/event"
)

// Credentials are the client secrets a replay needs, by client id. A dead letter never
// carries client_secret: the operator gives the secrets at replay time (a file or standard
// input, never an argument), and they live only in memory. Neither String nor any error of
// this package shows a secret.
type Credentials struct {
	secrets map[string]string
}

// String says how many secrets are held, never which.
func (c Credentials) String() string { return strconv.Itoa(len(c.secrets)) + " client secrets" }

// GoString is String, so that %#v shows no secret either.
func (c Credentials) GoString() string { return c.String() }

// ParseCredentials reads lines "client_id=client_secret"; blank lines and lines starting
// with # are ignored. Errors name the line, never its content.
func ParseCredentials(r io.Reader) (Credentials, error) {
	c := Credentials{secrets: map[string]string{}}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, secret, ok := strings.Cut(line, "=")
		id = strings.TrimSpace(id)
		if !ok || id == "" || secret == "" {
			return Credentials{}, fmt.Errorf("line %d: want client_id=client_secret", n)
		}
		if _, dup := c.secrets[id]; dup {
			return Credentials{}, fmt.Errorf("line %d: client %q given twice", n, id)
		}
		c.secrets[id] = secret
	}
	if err := sc.Err(); err != nil {
		return Credentials{}, err
	}
	return c, nil
}

// secretMask is what a dry run prints in place of a client secret.
const secretMask = "(from the credentials given)"

// Planned is one dead letter selected for replay: the headers its record will carry, or why
// it is not replayed.
type Planned struct {
	Letter *Letter
	// Headers are the replayed record's headers: the dead letter's headers that the
	// contract reads, the client_secret its client_id needs, replay_of and
	// replay_dead_letter.
	Headers []kafka.Header
	// Refused says why the dead letter is not replayed ("" when it is).
	Refused string
}

// PrintableHeaders are Headers with the client secret masked.
func (p *Planned) PrintableHeaders() []kafka.Header {
	out := make([]kafka.Header, len(p.Headers))
	for i, h := range p.Headers {
		if strings.EqualFold(h.Key, "client_secret") {
			h.Value = []byte(secretMask)
		}
		out[i] = h
	}
	return out
}

// Plan decides what to replay of the selected dead letters. A dead letter whose event was
// replayed already is refused unless force; a second dead letter of an event selected
// twice is refused (one replay per event); a dead letter with a client_id needs that
// client's secret in creds.
func Plan(letters []*Letter, creds Credentials, force bool) []Planned {
	var out []Planned
	seen := map[string]string{}
	for _, l := range letters {
		p := Planned{Letter: l}
		switch {
		case seen[l.EventID] != "":
			p.Refused = "the same event as dead letter " + seen[l.EventID] + ", replayed once"
		case len(l.Replays) > 0 && !force:
			r := l.Replays[len(l.Replays)-1]
			p.Refused = fmt.Sprintf("already replayed at %s as %s (--force replays it again)", r.Time.UTC().Format(time.RFC3339), r.Record)
		default:
			p.Headers, p.Refused = replayHeaders(l, creds)
		}
		if l.EventID != "" && seen[l.EventID] == "" {
			seen[l.EventID] = l.Ref()
		}
		out = append(out, p)
	}
	return out
}

// replayHeaders returns the headers of the replayed record, or why it cannot be built.
func replayHeaders(l *Letter, creds Credentials) ([]kafka.Header, string) {
	var hs []kafka.Header
	clientID := ""
	for _, h := range l.Headers {
		// Only the contract's headers: a dead letter written before the allow-list may
		// still carry others (an Authorization, a Cookie); they are not sent again.
		if !event.KeptInDeadLetter(h.Key) {
			continue
		}
		if strings.EqualFold(h.Key, "client_id") && clientID == "" {
			clientID = string(h.Value)
		}
		hs = append(hs, h)
	}
	if clientID != "" {
		secret, ok := creds.secrets[clientID]
		if !ok {
			return nil, fmt.Sprintf("needs the client_secret of client %q: give it with --credentials", clientID)
		}
		hs = append(hs, kafka.Header{Key: "client_secret", Value: []byte(secret)})
	}
	if l.EventID == "" {
		return nil, "the dead letter has no ce_id: its replay could not name its original"
	}
	hs = append(hs,
		kafka.Header{Key: event.HeaderReplayOf, Value: []byte(l.EventID)},
		kafka.Header{Key: event.HeaderReplayDeadLetter, Value: []byte(l.Topic + "/" + l.Ref())},
	)
	return hs, ""
}

// Result is the outcome of one replay.
type Result struct {
	Planned *Planned
	// Record locates the replayed record on the input topic: topic/partition/offset.
	Record string
	// Err is a failure to publish the replay or its marker.
	Err error
}

// Publish replays the planned dead letters that are not refused: each record goes to the
// input topic with its original key and value (produce.One: the partition murmur2 of its
// key picks, as the upstream's producers do), then its marker to the dead-letter topic. A replay whose marker could not be written is reported as an error:
// it happened, but a second replay would not be refused.
func Publish(ctx context.Context, k audit.Cluster, t Topics, plan []Planned, force bool, now time.Time) ([]Result, error) {
	inParts, err := partitionIDs(ctx, k, t.Requests)
	if err != nil {
		return nil, err
	}
	dlqParts, err := partitionIDs(ctx, k, t.DLQ)
	if err != nil {
		return nil, err
	}
	var results []Result
	for i := range plan {
		p := &plan[i]
		if p.Refused != "" {
			continue
		}
		l := p.Letter
		r := Result{Planned: p}
		part, off, err := produce.One(ctx, k.Client, t.Requests, inParts, &order.Record{Key: l.Key, Value: l.Value, Headers: orderHeaders(p.Headers), Time: now})
		if err != nil {
			r.Err = fmt.Errorf("replay of %s/%s to %s: %w", l.Topic, l.Ref(), t.Requests, err)
			results = append(results, r)
			continue
		}
		r.Record = t.Requests + "/" + strconv.Itoa(part) + "/" + strconv.FormatInt(off, 10)
		value, _ := json.Marshal(marker{ReplayOf: l.EventID, Replay: r.Record, DeadLetter: l.Topic + "/" + l.Ref(), Forced: force && len(l.Replays) > 0})
		_, _, err = produce.One(ctx, k.Client, t.DLQ, dlqParts, &order.Record{Key: []byte(l.EventID), Value: value, Time: now,
			Headers: []order.Header{{Key: event.HeaderDLQReplayOf, Value: []byte(l.EventID)}, {Key: event.HeaderDLQReplay, Value: []byte(r.Record)}}})
		if err != nil {
			r.Err = fmt.Errorf("replayed as %s, but its replay marker could not be written to %s (a second replay would not be refused): %w", r.Record, t.DLQ, err)
		}
		results = append(results, r)
	}
	return results, nil
}

func partitionIDs(ctx context.Context, k audit.Cluster, topic string) ([]int, error) {
	_, last, err := audit.Offsets(ctx, k.Client, topic)
	if err != nil {
		return nil, err
	}
	ids := make([]int, 0, len(last))
	for p := range last {
		ids = append(ids, p)
	}
	slices.Sort(ids) // the balancer indexes the list: the same order as other producers
	return ids, nil
}

// orderHeaders converts kafka-go headers into the record's.
func orderHeaders(hs []kafka.Header) []order.Header {
	out := make([]order.Header, len(hs))
	for i, h := range hs {
		out[i] = order.Header{Key: h.Key, Value: h.Value}
	}
	return out
}

func decodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	return dec.Decode(v)
}
