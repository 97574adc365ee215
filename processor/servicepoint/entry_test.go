package servicepoint

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/ordergate/ordergate/processor/order"
)

// TestEntryRoundTrip: what encodeEntry writes, decodeEntry reads back unchanged, with its
// fresh-until time, for the values service points hold (accents, '&', '<', ':' and spaces
// included); the compact form is what the fast scanner reads.
func TestEntryRoundTrip(t *testing.T) {
	until := time.UnixMilli(1765000000123)
	for _, tc := range []struct {
		l    order.Lookup
		list []order.ServicePoint
	}{
		{byID("SP-1"), []order.ServicePoint{point("SP-1")}},
		{order.Lookup{Criterion: order.ByCustomerReference, Value: "C & <Le Balto> : é"},
			[]order.ServicePoint{{ID: "SP-1", CustomerReference: "C & <Le Balto> : é"}, {ID: "SP-2", Name: "Café", Market: "FR", CustomerReference: "C & <Le Balto> : é"}}},
		{byID("only-id"), []order.ServicePoint{{ID: "only-id"}}},
		{byID("none"), nil},
	} {
		data, err := encodeEntry(tc.list, until)
		if err != nil {
			t.Fatal(err)
		}
		e, reason := decodeEntry(string(data), tc.l)
		want := tc.list
		if want == nil {
			want = []order.ServicePoint{}
		}
		if reason != "" || !reflect.DeepEqual(e.matches, want) || !e.freshUntil.Equal(until) {
			t.Errorf("%s: read back %+v until %v (%q)", data, e.matches, e.freshUntil, reason)
		}
		body := strings.TrimSuffix(string(data[strings.Index(string(data), "["):]), "}")
		if _, ok := scanList(body); !ok {
			t.Errorf("%s: the fast scanner does not read what encodeEntry writes", data)
		}
	}
	if data, _ := encodeEntry(nil, until); string(data) != `{"freshUntil":1765000000123,"matches":[]}` {
		t.Errorf("empty list encoded as %s", data)
	}
}

// TestDecodeEntry: both formats are read (the first one, a bare list, as fresh while Redis
// keeps it), the forms the fast scanner leaves to the JSON decoder are read as JSON says,
// and anything else is corrupt with its reason.
func TestDecodeEntry(t *testing.T) {
	a := byID("A")
	for _, tc := range []struct {
		in     string
		l      order.Lookup
		want   []order.ServicePoint
		until  int64 // Unix ms; 0: none (first format)
		reason string
	}{
		{`[]`, a, []order.ServicePoint{}, 0, ""},
		{` [ ] `, a, []order.ServicePoint{}, 0, ""},
		{`[{"id":"A"}]`, a, []order.ServicePoint{{ID: "A"}}, 0, ""},
		{`[ {"id" : "A", "market":"FR"} ]`, a, []order.ServicePoint{{ID: "A", Market: "FR"}}, 0, ""},
		{`[{"id":"A\"B","name":"caf\u00e9"}]`, byID(`A"B`), []order.ServicePoint{{ID: `A"B`, Name: "café"}}, 0, ""},
		{`[{"id":"A","extra":{"x":[1]}}]`, a, []order.ServicePoint{{ID: "A"}}, 0, ""},
		{`[{"id":"A","name":null}]`, a, []order.ServicePoint{{ID: "A"}}, 0, ""},
		{`{"freshUntil":5,"matches":[{"id":"A"}]}`, a, []order.ServicePoint{{ID: "A"}}, 5, ""},
		{`{"freshUntil":5,"matches":[]}`, a, []order.ServicePoint{}, 5, ""},
		{`{ "matches": [{"id":"A"}], "freshUntil": 7 }`, a, []order.ServicePoint{{ID: "A"}}, 7, ""},
		{`{"freshUntil":5,"matches":[{"id":"\u0041"}]}`, a, []order.ServicePoint{{ID: "A"}}, 5, ""},
		{`[{"id":"A","id":"B"}]`, a, nil, 0, CorruptMalformed},
		{`[{"id":"A"},]`, a, nil, 0, CorruptMalformed},
		{`[{"id":"A"}]]`, a, nil, 0, CorruptMalformed},
		{`[{"id":"A"}`, a, nil, 0, CorruptMalformed},
		{`[{"name":"x"}]`, a, nil, 0, CorruptMalformed},
		{`[{}]`, a, nil, 0, CorruptMalformed},
		{`[{"id":7}]`, a, nil, 0, CorruptMalformed},
		{"[{\"id\":\"a\x01\"}]", a, nil, 0, CorruptMalformed},
		{"[{\"id\":\"\xff\"}]", a, nil, 0, CorruptMalformed},
		{`null`, a, nil, 0, CorruptMalformed},
		{`{"id":"A"}`, a, nil, 0, CorruptMalformed},
		{`{"freshUntil":5}`, a, nil, 0, CorruptMalformed},
		{`{"matches":[]}`, a, nil, 0, CorruptMalformed},
		{`{"freshUntil":5,"matches":null}`, a, nil, 0, CorruptMalformed},
		{`{"freshUntil":"soon","matches":[]}`, a, nil, 0, CorruptMalformed},
		{`{"freshUntil":5,"matches":[],"more":1}`, a, nil, 0, CorruptMalformed},
		{`{"freshUntil":5,"matches":[]`, a, nil, 0, CorruptMalformed},
	} {
		e, reason := decodeEntry(tc.in, tc.l)
		if reason != tc.reason || reason == "" && (!reflect.DeepEqual(e.matches, tc.want) || e.freshUntil.UnixMilli() != tc.until && tc.until != 0 || tc.until == 0 && !e.freshUntil.IsZero()) {
			t.Errorf("%q: got %+v until %v, %q; want %+v until %d, %q", tc.in, e.matches, e.freshUntil, reason, tc.want, tc.until, tc.reason)
		}
	}
}

