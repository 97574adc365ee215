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

func lookupHeader(name string) (header, bool) {
	for h, n := range headerNames {
		if len(n) == len(name) && strings.EqualFold(n, name) {
			return header(h), true
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

// CorrelationID returns the value of the X-Correlation-ID header of a record (matched
// without regard to case, the first one when given twice, made valid UTF-8), or "" when
// it is absent or empty.
func CorrelationID(hs []Header) string {
	for i := range hs {
		if h, ok := lookupHeader(hs[i].Key); ok && h == hCorrelationID && len(hs[i].Value) > 0 {
			return strings.ToValidUTF8(string(hs[i].Value), "\uFFFD")
		}
	}
	return ""
}
