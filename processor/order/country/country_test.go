package country

import (
	"slices"
	"strings"
	"testing"
)

// iso3166 is the list of the 249 officially assigned ISO 3166-1 alpha-2 codes, as published by
// the Debian iso-codes package 4.15.0 (iso_3166-1.json, which follows the ISO 3166/MA).
const iso3166 = `AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ
EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY
HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA
LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY
MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS
RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM
TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW`

// TestAssignedCodes requires the table built from golang.org/x/text to hold exactly the ISO
// list: an x/text upgrade that adds or drops a region fails here.
func TestAssignedCodes(t *testing.T) {
	want := strings.Fields(iso3166)
	if len(want) != AssignedCount {
		t.Fatalf("reference list has %d codes, want %d", len(want), AssignedCount)
	}
	var got []string
	for a := byte('A'); a <= 'Z'; a++ {
		for b := byte('A'); b <= 'Z'; b++ {
			if s := string([]byte{a, b}); IsAssignedAlpha2(s) {
				got = append(got, s)
			}
		}
	}
	if !slices.Equal(got, want) {
		for _, s := range got {
			if !slices.Contains(want, s) {
				t.Errorf("%s accepted, not assigned by ISO 3166-1", s)
			}
		}
		for _, s := range want {
			if !slices.Contains(got, s) {
				t.Errorf("%s refused, assigned by ISO 3166-1", s)
			}
		}
	}
}

func TestIsAssignedAlpha2(t *testing.T) {
	tests := []struct {
		in   string
		want bool
		why  string
	}{
		{"PA", true, "Panama"},
		{"JM", true, "Jamaica"},
		{"TT", true, "Trinidad and Tobago"},
		{"BB", true, "Barbados"},
		{"FR", true, "France"},
		{"GB", true, "United Kingdom"},
		{"AQ", true, "Antarctica"},
		{"BV", true, "Bouvet Island"},
		{"UM", true, "United States Minor Outlying Islands"},
		{"AX", true, "Åland Islands"},
		{"SS", true, "South Sudan"},
		{"AD", true, "first code"},
		{"ZW", true, "last code"},

		{"UK", false, "exceptionally reserved (GB is assigned)"},
		{"EU", false, "exceptionally reserved"},
		{"EZ", false, "exceptionally reserved"},
		{"UN", false, "exceptionally reserved"},
		{"AC", false, "exceptionally reserved"},
		{"CQ", false, "exceptionally reserved (Sark)"},
		{"FX", false, "exceptionally reserved"},
		{"YU", false, "withdrawn"},
		{"CS", false, "withdrawn"},
		{"AN", false, "withdrawn"},
		{"FQ", false, "withdrawn"},
		{"PC", false, "withdrawn"},
		{"ZR", false, "withdrawn"},
		{"XK", false, "user-assigned (Kosovo)"},
		{"XX", false, "user-assigned"},
		{"ZZ", false, "user-assigned"},
		{"QO", false, "user-assigned"},
		{"AA", false, "user-assigned"},
		{"pa", false, "lower case"},
		{"Pa", false, "mixed case"},
		{"pA", false, "mixed case"},
		{"fr", false, "lower case"},
		{"FRA", false, "alpha-3"},
		{"250", false, "numeric"},
		{"F", false, "one letter"},
		{"", false, "empty"},
		{" FR", false, "space"},
		{"FR ", false, "space"},
		{"F@", false, "byte just below 'A'"},
		{"F[", false, "byte just above 'Z'"},
		{"\x00\x00", false, "NUL bytes"},
		{"\xffR", false, "not UTF-8"},
		{"ＦＲ", false, "full-width letters"},
	}
	for _, tt := range tests {
		if got := IsAssignedAlpha2(tt.in); got != tt.want {
			t.Errorf("IsAssignedAlpha2(%q) = %v, want %v (%s)", tt.in, got, tt.want, tt.why)
		}
	}
}

// TestDenyListRefusesOnlyUnassigned keeps notAssigned honest: no entry is an assigned code.
func TestDenyListRefusesOnlyUnassigned(t *testing.T) {
	want := strings.Fields(iso3166)
	for _, s := range notAssigned {
		if slices.Contains(want, s) {
			t.Errorf("%s is in notAssigned but ISO 3166-1 assigns it", s)
		}
	}
}

func FuzzIsAssignedAlpha2(f *testing.F) {
	for _, s := range []string{"FR", "UK", "pa", "FRA", ""} {
		f.Add(s)
	}
	want := strings.Fields(iso3166)
	f.Fuzz(func(t *testing.T, s string) {
		if got := IsAssignedAlpha2(s); got != slices.Contains(want, s) {
			t.Fatalf("IsAssignedAlpha2(%q) = %v", s, got)
		}
	})
}

var sink bool

func BenchmarkIsAssignedAlpha2(b *testing.B) {
	codes := []string{"FR", "UK", "pa", "FRA"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		sink = IsAssignedAlpha2(codes[i&3])
		i++
	}
}

// BenchmarkBuildTable is the one-off cost paid at package initialization.
func BenchmarkBuildTable(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = buildAssigned()
	}
}
