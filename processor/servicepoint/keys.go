package servicepoint

import (
	"fmt"

	"github.com/ordergate/ordergate/processor/order"
)

// Key returns the Redis key of a lookup: {prefix}sp:{criterion}:{value}, the value verbatim.
//
// Keys cannot collide: for a given prefix the criterion comes first and is one of three
// fixed names without a colon, so the first colon after "sp:" ends it and everything after
// is the value, byte for byte. A value holding colons, spaces, newlines or any other byte
// ("A:B", "id:X") therefore has a key of its own, and no escaping is needed (Redis keys are
// binary-safe), which keeps keys readable and typeable in redis-cli. Two deployments that
// share a Redis must use prefixes that are not prefixes of each other.
func Key(prefix string, l order.Lookup) string {
	return string(appendKey(make([]byte, 0, keyLen(prefix, l)), prefix, l))
}

func keyLen(prefix string, l order.Lookup) int {
	return len(prefix) + len("sp:") + len(l.Criterion) + 1 + len(l.Value)
}

func appendKey(b []byte, prefix string, l order.Lookup) []byte {
	b = append(b, prefix...)
	b = append(b, "sp:"...)
	b = append(b, l.Criterion...)
	b = append(b, ':')
	return append(b, l.Value...)
}

// buildKeys returns the keys of lookups, all carved out of one allocation.
func buildKeys(prefix string, lookups []order.Lookup) []string {
	n := 0
	for _, l := range lookups {
		n += keyLen(prefix, l)
	}
	buf := make([]byte, 0, n)
	for _, l := range lookups {
		buf = appendKey(buf, prefix, l)
	}
	all := string(buf)
	keys := make([]string, len(lookups))
	at := 0
	for i, l := range lookups {
		n := keyLen(prefix, l)
		keys[i] = all[at : at+n]
		at += n
	}
	return keys
}

// checkLookup rejects a lookup that package order never builds: an unknown criterion (the
// collision-freedom of keys rests on the three fixed names) or an empty value (which an
// inventory could read as "no filter" and answer with every service point).
func checkLookup(l order.Lookup) error {
	switch l.Criterion {
	case order.ByID, order.ByReference, order.ByCustomerReference:
	default:
		return fmt.Errorf("%w: unknown criterion %q", ErrInvalidLookup, l.Criterion)
	}
	if l.Value == "" {
		return fmt.Errorf("%w: empty %s", ErrInvalidLookup, l.Criterion)
	}
	return nil
}
