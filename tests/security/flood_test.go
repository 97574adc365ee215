package security

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ordergate/ordergate/internal/app/bench"
	"github.com/ordergate/ordergate/internal/app/testkit"
	"github.com/ordergate/ordergate/internal/foundation/testredis"
	"github.com/ordergate/ordergate/processor/order"
)

// floodPeakRSSMiB is the bound of docs/security.md: the peak RSS of a worker process (built
// as users build it, without the race detector, whose shadow memory would distort the
// figure) that decides eight worst bodies at once, four rounds in a row. Measured on this
// project's machines: 131-138 MiB after the bound of issue 23 (idle: 21 MiB), 2754-2840 MiB
// before it.
const floodPeakRSSMiB = 200

// floodPartitions is how many input partitions, hence how many records decided at once.
const floodPartitions = 8

// worstBodies are the bodies that cost the most per byte, each just under the default
// ORDERGATE_MAX_MESSAGE_BYTES (524288): an account request whose contact array holds one
// violation per two bytes (row 15: not an object), one per byte (row 12: three missing
// fields per "{}"), and a BVPN request with one unknown member of properties per six bytes.
func worstBodies() [][]byte {
	const limit = 524288
	fill := func(prefix, item, suffix string) []byte {
		n := (limit - len(prefix) - len(suffix) + 1) / (len(item) + 1)
		var b bytes.Buffer
		b.WriteString(prefix)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(item)
		}
		b.WriteString(suffix)
		return b.Bytes()
	}
	var unknown bytes.Buffer
	unknown.WriteString(`{"type":"U_BVPN_CUSTOM003_1","properties":{"servicePoint":{"id":"SP-1"},` +
		`"contacts":{"primary":{"title":"M.","firstName":"Paul","lastName":"Langel","phone":"+33401010101",` +
		`"mobile":"+33600200200","email":"paul@example.com"}},"profile":"FDJ CONNECT FTTH","options":{"bandwidth":"8M",` +
		`"wifi":"y","multicast":"y","quickstart":"y","ethernet":"y","internal_antenna":"y","external_antenna":"y"}`)
	for i := 0; unknown.Len() < limit-16; i++ {
		unknown.WriteString(`,"` + strconv.FormatInt(int64(i), 36) + `":0`)
	}
	unknown.WriteString(`}}`)
	return [][]byte{
		fill(`{"contact":[`, `1`, `]}`),
		fill(`{"contact":[`, `{}`, `]}`),
		unknown.Bytes(),
	}
}

// TestWorstBodyFlood publishes rounds of eight worst bodies, one per partition so that the
// worker decides them at once, plus a record with a 15 KB X-Correlation-ID holding control
// characters: every one is rejected with at most 1000 errors and errorsTruncated, the long
// correlation id is ignored with a warning, and the worker's peak RSS stays under
// floodPeakRSSMiB.
func TestWorstBodyFlood(t *testing.T) {
	c := testkit.NewCluster(t, floodPartitions, nil)
	// The input topic takes the test producer's batches of several 512 KiB records.
	must(t, c.DeleteTopic(testkit.Topics.Requests), "delete topic")
	must(t, c.CreateTopic(testkit.Topics.Requests, floodPartitions, map[string]string{"max.message.bytes": strconv.Itoa(16 << 20)}), "create topic")
	cfg := testkit.Config(t, c, testredis.Shared(t), testredis.Prefix(t))
	inv := filepath.Join(t.TempDir(), "inventory.json")
	must(t, os.WriteFile(inv, []byte("[]"), 0o600), "inventory")
	cfg.InventoryFile = inv
	cfg.LogFormat, cfg.LogLevel = "json", "info"

	// One key per partition, so that each round puts one worst body on every partition.
	keys := make([]string, floodPartitions)
	parts := make([]int, floodPartitions)
	for i := range parts {
		parts[i] = i
	}
	for i, found := 0, 0; found < floodPartitions; i++ {
		k := "flood-" + strconv.Itoa(i)
		p := kafka.Murmur2Balancer{}.Balance(kafka.Message{Key: []byte(k)}, parts...)
		if keys[p] == "" {
			keys[p] = k
			found++
		}
	}
	bodies := worstBodies()
	account := order.HeaderPairs([][2]string{{"type", "PATCH-billingAccountById"}, {"businessId", "PA"}, {"id", "ACC-1"},
		{"client_id", "flood-client"}, {"client_secret", "flood-secret"}})
	const rounds = 4
	var recs []order.Record
	for r := range rounds {
		for p := range floodPartitions {
			i := (r + p) % len(bodies)
			rec := testkit.Record(keys[p], bodies[i], testkit.RecordTime)
			if i < 2 {
				rec.Headers = account
			}
			recs = append(recs, rec)
		}
	}
	longCorrelation := strings.Repeat("c", 15000) + "\r\nX-Injected: 1"
	recs = append(recs, testkit.Record("flood-corr", []byte(`{"type":"R_BVPN_FR_1"}`), testkit.RecordTime, "X-Correlation-ID", longCorrelation))

	p := testkit.StartBinary(t, testkit.PlainBinary(t), processEnv(t, cfg), "run")
	httpAddr(t, p)
	time.Sleep(2 * time.Second) // the group settles and the reader buffers fill: the idle figure
	idle := bench.PeakRSS(p.Cmd.Process.Pid)
	c.Produce(t, recs...)
	c.WaitEvents(t, len(recs), 3*time.Minute)
	peak := bench.PeakRSS(p.Cmd.Process.Pid)
	stop(t, p)
	t.Logf("FLOOD | %d worst bodies of 512 KiB, %d at once | worker peak RSS %.0f MiB (idle %.0f MiB), bound %d MiB",
		rounds*floodPartitions, floodPartitions, peak, idle, floodPeakRSSMiB)

	for _, m := range c.Read(t, testkit.Topics.Rejected) {
		var ev struct {
			CorrelationID   string   `json:"correlationId"`
			EventID         string   `json:"eventId"`
			Errors          []any    `json:"errors"`
			ErrorsTruncated bool     `json:"errorsTruncated"`
			Warnings        []string `json:"warnings"`
		}
		must(t, json.Unmarshal(m.Value, &ev), "event")
		if string(m.Key) == "flood-corr" {
			if ev.CorrelationID != ev.EventID || len(ev.Warnings) != 1 || ev.Warnings[0] != "header 'X-Correlation-ID' is not valid and was ignored" {
				t.Errorf("long correlation id: correlationId %.40q, warnings %q", ev.CorrelationID, ev.Warnings)
			}
			for _, h := range m.Headers {
				if h.Key == "X-Correlation-ID" && string(h.Value) != ev.EventID {
					t.Errorf("X-Correlation-ID header of the event is %.40q, want the event id", h.Value)
				}
			}
			continue
		}
		if len(ev.Errors) != 1000 || !ev.ErrorsTruncated {
			t.Errorf("event of %s: %d errors, errorsTruncated %v; want 1000 and true", m.Key, len(ev.Errors), ev.ErrorsTruncated)
		}
	}
	if n := c.Count(t, testkit.Topics.Rejected); n != len(recs) {
		t.Errorf("%d rejected events, want %d", n, len(recs))
	}
	if peak > floodPeakRSSMiB {
		t.Errorf("peak RSS %.0f MiB over the bound of %d MiB", peak, floodPeakRSSMiB)
	}
}
