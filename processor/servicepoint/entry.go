package servicepoint

import (
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json"

	"github.com/ordergate/ordergate/processor/order"
)

// emptyEntry is the cached value of a lookup that matched nothing (a negative entry).
const emptyEntry = "[]"

// none is the answer of a lookup that matched nothing, shared: it has no element to modify.
var none = []order.ServicePoint{}

// encodeEntry returns the cached value of a list of matches: a JSON array of service points,
// exactly what the inventory answered.
func encodeEntry(matches []order.ServicePoint) ([]byte, error) {
	if len(matches) == 0 {
		return []byte(emptyEntry), nil
	}
	return json.Marshal(matches)
}

// decodeEntry reads a cached value: a JSON array of service points, each with an id. It
// reports false for anything else, which the caller treats as a miss.
//
// Reading 1000 entries is most of the CPU of a warm batch, so the common case, the compact
// form encodeEntry writes (no whitespace, no escapes, known members), is read by a scanner
// whose strings are substrings of the value: one allocation per entry instead of one per
// member. Anything else goes through the full JSON decoder, so that an entry written by
// another version or by hand is read as JSON says, or refused.
func decodeEntry(s string) ([]order.ServicePoint, bool) {
	if s == emptyEntry {
		return none, true
	}
	list, ok := scanEntry(s)
	if !ok {
		if list, ok = unmarshalEntry(s); !ok {
			return nil, false
		}
	}
	if len(list) == 0 {
		return none, true
	}
	for i := range list {
		if list[i].ID == "" {
			return nil, false
		}
	}
	return list, true
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
