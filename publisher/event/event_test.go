package event

import (
	"encoding/json"
	"reflect"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/google/uuid"

	"github.com/ordergate/ordergate/processor/order"
)

var (
	recordTime   = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	decisionTime = time.Date(2026, 12, 4, 10, 0, 0, 250_000_000, time.UTC)
	src          = order.Source{Topic: "orders.requests", Partition: 2, Offset: 41}
)

const disconnect = `{"type":"R_BVPN_FR_1","requestedAt":"2027-01-04","properties":{"servicePoint":{"id":"SP-1"},` +
	`"contacts":{"primary":{"title":"M","firstName":"Paul","lastName":"LANGEL","phone":"+33401010101","mobile":"+33600200200","email":"p@x.fr"}}}}`

const account = `{"contact":[{"contactName":"J","partyRoleType":"OWNER","contactMedium":[{"mediumType":"Email","characteristic":{"contactType":"e","emailAddress":"j@x.fr"}}]}]}`

func headers(kv ...string) []order.Header {
	var hs []order.Header
	for _, s := range kv {
		k, v, _ := strings.Cut(s, "=")
		hs = append(hs, order.Header{Key: k, Value: []byte(v)})
	}
	return hs
}

// decide runs the rules and, when needed, resolution with the given matches.
func decide(t *testing.T, in *order.Record, matches ...order.ServicePoint) order.Decision {
	t.Helper()
	d := (&order.Rules{}).Decide(in)
	d.Resolve(matches)
	return d
}

// decode parses an event's value, failing on invalid JSON.
func decode(t *testing.T, ev Event) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(ev.Value, &m); err != nil {
		t.Fatalf("event is not JSON: %v\n%s", err, ev.Value)
	}
	return m
}

func header(ev Event, name string) string {
	for _, h := range ev.Headers {
		if h.Key == name {
			return string(h.Value)
		}
	}
	return "<absent>"
}

