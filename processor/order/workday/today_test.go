package workday

import (
	"testing"
	"time"
)

func TestParisLoaded(t *testing.T) {
	if paris.String() != parisZone {
		t.Fatalf("location = %q", paris)
	}
}

func TestToday(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		at   time.Time
		want string
	}{
		{"winter: UTC+1, 23:30Z is already tomorrow", utc("2026-03-14T23:30:00Z"), "2026-03-15"},
		{"winter: last second before Paris midnight", utc("2026-03-14T22:59:59Z"), "2026-03-14"},
		{"winter: Paris midnight", utc("2026-03-14T23:00:00Z"), "2026-03-15"},
		{"summer: UTC+2, 22:30Z is already tomorrow", utc("2026-07-14T22:30:00Z"), "2026-07-15"},
		{"summer: last second before Paris midnight", utc("2026-07-14T21:59:59Z"), "2026-07-14"},
		{"summer: Paris midnight", utc("2026-07-14T22:00:00Z"), "2026-07-15"},
		{"summer: 22:30Z in 2027", utc("2027-08-01T22:30:00Z"), "2027-08-02"},
		{"day summer time starts (2026-03-29 01:00Z)", utc("2026-03-28T23:00:00Z"), "2026-03-29"},
		{"evening summer time started", utc("2026-03-29T22:00:00Z"), "2026-03-30"},
		{"evening summer time started, 1s before", utc("2026-03-29T21:59:59Z"), "2026-03-29"},
		{"day summer time ends (2026-10-25 01:00Z)", utc("2026-10-24T22:00:00Z"), "2026-10-25"},
		{"day summer time ends, 1s before", utc("2026-10-24T21:59:59Z"), "2026-10-24"},
		{"evening summer time ended", utc("2026-10-25T23:00:00Z"), "2026-10-26"},
		{"evening summer time ended, 1s before", utc("2026-10-25T22:59:59Z"), "2026-10-25"},
		{"new year in Paris, still 2026 in UTC", utc("2026-12-31T23:00:00Z"), "2027-01-01"},
		{"the instant's own zone does not matter", utc("2026-03-14T23:30:00Z").In(ny), "2026-03-15"},
		{"Kafka's 'no timestamp' (-1 ms)", time.UnixMilli(-1), "1970-01-01"},
		{"Unix epoch", time.Unix(0, 0), "1970-01-01"},
		{"before the epoch", utc("1969-12-31T22:59:59Z"), "1969-12-31"},
	}
	for _, tt := range tests {
		if got := Today(tt.at); got.String() != tt.want {
			t.Errorf("%s: Today(%v) = %v, want %s", tt.name, tt.at, got, tt.want)
		}
		if y, m, d := tt.at.In(paris).Date(); Today(tt.at) != DateOf(y, m, d) {
			t.Errorf("%s: Today(%v) disagrees with time.In(Paris).Date()", tt.name, tt.at)
		}
	}
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
