package artifacts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/ordergate/ordergate/internal/app/testkit"
	"github.com/ordergate/ordergate/internal/app/worker"
	"github.com/ordergate/ordergate/internal/foundation/testredis"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/processor/servicepoint"
	"github.com/ordergate/ordergate/publisher/event"
)

// What the event schema cannot say, and checkEvent does: error is the first entry of
// errors without its field; eventId is the UUID v5 of source; the CloudEvents headers
// repeat eventId, eventType and eventTime; X-Correlation-ID repeats correlationId; the key
// is the input's key, else correlationId; with the input at hand, correlationId is its
// X-Correlation-ID (else eventId) and request embeds its value verbatim.

// record is one Kafka record: key, value and headers in order.
type record struct {
	key     []byte
	value   []byte
	headers [][2]string
}

// input is what an event answers, when the test knows it.
type input struct {
	key     []byte
	value   []byte
	headers [][2]string
}

// checkEvent validates an event record against event.json and headers.json#/$defs/event,
// and checks the rules the schemas cannot express. in may be nil (events read back from a
// topic whose inputs the test does not map).
func checkEvent(t testing.TB, sc *schemas, r record, in *input) []string {
	t.Helper()
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	doc, err := decodeJSON(r.value)
	if err != nil {
		return []string{"value is not JSON: " + err.Error()}
	}
	if err := sc.validate(t, idEvent, doc); err != nil {
		fail("event.json: %s", validationSummary(err))
	}
	hs := map[string]any{}
	for _, h := range r.headers {
		if _, dup := hs[h[0]]; dup {
			fail("header %s written twice", h[0])
		}
		hs[h[0]] = h[1]
	}
	if err := sc.validate(t, idHeaders+"#/$defs/event", hs); err != nil {
		fail("headers.json#/$defs/event: %s", validationSummary(err))
	}
	var ev struct {
		EventID       string `json:"eventId"`
		EventType     string `json:"eventType"`
		EventTime     string `json:"eventTime"`
		CorrelationID string `json:"correlationId"`
		Source        struct {
			Topic     string `json:"topic"`
			Partition int    `json:"partition"`
			Offset    int64  `json:"offset"`
			Timestamp string `json:"timestamp"`
		} `json:"source"`
		Error            map[string]any   `json:"error"`
		Errors           []map[string]any `json:"errors"`
		Request          json.RawMessage  `json:"request"`
		RequestTruncated bool             `json:"requestTruncated"`
	}
	if err := json.Unmarshal(r.value, &ev); err != nil {
		return append(problems, err.Error())
	}
	if len(ev.Errors) > 0 {
		first := map[string]any{}
		for k, v := range ev.Errors[0] {
			if k != "field" {
				first[k] = v
			}
		}
		a, _ := json.Marshal(first)
		b, _ := json.Marshal(ev.Error)
		if !bytes.Equal(a, b) {
			fail("error %s is not the first entry of errors %s", b, a)
		}
	}
	if ts, err := time.Parse(time.RFC3339Nano, ev.Source.Timestamp); err != nil {
		fail("source.timestamp: %v", err)
	} else if id := event.ID(&order.Record{Source: order.Source{Topic: ev.Source.Topic, Partition: ev.Source.Partition, Offset: ev.Source.Offset}, Time: ts}); id != ev.EventID {
		fail("eventId %s is not the id of its source (%s)", ev.EventID, id)
	}
	for name, want := range map[string]string{"ce_id": ev.EventID, "ce_type": ev.EventType, "ce_time": ev.EventTime, "X-Correlation-ID": ev.CorrelationID} {
		if hs[name] != want {
			fail("header %s = %v, want %q", name, hs[name], want)
		}
	}
	if len(r.key) == 0 {
		fail("event without a key")
	}
	if in == nil {
		return problems
	}
	wantCorrelation := ""
	for _, h := range in.headers {
		if strings.EqualFold(h[0], "X-Correlation-ID") && h[1] != "" && wantCorrelation == "" {
			wantCorrelation = h[1]
		}
	}
	if wantCorrelation == "" {
		wantCorrelation = ev.EventID
	}
	if ev.CorrelationID != wantCorrelation {
		fail("correlationId %q, want %q", ev.CorrelationID, wantCorrelation)
	}
	wantKey := in.key
	if len(wantKey) == 0 {
		wantKey = []byte(wantCorrelation)
	}
	if !bytes.Equal(r.key, wantKey) {
		fail("key %q, want %q", r.key, wantKey)
	}
	if len(ev.Request) > 0 && ev.Request[0] == '{' && !ev.RequestTruncated && !bytes.Equal(ev.Request, bytes.TrimSpace(in.value)) {
		fail("request is not the input value verbatim")
	}
	return problems
}

