package order

import (
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// repeat returns prefix, n copies of item separated by commas, then suffix.
func repeat(prefix, item string, n int, suffix string) string {
	return prefix + strings.TrimSuffix(strings.Repeat(item+",", n), ",") + suffix
}

// TestErrorsBounded checks the amended bound of section 6: errors holds the first
// MaxErrors violations of the deciding row, in the contract's order, and errorsTruncated says
// when the row found more; a row with exactly MaxErrors is not truncated.
func TestErrorsBounded(t *testing.T) {
	h := accountHeaders
	update := edit(t, updateBody, "properties.servicePoint", `{"id":"SP-1"}`)
	unknownProps := func(n int) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(`,"u` + strconv.Itoa(i) + `":0`)
		}
		return strings.Replace(update, `"profile"`, b.String()[1:]+`,"profile"`, 1)
	}
	tests := []struct {
		name            string
		rec             *Record
		n               int // violations found
		first, last     string
		wantTruncated   bool
		wantErrorsCount int
	}{
		{"contact elements not objects, exactly the bound", rec(repeat(`{"contact":[`, `1`, MaxErrors, `]}`), h...),
			MaxErrors, "15 contact[0]", "15 contact[999]", false, MaxErrors},
		{"contact elements not objects, one more", rec(repeat(`{"contact":[`, `1`, MaxErrors+1, `]}`), h...),
			MaxErrors + 1, "15 contact[0]", "15 contact[999]", true, MaxErrors},
		{"empty contacts: three missing fields each", rec(repeat(`{"contact":[`, `{}`, 400, `]}`), h...),
			1200, "12 contact[0].contactName", "12 contact[333].contactName", true, MaxErrors},
		{"media of one contact, its own field missing after them in the document",
			rec(repeat(`{"contact":[{"partyRoleType":"x","contactMedium":[`, `{}`, 600, `]}]}`), h...),
			1201, "12 contact[0].contactName", "12 contact[0].contactMedium[499].mediumType", true, MaxErrors},
		{"media of several contacts not objects", rec(repeat(`{"contact":[`, repeat(`{"contactName":"a","partyRoleType":"b","contactMedium":[`, `1`, 300, `]}`), 4, `]}`), h...),
			1200, "15 contact[0].contactMedium[0]", "15 contact[3].contactMedium[99]", true, MaxErrors},
		{"unknown members of properties", rec(unknownProps(MaxErrors + 5)),
			MaxErrors + 5, "14 properties.u0", "14 properties.u999", true, MaxErrors},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := (&Rules{}).Decide(tc.rec)
			g := got(d)
			if len(g) != tc.wantErrorsCount || d.ErrorsTruncated != tc.wantTruncated {
				t.Fatalf("%d errors, truncated %v; want %d, %v (%d found)", len(g), d.ErrorsTruncated, tc.wantErrorsCount, tc.wantTruncated, tc.n)
			}
			if g[0] != tc.first || g[len(g)-1] != tc.last {
				t.Fatalf("errors from %q to %q, want %q to %q", g[0], g[len(g)-1], tc.first, tc.last)
			}
		})
	}
}

// TestErrorsInOrderAcrossMedia checks that a contact's own violations come before its
// media's, whatever the document order, and that the violations of the next contact follow.
func TestErrorsInOrderAcrossMedia(t *testing.T) {
	d := (&Rules{}).Decide(rec(`{"contact":[{"contactMedium":[{"mediumType":"Email"},5],"partyRoleType":"x"},{}]}`, accountHeaders...))
	want := []string{
		"12 contact[0].contactName",
		"12 contact[0].contactMedium[0].characteristic.contactType",
		"12 contact[0].contactMedium[0].characteristic.emailAddress",
		"12 contact[1].contactName", "12 contact[1].partyRoleType", "12 contact[1].contactMedium",
	}
	if g := got(d); strings.Join(g, "|") != strings.Join(want, "|") || d.ErrorsTruncated {
		t.Fatalf("got %q (truncated %v), want %q", g, d.ErrorsTruncated, want)
	}
}

