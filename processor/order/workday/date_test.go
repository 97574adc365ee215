package workday

import (
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		ok   bool
		want Date
	}{
		{"2026-03-15", true, DateOf(2026, time.March, 15)},
		{"2028-02-29", true, DateOf(2028, time.February, 29)}, // leap year
		{"2000-02-29", true, DateOf(2000, time.February, 29)}, // divisible by 400
		{"2026-12-31", true, DateOf(2026, time.December, 31)},
		{"2026-01-01", true, DateOf(2026, time.January, 1)},
		{"0000-01-01", true, DateOf(0, time.January, 1)}, // RFC 3339 full-date allows year 0000
		{"9999-12-31", true, DateOf(9999, time.December, 31)},
		{"1970-01-01", true, Date{}},

		{"2026-02-30", false, Date{}},
		{"2026-02-29", false, Date{}}, // not a leap year
		{"2100-02-29", false, Date{}}, // divisible by 100, not by 400
		{"2026-04-31", false, Date{}},
		{"2026-13-01", false, Date{}},
		{"2026-00-10", false, Date{}},
		{"2026-01-00", false, Date{}},
		{"2026-01-32", false, Date{}},
		{"", false, Date{}},
		{"2026-3-15", false, Date{}},
		{"2026-03-5", false, Date{}},
		{"26-03-15", false, Date{}},
		{"02026-03-15", false, Date{}},
		{"+2026-03-15", false, Date{}},
		{"-026-03-15", false, Date{}},
		{"+026-03-15", false, Date{}},
		{"2026-+3-15", false, Date{}},
		{"2026-03-+5", false, Date{}},
		{" 2026-03-15", false, Date{}},
		{"2026-03-15 ", false, Date{}},
		{"2026 03 15", false, Date{}},
		{"2026/03/15", false, Date{}},
		{"20260315", false, Date{}},
		{"2026-03-15T00:00:00Z", false, Date{}},
		{"2026-03-15Z", false, Date{}},
		{"15-03-2026", false, Date{}},
		{"2026-O3-15", false, Date{}},
		{"２０２６-03-15", false, Date{}}, // full-width digits
		{"2026-03-1\x00", false, Date{}},
	}
	for _, tt := range tests {
		got, ok := ParseDate(tt.in)
		if ok != tt.ok || got != tt.want {
			t.Errorf("ParseDate(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
		if ok && got.String() != tt.in {
			t.Errorf("ParseDate(%q).String() = %q", tt.in, got.String())
		}
	}
}

// TestDateAgreesWithTimePackage checks the day-count conversions, Weekday and String against
// the standard library for every day from 1600 to 2400 and a few far-away ones.
func TestDateAgreesWithTimePackage(t *testing.T) {
	check := func(tm time.Time) {
		t.Helper()
		y, m, d := tm.Date()
		got := DateOf(y, m, d)
		if want := floorDiv(tm.Unix(), secondsPerDay); got.days != want {
			t.Fatalf("DateOf(%d, %v, %d).days = %d, want %d", y, m, d, got.days, want)
		}
		if gy, gm, gd := got.Civil(); gy != y || gm != m || gd != d {
			t.Fatalf("Civil() of %v = %d-%d-%d", tm, gy, gm, gd)
		}
		if got.Year() != y || got.Month() != m || got.Day() != d {
			t.Fatalf("Year/Month/Day of %v = %d-%d-%d", tm, got.Year(), got.Month(), got.Day())
		}
		if got.Weekday() != tm.Weekday() {
			t.Fatalf("Weekday() of %v = %v, want %v", tm, got.Weekday(), tm.Weekday())
		}
		if y >= 0 && y <= 9999 && got.String() != tm.Format(time.DateOnly) {
			t.Fatalf("String() = %q, want %q", got.String(), tm.Format(time.DateOnly))
		}
	}
	for tm := time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC); tm.Year() < 2400; tm = tm.AddDate(0, 0, 1) {
		check(tm)
	}
	for _, y := range []int{-100000, -401, -400, -1, 0, 1, 9999, 10000, 123456} {
		for _, md := range [][2]int{{1, 1}, {2, 28}, {2, 29}, {3, 1}, {12, 31}} {
			check(time.Date(y, time.Month(md[0]), md[1], 0, 0, 0, 0, time.UTC))
		}
	}
}