// goldenDir holds the golden events of the samples, when they exist.
const goldenDir = sampleDir + "/golden"

// TestGoldenEvents validates the events of the samples against the event schema: the
// golden files of internal/foundation/samples/requests/golden when there are some, and in any case the events
// event.Build makes of every sample's decision, whole and cut.
func TestGoldenEvents(t *testing.T) {
	sc := loadSchemas(t, false)
	list, inv, clients := loadSamples(t)
	byName := map[string]int{}
	for i, s := range list {
		byName[s.Name] = i
	}
	golden, _ := filepath.Glob(filepath.Join(path(goldenDir), "*.json"))
	for _, file := range golden {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run("golden/"+name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := decodeJSON(data)
			if err != nil {
				t.Fatalf("not JSON: %v", err)
			}
			if err := sc.validate(t, idEvent, doc); err != nil {
				t.Errorf("event.json: %s", validationSummary(err))
			}
			if _, ok := byName[name]; !ok {
				t.Errorf("no sample named %s", name)
			}
		})
	}
	if len(golden) == 0 {
		t.Logf("%s is empty: validating the events event.Build makes of the samples", goldenDir)
	}
	decisionTime := time.Date(2026, 12, 4, 10, 0, 0, 250_000_000, time.UTC)
	for i := range list {
		s := &list[i]
		d := decideSample(s, s.Value, inv, clients)
		in := testkit.SampleRecord(s)
		in.Source = order.Source{Topic: "orders.requests", Partition: i % 6, Offset: int64(1000 + i)}
		for _, cut := range []bool{false, true} {
			if cut && len(s.Value) == 0 {
				continue // an event with a null request is never too large: no cut
			}
			ev := event.Build(&in, &d, decisionTime, cut)
			r := record{key: ev.Key, value: ev.Value}
			for _, h := range ev.Headers {
				r.headers = append(r.headers, [2]string{h.Key, string(h.Value)})
			}
			for _, p := range checkEvent(t, sc, r, &input{key: in.Key, value: in.Value, headers: s.Headers}) {
				t.Errorf("sample %s (cut %v): %s", s.Name, cut, p)
			}
		}
	}
}

