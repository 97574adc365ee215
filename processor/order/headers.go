package order

import "strings"

// header indexes the headers this contract reads, in the order of section 1, which is
// also the order in which row 4 lists conflicts.
type header uint8

const (
	hType header = iota
	hBusinessID
	hID
	hClientID
	hClientSecret
	hCorrelationID
	hChannelID
	hLob
	hTargetSystem
	numHeaders
)

// headerNames are the canonical names, as written in field paths and events.
var headerNames = [numHeaders]string{
	hType:          "type",
	hBusinessID:    "businessId",
	hID:            "id",
	hClientID:      "client_id",
	hClientSecret:  "client_secret",
	hCorrelationID: "X-Correlation-ID",
	hChannelID:     "channelId",
	hLob:           "lob",
	hTargetSystem:  "targetSystem",
}

// HeaderField returns the field path of a header in violations: headers.NAME.
func headerField(h header) string { return "headers." + headerNames[h] }

// headerSet holds the contract's headers of one record, matched without regard to case.
type headerSet struct {
	present  [numHeaders]bool
	conflict [numHeaders]bool
	value    [numHeaders][]byte
}

// headersByLen lists the headers by the length of their name, so that lookupHeader
// compares a name with one or two candidates rather than all nine.
var headersByLen = func() (t [len("X-Correlation-ID") + 1][]header) {
	for h, n := range headerNames {
		t[len(n)] = append(t[len(n)], header(h))
	}
	return t
}()

func lookupHeader(name string) (header, bool) {
	if len(name) >= len(headersByLen) {
		return 0, false
	}
	for _, h := range headersByLen[len(name)] {
		if strings.EqualFold(headerNames[h], name) {
			return h, true
		}
	}
	return 0, false
}

func readHeaders(hs []Header) headerSet {
	var s headerSet
	for i := range hs {
		h, ok := lookupHeader(hs[i].Key)
		if !ok {
			continue
		}
		if !s.present[h] {
			s.present[h] = true
			s.value[h] = hs[i].Value
		} else if string(s.value[h]) != string(hs[i].Value) {
			s.conflict[h] = true
		}
	}
	return s
}

// MaxCorrelationIDBytes is the longest X-Correlation-ID an event carries (contract section
// 1, amended 2026-12-06): a longer one is ignored, so that a record's headers cannot make
// its event larger than its value allows for.
const MaxCorrelationIDBytes = 256

// WarningCorrelationIDIgnored is the warning of an event whose record gave an
// X-Correlation-ID that is not valid.
const WarningCorrelationIDIgnored = "header 'X-Correlation-ID' is not valid and was ignored"

// CorrelationHeader returns the X-Correlation-ID a record's events carry: the value of its
// first non-empty X-Correlation-ID header (matched without regard to case), or nil when it
// gives none, or gives one that is not valid (ignored reports it): longer than
// MaxCorrelationIDBytes, or holding a control character (C0, DEL or C1), which would
// otherwise travel raw into the event's key and header. The value may not be valid UTF-8
// (CorrelationID makes it so); it shares the header's memory.
func CorrelationHeader(hs []Header) (value []byte, ignored bool) {
	for i := range hs {
		if h, ok := lookupHeader(hs[i].Key); ok && h == hCorrelationID && len(hs[i].Value) > 0 {
			v := hs[i].Value
			if !validCorrelationID(v) {
				return nil, true
			}
			return v, false
		}
	}
	return nil, false
}

// validCorrelationID reports whether an X-Correlation-ID value is short enough and holds no
// control character.
func validCorrelationID(v []byte) bool {
	if len(v) > MaxCorrelationIDBytes {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c < 0x20 || c == 0x7f:
			return false
		case c == 0xc2 && i+1 < len(v) && v[i+1] >= 0x80 && v[i+1] <= 0x9f: // U+0080..U+009F
			return false
		}
	}
	return true
}

// CorrelationID returns the X-Correlation-ID a record's events carry (see
// CorrelationHeader), made valid UTF-8, or "" when there is none.
func CorrelationID(hs []Header) string {
	v, _ := CorrelationHeader(hs)
	return strings.ToValidUTF8(string(v), "\uFFFD")
}
