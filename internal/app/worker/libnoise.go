package worker

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// libraryLogEvery is the most often a library's own log reaches the warn level: with Redis
// down, go-redis logs every failed dial (about 20 lines in 30 s), which buried ordergate's
// own line saying what to fix.
const libraryLogEvery = 30 * time.Second

// foldedLogger passes a library's log lines to ordergate's logger, rate-limited: the first
// line goes out at warn at once; the lines after it, until every has passed, are logged at
// debug only and counted, and the next line at warn says how many were folded into it.
// It starts no goroutine (a count is reported with the next line, not on a timer).
type foldedLogger struct {
	log    *slog.Logger
	prefix string // starts each message: the library's name, "go-redis: "
	every  time.Duration
	now    func() time.Time

	mu     sync.Mutex
	last   time.Time // when a line last went out at warn
	folded int       // lines since then that did not
}

func newFoldedLogger(log *slog.Logger, prefix string, every time.Duration, now func() time.Time) *foldedLogger {
	if now == nil {
		now = time.Now
	}
	return &foldedLogger{log: log, prefix: prefix, every: every, now: now}
}

// Printf implements go-redis's internal.Logging.
func (l *foldedLogger) Printf(ctx context.Context, format string, v ...any) {
	msg := l.prefix + fmt.Sprintf(format, v...)
	l.mu.Lock()
	now := l.now()
	if !l.last.IsZero() && now.Sub(l.last) < l.every {
		l.folded++
		l.mu.Unlock()
		l.log.DebugContext(ctx, msg)
		return
	}
	folded, since := l.folded, l.last
	l.last, l.folded = now, 0
	l.mu.Unlock()
	if folded == 0 {
		l.log.WarnContext(ctx, msg)
		return
	}
	l.log.WarnContext(ctx, msg, "similar_lines_folded", folded, "since", since.UTC().Format(time.RFC3339),
		"hint", "ORDERGATE_LOG_LEVEL=debug shows each")
}