// TestEventSchemaRejectsBrokenEvents guards against a schema that accepts anything: each
// broken variant of a real event must fail it.
func TestEventSchemaRejectsBrokenEvents(t *testing.T) {
	sc := loadSchemas(t, false)
	list, inv, clients := loadSamples(t)
	var accepted, rejected, account map[string]any
	for i := range list {
		s := &list[i]
		d := decideSample(s, s.Value, inv, clients)
		in := testkit.SampleRecord(s)
		in.Source = order.Source{Topic: "orders.requests", Offset: int64(i)}
		var m map[string]any
		if err := json.Unmarshal(event.Build(&in, &d, s.Time, false).Value, &m); err != nil {
			t.Fatal(err)
		}
		switch {
		case s.Name == "account-deprecated-headers":
			account = m
		case accepted == nil && d.Outcome == order.Accepted && d.Type == order.TypeDisconnect:
			accepted = m
		case rejected == nil && d.Outcome == order.Rejected && d.Type == order.TypeUpdate && len(d.Errors) > 1:
			rejected = m
		}
	}
	if accepted == nil || rejected == nil || account == nil {
		t.Fatal("the samples lack an accepted disconnect, an update rejected with several errors or account-deprecated-headers")
	}
	broken := map[string]map[string]any{
		"accepted with error":              withMember(accepted, "error", rejected["error"]),
		"accepted without servicePoint":    withoutMember(accepted, "servicePoint"),
		"accepted with requestType null":   withMember(accepted, "requestType", nil),
		"accepted with a string request":   withMember(accepted, "request", "{}"),
		"accepted with billingAccount":     withMember(accepted, "billingAccount", map[string]any{"businessId": "PA", "id": "1"}),
		"BVPN request with warnings":       withMember(accepted, "warnings", []any{"header 'lob' is deprecated"}),
		"unknown member":                   withMember(accepted, "extra", 1),
		"eventId not a UUID v5":            withMember(accepted, "eventId", "7d444840-9dc0-11d1-b245-5ffdce74fad2"),
		"eventTime not UTC":                withMember(accepted, "eventTime", "2026-12-04T11:00:00.000+01:00"),
		"partition as a string":            withMember(accepted, "source", withMember(accepted["source"].(map[string]any), "partition", "1")),
		"unknown state":                    withMember(accepted, "servicePoint", withMember(accepted["servicePoint"].(map[string]any), "state", "ACTIVE")),
		"rejected without errors":          withoutMember(rejected, "errors"),
		"rejected with empty errors":       withMember(rejected, "errors", []any{}),
		"rejected with a servicePoint":     withMember(rejected, "servicePoint", accepted["servicePoint"]),
		"error with a field":               withMember(rejected, "error", withMember(rejected["error"].(map[string]any), "field", "x")),
		"error with a wrong status":        withMember(rejected, "error", withMember(rejected["error"].(map[string]any), "status", json.Number("400"))),
		"errors entry without field":       withMember(rejected, "errors", []any{withoutMember(rejected["errors"].([]any)[0].(map[string]any), "field")}),
		"errors entry with unknown code":   withMember(rejected, "errors", []any{withMember(rejected["errors"].([]any)[0].(map[string]any), "code", json.Number("3623"))}),
		"requestTruncated false":           withMember(rejected, "requestTruncated", false),
		"truncated with an object request": withMember(rejected, "requestTruncated", true),
		"unknown warning":                  withMember(account, "warnings", []any{"header 'foo' is deprecated"}),
		"account without billingAccount":   withoutMember(account, "billingAccount"),
		"account with a servicePoint":      withMember(account, "servicePoint", accepted["servicePoint"]),
		"servicePointStale false":          withMember(accepted, "servicePointStale", false),
		"servicePointStale alone":          withMember(rejected, "servicePointStale", true),
		"errorsTruncated false":            withMember(rejected, "errorsTruncated", false),
		"accepted with errorsTruncated":    withMember(accepted, "errorsTruncated", true),
		"correlationId over 256 bytes":     withMember(accepted, "correlationId", strings.Repeat("c", 257)),
		"correlationId with a CR LF":       withMember(accepted, "correlationId", "a\r\nX-Injected: 1"),
		"replayOf not an event id":         withMember(accepted, "replayOf", "orders.dlq/0/3"),
		"BVPN request with two warnings":   withMember(accepted, "warnings", []any{order.WarningCorrelationIDIgnored, "header 'lob' is deprecated"}),
	}
	// The amended members are accepted where the contract puts them.
	for name, m := range map[string]map[string]any{
		"a rejection with errorsTruncated":      withMember(rejected, "errorsTruncated", true),
		"a BVPN event warning of an ignored id": withMember(accepted, "warnings", []any{order.WarningCorrelationIDIgnored}),
		"an account event with both warnings":   withMember(account, "warnings", []any{order.WarningCorrelationIDIgnored, "header 'lob' is deprecated"}),
		"the event of a replay":                 withMember(accepted, "replayOf", event.ID(&order.Record{Source: order.Source{Topic: "orders.requests", Offset: 9}})),
	} {
		if err := sc.validate(t, idEvent, cloneJSON(t, m)); err != nil {
			t.Errorf("%s: the event schema refuses it: %s", name, validationSummary(err))
		}
	}
	stale := withMember(accepted, "servicePointStale", true) // serve-stale answered
	for _, m := range []map[string]any{accepted, rejected, account, stale} {
		if err := sc.validate(t, idEvent, cloneJSON(t, m)); err != nil {
			t.Fatalf("a real event fails: %s", validationSummary(err))
		}
	}
	names := make([]string, 0, len(broken))
	for n := range broken {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := sc.validate(t, idEvent, cloneJSON(t, broken[n])); err == nil {
			t.Errorf("%s: the event schema accepts it", n)
		}
	}
}

