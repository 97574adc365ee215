package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"strings"
	"time"
)

// Issue 21, item 5: with Redis unreachable the bench hung silently after "cold: 0/1000
// events". It now checks Redis first, says when a phase makes no progress (with what the
// worker printed last) and gives up after a while, and says when a paced phase falls behind
// its target rate.

// stallAfter is how long a phase may go without a new event before the bench says so;
// stallGiveUp is how long before it stops.
const (
	stallAfter  = 10 * time.Second
	stallGiveUp = 90 * time.Second
)

// stallWatch notices a phase that makes no progress.
type stallWatch struct {
	name     string
	last     int       // events at the last progress
	since    time.Time // when the last progress was seen
	reported time.Time // when a stall was last reported
}

func newStallWatch(name string, now time.Time) *stallWatch {
	return &stallWatch{name: name, since: now}
}

// check returns a message when the phase has had no new event for stallAfter (once per
// stallAfter), and giveUp after stallGiveUp. workerSays is the end of the worker's output.
func (s *stallWatch) check(got, n int, now time.Time, workerSays string) (string, bool) {
	if got > s.last {
		s.last, s.since, s.reported = got, now, time.Time{}
		return "", false
	}
	idle := now.Sub(s.since)
	if idle < stallAfter || now.Sub(s.reported) < stallAfter {
		return "", false
	}
	s.reported = now
	msg := fmt.Sprintf("%s: no new event for %s (%d/%d)", s.name, idle.Round(time.Second), got, n)
	if workerSays != "" {
		msg += "; the worker says: " + workerSays
	}
	if idle >= stallGiveUp {
		return msg + "; giving up", true
	}
	return msg, false
}

// behind returns a message when, once a paced phase has produced its n records in elapsed,
// the worker has answered clearly fewer than the target rate allows (more than a second's
// worth of records behind), else "".
func behind(name string, answered, n, rate int, elapsed time.Duration) string {
	if n-answered <= rate {
		return ""
	}
	achieved := float64(answered) / max(elapsed.Seconds(), 0.001)
	return fmt.Sprintf("%s: falls behind its target rate: %d of %d events when the last record was produced (%.0f/s answered, %d/s produced); its latency includes the queue",
		name, answered, n, achieved, rate)
}

// lastLines returns the last two lines the phase's process printed, on one line.
func (p *process) lastLines() string {
	lines := strings.Split(strings.TrimSpace(p.stderr.String()), "\n")
	if len(lines) > 2 {
		lines = lines[len(lines)-2:]
	}
	return strings.Join(lines, " | ")
}

// pingRedis asks the Redis at addr for PING, speaking RESP directly.
func pingRedis(addr string, timeout time.Duration) error {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	reply, err := bufio.NewReader(c).ReadBytes('\n')
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(reply, []byte("+PONG")) {
		return fmt.Errorf("answered %q", strings.TrimSpace(string(reply)))
	}
	return nil
}
