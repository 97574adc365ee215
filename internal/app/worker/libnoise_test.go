package worker

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/foundation/syncbuf"
	"github.com/redis/go-redis/v9"
)

// TestLibraryLogIsFolded: lines of a library within the window go out at warn once, the
// others at debug; the next line after the window says how many were folded.
func TestLibraryLogIsFolded(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	l := newFoldedLogger(log, "go-redis: ", 30*time.Second, func() time.Time { return now })
	for i := range 20 {
		l.Printf(context.Background(), "redis: dial %d refused", i)
		now = now.Add(time.Second)
	}
	now = now.Add(15 * time.Second)
	l.Printf(context.Background(), "redis: dial %d refused", 20)
	var warn, debug []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		switch {
		case strings.Contains(line, "level=WARN"):
			warn = append(warn, line)
		case strings.Contains(line, "level=DEBUG"):
			debug = append(debug, line)
		}
	}
	if len(warn) != 2 || len(debug) != 19 {
		t.Fatalf("%d lines at warn and %d at debug, want 2 and 19:\n%s", len(warn), len(debug), out.String())
	}
	if !strings.Contains(warn[0], `msg="go-redis: redis: dial 0 refused"`) || strings.Contains(warn[0], "folded") {
		t.Errorf("first line: %s", warn[0])
	}
	if !strings.Contains(warn[1], "dial 20 refused") || !strings.Contains(warn[1], "similar_lines_folded=19") {
		t.Errorf("line after the window: %s", warn[1])
	}
}

// TestRedisDownIsNotNoisy (issue 21, item 3): with Redis down, go-redis logs each failed
// dial; routed through RouteLibraryLogs, they reach the warn level once per window.
func TestRedisDownIsNotNoisy(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	var out syncbuf.Buffer
	RouteLibraryLogs(slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo})))
	t.Cleanup(func() { RouteLibraryLogs(slog.New(slog.DiscardHandler)) })
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(4 * time.Second)
	for time.Now().Before(deadline) { // as the worker's start-up wait does
		_ = c.Ping(context.Background()).Err()
		time.Sleep(100 * time.Millisecond)
	}
	if n := strings.Count(out.String(), `"level":"WARN"`); n > 1 {
		t.Errorf("%d library lines at warn in 4 s, want at most 1:\n%s", n, out.String())
	}
}