// TestCatalogMatchesEventSchema checks every row of the decision table (order.Catalog), with
// a typical field and argument, against the schema of error and errors entries.
func TestCatalogMatchesEventSchema(t *testing.T) {
	sc := loadSchemas(t, false)
	cases := map[order.Row][]order.Violation{
		order.RowMissingBody:          {{}},
		order.RowTooLarge:             {{Arg: "524288"}},
		order.RowInvalidBody:          {{Arg: "The body is not valid JSON (at byte 12)."}},
		order.RowHeaderConflict:       {{Field: "headers.businessId"}, {Field: "headers.X-Correlation-ID"}},
		order.RowMissingCredentials:   {{Field: "headers.client_id"}, {Field: "headers.client_secret"}},
		order.RowInvalidCredentials:   {{Field: "headers.client_secret"}},
		order.RowMissingType:          {{Field: "type"}},
		order.RowUnsupportedType:      {{Field: "type", Arg: "R_BVPN_FR_2"}, {Field: "headers.type", Arg: "U_BVPN_CUSTOM003_1 (the body's type is R_BVPN_FR_1)"}},
		order.RowMissingHeader:        {{Field: "headers.businessId"}, {Field: "headers.id"}},
		order.RowInvalidHeader:        {{Field: "headers.businessId", Arg: "not an assigned ISO 3166-1 alpha-2 country code in upper case"}},
		order.RowAccessDenied:         {{Field: "headers.businessId", Arg: "PA"}},
		order.RowMissingField:         {{Field: "properties.contacts.primary.email"}, {Field: "contact[0].contactMedium[1].characteristic.contactType"}},
		order.RowInvalidEnvelope:      {{Field: "requestedAt", Arg: "not a date in the form YYYY-MM-DD"}, {Field: "comment", Arg: "unknown field"}},
		order.RowInvalidProperties:    {{Field: "properties.contacts.primary.phone", Arg: "properties.contacts.primary.phone: not an E.164 phone number"}},
		order.RowInvalidAccountField:  {{Field: "contact[0].contactMedium[0].mediumType", Arg: "not one of: Telephone, Mobile, Email"}},
		order.RowRequestedAt:          {{Field: "requestedAt"}},
		order.RowSeveralServicePoints: {{Field: "properties.servicePoint"}},
		order.RowNoServicePoint:       {{Field: "properties.servicePoint"}},
		order.RowNotFrenchMarket:      {{Field: "properties.servicePoint"}},
	}
	for _, entry := range order.Catalog {
		vs := cases[entry.Row]
		if len(vs) == 0 {
			t.Errorf("row %d: no case in this test", entry.Row)
		}
		for _, v := range vs {
			v.Row = entry.Row
			for _, typ := range []order.RequestType{order.TypeDisconnect, order.TypeUpdate, order.TypeAccountContact} {
				item := map[string]any{"status": v.Status(), "code": v.Code(), "message": v.Message(), "description": v.Description(typ)}
				if err := sc.validate(t, idEvent+"#/$defs/error", cloneJSON(t, item)); err != nil {
					t.Errorf("row %d (%s) as error: %s", entry.Row, typ, validationSummary(err))
				}
				if v.Field != "" {
					item["field"] = v.Field
				}
				if err := sc.validate(t, idEvent+"#/$defs/errorItem", cloneJSON(t, item)); err != nil {
					t.Errorf("row %d (%s) as errors entry: %s", entry.Row, typ, validationSummary(err))
				}
			}
		}
	}
}

