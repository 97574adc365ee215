package workday

import (
	"slices"
	"testing"
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/fr"
)

// nationalHolidays is the hand-made list of France's national public holidays for 2026-2028,
// with their weekdays. Easter Sundays: 2026-04-05, 2027-03-28, 2028-04-16; Easter Monday is
// Easter + 1, Ascension Easter + 39, Whit Monday Easter + 50.
var nationalHolidays = []struct {
	date    string
	weekday time.Weekday
	name    string
}{
	{"2026-01-01", time.Thursday, "Nouvel an"},
	{"2026-04-06", time.Monday, "Lundi de Pâques"},
	{"2026-05-01", time.Friday, "Fête du Travail"},
	{"2026-05-08", time.Friday, "Fête de la Victoire"},
	{"2026-05-14", time.Thursday, "Ascension"},
	{"2026-05-25", time.Monday, "Lundi de Pentecôte"},
	{"2026-07-14", time.Tuesday, "Fête Nationale"},
	{"2026-08-15", time.Saturday, "Assomption"},
	{"2026-11-01", time.Sunday, "Toussaint"},
	{"2026-11-11", time.Wednesday, "Armistice de 1918"},
	{"2026-12-25", time.Friday, "Noël"},

	{"2027-01-01", time.Friday, "Nouvel an"},
	{"2027-03-29", time.Monday, "Lundi de Pâques"},
	{"2027-05-01", time.Saturday, "Fête du Travail"},
	{"2027-05-08", time.Saturday, "Fête de la Victoire"},
	{"2027-05-06", time.Thursday, "Ascension"},
	{"2027-05-17", time.Monday, "Lundi de Pentecôte"},
	{"2027-07-14", time.Wednesday, "Fête Nationale"},
	{"2027-08-15", time.Sunday, "Assomption"},
	{"2027-11-01", time.Monday, "Toussaint"},
	{"2027-11-11", time.Thursday, "Armistice de 1918"},
	{"2027-12-25", time.Saturday, "Noël"},

	{"2028-01-01", time.Saturday, "Nouvel an"},
	{"2028-04-17", time.Monday, "Lundi de Pâques"},
	{"2028-05-01", time.Monday, "Fête du Travail"},
	{"2028-05-08", time.Monday, "Fête de la Victoire"},
	{"2028-05-25", time.Thursday, "Ascension"},
	{"2028-06-05", time.Monday, "Lundi de Pentecôte"},
	{"2028-07-14", time.Friday, "Fête Nationale"},
	{"2028-08-15", time.Tuesday, "Assomption"},
	{"2028-11-01", time.Wednesday, "Toussaint"},
	{"2028-11-11", time.Saturday, "Armistice de 1918"},
	{"2028-12-25", time.Monday, "Noël"},
}

func mustDate(t testing.TB, s string) Date {
	t.Helper()
	d, ok := ParseDate(s)
	if !ok {
		t.Fatalf("bad test date %q", s)
	}
	return d
}

func TestNationalHolidaysAreNotWorkingDays(t *testing.T) {
	for _, h := range nationalHolidays {
		d := mustDate(t, h.date)
		if d.Weekday() != h.weekday {
			t.Errorf("%s %s: weekday %v in the table, %v in the calendar", h.date, h.name, h.weekday, d.Weekday())
		}
		if !IsFrenchPublicHoliday(d) {
			t.Errorf("%s %s: not a public holiday", h.date, h.name)
		}
		if IsFrenchWorkingDay(d) {
			t.Errorf("%s %s: reported as a working day", h.date, h.name)
		}
	}
}

// TestLibraryAgreesWithHandList asks github.com/rickar/cal/v2/fr directly for 2026-2028 and
// requires exactly the hand-made list, names included: a library upgrade that adds, drops or
// moves a holiday fails here.
func TestLibraryAgreesWithHandList(t *testing.T) {
	if len(fr.Holidays) != 11 {
		t.Fatalf("fr.Holidays has %d entries, want the 11 national holidays", len(fr.Holidays))
	}
	var fromLibrary, fromHand []string
	for year := 2026; year <= 2028; year++ {
		for _, h := range fr.Holidays {
			actual, observed := h.Calc(year)
			if !actual.Equal(observed) {
				t.Errorf("%s %d: observed %v differs from actual %v", h.Name, year, observed, actual)
			}
			fromLibrary = append(fromLibrary, dateOfLibraryTime(actual).String()+" "+h.Name)
		}
	}
	for _, h := range nationalHolidays {
		fromHand = append(fromHand, h.date+" "+h.name)
	}
	slices.Sort(fromLibrary)
	slices.Sort(fromHand)
	if !slices.Equal(fromLibrary, fromHand) {
		t.Fatalf("library:\n%q\nhand list:\n%q", fromLibrary, fromHand)
	}
	for _, s := range fromLibrary {
		t.Log(s)
	}
}

