package worker

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"

	"github.com/ordergate/ordergate/config"
)

// NewLogger returns the logger the configuration asks for: JSON or text, at its level.
func NewLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.SlogLevel()}
	if strings.EqualFold(cfg.LogFormat, "text") {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// RouteLibraryLogs sends go-redis's internal log (reconnections, pool errors) to log,
// instead of stderr in its own format: at warn level at most once in libraryLogEvery, the
// others at debug and counted (see foldedLogger). go-redis has one logger per process: the
// command calls this once, at start.
func RouteLibraryLogs(log *slog.Logger) {
	redis.SetLogger(newFoldedLogger(log, "go-redis: ", libraryLogEvery, nil))
}

// kafkaLogger routes kafka-go's informational log at the given level.
func kafkaLogger(log *slog.Logger, level slog.Level) kafka.Logger {
	return kafka.LoggerFunc(func(msg string, args ...any) {
		if log.Enabled(context.Background(), level) {
			log.Log(context.Background(), level, "kafka-go: "+fmt.Sprintf(msg, args...))
		}
	})
}

// kafkaErrorLogger routes kafka-go's error log at warn level, and counts the offset resets
// it reports (a position before the log start, moved to it after retention deleted records).
func kafkaErrorLogger(log *slog.Logger, onReset func()) kafka.Logger {
	return kafka.LoggerFunc(func(msg string, args ...any) {
		text := fmt.Sprintf(msg, args...)
		if strings.Contains(text, "is reading before the first offset") {
			onReset()
		}
		log.Warn("kafka-go: " + text)
	})
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
