package order

import (
	"bytes"
	"encoding/json"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// fuzzHeaders turns fuzz bytes into headers: one "name=value" per line.
func fuzzHeaders(b []byte) []Header {
	var hs []Header
	for _, line := range bytes.Split(b, []byte{'\n'}) {
		if len(line) == 0 {
			continue
		}
		k, v, _ := bytes.Cut(line, []byte{'='})
		hs = append(hs, Header{Key: string(k), Value: v})
	}
	return hs
}

func addSeeds(f *testing.F) {
	// The worst bodies found for work per record (issue 23), small enough for the fuzzer to
	// grow and mutate.
	worst := []string{repeat(`{"contact":[`, `1`, 1100, `]}`), repeat(`{"contact":[`, `{}`, 400, `]}`),
		repeat(`{"contact":[{"contactMedium":[`, `{}`, 600, `]}]}`)}
	for _, v := range append([]string{disconnectBody, updateBody, accountBody, "", "{}", `{"type":1}`, `[`, `{"a":1,"a":2}`}, worst...) {
		f.Add([]byte(v), []byte("type=PATCH-billingAccountById\nbusinessId=PA\nid=1\nclient_id=abcde\nclient_secret=fghij\nlob=x"), int64(1764842400))
		f.Add([]byte(v), []byte("TYPE=R_BVPN_FR_1\nx-correlation-id=c1"), int64(0))
	}
	f.Add([]byte(accountBody), []byte("type=PATCH-billingAccountById\nX-Correlation-ID="+strings.Repeat("c", 300)), int64(0))
	f.Add([]byte(disconnectBody), []byte("X-Correlation-ID=a\x01b"), int64(0))
}

// FuzzDecide checks the properties every decision must have, whatever the record.
func FuzzDecide(f *testing.F) {
	addSeeds(f)
	clients := testClients(f)
	f.Fuzz(func(t *testing.T, value, headers []byte, ts int64) {
		for _, rules := range []Rules{{}, {Clients: clients, MaxBodyBytes: 4096}} {
			r := &Record{Value: value, Headers: fuzzHeaders(headers), Time: time.Unix(ts%(1<<40), 0)}
			d1 := rules.Decide(r)
			d2 := rules.Decide(r)
			if !reflect.DeepEqual(d1, d2) {
				t.Fatalf("the same record gave two decisions:\n%+v\n%+v", d1, d2)
			}
			checkDecision(t, d1)
			checkWork(t, &rules, r)
			if d1.Outcome == NeedsServicePoint {
				if d1.Lookup.Value == "" || !d1.Type.IsBVPN() {
					t.Fatalf("pending decision without a lookup: %+v", d1)
				}
				for _, matches := range [][]ServicePoint{nil, {spFR}, {spFR, spFR}, {{Market: "ES"}}} {
					d := d1
					d.Resolve(matches)
					if d.Outcome == NeedsServicePoint {
						t.Fatalf("still pending after resolution")
					}
					checkDecision(t, d)
				}
			}
		}
	})
}

func checkDecision(t *testing.T, d Decision) {
	t.Helper()
	switch d.Outcome {
	case Accepted, NeedsServicePoint:
		if len(d.Errors) != 0 {
			t.Fatalf("%v with errors %v", d.Outcome, got(d))
		}
	case Rejected:
		if len(d.Errors) == 0 {
			t.Fatalf("rejected without errors")
		}
		row := d.Errors[0].Row
		for _, v := range d.Errors {
			e := EntryOf(v.Row)
			if e == nil || v.Row != row {
				t.Fatalf("violation of row %d among row %d: %v", v.Row, row, got(d))
			}
			if (v.Row <= RowInvalidBody) != (v.Field == "") {
				t.Fatalf("row %d with field %q", v.Row, v.Field)
			}
			if v.Description(d.Type) == "" || v.Message() == "" {
				t.Fatalf("row %d without text", v.Row)
			}
		}
	default:
		t.Fatalf("unknown outcome %d", d.Outcome)
	}
	warnings := d.Warnings
	if len(warnings) > 0 && warnings[0] == WarningCorrelationIDIgnored {
		warnings = warnings[1:]
	}
	if d.Type != TypeAccountContact && (len(warnings) > 0 || d.BillingAccount != nil) {
		t.Fatalf("warnings or billing account on a %v request", d.Type)
	}
	// The amended bound of section 6.
	if len(d.Errors) > MaxErrors || (d.ErrorsTruncated && len(d.Errors) != MaxErrors) {
		t.Fatalf("%d errors, errorsTruncated %v", len(d.Errors), d.ErrorsTruncated)
	}
}

// workBound is the most memory one decision may allocate: proportional to the record's size
// (section 6, amended 2026-12-06), with room for the first MaxErrors violations. The worst
// bodies found allocate up to 14 bytes per byte of value (40 under the race detector, which
// empties sync.Pool at random); before the bound, 375.
func workBound(r *Record) uint64 {
	n := len(r.Value)
	for _, h := range r.Headers {
		n += len(h.Key) + len(h.Value)
	}
	return 64*uint64(n) + 512<<10
}

// checkWork decides r once more and fails when the decision allocated more than workBound:
// no input may make the work per record grow faster than its size.
func checkWork(t *testing.T, rules *Rules, r *Record) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	d := rules.Decide(r)
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > workBound(r) {
		t.Fatalf("deciding a record of %d bytes allocated %d bytes (bound %d), %d errors", len(r.Value), alloc, workBound(r), len(d.Errors))
	}
}

