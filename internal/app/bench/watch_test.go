package bench

import (
	"strings"
	"testing"
	"time"
)

func TestStallWatch(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	s := newStallWatch("cold", t0)
	if msg, _ := s.check(0, 1000, t0.Add(5*time.Second), ""); msg != "" {
		t.Errorf("after 5 s: %q", msg)
	}
	msg, giveUp := s.check(0, 1000, t0.Add(11*time.Second), "redis does not answer yet, waiting")
	if giveUp || msg != "cold: no new event for 11s (0/1000); the worker says: redis does not answer yet, waiting" {
		t.Errorf("after 11 s: %q, %v", msg, giveUp)
	}
	if msg, _ := s.check(0, 1000, t0.Add(12*time.Second), ""); msg != "" {
		t.Errorf("reported again a second later: %q", msg)
	}
	if msg, _ := s.check(10, 1000, t0.Add(13*time.Second), ""); msg != "" {
		t.Errorf("progress reported as a stall: %q", msg)
	}
	if _, giveUp := s.check(10, 1000, t0.Add(13*time.Second+stallGiveUp), ""); !giveUp {
		t.Error("no giving up after a long stall")
	}
}

func TestBehind(t *testing.T) {
	if msg := behind("paced0", 9800, 10000, 500, 20*time.Second); msg != "" {
		t.Errorf("within a second's worth: %q", msg)
	}
	msg := behind("paced2", 4000, 10000, 1000, 10*time.Second)
	if !strings.Contains(msg, "paced2: falls behind its target rate: 4000 of 10000 events") || !strings.Contains(msg, "400/s answered, 1000/s produced") {
		t.Errorf("behind: %q", msg)
	}
}
