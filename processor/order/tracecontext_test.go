package order

import (
	"strings"
	"testing"
)

const (
	validParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	validState  = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"
)

func TestTraceParentParsedAndWrittenBack(t *testing.T) {
	tc, ok := ParseTraceParent([]byte(validParent))
	if !ok {
		t.Fatal("a valid traceparent was refused")
	}
	if got := string(AppendTraceParent(nil, &tc)); got != validParent {
		t.Errorf("written back as %s", got)
	}
	if tc.Flags != FlagSampled || tc.TraceID[0] != 0x4b || tc.SpanID[7] != 0xb7 {
		t.Errorf("parsed %+v", tc)
	}
}

// TestInvalidTraceParentsIgnored: every value the recommendation calls invalid gives no
// context, never a rejection.
func TestInvalidTraceParentsIgnored(t *testing.T) {
	for name, v := range map[string]string{
		"empty":               "",
		"short":               validParent[:54],
		"upper-case hex":      strings.ToUpper(validParent),
		"zero trace id":       "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
		"zero parent id":      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
		"version ff":          "ff" + validParent[2:],
		"version 00 longer":   validParent + "-00",
		"later version, junk": "01" + validParent[2:] + "x",
		"not hex":             "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
		"wrong separator":     "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"not hex flags":       validParent[:53] + "0x",
	} {
		if tc, ok := ParseTraceParent([]byte(v)); ok || tc.Valid() {
			t.Errorf("%s: %q accepted as %+v", name, v, tc)
		}
	}
}

func TestLaterVersionReadByTheRulesOf00(t *testing.T) {
	tc, ok := ParseTraceParent([]byte("cc" + validParent[2:] + "-what-the-future-holds"))
	if !ok {
		t.Fatal("a later version with more fields was refused")
	}
	if got := string(AppendTraceParent(nil, &tc)); got != validParent {
		t.Errorf("written back as %s, want version 00", got)
	}
}

func TestFlags(t *testing.T) {
	for flags, want := range map[string]int{"00": 0, "01": 1, "02": 2, "03": 3, "04": -1, "ff": -1} {
		tc, ok := ParseTraceParent([]byte(validParent[:53] + flags))
		if (want < 0) == ok || (ok && int(tc.Flags) != want) {
			t.Errorf("version 00, flags %s: %v %x", flags, ok, tc.Flags)
		}
	}
	tc, ok := ParseTraceParent([]byte("01" + validParent[2:53] + "ff"))
	if !ok || tc.Flags != FlagSampled|FlagRandom {
		t.Errorf("version 01, flags ff: %v %x, want the two known flags kept", ok, tc.Flags)
	}
}

func TestTraceContextOfHeaders(t *testing.T) {
	h := func(kv ...string) []Header {
		var hs []Header
		for i := 0; i < len(kv); i += 2 {
			hs = append(hs, Header{Key: kv[i], Value: []byte(kv[i+1])})
		}
		return hs
	}
	cases := []struct {
		name      string
		headers   []Header
		valid     bool
		wantState string
	}{
		{"none", h("type", "R_BVPN_FR_1"), false, ""},
		{"parent only", h("traceparent", validParent), true, ""},
		{"parent and state", h("traceparent", validParent, "tracestate", validState), true, validState},
		{"names in another case", h("TraceParent", validParent, "TRACESTATE", validState), true, validState},
		{"state without parent", h("tracestate", validState), false, ""},
		{"invalid parent", h("traceparent", "garbage", "tracestate", validState), false, ""},
		{"parent twice, same", h("traceparent", validParent, "traceparent", validParent), true, ""},
		{"parent twice, different", h("traceparent", validParent, "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b8-01"), false, ""},
		{"invalid state dropped", h("traceparent", validParent, "tracestate", "Upper=1"), true, ""},
		{"state twice, different", h("traceparent", validParent, "tracestate", "a=1", "tracestate", "b=2"), true, ""},
	}
	for _, c := range cases {
		tc := TraceContextOf(c.headers)
		if tc.Valid() != c.valid || string(tc.State) != c.wantState {
			t.Errorf("%s: valid %v state %q, want %v %q", c.name, tc.Valid(), tc.State, c.valid, c.wantState)
		}
	}
}

func TestTraceStateValidation(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	members := func(n int) string {
		var b []string
		for i := range n {
			b = append(b, "k"+long(i%3)+string(rune('a'+i%26))+string(rune('a'+i/26))+"=v")
		}
		return strings.Join(b, ",")
	}
	valid := []string{
		validState, "a=1", " a=1 , b=2 ", "a=1,,b=2", "tenant@system=x", "0tenant@sys=x",
		"a_b-c*d/e=value with spaces", "k=" + long(256), long(256) + "=v", members(32), "",
	}
	invalid := []string{
		"A=1", "a", "a=", "a=1,a=2", "a=v,b", "1a=v", "a=1=2", "a=\x7f", "t@Sys=1", "t@" + long(15) + "=1",
		"k=" + long(257), long(257) + "=v", members(33), "a=é",
	}
	for _, v := range valid {
		if !validTraceState([]byte(v)) {
			t.Errorf("valid tracestate %q refused", v)
		}
	}
	for _, v := range invalid {
		if validTraceState([]byte(v)) {
			t.Errorf("invalid tracestate %q accepted", v)
		}
	}
}

// BenchmarkTraceContextOf measures the read of a record's headers, with and without a
// trace context: the cost of propagation on the path where tracing is off.
func BenchmarkTraceContextOf(b *testing.B) {
	plain := []Header{{"type", []byte("R_BVPN_FR_1")}, {"X-Correlation-ID", []byte("abc")}, {"client_id", []byte("client")}}
	traced := append(plain[:3:3], Header{"traceparent", []byte(validParent)}, Header{"tracestate", []byte(validState)})
	for _, c := range []struct {
		name string
		hs   []Header
	}{{"no context", plain}, {"with context", traced}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tc := TraceContextOf(c.hs)
				_ = tc
			}
		})
	}
}
