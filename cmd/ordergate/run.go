package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// env is what a command reads and writes besides its arguments; tests replace it.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	now            func() time.Time
	// signals delivers SIGINT and SIGTERM; nil in tests that stop through ctx.
	signals func() (<-chan os.Signal, func())
	ctx     context.Context
}

func newEnv() *env {
	return &env{
		stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, now: time.Now, ctx: context.Background(),
		signals: func() (<-chan os.Signal, func()) {
			ch := make(chan os.Signal, 2)
			signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
			return ch, func() { signal.Stop(ch) }
		},
	}
}

// Exit statuses shared by the commands.
const (
	exitOK       = 0
	exitFailure  = 1 // a rejection (validate), a broken invariant (check), an unfinished stop (run)
	exitUsage    = 2 // bad flags, unreadable files, bad configuration
	exitInternal = 3
)

type command struct {
	name    string
	summary string
	run     func(args []string, e *env) int
}

func commands() []command {
	return []command{
		{"run", "run the worker (configuration from ORDERGATE_* variables)", cmdRun},
		{"dev", "zero-setup demo: embedded broker and Redis, sample requests, outcomes printed", cmdDev},
		{"validate", "print the event the worker would publish for request files, offline", cmdValidate},
		{"produce", "publish request files to the input topic", cmdProduce},
		{"config", "print the effective configuration (secrets masked) and the reference", cmdConfig},
		{"check", "read the input and output topics and report lost, repeated or reordered events", cmdCheck},
		{"dlq", "list, show and replay the dead letters", cmdDLQ},
		{"replay", "--diff: re-decide part of the input topic with this binary's rules, compare with the events", cmdReplay},
		{"bench", "measure the worker against the Kafka client's own ceiling", cmdBench},
		{"healthcheck", "probe a running worker's /healthz or /readyz (the image's HEALTHCHECK)", cmdHealthcheck},
		{"version", "print the version", cmdVersion},
	}
}

func run(args []string, e *env) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(e.stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], e)
		}
	}
	if args[0] == "bench-ceiling" {
		return cmdBenchCeiling(args[1:], e)
	}
	fmt.Fprintf(e.stderr, "ordergate: unknown command %q (see ordergate help)\n", args[0])
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "ordergate validates telecom order requests from Kafka and publishes one accepted or rejected event per request.")
	fmt.Fprintln(w, "\nUsage: ordergate COMMAND [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun `ordergate COMMAND -h` for a command's flags. Configuration: `ordergate config`.")
}

// parseStatus is the exit status after a flag parsing error: 0 for -h (the usage was asked
// for), 2 otherwise.
func parseStatus(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}