func TestDateOfNormalizes(t *testing.T) {
	tests := []struct {
		y    int
		m    time.Month
		d    int
		want string
	}{
		{2026, time.February, 30, "2026-03-02"},
		{2026, time.January, 0, "2025-12-31"},
		{2026, 13, 1, "2027-01-01"},
		{2026, 0, 1, "2025-12-01"},
		{2026, -11, 1, "2025-01-01"},
		{2026, -12, 1, "2024-12-01"},
		{2026, 25, 1, "2028-01-01"},
		{2026, time.March, -1, "2026-02-27"},
	}
	for _, tt := range tests {
		got := DateOf(tt.y, tt.m, tt.d)
		if got.String() != tt.want {
			t.Errorf("DateOf(%d, %d, %d) = %v, want %s", tt.y, tt.m, tt.d, got, tt.want)
		}
		if want := time.Date(tt.y, tt.m, tt.d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly); got.String() != want {
			t.Errorf("DateOf(%d, %d, %d) = %v, time.Date says %s", tt.y, tt.m, tt.d, got, want)
		}
	}
}

func TestDateArithmeticAndOrder(t *testing.T) {
	a := DateOf(2026, time.December, 20)
	b := a.AddDays(20)
	if b.String() != "2027-01-09" {
		t.Fatalf("AddDays(20) = %v", b)
	}
	if a.AddDays(-20).String() != "2026-11-30" {
		t.Fatalf("AddDays(-20) = %v", a.AddDays(-20))
	}
	if b.Sub(a) != 20 || a.Sub(b) != -20 || a.Sub(a) != 0 {
		t.Fatalf("Sub: %d, %d, %d", b.Sub(a), a.Sub(b), a.Sub(a))
	}
	if !a.Before(b) || a.After(b) || !b.After(a) || b.Before(a) || a.Before(a) || a.After(a) {
		t.Fatal("Before/After disagree")
	}
	if a.Compare(b) != -1 || b.Compare(a) != 1 || a.Compare(a) != 0 {
		t.Fatal("Compare disagrees")
	}
	if (Date{}).String() != "1970-01-01" {
		t.Fatalf("zero Date = %v", Date{})
	}
	if s := DateOf(-1, time.January, 2).String(); s != "-1-01-02" {
		t.Fatalf("year -1: %q", s)
	}
	if s := DateOf(12345, time.June, 7).String(); s != "12345-06-07" {
		t.Fatalf("year 12345: %q", s)
	}
}

// FuzzParseDate checks ParseDate against time.Parse(time.DateOnly), which is a little more
// lenient (it reads a sign in the year): whatever ParseDate accepts, time.Parse accepts as the
// same date and String gives it back; whatever time.Parse accepts with a 10-byte, all-digit
// layout, ParseDate accepts.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-03-15", "2028-02-29", "2026-02-30", "+026-03-15", "2026-3-15", "0000-01-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseDate(s)
		tm, err := time.Parse(time.DateOnly, s)
		if ok {
			if err != nil {
				t.Fatalf("ParseDate(%q) accepted, time.Parse: %v", s, err)
			}
			if y, m, dd := tm.Date(); DateOf(y, m, dd) != d {
				t.Fatalf("ParseDate(%q) = %v, time.Parse = %v", s, d, tm)
			}
			if d.String() != s {
				t.Fatalf("ParseDate(%q).String() = %q", s, d.String())
			}
			return
		}
		if err == nil && len(s) == 10 && allDigitsExcept(s, 4, 7) {
			t.Fatalf("ParseDate(%q) refused, time.Parse accepted %v", s, tm)
		}
	})
}

func allDigitsExcept(s string, skip ...int) bool {
next:
	for i := 0; i < len(s); i++ {
		for _, k := range skip {
			if i == k {
				continue next
			}
		}
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