func TestWorkingDays(t *testing.T) {
	tests := []struct {
		date    string
		working bool
		why     string
	}{
		{"2026-03-14", false, "Saturday"},
		{"2026-03-15", false, "Sunday"},
		{"2027-05-01", false, "Saturday and Labour Day"},
		{"2028-12-23", false, "Saturday"},
		{"2028-12-24", false, "Sunday"},
		{"2026-04-05", false, "Easter Sunday"},
		{"2026-05-24", false, "Pentecost Sunday"},

		{"2026-03-16", true, "ordinary Monday"},
		{"2026-03-18", true, "ordinary Wednesday"},
		{"2026-03-20", true, "ordinary Friday"},
		{"2026-04-07", true, "Tuesday after Easter Monday"},
		{"2026-05-15", true, "Friday after Ascension (a 'pont' is not a holiday)"},
		{"2026-07-13", true, "Monday before Bastille Day"},
		{"2026-12-24", true, "Christmas Eve, a Thursday"},
		{"2026-12-31", true, "New Year's Eve, a Thursday"},
		{"2027-01-04", true, "first Monday of 2027"},
		{"2028-02-29", true, "leap day, a Tuesday"},

		{"2026-04-03", true, "Good Friday: Alsace-Moselle only"},
		{"2027-03-26", true, "Good Friday: Alsace-Moselle only"},
		{"2028-04-14", true, "Good Friday: Alsace-Moselle only"},
		{"2025-12-26", true, "26 December, a Friday: Alsace-Moselle only"},
		{"2028-12-26", true, "26 December, a Tuesday: Alsace-Moselle only"},
		{"2026-05-22", true, "abolition of slavery in Martinique: overseas only"},
		{"2008-05-01", false, "Ascension and Labour Day on the same Thursday"},
		{"2008-05-02", true, "the Friday after"},
	}
	for _, tt := range tests {
		if got := IsFrenchWorkingDay(mustDate(t, tt.date)); got != tt.working {
			t.Errorf("IsFrenchWorkingDay(%s) = %v, want %v (%s)", tt.date, got, tt.working, tt.why)
		}
	}
}

func TestRequestedAtValid(t *testing.T) {
	tests := []struct {
		today, requested string
		valid            bool
		why              string
	}{
		{"2026-03-04", "2026-03-24", true, "20 days later, a Tuesday"},
		{"2026-03-04", "2026-03-23", false, "19 days later, a Monday"},
		{"2026-03-04", "2026-03-25", true, "21 days later, a Wednesday"},
		{"2026-04-24", "2026-05-14", false, "20 days later, Ascension"},
		{"2026-04-24", "2026-05-15", true, "21 days later, the Friday after Ascension"},
		{"2026-03-08", "2026-03-28", false, "20 days later, a Saturday"},
		{"2026-03-09", "2026-03-29", false, "20 days later, a Sunday"},
		{"2026-12-12", "2027-01-01", false, "20 days later, New Year's Day"},
		{"2026-12-15", "2027-01-04", true, "20 days later across the year, a Monday"},
		{"2026-02-08", "2026-02-28", false, "20 days later, a Saturday"},
		{"2028-02-09", "2028-02-29", true, "20 days later, leap day, a Tuesday"},
		{"2026-03-04", "2026-03-04", false, "today"},
		{"2026-03-04", "2026-03-03", false, "in the past"},
		{"2026-03-04", "2030-06-03", true, "years ahead, a Monday"},
		{"2026-03-04", "2030-06-10", false, "years ahead, Whit Monday 2030"},
	}
	for _, tt := range tests {
		today, requested := mustDate(t, tt.today), mustDate(t, tt.requested)
		if got := RequestedAtValid(requested, today); got != tt.valid {
			t.Errorf("RequestedAtValid(%s, today %s) = %v, want %v (%s)", tt.requested, tt.today, got, tt.valid, tt.why)
		}
	}
}

// TestTableMatchesLibrary compares the precomputed table with the library's definitions, asked
// per date, over the whole table and across its edges.
func TestTableMatchesLibrary(t *testing.T) {
	first := DateOf(tableFirstYear, time.January, 1).AddDays(-400)
	last := DateOf(tableLastYear, time.December, 31).AddDays(400)
	holidays := 0
	for d := first; !d.After(last); d = d.AddDays(1) {
		want := isHolidayComputed(frHolidays, d)
		if got := IsFrenchPublicHoliday(d); got != want {
			t.Fatalf("%v: table %v, library %v", d, got, want)
		}
		if want {
			holidays++
		}
	}
	// 11 holidays a year, less the days where two coincide (Ascension on 1 May in 2008, on
	// 8 May in 1975).
	if years := tableLastYear - tableFirstYear + 1; holidays < 10*years || holidays > 11*(years+3) {
		t.Fatalf("%d holidays over about %d years", holidays, years)
	}
}

// TestOutsideTable exercises the computed fallback on dates the table does not hold.
func TestOutsideTable(t *testing.T) {
	for _, tt := range []struct {
		date    string
		holiday bool
	}{
		{"2300-04-09", true},  // Easter Monday 2300 (Easter: 8 April 2300)
		{"2300-04-10", false}, // the Tuesday after
		{"2300-07-14", true},
		{"1900-12-25", true},
		{"1900-12-26", false},
	} {
		if got := IsFrenchPublicHoliday(mustDate(t, tt.date)); got != tt.holiday {
			t.Errorf("IsFrenchPublicHoliday(%s) = %v, want %v", tt.date, got, tt.holiday)
		}
	}
}

// TestHostZoneDoesNotMatter rebuilds the table with the library's default location set to
// zones whose local midnight can fall in a daylight-saving gap, or that skipped a whole day
// (Pacific/Apia, 30 December 2011), and requires the same holidays as in UTC.
func TestHostZoneDoesNotMatter(t *testing.T) {
	saved := cal.DefaultLoc
	t.Cleanup(func() { cal.DefaultLoc = saved })

	cal.DefaultLoc = time.UTC
	want := buildHolidayBits(frHolidays, tableFirstYear, tableLastYear)
	if !slices.Equal(want, holidayBits) {
		t.Fatal("table built with the host's zone differs from the one built in UTC")
	}
	for _, name := range []string{"America/Santiago", "America/Havana", "Asia/Beirut", "America/Asuncion", "Pacific/Apia", "Pacific/Kiritimati", "Australia/Lord_Howe"} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		cal.DefaultLoc = loc
		if got := buildHolidayBits(frHolidays, tableFirstYear, tableLastYear); !slices.Equal(got, want) {
			t.Errorf("table built in %s differs from the one built in UTC", name)
		}
	}
}