// TestEntriesThatContradictTheirKey (issue 17, item 3): an entry whose service point has
// another value under the key's criterion, escaped or not, and an entry listing one service
// point twice, are corrupt; the same point under its own key, escapes decoded, is not.
// Before the fix decodeEntry took the list as it came: [{"id":"SP-1999"}] under the key of
// SP-50 answered every request 3622, and 50,000 copies of one point answered 3621.
func TestEntriesThatContradictTheirKey(t *testing.T) {
	dup := "[" + strings.Repeat(`{"id":"SP-50"},`, 50000) + `{"id":"SP-50"}]`
	for _, tc := range []struct {
		name   string
		l      order.Lookup
		in     string
		reason string
	}{
		{"another id", byID("SP-50"), `[{"id":"SP-1999"}]`, CorruptInconsistent},
		{"another id, escaped", byID("SP-50"), `[{"id":"SP-\u0031"}]`, CorruptInconsistent},
		{"another id, current format", byID("SP-50"), `{"freshUntil":1,"matches":[{"id":"SP-1999"}]}`, CorruptInconsistent},
		{"one of two is another", byID("SP-50"), `[{"id":"SP-50"},{"id":"SP-51"}]`, CorruptInconsistent},
		{"another reference", order.Lookup{Criterion: order.ByReference, Value: "R-1"}, `[{"id":"SP-1","reference":"R-2"}]`, CorruptInconsistent},
		{"no customer reference", order.Lookup{Criterion: order.ByCustomerReference, Value: "C-1"}, `[{"id":"SP-1"}]`, CorruptInconsistent},
		{"case differs", order.Lookup{Criterion: order.ByCustomerReference, Value: "C-1"}, `[{"id":"SP-1","customerReference":"c-1"}]`, CorruptInconsistent},
		{"duplicate", byID("SP-50"), `[{"id":"SP-50"},{"id":"SP-50"}]`, CorruptDuplicate},
		{"50,000 duplicates", byID("SP-50"), dup, CorruptTooLarge},
		{"duplicates by reference", order.Lookup{Criterion: order.ByReference, Value: "R"},
			"[" + strings.Repeat(`{"id":"SP-1","reference":"R"},{"id":"SP-2","reference":"R"},`, 5) + `{"id":"SP-1","reference":"R"}]`, CorruptDuplicate},
		{"escaped, its own key", byID("SP-1"), `[{"id":"SP-\u0031"}]`, ""},
		{"two of one reference", order.Lookup{Criterion: order.ByReference, Value: "R"}, `[{"id":"SP-1","reference":"R"},{"id":"SP-2","reference":"R"}]`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, reason := decodeEntry(tc.in, tc.l); reason != tc.reason {
				t.Fatalf("reason %q, want %q", reason, tc.reason)
			}
		})
	}
	many := make([]order.ServicePoint, 200)
	for i := range many {
		many[i] = order.ServicePoint{ID: fmt.Sprint("SP-", i), Reference: "R"}
	}
	data, _ := encodeEntry(many, time.Now())
	if _, reason := decodeEntry(string(data), order.Lookup{Criterion: order.ByReference, Value: "R"}); reason != "" {
		t.Fatalf("200 distinct points of one reference: %q", reason)
	}
}

// FuzzDecodeEntry: whatever the fast scanner accepts, the JSON decoder reads the same way,
// and decodeEntry never accepts an entry that answers another key.
func FuzzDecodeEntry(f *testing.F) {
	for _, s := range []string{`[]`, `[{"id":"A"}]`, `[{"id":"A","reference":"R","customerReference":"C","name":"N","market":"FR","state":"OPERATIONAL"},{"id":"B"}]`,
		`[{"id":"A","id":"B"}]`, `[{"id":"A"},]`, `[{}]`, `[{"id":"\u00e9"}]`, `[{"state":"X","id":"Y"}]`,
		`{"freshUntil":1,"matches":[{"id":"A"}]}`, `{"freshUntil":1,"matches":[{"id":"\u0041"}]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if e, reason := decodeEntry(s, byID("A")); reason == "" {
			for _, sp := range e.matches {
				if sp.ID != "A" {
					t.Fatalf("%q: accepted under the key of A with %+v", s, e.matches)
				}
			}
		}
		fast, ok := scanEntry(s)
		if !ok {
			return
		}
		var slow []order.ServicePoint
		if err := json.Unmarshal([]byte(s), &slow); err != nil {
			t.Fatalf("%q: the fast scanner accepts what JSON refuses (%v)", s, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q: fast %+v, JSON %+v", s, fast, slow)
		}
	})
}
