package workday

import (
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/fr"
)

// MinLeadDays is the least number of calendar days between "today" and the requestedAt of an
// R_BVPN_FR_1 request.
const MinLeadDays = 20

// RequestedAtValid reports whether requested satisfies the requestedAt rule of R_BVPN_FR_1:
// at least MinLeadDays calendar days after today, and a French working day.
func RequestedAtValid(requested, today Date) bool {
	return requested.days >= today.days+MinLeadDays && IsFrenchWorkingDay(requested)
}

// IsFrenchWorkingDay reports whether d is a working day in France: Monday to Friday and not a
// French national public holiday (see IsFrenchPublicHoliday).
func IsFrenchWorkingDay(d Date) bool {
	if w := d.Weekday(); w == time.Saturday || w == time.Sunday {
		return false
	}
	return !IsFrenchPublicHoliday(d)
}

// IsFrenchPublicHoliday reports whether d is one of France's 11 national public holidays:
// 1 January, Easter Monday, 1 May, 8 May, Ascension Thursday, Whit Monday, 14 July, 15 August,
// 1 November, 11 November and 25 December. The local holidays of Alsace-Moselle (Good Friday,
// 26 December) and of the overseas departments are not national and are not included.
//
// The definitions are those of github.com/rickar/cal/v2/fr (fr.Holidays), precomputed for the
// years 1970 to 2199; dates outside that range are computed from the same definitions on each
// call (slower, still without allocation).
func IsFrenchPublicHoliday(d Date) bool {
	if i := d.days - tableStart; i >= 0 && i < tableDays {
		return holidayBits[i>>6]&(1<<(i&63)) != 0
	}
	return isHolidayComputed(frHolidays, d)
}

const (
	tableFirstYear = 1970
	tableLastYear  = 2199
)

var (
	// frHolidays is the library's list of national holidays, copied once so that later
	// changes to the library's exported slice cannot make the table and the fallback differ.
	frHolidays = append([]*cal.Holiday(nil), fr.Holidays...)

	tableStart = DateOf(tableFirstYear, time.January, 1).days
	tableDays  = DateOf(tableLastYear+1, time.January, 1).days - tableStart

	// holidayBits has one bit per day from tableStart: set for a national public holiday.
	// It is written once, during package initialization, and only read afterwards, so it is
	// safe for concurrent use without locking (about 10 KiB).
	holidayBits = buildHolidayBits(frHolidays, tableFirstYear, tableLastYear)
)

// buildHolidayBits computes the holidays of the years first..last into a bit set indexed by
// days since January 1 of first.
func buildHolidayBits(defs []*cal.Holiday, first, last int) []uint64 {
	start := DateOf(first, time.January, 1).days
	n := DateOf(last+1, time.January, 1).days - start
	bits := make([]uint64, (n+63)/64)
	for year := first; year <= last; year++ {
		for _, h := range defs {
			actual, observed := h.Calc(year)
			for _, t := range [2]time.Time{actual, observed} {
				if t.IsZero() {
					continue
				}
				i := dateOfLibraryTime(t).days - start
				if i >= 0 && i < n {
					bits[i>>6] |= 1 << (i & 63)
				}
			}
		}
	}
	return bits
}

// isHolidayComputed asks the library's definitions directly; French holidays have no
// substitute days, so the holidays of d's own year are the only candidates.
func isHolidayComputed(defs []*cal.Holiday, d Date) bool {
	year, _, _ := d.Civil()
	for _, h := range defs {
		actual, observed := h.Calc(year)
		if (!actual.IsZero() && dateOfLibraryTime(actual) == d) ||
			(!observed.IsZero() && dateOfLibraryTime(observed) == d) {
			return true
		}
	}
	return false
}

// dateOfLibraryTime reads the calendar date of a time returned by the library, which is
// midnight of that date in cal.DefaultLoc (the host's time.Local). Where local midnight does
// not exist (a daylight-saving gap at 00:00, as in America/Santiago), time.Date may return
// 23:00 of the day before; reading the date at midday makes the result independent of the
// host's zone.
func dateOfLibraryTime(t time.Time) Date {
	y, m, d := t.Add(12 * time.Hour).Date()
	return DateOf(y, m, d)
}
