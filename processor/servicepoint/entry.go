package servicepoint

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json"

	"github.com/ordergate/ordergate/processor/order"
)

// MaxEntryBytes bounds a cache value: the resolver reads at most this many bytes of a
// value (GETRANGE), and a longer value is corrupt (a miss, replaced). A real entry is a
// list of the service points that match one identifier, a few hundred bytes each: 64 KiB
// holds about 250 of them. An answer of the inventory that does not fit is used but not
// cached.
const MaxEntryBytes = 64 << 10

// The reasons a cache entry is corrupt: a small fixed set, fit for a metric label.
const (
	// CorruptTooLarge: the value is longer than MaxEntryBytes.
	CorruptTooLarge = "too_large"
	// CorruptMalformed: the value is not an entry (not JSON, not a list of service points
	// each with an id, an unknown member...).
	CorruptMalformed = "malformed"
	// CorruptInconsistent: a service point of the entry does not have the key's value under
	// the key's criterion (the entry answers another lookup).
	CorruptInconsistent = "inconsistent"
	// CorruptDuplicate: the entry lists one service point (one id) twice or more.
	CorruptDuplicate = "duplicate"
	// CorruptWrongType: the key holds a Redis type other than a string.
	CorruptWrongType = "wrong_type"
)

// CorruptReasons lists every reason, for metrics that pre-declare their label values.
var CorruptReasons = []string{CorruptTooLarge, CorruptMalformed, CorruptInconsistent, CorruptDuplicate, CorruptWrongType}

// none is the answer of a lookup that matched nothing, shared: it has no element to modify.
var none = []order.ServicePoint{}

// entry is a cache value read back.
type entry struct {
	matches []order.ServicePoint
	// freshUntil is when the entry stops answering as fresh. It is zero for an entry of
	// the first format (a bare list), which is fresh as long as Redis keeps it.
	freshUntil time.Time
}

// fresh reports whether e still answers as fresh at now.
func (e entry) fresh(now time.Time) bool { return e.freshUntil.IsZero() || !now.After(e.freshUntil) }

// The cached value of a list of matches:
//
//	{"freshUntil":1765000000000,"matches":[{"id":"SP-1",...}]}
//
// freshUntil in Unix milliseconds: the entry answers as fresh until then, and Redis keeps
// a positive entry for ORDERGATE_CACHE_STALE_FOR longer (serve-stale). The first format of
// ordergate, a bare JSON array, is still read (as fresh until Redis expires it), so that a
// running cache needs no migration.
const (
	entryHead    = `{"freshUntil":`
	entryMatches = `,"matches":`
)

// encodeEntry returns the cached value of a list of matches, fresh until freshUntil.
func encodeEntry(matches []order.ServicePoint, freshUntil time.Time) ([]byte, error) {
	b := make([]byte, 0, 64+200*len(matches))
	b = append(b, entryHead...)
	b = strconv.AppendInt(b, freshUntil.UnixMilli(), 10)
	b = append(b, entryMatches...)
	if len(matches) == 0 {
		b = append(b, "[]"...)
	} else {
		list, err := json.Marshal(matches)
		if err != nil {
			return nil, err
		}
		b = append(b, list...)
	}
	return append(b, '}'), nil
}

// decodeEntry reads the cached value s of the key of l. It returns the reason s is
// corrupt, or "": a value must be an entry (either format) whose service points each have
// an id, all distinct, and each has l's value under l's criterion, so that a value written
// under another key, by hand or by a broken writer is never believed.
//
// Reading 1000 entries is most of the CPU of a warm batch, so the common case, the compact
// form encodeEntry writes (no whitespace, no escapes, known members), is read by a scanner
// whose strings are substrings of the value: one allocation per entry instead of one per
// member. Anything else goes through the full JSON decoder, so that an entry written by
// another version or by hand is read as JSON says (escapes decoded before the checks), or
// refused.
func decodeEntry(s string, l order.Lookup) (entry, string) {
	if len(s) > MaxEntryBytes {
		return entry{}, CorruptTooLarge
	}
	var e entry
	var ok bool
	if strings.HasPrefix(strings.TrimLeft(s, " \t\r\n"), "[") {
		e.matches, ok = decodeList(s)
	} else {
		e, ok = decodeCurrent(s)
	}
	if !ok {
		return entry{}, CorruptMalformed
	}
	if reason := checkMatches(e.matches, l); reason != "" {
		return entry{}, reason
	}
	if len(e.matches) == 0 {
		e.matches = none
	}
	return e, ""
}

// decodeCurrent reads the format of encodeEntry.
func decodeCurrent(s string) (entry, bool) {
	if rest, ok := strings.CutPrefix(s, entryHead); ok && strings.HasSuffix(rest, "}") {
		digits := 0
		for digits < len(rest) && digits < 16 && '0' <= rest[digits] && rest[digits] <= '9' {
			digits++
		}
		if body, ok := strings.CutPrefix(rest[digits:], entryMatches); ok && digits > 0 {
			ms, _ := strconv.ParseInt(rest[:digits], 10, 64)
			if list, ok := scanList(body[:len(body)-1]); ok {
				return entry{matches: list, freshUntil: time.UnixMilli(ms)}, true
			}
		}
	}
	var v struct {
		FreshUntil *int64                `json:"freshUntil"`
		Matches    *[]order.ServicePoint `json:"matches"`
	}
	if err := json.Unmarshal([]byte(s), &v, json.RejectUnknownMembers(true)); err != nil || v.FreshUntil == nil || v.Matches == nil || *v.Matches == nil {
		return entry{}, false
	}
	return entry{matches: *v.Matches, freshUntil: time.UnixMilli(*v.FreshUntil)}, true
}

