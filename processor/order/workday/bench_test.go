package workday

import (
	"testing"
	"time"
)

var (
	sinkDate Date
	sinkBool bool
)

func BenchmarkParseDate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkDate, sinkBool = ParseDate("2026-05-25")
	}
}

// BenchmarkToday is the per-record cost of turning the record timestamp into "today".
func BenchmarkToday(b *testing.B) {
	at := utc("2026-03-14T23:30:00Z")
	b.ReportAllocs()
	for b.Loop() {
		sinkDate = Today(at)
	}
}

// BenchmarkTodayFarFuture reads a zone past the tz database's last explicit transition (2037),
// where Go applies the zone's rule string.
func BenchmarkTodayFarFuture(b *testing.B) {
	at := utc("2040-07-14T22:30:00Z")
	b.ReportAllocs()
	for b.Loop() {
		sinkDate = Today(at)
	}
}

func BenchmarkIsFrenchWorkingDay(b *testing.B) {
	d := DateOf(2026, time.May, 25)
	b.ReportAllocs()
	for b.Loop() {
		sinkBool = IsFrenchWorkingDay(d)
	}
}

// BenchmarkIsFrenchWorkingDayOutsideTable asks the library on each call, as the table would
// without precomputation.
func BenchmarkIsFrenchWorkingDayOutsideTable(b *testing.B) {
	d := DateOf(2300, time.May, 25)
	b.ReportAllocs()
	for b.Loop() {
		sinkBool = IsFrenchWorkingDay(d)
	}
}

// BenchmarkRequestedAt is the whole rule as order runs it: parse, today, check.
func BenchmarkRequestedAt(b *testing.B) {
	at := utc("2026-03-14T23:30:00Z")
	b.ReportAllocs()
	for b.Loop() {
		requested, _ := ParseDate("2026-04-07")
		sinkBool = RequestedAtValid(requested, Today(at))
	}
}

// BenchmarkBuildTable is the one-off cost paid at package initialization.
func BenchmarkBuildTable(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = buildHolidayBits(frHolidays, tableFirstYear, tableLastYear)
	}
}

func BenchmarkString(b *testing.B) {
	d := DateOf(2026, time.May, 25)
	b.ReportAllocs()
	for b.Loop() {
		_ = d.String()
	}
}
