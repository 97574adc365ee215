package order

import (
	"bytes"
	"strings"
)

// W3C Trace Context (https://www.w3.org/TR/trace-context/) carried in record headers, as
// OpenTelemetry's messaging conventions and the Kafka instrumentations of Java and
// librdkafka write it. These headers are never a reason to reject a record: an invalid
// value is ignored, as if the header were absent.
const (
	HeaderTraceParent = "traceparent"
	HeaderTraceState  = "tracestate"
)

// TraceParentLen is the length of a version-00 traceparent value:
// 00-{32 hex trace id}-{16 hex parent id}-{2 hex flags}.
const TraceParentLen = 55

// maxTraceState bounds a tracestate value: 32 list-members of at most 256 + 1 + 256 bytes
// and their separators. A longer value is invalid and ignored.
const maxTraceState = 32 * (256 + 1 + 256 + 1)

// TraceContext is a W3C trace context: the trace, the span that is the parent of what
// follows, the sampled flag and the vendors' tracestate. The zero value is no context.
type TraceContext struct {
	TraceID [16]byte
	SpanID  [8]byte
	// Flags holds the sampled flag (bit 0) and the random flag of Trace Context level 2
	// (bit 1); the others are dropped when parsing a later version, and make a version-00
	// value invalid (as OpenTelemetry's propagator reads it).
	Flags byte
	// State is the tracestate value as received (validated), or nil.
	State []byte
}

// The flags of Flags.
const (
	FlagSampled byte = 0x01
	FlagRandom  byte = 0x02
)

// Valid reports whether tc holds a context (a trace id and a span id that are not zero).
func (tc *TraceContext) Valid() bool {
	return tc.TraceID != [16]byte{} && tc.SpanID != [8]byte{}
}

// TraceContextOf returns the trace context of a record's headers, matched without regard
// to case: the traceparent when it is valid, with the tracestate when that is valid too.
// An invalid traceparent, or two traceparent headers that differ, give the zero value; an
// invalid tracestate, or two that differ, give no state. The State shares the header's
// memory.
func TraceContextOf(hs []Header) TraceContext {
	var parent, state []byte
	var parentSeen, stateSeen, parentConflict, stateConflict bool
	for i := range hs {
		k := hs[i].Key
		switch {
		case len(k) == len(HeaderTraceParent) && strings.EqualFold(k, HeaderTraceParent):
			if parentSeen && string(parent) != string(hs[i].Value) {
				parentConflict = true
			}
			parent, parentSeen = hs[i].Value, true
		case len(k) == len(HeaderTraceState) && strings.EqualFold(k, HeaderTraceState):
			if stateSeen && string(state) != string(hs[i].Value) {
				stateConflict = true
			}
			state, stateSeen = hs[i].Value, true
		}
	}
	if !parentSeen || parentConflict {
		return TraceContext{}
	}
	tc, ok := ParseTraceParent(parent)
	if !ok {
		return TraceContext{}
	}
	if stateSeen && !stateConflict && validTraceState(state) {
		tc.State = state
	}
	return tc
}

// ParseTraceParent parses a traceparent value. Version 00 must be exactly 55 bytes with no
// flag but sampled and random; a later version is read by the rules of 00 and may carry
// more fields after a dash; version ff is invalid. Hex digits are lower case; an all-zero trace id or parent id is invalid.
func ParseTraceParent(v []byte) (TraceContext, bool) {
	var tc TraceContext
	if len(v) < TraceParentLen || v[2] != '-' || v[35] != '-' || v[52] != '-' {
		return tc, false
	}
	var version [1]byte
	if !unhex(version[:], v[0:2]) || version[0] == 0xff {
		return tc, false
	}
	if len(v) > TraceParentLen && (version[0] == 0 || v[TraceParentLen] != '-') {
		return tc, false
	}
	var flags [1]byte
	if !unhex(tc.TraceID[:], v[3:35]) || !unhex(tc.SpanID[:], v[36:52]) || !unhex(flags[:], v[53:55]) {
		return TraceContext{}, false
	}
	if version[0] == 0 && flags[0] > FlagSampled|FlagRandom {
		return TraceContext{}, false
	}
	tc.Flags = flags[0] & (FlagSampled | FlagRandom)
	if !tc.Valid() {
		return TraceContext{}, false
	}
	return tc, true
}

// AppendTraceParent appends the version-00 traceparent of tc.
func AppendTraceParent(dst []byte, tc *TraceContext) []byte {
	dst = append(dst, "00-"...)
	dst = appendHex(dst, tc.TraceID[:])
	dst = append(dst, '-')
	dst = appendHex(dst, tc.SpanID[:])
	dst = append(dst, '-')
	return appendHex(dst, []byte{tc.Flags})
}

const hexDigits = "0123456789abcdef"

func appendHex(dst, b []byte) []byte {
	for _, c := range b {
		dst = append(dst, hexDigits[c>>4], hexDigits[c&0x0f])
	}
	return dst
}

// unhex decodes lower-case hex into dst (len(src) == 2*len(dst)).
func unhex(dst, src []byte) bool {
	for i := range dst {
		hi, ok1 := hexValue(src[2*i])
		lo, ok2 := hexValue(src[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func hexValue(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// validTraceState reports whether v is a tracestate value as the W3C recommendation
// defines it: at most 32 comma-separated list-members key=value (empty members and spaces
// or tabs around them allowed), each key once. A key is a lower-case letter then up to 255
// of [a-z0-9_*/-], or a tenant (a letter or digit then up to 240 of those) "@" a system (a
// lower-case letter then up to 13 of those); a value is 1 to 256 printable ASCII characters
// other than "," and "=", not ending with a space.
func validTraceState(v []byte) bool {
	if len(v) > maxTraceState {
		return false
	}
	var keys [32][]byte
	n := 0
	for len(v) > 0 {
		member := v
		if i := bytes.IndexByte(v, ','); i >= 0 {
			member, v = v[:i], v[i+1:]
		} else {
			v = nil
		}
		member = bytes.Trim(member, " \t")
		if len(member) == 0 {
			continue
		}
		eq := bytes.IndexByte(member, '=')
		if eq < 0 || n == len(keys) {
			return false
		}
		key, value := member[:eq], member[eq+1:]
		if !validStateKey(key) || !validStateValue(value) {
			return false
		}
		for _, k := range keys[:n] {
			if bytes.Equal(k, key) {
				return false
			}
		}
		keys[n] = key
		n++
	}
	return true
}

func validStateKey(k []byte) bool {
	tenant, system, multi := bytes.Cut(k, []byte("@"))
	if !multi {
		return len(k) <= 256 && len(k) > 0 && isLower(k[0]) && allKeyChars(k[1:])
	}
	return len(tenant) >= 1 && len(tenant) <= 241 && (isLower(tenant[0]) || isDigit(tenant[0])) && allKeyChars(tenant[1:]) &&
		len(system) >= 1 && len(system) <= 14 && isLower(system[0]) && allKeyChars(system[1:])
}

func allKeyChars(s []byte) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isLower(c) && !isDigit(c) && c != '_' && c != '-' && c != '*' && c != '/' {
			return false
		}
	}
	return true
}

func validStateValue(v []byte) bool {
	if len(v) == 0 || len(v) > 256 || v[len(v)-1] == ' ' {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c > 0x7e || c == ',' || c == '=' {
			return false
		}
	}
	return true
}

func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
