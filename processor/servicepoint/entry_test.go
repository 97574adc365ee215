package servicepoint

import (
	"reflect"
	"testing"

	"github.com/go-json-experiment/json"

	"github.com/ordergate/ordergate/processor/order"
)

// TestEntryRoundTrip: what encodeEntry writes, the fast scanner reads back unchanged, for
// the values service points hold (accents, '&', '<', ':' and spaces included).
func TestEntryRoundTrip(t *testing.T) {
	for _, list := range [][]order.ServicePoint{
		{point("SP-1")},
		{point("SP-1"), {ID: "SP-2", Name: "Café <Le Balto> & Cie : Paris 11e", Market: "FR"}},
		{{ID: "only-id"}},
	} {
		data, err := encodeEntry(list)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := scanEntry(string(data))
		if !ok || !reflect.DeepEqual(got, list) {
			t.Errorf("%s: fast scan %+v, %v", data, got, ok)
		}
	}
	if data, _ := encodeEntry(nil); string(data) != "[]" {
		t.Errorf("empty list encoded as %s", data)
	}
}

// TestDecodeEntry: the forms the fast scanner leaves to the JSON decoder are still read
// as JSON says, and what is not a list of service points with ids is refused.
func TestDecodeEntry(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []order.ServicePoint
		ok   bool
	}{
		{`[]`, []order.ServicePoint{}, true},
		{` [ ] `, []order.ServicePoint{}, true},
		{`[{"id":"A"}]`, []order.ServicePoint{{ID: "A"}}, true},
		{`[ {"id" : "A", "market":"FR"} ]`, []order.ServicePoint{{ID: "A", Market: "FR"}}, true},
		{`[{"id":"A\"B","name":"caf\u00e9"}]`, []order.ServicePoint{{ID: `A"B`, Name: "café"}}, true},
		{`[{"id":"A","extra":{"x":[1]}}]`, []order.ServicePoint{{ID: "A"}}, true},
		{`[{"id":"A","name":null}]`, []order.ServicePoint{{ID: "A"}}, true},
		{`[{"id":"A"},{"id":"B"}]`, []order.ServicePoint{{ID: "A"}, {ID: "B"}}, true},
		{`[{"id":"A","id":"B"}]`, nil, false},
		{`[{"id":"A"},]`, nil, false},
		{`[{"id":"A"}]]`, nil, false},
		{`[{"id":"A"}`, nil, false},
		{`[{"name":"x"}]`, nil, false},
		{`[{}]`, nil, false},
		{`[{"id":7}]`, nil, false},
		{"[{\"id\":\"a\x01\"}]", nil, false},
		{"[{\"id\":\"\xff\"}]", nil, false},
		{`null`, nil, false},
		{``, nil, false},
		{`{"id":"A"}`, nil, false},
	} {
		got, ok := decodeEntry(tc.in)
		if ok != tc.ok || (ok && !reflect.DeepEqual(got, tc.want)) {
			t.Errorf("%q: got %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzDecodeEntry: whatever the fast scanner accepts, the JSON decoder reads the same way.
func FuzzDecodeEntry(f *testing.F) {
	for _, s := range []string{`[]`, `[{"id":"A"}]`, `[{"id":"A","reference":"R","customerReference":"C","name":"N","market":"FR","state":"OPERATIONAL"},{"id":"B"}]`,
		`[{"id":"A","id":"B"}]`, `[{"id":"A"},]`, `[{}]`, `[{"id":"\u00e9"}]`, `[{"state":"X","id":"Y"}]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
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