// FuzzScanner checks the hand-written JSON scanner against jsontext, the reference
// implementation of strict JSON (RFC 8259 with RFC 7493: valid UTF-8, no duplicate names):
// both must agree on which values are valid JSON objects, and on the strings read.
func FuzzScanner(f *testing.F) {
	addSeeds(f)
	for _, v := range []string{`{"type":"\u0074\ud83d\ude00"}`, `{"a":-0.5e+10,"b":[true,false,null,{}]}`, `{"a":"\ud800"}`, "{\"a\":\"\x7f\"}", `{"a":01}`, `{"a":1.}`, `{"\u0061":1,"a":2}`} {
		f.Add([]byte(v), []byte(nil), int64(0))
	}
	f.Fuzz(func(t *testing.T, value, _ []byte, _ int64) {
		want := jsontext.Value(value).IsValid() && bytes.TrimLeft(value, " \t\r\n")[0] == '{'
		if !utf8.Valid(value) {
			return // Decide refuses invalid UTF-8 before parsing (row 3)
		}
		b, serr := parseBody(string(value))
		if (serr == nil) != want {
			t.Fatalf("scanner valid=%v (%v), jsontext valid object=%v, for %q", serr == nil, serr, want, value)
		}
		if serr != nil && (serr.Offset < 0 || serr.Offset > len(value)) {
			t.Fatalf("offset %d outside the value", serr.Offset)
		}
		if b == nil {
			return
		}
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(value))
		dec.UseNumber() // 1e1000 is valid JSON, not a float64
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("encoding/json refuses what both accept: %v", err)
		}
		if s, ok := m["type"].(string); ok && (b.typ.k != kString || b.typ.s != s) {
			t.Fatalf("type read as %q, encoding/json reads %q", b.typ.s, s)
		}
	})
}

// FuzzHeaders drives the header rows (4 to 11) with a valid account body and arbitrary
// header bytes: names and values of any bytes, repeated, in any case.
func FuzzHeaders(f *testing.F) {
	f.Add([]byte("type\x00PATCH-billingAccountById\x00businessId\x00PA\x00id\x001\x00client_id\x00abcde\x00client_secret\x00fghij"))
	f.Add([]byte("TYPE\x00PATCH-billingAccountById\x00type\x00R_BVPN_FR_1\x00BUSINESSID\x00pa\x00lob\x00\xff"))
	f.Add([]byte("x-correlation-id\x00\xc3\x28\x00X-Correlation-ID\x00b\x00client_id\x00\x00client_secret"))
	clients := testClients(f)
	body := []byte(accountBody)
	f.Fuzz(func(t *testing.T, raw []byte) {
		parts := bytes.Split(raw, []byte{0})
		var hs []Header
		for i := 0; i+1 < len(parts); i += 2 {
			hs = append(hs, Header{Key: string(parts[i]), Value: parts[i+1]})
		}
		for _, rules := range []Rules{{}, {Clients: clients}} {
			r := &Record{Value: body, Headers: hs, Time: testNow}
			d1, d2 := rules.Decide(r), rules.Decide(r)
			if !reflect.DeepEqual(d1, d2) {
				t.Fatalf("two decisions for the same headers")
			}
			checkDecision(t, d1)
			if d1.Outcome == Rejected && d1.Error().Row > RowAccessDenied && d1.Error().Row != RowUnsupportedType && d1.Type == TypeAccountContact {
				t.Fatalf("a valid account body rejected by row %d: %v", d1.Error().Row, got(d1))
			}
			// No description may quote the client secret (unless another header that
			// descriptions may quote, type or businessId, holds the same text).
			// Templates and field paths are fixed text: only the argument filled into a
			// description can carry a value.
			secret, other := "", ""
			for _, h := range hs {
				switch strings.ToLower(h.Key) {
				case "client_secret":
					secret = string(h.Value)
				case "type", "businessid":
					other += "\x00" + string(h.Value)
				}
			}
			if len(secret) >= 3 && !strings.Contains(other, secret) {
				for _, v := range d1.Errors {
					if strings.Contains(v.Arg, secret) {
						t.Fatalf("a description quotes the client secret: %q", v.Description(d1.Type))
					}
				}
			}
		}
	})
}