// TestWorkerEvents runs the real worker in-process (as `ordergate dev` does) on an
// in-process Kafka broker (kfake) and the machine's Redis, publishes the samples plus a
// record whose event must be cut and one whose event cannot fit even cut, and validates
// every record of orders.accepted, orders.rejected and orders.dlq against the schemas.
func TestWorkerEvents(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a worker")
	}
	redisAddr := testredis.Shared(t)
	sc := loadSchemas(t, false)
	list, _, _ := loadSamples(t)
	invData, err := os.ReadFile(path(sampleDir + "/inventory.json"))
	if err != nil {
		t.Fatal(err)
	}
	inv, err := servicepoint.ParseFileInventory(invData)
	if err != nil {
		t.Fatal(err)
	}

	kc, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	const partitions = 3
	const eventLimit = 20000 // max.message.bytes of the event topics: small, so that events get cut
	topics := testkit.Topics
	for topic, cfg := range map[string]map[string]string{
		topics.Requests: nil,
		topics.Accepted: {"max.message.bytes": fmt.Sprint(eventLimit)},
		topics.Rejected: {"max.message.bytes": fmt.Sprint(eventLimit)},
		topics.DLQ:      nil,
	} {
		if err := kc.CreateTopic(topic, partitions, cfg); err != nil {
			t.Fatal(err)
		}
	}
	brokers := kc.ListenAddrs()
	c := &testkit.Cluster{Cluster: kc, Brokers: brokers, Client: &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}}
	cfg := testkit.Config(t, c, redisAddr, testredis.Prefix(t))
	testkit.StartWorker(t, cfg, worker.Options{Inventory: inv})

	var recs []order.Record
	inputs := map[string][]byte{} // value by key, for the DLQ check
	for _, s := range list {
		if s.Clients { // decided with the clients file: not this worker's configuration
			continue
		}
		recs = append(recs, testkit.SampleRecord(&s))
	}
	var base map[string]any
	for _, s := range list {
		if s.Name == "disconnect-by-id" {
			if err := json.Unmarshal(s.Value, &base); err != nil {
				t.Fatal(err)
			}
		}
	}
	if base == nil {
		t.Fatal("no sample disconnect-by-id")
	}
	recTime := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	// Rejected (row 13, one error) with a body larger than an event may be: cut.
	big, _ := json.Marshal(withMember(base, "comment", strings.Repeat("x", 2*eventLimit)))
	recs = append(recs, testkit.Record("schema-cut", big, recTime))
	// Rejected (row 14) with 300 unknown members: even cut, its 100 errors do not fit.
	props := base["properties"].(map[string]any)
	for i := range 300 {
		props = withMember(props, fmt.Sprintf("unknownMemberNumber%03d%s", i, strings.Repeat("u", 40)), "x")
	}
	huge, _ := json.Marshal(withMember(base, "properties", props))
	recs = append(recs, testkit.Record("schema-dlq", huge, recTime, "client_secret", "never-copied", "X-Correlation-ID", "dlq-1",
		"Authorization", "Bearer never-copied", "traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"))
	inputs["schema-dlq"] = huge
	// Issue 23: more than 1000 violations (errorsTruncated; cut too, at this topic limit),
	// and an X-Correlation-ID that is ignored; issue 19: the replay of a dead letter.
	many := []byte(`{"contact":[` + strings.TrimSuffix(strings.Repeat("1,", 1200), ",") + `]}`)
	recs = append(recs,
		testkit.Record("schema-errors", many, recTime, "type", "PATCH-billingAccountById",
			"businessId", "PA", "id", "A-1", "client_id", "abcde", "client_secret", "fghij"),
		testkit.Record("schema-corr", base2(t, base), recTime, "X-Correlation-ID", strings.Repeat("c", 300)),
		testkit.Record("schema-replay", base2(t, base), recTime,
			"replay_of", event.ID(&order.Record{Source: order.Source{Topic: topics.Requests, Offset: 7}, Time: recTime}), "replay_dead_letter", "orders.dlq/0/1"))

	c.Produce(t, recs...)
	c.WaitEvents(t, len(recs), 90*time.Second)

	seen := map[string]string{}
	counts := map[string]int{}
	truncated := 0
	for _, topic := range []string{topics.Accepted, topics.Rejected} {
		for _, m := range c.Read(t, topic) {
			counts[topic]++
			r := record{key: m.Key, value: m.Value}
			for _, h := range m.Headers {
				r.headers = append(r.headers, [2]string{h.Key, string(h.Value)})
			}
			for _, p := range checkEvent(t, sc, r, nil) {
				t.Errorf("%s/%d/%d: %s", topic, m.Partition, m.Offset, p)
			}
			var ev struct {
				EventType        string   `json:"eventType"`
				RequestTruncated bool     `json:"requestTruncated"`
				ErrorsTruncated  bool     `json:"errorsTruncated"`
				ReplayOf         string   `json:"replayOf"`
				Warnings         []string `json:"warnings"`
				Source           struct {
					Partition int
					Offset    int64
				} `json:"source"`
			}
			if err := json.Unmarshal(m.Value, &ev); err != nil {
				t.Fatal(err)
			}
			if want := "order." + strings.TrimPrefix(topic, "orders."); ev.EventType != want {
				t.Errorf("%s/%d/%d: eventType %s on %s", topic, m.Partition, m.Offset, ev.EventType, topic)
			}
			if ev.RequestTruncated {
				truncated++
			}
			switch string(m.Key) {
			case "schema-errors":
				if !ev.ErrorsTruncated {
					t.Errorf("the event of 1200 violations has no errorsTruncated")
				}
			case "schema-corr":
				if len(ev.Warnings) != 1 || ev.Warnings[0] != order.WarningCorrelationIDIgnored {
					t.Errorf("the event of a 300-byte X-Correlation-ID warns %q", ev.Warnings)
				}
			case "schema-replay":
				if ev.ReplayOf == "" {
					t.Errorf("the event of a replay has no replayOf")
				}
			}
			src := fmt.Sprintf("%d/%d", ev.Source.Partition, ev.Source.Offset)
			if prev, dup := seen[src]; dup {
				t.Errorf("input %s has two events (%s and %s)", src, prev, topic)
			}
			seen[src] = topic
		}
	}
	for _, m := range c.Read(t, topics.DLQ) {
		counts[topics.DLQ]++
		hs := map[string]any{}
		for _, h := range m.Headers {
			hs[h.Key] = string(h.Value)
		}
		if err := sc.validate(t, idHeaders+"#/$defs/deadLetter", hs); err != nil {
			t.Errorf("dead letter %d/%d: headers.json#/$defs/deadLetter: %s", m.Partition, m.Offset, validationSummary(err))
		}
		t.Logf("dead letter %d/%d: dlq_reason %q", m.Partition, m.Offset, hs["dlq_reason"])
		if want := inputs[string(m.Key)]; !bytes.Equal(m.Value, want) {
			t.Errorf("dead letter %d/%d (key %q): the value is not the input's", m.Partition, m.Offset, m.Key)
		}
	}
	if total := counts[topics.Accepted] + counts[topics.Rejected] + counts[topics.DLQ]; total != len(recs) {
		t.Errorf("%d records out for %d in: %v", total, len(recs), counts)
	}
	if counts[topics.Accepted] == 0 || counts[topics.Rejected] == 0 || counts[topics.DLQ] != 1 || truncated != 2 {
		t.Errorf("want accepted and rejected events, one cut event and one dead letter; got %v, %d cut", counts, truncated)
	}
	t.Logf("validated %d accepted and %d rejected events (%d cut) and %d dead letters", counts[topics.Accepted], counts[topics.Rejected], truncated, counts[topics.DLQ])
}

// base2 is the value of the base disconnect, for records that must be accepted.
func base2(t *testing.T, base map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(base)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
