package workday

import (
	"time"
	// The tz database is compiled into every binary that imports this package, so that
	// Europe/Paris loads on a host (or a scratch image) without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// parisZone is the IANA name of the time zone in which "today" is read (contract, section 1).
const parisZone = "Europe/Paris"

// paris is loaded once, at package initialization. With time/tzdata imported above,
// loading cannot fail for a valid zone name, so a failure is a build bug and panics at start.
var paris = mustLoadParis()

func mustLoadParis() *time.Location {
	loc, err := time.LoadLocation(parisZone)
	if err != nil {
		panic("workday: " + err.Error() + " (time/tzdata is imported: this is a build bug)")
	}
	return loc
}

// Today returns the calendar date of the instant t in Europe/Paris: the "today" of the
// contract's date rules, with t the record timestamp. t's own location does not matter.
func Today(t time.Time) Date {
	_, offset := t.In(paris).Zone()
	return Date{floorDiv(t.Unix()+int64(offset), secondsPerDay)}
}

const secondsPerDay = 24 * 60 * 60
