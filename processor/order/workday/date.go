// Package workday holds the civil-date arithmetic and the French working-day calendar behind
// the requestedAt rule of R_BVPN_FR_1 (contract, section 2): a requested date must be at least
// 20 calendar days after "today" and a French working day.
//
// The package is pure: no I/O, no clock. "Today" is derived from a timestamp given by the
// caller (the record timestamp), as a calendar date in Europe/Paris, so that replaying a topic
// reproduces the same decisions. Every function is safe for concurrent use, and the per-record
// functions (ParseDate, Today, IsFrenchWorkingDay, RequestedAtValid) do not allocate.
package workday

import (
	"strconv"
	"time"
)

// Date is a calendar date of the proleptic Gregorian calendar, without a time or a time zone.
//
// Dates compare with == and with Compare, Before and After; the zero Date is 1970-01-01.
type Date struct {
	// days counts days since 1970-01-01: arithmetic and comparison are integer operations,
	// and the weekday is a modulo.
	days int64
}

// DateOf returns the date year-month-day. Like time.Date, it normalizes values out of their
// usual range: DateOf(2026, time.February, 30) is 2026-03-02. Use ParseDate to validate input.
func DateOf(year int, month time.Month, day int) Date {
	// Bring the month into 1..12 first, then let the day count carry the rest.
	m := int(month) - 1
	year += m / 12
	m %= 12
	if m < 0 {
		m += 12
		year--
	}
	return Date{daysFromCivil(int64(year), int64(m+1), 1) + int64(day) - 1}
}

// ParseDate parses exactly YYYY-MM-DD: a 4-digit year (0000 to 9999, as in RFC 3339's
// full-date), a 2-digit month and a 2-digit day that exist in the calendar (2026-02-30 and
// 2026-13-01 are refused, 2028-02-29 is accepted). Signs, spaces, a time part or any other
// character make it report false.
func ParseDate(s string) (Date, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
		return Date{}, false
	}
	return Date{daysFromCivil(int64(year), int64(month), int64(day))}, true
}

// digits reads a string of ASCII decimal digits only.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			return 0, false
		}
		n = n*10 + int(c)
	}
	return n, true
}

// daysIn reports the number of days of a month (1..12) of a proleptic Gregorian year.
func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// AddDays returns the date n days after d (before d when n is negative).
func (d Date) AddDays(n int) Date { return Date{d.days + int64(n)} }

// Sub returns the number of days from e to d: d.Sub(e) == n when d == e.AddDays(n).
func (d Date) Sub(e Date) int { return int(d.days - e.days) }

// Compare returns -1 if d is before e, 0 if they are the same date, +1 if d is after e.
func (d Date) Compare(e Date) int {
	switch {
	case d.days < e.days:
		return -1
	case d.days > e.days:
		return 1
	}
	return 0
}

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.days < e.days }

// After reports whether d is after e.
func (d Date) After(e Date) bool { return d.days > e.days }

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday {
	// 1970-01-01 was a Thursday.
	w := (d.days + int64(time.Thursday)) % 7
	if w < 0 {
		w += 7
	}
	return time.Weekday(w)
}

// Civil returns the year, month and day of d.
func (d Date) Civil() (year int, month time.Month, day int) {
	y, m, dd := civilFromDays(d.days)
	return int(y), time.Month(m), int(dd)
}

// Year returns the year of d.
func (d Date) Year() int { y, _, _ := d.Civil(); return y }

// Month returns the month of d.
func (d Date) Month() time.Month { _, m, _ := d.Civil(); return m }

// Day returns the day of the month of d.
func (d Date) Day() int { _, _, dd := d.Civil(); return dd }

// String returns d as YYYY-MM-DD, the form ParseDate reads. A year outside 0000..9999 is
// written with as many digits as it needs and a leading '-' when negative.
func (d Date) String() string {
	y, m, dd := d.Civil()
	var buf [24]byte
	b := buf[:0]
	if y >= 0 && y <= 9999 {
		b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10))
	} else {
		b = strconv.AppendInt(b, int64(y), 10)
	}
	b = append(b, '-', byte('0'+int(m)/10), byte('0'+int(m)%10), '-', byte('0'+dd/10), byte('0'+dd%10))
	return string(b)
}

// daysFromCivil and civilFromDays convert between a proleptic Gregorian date and a day count
// from 1970-01-01, with eras of 400 years (146097 days) starting on 1 March so that the leap
// day is the last day of a year (Howard Hinnant, "chrono-Compatible Low-Level Date
// Algorithms").
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400 // [0, 399]
	mp := (m + 9) % 12 // March = 0
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy // [0, 146096]
	return era*146097 + doe - 719468
}

func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
