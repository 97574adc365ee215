package servicepoint

import (
	"testing"

	"github.com/ordergate/ordergate/processor/order"
)

func TestKey(t *testing.T) {
	for _, tc := range []struct {
		prefix string
		l      order.Lookup
		want   string
	}{
		{"ordergate:", byID("SP-1"), "ordergate:sp:id:SP-1"},
		{"", order.Lookup{Criterion: order.ByReference, Value: "a:b"}, "sp:reference:a:b"},
		{"p:", order.Lookup{Criterion: order.ByCustomerReference, Value: "é x\n"}, "p:sp:customerReference:é x\n"},
	} {
		if got := Key(tc.prefix, tc.l); got != tc.want {
			t.Errorf("Key(%q, %+v) = %q, want %q", tc.prefix, tc.l, got, tc.want)
		}
	}
}

// TestKeysAreDistinct: lookups whose values hold colons and criterion names get distinct
// keys, and buildKeys agrees with Key.
func TestKeysAreDistinct(t *testing.T) {
	var lookups []order.Lookup
	for _, c := range []order.Criterion{order.ByID, order.ByReference, order.ByCustomerReference} {
		for _, v := range []string{"a", "a:b", "id:a", "reference:a", ":", "::", "sp:id:a", "a\x00b", " "} {
			lookups = append(lookups, order.Lookup{Criterion: c, Value: v})
		}
	}
	keys := buildKeys("x:", lookups)
	seen := map[string]order.Lookup{}
	for i, k := range keys {
		if k != Key("x:", lookups[i]) {
			t.Errorf("buildKeys %q, Key %q", k, Key("x:", lookups[i]))
		}
		if other, ok := seen[k]; ok {
			t.Errorf("%+v and %+v share the key %q", other, lookups[i], k)
		}
		seen[k] = lookups[i]
	}
}
