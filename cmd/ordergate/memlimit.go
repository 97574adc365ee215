package main

import (
	"io/fs"
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"strconv"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/consumer"
)

// applyMemoryLimit gives the Go runtime its soft memory limit from the worker's memory limit
// (ORDERGATE_MEMORY_LIMIT, else the container's cgroup; see docs/configuration.md#memory)
// and logs the figures, with the byte budget of fetched records that the consumer takes
// from the same limit (config.MemoryLimit.FetchBudget). GOMEMLIMIT, when set, is the operator's own choice for the runtime:
// it is left as it is. root is the file system's root, where the cgroup files are read.
func applyMemoryLimit(cfg config.Config, root fs.FS, log *slog.Logger) {
	limit := cfg.EffectiveMemoryLimit(root)
	shown := limit.Bytes.String()
	if limit.Bytes == 0 {
		shown = "none"
	}
	attrs := []any{"limit", shown, "source", limit.Source}
	switch {
	case os.Getenv("GOMEMLIMIT") != "":
		attrs = append(attrs, "go_soft_limit", softLimitText(debug.SetMemoryLimit(-1)), "go_soft_limit_source", "GOMEMLIMIT")
	case limit.Bytes > 0:
		soft := limit.GoSoftLimit()
		debug.SetMemoryLimit(soft)
		attrs = append(attrs, "go_soft_limit", softLimitText(soft))
	default:
		attrs = append(attrs, "go_soft_limit", "none")
	}
	budget, budgetSource := limit.FetchBudget(), "limit"
	if budget == 0 {
		budget, budgetSource = consumer.DefaultFetchBudget, "default"
	}
	attrs = append(attrs, "fetch_budget", softLimitText(budget), "fetch_budget_source", budgetSource)
	log.Info("memory limit", attrs...)
}

// softLimitText writes a soft limit in MiB with one decimal, or "none" for the runtime's
// "no limit" (math.MaxInt64).
func softLimitText(n int64) string {
	if n == math.MaxInt64 {
		return "none"
	}
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + "MiB"
}
