package main

import (
	"fmt"
	"strings"

	"github.com/ordergate/ordergate/config"
)

// loadConfig loads the configuration; on a problem it prints every one, each on its line
// ("ordergate: NAME=value: reason"), and the warnings, and returns false.
func loadConfig(e *env) (config.Config, []string, bool) {
	cfg, warnings, err := config.Load()
	if err != nil {
		printWarnings(e, warnings)
		printErr(e, "", config.Config{}, err)
		return cfg, warnings, false
	}
	return cfg, warnings, true
}

// printWarnings prints configuration warnings, one per line.
func printWarnings(e *env, warnings []string) {
	for _, w := range warnings {
		fmt.Fprintln(e.stderr, "warning:", w)
	}
}

// printErr prints an error, one "ordergate[ COMMAND]: ..." line per line of its message,
// scrubbed of every secret of cfg: a library's message may quote a value it was given.
func printErr(e *env, command string, cfg config.Config, err error) {
	prefix := "ordergate"
	if command != "" {
		prefix += " " + command
	}
	for line := range strings.Lines(cfg.Scrub(err.Error())) {
		fmt.Fprintf(e.stderr, "%s: %s\n", prefix, strings.TrimRight(line, "\n"))
	}
}
