package main

import (
	"flag"
	"fmt"

	"github.com/ordergate/ordergate/config"
)

func cmdConfig(args []string, e *env) int {
	fs := flag.NewFlagSet("config", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "Usage: ordergate config\n\nPrints the effective configuration read from the ORDERGATE_* variables (secrets masked), then the reference of every variable.")
	}
	if err := fs.Parse(args); err != nil {
		return parseStatus(err)
	}
	cfg, warnings, err := config.Load()
	for _, w := range warnings {
		fmt.Fprintln(e.stderr, "warning:", w)
	}
	if err != nil {
		fmt.Fprintln(e.stderr, "ordergate:", err)
		return exitUsage
	}
	fmt.Fprintln(e.stdout, "# Effective configuration")
	if err := cfg.Write(e.stdout); err != nil {
		return exitInternal
	}
	fmt.Fprintln(e.stdout, "\n# Reference")
	if err := config.WriteReference(e.stdout); err != nil {
		return exitInternal
	}
	return exitOK
}