// decodeList reads a JSON array of service points: the fast scanner, else the JSON decoder.
func decodeList(s string) ([]order.ServicePoint, bool) {
	if list, ok := scanList(s); ok {
		return list, true
	}
	return unmarshalEntry(s)
}

// scanList reads the compact form of a list, "[]" included.
func scanList(s string) ([]order.ServicePoint, bool) {
	if s == "[]" {
		return none, true
	}
	return scanEntry(s)
}

// checkMatches returns why matches cannot be the answer to l, or "".
func checkMatches(matches []order.ServicePoint, l order.Lookup) string {
	for i := range matches {
		sp := &matches[i]
		if sp.ID == "" {
			return CorruptMalformed
		}
		if criterionOf(sp, l.Criterion) != l.Value {
			return CorruptInconsistent
		}
	}
	if hasDuplicateID(matches) {
		return CorruptDuplicate
	}
	return ""
}

// criterionOf returns the identifier of sp that criterion c designates.
func criterionOf(sp *order.ServicePoint, c order.Criterion) string {
	switch c {
	case order.ByID:
		return sp.ID
	case order.ByReference:
		return sp.Reference
	case order.ByCustomerReference:
		return sp.CustomerReference
	}
	return ""
}

// hasDuplicateID reports whether two service points of list share an id.
func hasDuplicateID(list []order.ServicePoint) bool {
	if len(list) <= 8 {
		for i := range list {
			for j := i + 1; j < len(list); j++ {
				if list[i].ID == list[j].ID {
					return true
				}
			}
		}
		return false
	}
	seen := make(map[string]struct{}, len(list))
	for i := range list {
		if _, ok := seen[list[i].ID]; ok {
			return true
		}
		seen[list[i].ID] = struct{}{}
	}
	return false
}

// unmarshalEntry reads s with the full JSON decoder; a separate function, so that the fast
// path does not pay for the list escaping to the heap.
func unmarshalEntry(s string) ([]order.ServicePoint, bool) {
	var list []order.ServicePoint
	if err := json.Unmarshal([]byte(s), &list); err != nil || list == nil {
		return nil, false
	}
	return list, true
}

// scanEntry reads the compact form: [{"id":"..","reference":"..",...},...] with string
// members among the six of a service point, each at most once, in any order, and strings
// without escapes or control characters. It reports false as soon as s is not in that form,
// valid JSON or not.
func scanEntry(s string) ([]order.ServicePoint, bool) {
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' || !utf8.ValidString(s) {
		return nil, false
	}
	// In the compact form, each '{' opens an entry (a '{' inside a string only wastes room).
	list := make([]order.ServicePoint, 0, strings.Count(s, "{"))
	i := 1
	for {
		if i >= len(s) || s[i] != '{' {
			return nil, false
		}
		i++
		var sp order.ServicePoint
		var seen uint8
		for s[i] != '}' {
			name, next, ok := scanString(s, i)
			if !ok || next >= len(s) || s[next] != ':' {
				return nil, false
			}
			value, after, ok := scanString(s, next+1)
			if !ok || after >= len(s) {
				return nil, false
			}
			bit, field := member(&sp, name)
			if field == nil || seen&bit != 0 {
				return nil, false
			}
			seen |= bit
			*field = value
			i = after
			if s[i] == ',' {
				i++
				if i >= len(s) || s[i] != '"' {
					return nil, false
				}
			} else if s[i] != '}' {
				return nil, false
			}
		}
		list = append(list, sp)
		i++ // past '}'
		switch {
		case i == len(s)-1: // at the closing ']'
			return list, true
		case i < len(s) && s[i] == ',':
			i++
		default:
			return nil, false
		}
	}
}

// scanString reads the JSON string starting at s[i] ('"'), which must hold no escape and
// no control character, and returns its content and the index after its closing quote.
func scanString(s string, i int) (string, int, bool) {
	if i >= len(s) || s[i] != '"' {
		return "", 0, false
	}
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			return s[i+1 : j], j + 1, true
		case c == '\\' || c < 0x20:
			return "", 0, false
		}
	}
	return "", 0, false
}

// member returns the field of sp that a member name designates, with a bit of its own.
func member(sp *order.ServicePoint, name string) (uint8, *string) {
	switch name {
	case "id":
		return 1, &sp.ID
	case "reference":
		return 2, &sp.Reference
	case "customerReference":
		return 4, &sp.CustomerReference
	case "name":
		return 8, &sp.Name
	case "market":
		return 16, &sp.Market
	case "state":
		return 32, &sp.State
	}
	return 0, nil
}