// TestCorrelationID checks the amended rule of section 1: an X-Correlation-ID longer than
// 256 bytes, or holding a control character, is ignored with a warning, on any request.
func TestCorrelationID(t *testing.T) {
	tests := []struct {
		value   string
		want    string
		ignored bool
	}{
		{"corr-1", "corr-1", false},
		{strings.Repeat("x", MaxCorrelationIDBytes), strings.Repeat("x", MaxCorrelationIDBytes), false},
		{strings.Repeat("x", MaxCorrelationIDBytes+1), "", true},
		{"é-ü", "é-ü", false},
		{"a\tb", "", true},
		{"a\r\nX-Injected: 1", "", true},
		{"a\x00", "", true},
		{"a\x7f", "", true},
		{"a\u0085", "", true}, // NEL, a C1 control
		{"a\xff", "a\uFFFD", false},
	}
	for _, tc := range tests {
		hs := []Header{{Key: "x-correlation-id", Value: []byte(tc.value)}}
		v, ignored := CorrelationHeader(hs)
		if ignored != tc.ignored || CorrelationID(hs) != tc.want || (ignored && v != nil) {
			t.Errorf("%q: value %q ignored %v, CorrelationID %q; want ignored %v, %q", tc.value, v, ignored, CorrelationID(hs), tc.ignored, tc.want)
		}
		for _, body := range []string{disconnectBody, accountBody, "{"} {
			d := (&Rules{}).Decide(&Record{Value: []byte(body), Headers: append(hs, rec("", accountHeaders...).Headers...), Time: testNow})
			hasWarning := len(d.Warnings) > 0 && d.Warnings[0] == WarningCorrelationIDIgnored
			if hasWarning != tc.ignored {
				t.Errorf("%q on %.10q: warnings %q", tc.value, body, d.Warnings)
			}
		}
	}
}

func TestDescriptionLen(t *testing.T) {
	for _, v := range []Violation{
		{Row: RowMissingBody}, {Row: RowTooLarge, Arg: "524288"}, {Row: RowHeaderConflict, Field: "headers.lob"},
		{Row: RowInvalidHeader, Field: "headers.id", Arg: "empty"}, {Row: RowMissingField, Field: "contact[3].contactName"},
		{Row: RowInvalidProperties, Field: "properties.x", Arg: "properties.x: unknown field"},
		{Row: RowSeveralServicePoints, Field: "properties.servicePoint"},
	} {
		for _, typ := range []RequestType{TypeDisconnect, TypeUpdate} {
			if got, want := v.DescriptionLen(typ), len(v.Description(typ)); got != want {
				t.Errorf("row %d: DescriptionLen %d, len(Description) %d", v.Row, got, want)
			}
		}
	}
}

// worstBodies are the bodies of 512 KiB that cost the most per byte (issue 23): one
// violation per two bytes, per byte, and one unknown member of properties per six bytes.
func worstBodies(t *testing.T) map[string]*Record {
	const size = DefaultMaxBodyBytes
	fill := func(prefix, item, suffix string) string {
		return repeat(prefix, item, (size-len(prefix)-len(suffix)+1)/(len(item)+1), suffix)
	}
	update := edit(t, updateBody, "properties.servicePoint", `{"id":"SP-1"}`)
	var b strings.Builder
	for i := 0; b.Len() < size-len(update)-16; i++ {
		b.WriteString(`"` + strconv.FormatInt(int64(i), 36) + `":0,`)
	}
	return map[string]*Record{
		"contact not objects": rec(fill(`{"contact":[`, `1`, `]}`), accountHeaders...),
		"contacts empty":      rec(fill(`{"contact":[`, `{}`, `]}`), accountHeaders...),
		"media empty":         rec(fill(`{"contact":[{"contactMedium":[`, `{}`, `]}]}`), accountHeaders...),
		"unknown properties":  rec(strings.Replace(update, `"profile"`, b.String()+`"profile"`, 1)),
	}
}

// TestWorkBounded decides the worst bodies found and checks that each allocates no more
// than workBound (the bound the fuzz targets check on every input) and keeps MaxErrors
// violations. Before the bound, "contact not objects" allocated about 75 MB for its 262,143
// violations and contact elements.
func TestWorkBounded(t *testing.T) {
	for name, r := range worstBodies(t) {
		t.Run(name, func(t *testing.T) {
			if len(r.Value) > DefaultMaxBodyBytes || len(r.Value) < DefaultMaxBodyBytes-64 {
				t.Fatalf("body of %d bytes", len(r.Value))
			}
			rules := &Rules{}
			rules.Decide(r) // the pooled body's lists are allocated once
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			d := rules.Decide(r)
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d bytes: %d errors, allocated %d bytes (%.1f per byte), bound %d", len(r.Value), len(d.Errors), alloc, float64(alloc)/float64(len(r.Value)), workBound(r))
			if len(d.Errors) != MaxErrors || !d.ErrorsTruncated {
				t.Errorf("%d errors, errorsTruncated %v", len(d.Errors), d.ErrorsTruncated)
			}
			if alloc > workBound(r) {
				t.Errorf("allocated %d bytes, over the bound of %d", alloc, workBound(r))
			}
		})
	}
}