func TestAcceptedEvent(t *testing.T) {
	in := &order.Record{Source: src, Time: recordTime, Key: []byte("CUST-1"), Value: []byte(disconnect), Headers: headers("X-Correlation-ID=corr-1")}
	sp := order.ServicePoint{ID: "SP-1", Reference: "R", CustomerReference: "C", Name: "N", Market: "FR", State: "OPERATIONAL"}
	ev := Build(in, ptr(decide(t, in, sp)), decisionTime, false)
	m := decode(t, ev)
	want := map[string]any{
		"eventId":       ID(in),
		"eventType":     "order.accepted",
		"eventTime":     "2026-12-04T10:00:00.250Z",
		"correlationId": "corr-1",
		"requestType":   "R_BVPN_FR_1",
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	source := m["source"].(map[string]any)
	if source["topic"] != "orders.requests" || source["partition"] != 2.0 || source["offset"] != 41.0 || source["timestamp"] != "2026-12-04T10:00:00.000Z" {
		t.Errorf("source %v", source)
	}
	if m["servicePoint"].(map[string]any)["state"] != "OPERATIONAL" {
		t.Errorf("servicePoint %v", m["servicePoint"])
	}
	for _, absent := range []string{"error", "errors", "warnings", "billingAccount", "requestTruncated"} {
		if _, ok := m[absent]; ok {
			t.Errorf("%s present on an accepted BVPN event", absent)
		}
	}
	if req, ok := m["request"].(map[string]any); !ok || req["type"] != "R_BVPN_FR_1" {
		t.Errorf("request not embedded as JSON: %v", m["request"])
	}
	if string(ev.Key) != "CUST-1" {
		t.Errorf("key %q, want the input's", ev.Key)
	}
	for name, v := range map[string]string{
		"ce_specversion": "1.0", "ce_id": ID(in), "ce_source": "ordergate", "ce_type": "order.accepted",
		"ce_time": "2026-12-04T10:00:00.250Z", "content-type": "application/json", "X-Correlation-ID": "corr-1",
	} {
		if got := header(ev, name); got != v {
			t.Errorf("header %s = %q, want %q", name, got, v)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestPresenceRules(t *testing.T) {
	t.Run("servicePoint on a row-19 rejection", func(t *testing.T) {
		in := &order.Record{Source: src, Time: recordTime, Value: []byte(disconnect)}
		d := decide(t, in, order.ServicePoint{ID: "SP-1", Market: "ES"})
		m := decode(t, Build(in, &d, decisionTime, false))
		if m["servicePoint"] == nil || m["error"].(map[string]any)["code"] != 3620.0 {
			t.Fatalf("got %v", m)
		}
		if m["errors"].([]any)[0].(map[string]any)["field"] != "properties.servicePoint" {
			t.Errorf("errors %v", m["errors"])
		}
		if _, ok := m["error"].(map[string]any)["field"]; ok {
			t.Errorf("error carries a field; only errors entries do")
		}
	})
	t.Run("no servicePoint when the identifiers disagree", func(t *testing.T) {
		in := &order.Record{Source: src, Time: recordTime, Value: []byte(strings.Replace(disconnect, `{"id":"SP-1"}`, `{"id":"SP-1","reference":"R-2"}`, 1))}
		d := decide(t, in, order.ServicePoint{ID: "SP-1", Reference: "R-1", Market: "FR"})
		m := decode(t, Build(in, &d, decisionTime, false))
		if _, ok := m["servicePoint"]; ok || m["error"].(map[string]any)["code"] != 3622.0 {
			t.Fatalf("got %v", m)
		}
	})
	t.Run("billingAccount and warnings on a rejected account request", func(t *testing.T) {
		in := &order.Record{Source: src, Time: recordTime, Value: []byte(`{"contact":[]}`), Headers: headers(
			"type=PATCH-billingAccountById", "businessId=PA", "id=ACC-9", "client_id=abcde", "client_secret=fghij", "lob=FIXED")}
		d := decide(t, in)
		m := decode(t, Build(in, &d, decisionTime, false))
		if m["eventType"] != "order.rejected" {
			t.Fatalf("got %v", m)
		}
		ba := m["billingAccount"].(map[string]any)
		if ba["businessId"] != "PA" || ba["id"] != "ACC-9" {
			t.Errorf("billingAccount %v", ba)
		}
		if w := m["warnings"].([]any); len(w) != 1 || w[0] != "header 'lob' is deprecated" {
			t.Errorf("warnings %v", w)
		}
	})
	t.Run("no key: the key is the correlation id, read without regard to case", func(t *testing.T) {
		in := &order.Record{Source: src, Time: recordTime, Value: []byte(account), Headers: headers("x-correlation-id=abc-123")}
		d := decide(t, in)
		ev := Build(in, &d, decisionTime, false)
		if string(ev.Key) != "abc-123" || header(ev, "X-Correlation-ID") != "abc-123" || decode(t, ev)["correlationId"] != "abc-123" {
			t.Errorf("key %q, header %q", ev.Key, header(ev, "X-Correlation-ID"))
		}
	})
	t.Run("no key and no correlation id: both are the event id", func(t *testing.T) {
		in := &order.Record{Source: src, Time: recordTime, Key: []byte{}, Value: []byte(account)}
		d := decide(t, in)
		ev := Build(in, &d, decisionTime, false)
		if string(ev.Key) != ev.ID || header(ev, "X-Correlation-ID") != ev.ID || decode(t, ev)["correlationId"] != ev.ID {
			t.Errorf("key %q, id %q", ev.Key, ev.ID)
		}
	})
	t.Run("request as a string when not an object, null when empty", func(t *testing.T) {
		for value, want := range map[string]any{"": nil, "[1,2]": "[1,2]", "\xff{": "\uFFFD{"} {
			in := &order.Record{Source: src, Time: recordTime, Value: []byte(value)}
			d := decide(t, in)
			m := decode(t, Build(in, &d, decisionTime, false))
			if m["request"] != want {
				t.Errorf("value %q: request %#v, want %#v", value, m["request"], want)
			}
		}
		in := &order.Record{Source: src, Time: recordTime, Value: []byte(`[` + strings.Repeat(`"é",`, 3000) + `1]`)}
		d := decide(t, in)
		m := decode(t, Build(in, &d, decisionTime, false))
		if s := m["request"].(string); !strings.HasPrefix(s, `["é","é"`) || len(s) > RequestCutBytes+3 {
			t.Errorf("request string of %d bytes", len(s))
		}
	})
	t.Run("a cut event keeps 4 KiB of the request and 100 errors", func(t *testing.T) {
		var b strings.Builder
		b.WriteString(`{"type":"R_BVPN_FR_1","requestedAt":"2027-01-04","properties":{"servicePoint":{"id":"S"},"contacts":{"primary":{"title":"M","firstName":"P","lastName":"L","phone":"+33401010101","mobile":"+33600200200","email":"p@x.fr"}}`)
		for i := range 150 {
			b.WriteString(`,"unknown` + strings.Repeat("x", 40) + string(rune('a'+i%26)) + strings.Repeat("y", i) + `":1`)
		}
		b.WriteString(`}}`)
		in := &order.Record{Source: src, Time: recordTime, Value: []byte(b.String())}
		d := decide(t, in)
		if len(d.Errors) != 150 {
			t.Fatalf("want 150 violations, got %d", len(d.Errors))
		}
		full := decode(t, Build(in, &d, decisionTime, false))
		ev := Build(in, &d, decisionTime, true)
		m := decode(t, ev)
		if _, ok := full["requestTruncated"]; ok {
			t.Errorf("requestTruncated on a whole event")
		}
		if m["requestTruncated"] != true || !ev.Truncated {
			t.Errorf("requestTruncated %v", m["requestTruncated"])
		}
		if s, ok := m["request"].(string); !ok || s != b.String()[:RequestCutBytes] {
			t.Errorf("request not cut to its first 4 KiB")
		}
		if n := len(m["errors"].([]any)); n != MaxErrorsWhenCut {
			t.Errorf("%d errors, want %d", n, MaxErrorsWhenCut)
		}
		if len(ev.Value) >= len(Build(in, &d, decisionTime, false).Value) {
			t.Errorf("cut event is not smaller")
		}
	})
}

func TestID(t *testing.T) {
	rec := &order.Record{Source: src, Time: recordTime}
	base := ID(rec)
	if ID(rec) != base {
		t.Fatal("same source, different ids")
	}
	if len(base) != 36 || base[14] != '5' {
		t.Fatalf("%q is not a version 5 UUID", base)
	}
	for name, r := range map[string]*order.Record{
		"topic":     {Source: order.Source{Topic: "orders.requests.v2", Partition: 2, Offset: 41}, Time: recordTime},
		"partition": {Source: order.Source{Topic: src.Topic, Partition: 3, Offset: 41}, Time: recordTime},
		"offset":    {Source: order.Source{Topic: src.Topic, Partition: 2, Offset: 42}, Time: recordTime},
		"timestamp": {Source: src, Time: recordTime.Add(time.Millisecond)},
		// the fields are separated, so shifting digits between them cannot collide
		"shifted": {Source: order.Source{Topic: src.Topic, Partition: 24, Offset: 1}, Time: recordTime},
		// the key, value and headers are not the record's identity
		"value": {Source: src, Time: recordTime, Key: []byte("k"), Value: []byte("v"), Headers: headers("a=b")},
	} {
		if (ID(r) == base) != (name == "value") {
			t.Errorf("changing the %s keeps the id", name)
		}
	}
}

func TestDeadLetter(t *testing.T) {
	in := &order.Record{Source: src, Time: recordTime, Key: []byte("K"), Value: []byte("v"), Headers: headers("Client_Secret=hunter22", "client_id=abcde", "type=x")}
	dl := BuildDeadLetter(in, "id-1", "MESSAGE_TOO_LARGE")
	if string(dl.Key) != "K" || string(dl.Value) != "v" {
		t.Errorf("key/value changed")
	}
	want := "client_id=abcde type=x dlq_reason=MESSAGE_TOO_LARGE dlq_source=orders.requests/2/41 ce_id=id-1 dlq_dropped_headers=Client_Secret"
	if got := headerList(dl.Headers); got != want {
		t.Errorf("headers %q, want %q", got, want)
	}
}

func headerList(hs []order.Header) string {
	var names []string
	for _, h := range hs {
		names = append(names, h.Key+"="+string(h.Value))
	}
	return strings.Join(names, " ")
}

// TestDeadLetterAllowList checks the amended header policy of section 6: only the
// contract's headers (client_secret never) and the W3C trace headers travel, whatever their
// case; every other header is dropped and named once, never with its value; a name that
// is not a header name is counted, not written.
func TestDeadLetterAllowList(t *testing.T) {
	in := &order.Record{Source: src, Time: recordTime, Key: []byte("K"), Value: []byte("v"), Headers: []order.Header{
		{Key: "TYPE", Value: []byte("PATCH-billingAccountById")}, {Key: "businessId", Value: []byte("PA")},
		{Key: "id", Value: []byte("ACC-1")}, {Key: "client_id", Value: []byte("abcde")},
		{Key: "client_secret", Value: []byte("SECRET-1")}, {Key: "client-secret", Value: []byte("SECRET-2")},
		{Key: "Authorization", Value: []byte("Bearer SECRET-3")}, {Key: "Cookie", Value: []byte("s=SECRET-4")},
		{Key: "X-Api-Key", Value: []byte("SECRET-5")}, {Key: "cookie", Value: []byte("t=SECRET-6")},
		{Key: "x-correlation-id", Value: []byte("c-1")}, {Key: "lob", Value: []byte("B2B")},
		{Key: "channelId", Value: []byte("web")}, {Key: "targetSystem", Value: []byte("x")},
		{Key: "traceparent", Value: []byte("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")},
		{Key: "tracestate", Value: []byte("congo=t61rcWkgMzE")},
		{Key: "Bearer SECRET-7", Value: []byte("x")}, {Key: "dlq_source", Value: []byte("forged/0/0")},
	}}
	dl := BuildDeadLetter(in, "id-1", "too large")
	got := headerList(dl.Headers)
	want := "TYPE=PATCH-billingAccountById businessId=PA id=ACC-1 client_id=abcde x-correlation-id=c-1 lob=B2B channelId=web targetSystem=x " +
		"traceparent=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01 tracestate=congo=t61rcWkgMzE " +
		"dlq_reason=too large dlq_source=orders.requests/2/41 ce_id=id-1 " +
		"dlq_dropped_headers=client_secret,client-secret,Authorization,Cookie,X-Api-Key,dlq_source,(1 not shown)"
	if got != want {
		t.Errorf("headers\n%s\nwant\n%s", got, want)
	}
	if strings.Contains(got, "SECRET") {
		t.Errorf("a secret travels into the dead-letter record: %s", got)
	}
	clean := BuildDeadLetter(&order.Record{Source: src, Time: recordTime, Headers: headers("type=x")}, "id-2", "r")
	if strings.Contains(headerList(clean.Headers), HeaderDLQDroppedHeaders) {
		t.Errorf("dlq_dropped_headers without a dropped header: %s", headerList(clean.Headers))
	}
}

func TestAppendString(t *testing.T) {
	for in, want := range map[string]string{
		"plain": `"plain"`, `q"b\`: `"q\"b\\"`, "a\nb\t\x01": `"a\nb\t\u0001"`, "é€😀": `"é€😀"`, "\xffx": `"` + "\uFFFD" + `x"`,
	} {
		got := string(appendString(nil, in))
		if got != want {
			t.Errorf("%q: got %s, want %s", in, got, want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("%q: invalid JSON %s", in, got)
		}
	}
}

func BenchmarkBuild(b *testing.B) {
	in := &order.Record{Source: src, Time: recordTime, Key: []byte("CUST-1"), Value: []byte(disconnect), Headers: headers("X-Correlation-ID=corr-1")}
	d := (&order.Rules{}).Decide(in)
	d.Resolve([]order.ServicePoint{{ID: "SP-1", Market: "FR", State: "OPERATIONAL"}})
	var bd Builder
	b.ReportAllocs()
	for b.Loop() {
		bd.Reset()
		bd.Build(in, &d, decisionTime, false)
	}
}

func TestIDIsRFC4122Version5(t *testing.T) {
	for _, r := range []*order.Record{{Source: src, Time: recordTime}, {Source: order.Source{Topic: "orders.requests"}, Time: time.UnixMilli(0)},
		{Source: order.Source{Topic: strings.Repeat("t", 249), Partition: 7, Offset: 1 << 40}, Time: recordTime}} {
		s := r.Source
		name := []byte(s.Topic + "\x00" + strconv.Itoa(s.Partition) + "\x00" + strconv.FormatInt(s.Offset, 10) + "\x00" + strconv.FormatInt(r.Time.UnixMilli(), 10))
		if want := uuid.NewSHA1(namespace, name).String(); ID(r) != want {
			t.Errorf("ID(%v) = %s, uuid.NewSHA1 gives %s", s, ID(r), want)
		}
	}
}

// TestBuilderArenaKeepsEvents builds many events with one Builder (the arena grows over
// several blocks) and checks that each is intact afterwards. Every third value is not JSON
// and full of control characters, whose escapes make the event larger than the builder
// reserved: its id and correlation id must move with it, not stay behind in the arena for
// the next event to overwrite.
func TestBuilderArenaKeepsEvents(t *testing.T) {
	var bd Builder
	var evs []Event
	var want [][]byte
	escaped := strings.Repeat("\x01", 3000)
	for i := range 2000 {
		s := src
		s.Offset = int64(i)
		value := disconnect
		if i%3 == 0 {
			value = escaped[:1000+i*37%2000] // lengths vary, so that some overflow the arena's block
		}
		in := &order.Record{Source: s, Time: recordTime, Value: []byte(value), Headers: headers("X-Correlation-ID=c" + strconv.Itoa(i))}
		d := decide(t, in, order.ServicePoint{ID: "SP-1", Market: "FR"})
		ev := bd.Build(in, &d, decisionTime, i%7 == 0)
		evs = append(evs, ev)
		want = append(want, append([]byte(nil), ev.Value...))
	}
	for i, ev := range evs {
		if string(ev.Value) != string(want[i]) || header(ev, "X-Correlation-ID") != "c"+strconv.Itoa(i) || header(ev, "ce_id") != ev.ID {
			t.Fatalf("event %d changed after later builds", i)
		}
		decode(t, ev)
	}
}

// TestBuilderReusesBlocksAfterReset: after Reset, the blocks of the last batch go back to
// the shared pool and the next batch is built in them rather than in new ones, and its
// events are intact and the same as those of a fresh Build. (The collector is held off so
// that it does not empty the pool; the race detector's pool drops a quarter of what it is
// given at random, so the test asks for most blocks reused, not all.)
func TestBuilderReusesBlocksAfterReset(t *testing.T) {
	// The blocks go back to a sync.Pool, whose items are kept per P and cleared by each
	// collection: one P and no collection make its reuse certain, as it is likely in the
	// worker. With two Ps, under load, the goroutine can move between Reset and the next
	// blocks, and a P's last Put is not visible from another (seen once in CI).
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	var bd Builder
	blocks := func() map[*byte]bool {
		m := map[*byte]bool{}
		for _, b := range append(append([][]byte(nil), bd.bytes.used...), bd.bytes.cur) {
			m[unsafe.SliceData(b)] = true
		}
		return m
	}
	build := func() ([]Event, []*order.Record, []order.Decision) {
		var evs []Event
		var ins []*order.Record
		var ds []order.Decision
		for i := range 1500 {
			s := src
			s.Offset = int64(i)
			in := &order.Record{Source: s, Time: recordTime, Value: []byte(disconnect), Headers: headers("X-Correlation-ID=c" + strconv.Itoa(i))}
			d := decide(t, in, order.ServicePoint{ID: "SP-1", Market: "FR"})
			evs, ins, ds = append(evs, bd.Build(in, &d, decisionTime, false)), append(ins, in), append(ds, d)
		}
		return evs, ins, ds
	}
	build()
	first := blocks()
	if len(first) < 4 {
		t.Fatalf("%d blocks for 1500 events, want several", len(first))
	}
	bd.Reset()
	evs, ins, ds := build()
	second := blocks()
	reused := 0
	for b := range second {
		if first[b] {
			reused++
		}
	}
	if reused < len(second)/2 {
		t.Fatalf("a batch after Reset reused %d of its %d blocks, want most", reused, len(second))
	}
	for i, ev := range evs {
		want := Build(ins[i], &ds[i], decisionTime, false)
		if string(ev.Value) != string(want.Value) || !reflect.DeepEqual(ev.Headers, want.Headers) || ev.ID != want.ID || string(ev.Key) != string(want.Key) {
			t.Fatalf("event %d differs from a fresh Build's", i)
		}
	}
}

// TestServicePointStale: a service point served stale is flagged next to servicePoint, and
// only then (the flag is never written false).
func TestServicePointStale(t *testing.T) {
	in := &order.Record{Source: src, Time: recordTime, Key: []byte("CUST-1"), Value: []byte(disconnect)}
	sp := order.ServicePoint{ID: "SP-1", Reference: "R", CustomerReference: "C", Name: "N", Market: "FR", State: "OPERATIONAL"}
	fresh := string(Build(in, ptr(decide(t, in, sp)), decisionTime, false).Value)
	if strings.Contains(fresh, "servicePointStale") {
		t.Fatalf("a fresh service point is flagged: %s", fresh)
	}
	sp.Stale = true
	ev := Build(in, ptr(decide(t, in, sp)), decisionTime, false)
	if !strings.Contains(string(ev.Value), `"state":"OPERATIONAL"},"servicePointStale":true,`) {
		t.Fatalf("stale service point not flagged after servicePoint: %s", ev.Value)
	}
	if m := decode(t, ev); m["servicePointStale"] != true || m["servicePoint"].(map[string]any)["id"] != "SP-1" {
		t.Errorf("event %v", m)
	}
}

// TestAppendTime: the hand-written timestamp is Time.AppendFormat's, byte for byte, for
// times across the years 0 to 9999 and beyond, in other zones, with every millisecond.
func TestAppendTime(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	times := []time.Time{{}, time.Unix(0, 0), time.UnixMilli(-1), time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 2, 29, 23, 0, 0, 5e8, paris)}
	for i := range 20000 {
		ns := int64(i) * 7_919_993_141_592_653 // spread over about ±290 years around 1970
		times = append(times, time.Unix(0, ns), time.Unix(0, ns).In(paris), time.UnixMilli(int64(i)*123_456_789_013))
	}
	for _, tm := range times {
		if got, want := string(appendTime([]byte("x"), tm)), "x"+tm.UTC().Format(timeFormat); got != want {
			t.Fatalf("appendTime(%v) = %q, want %q", tm, got, want)
		}
	}
}
