package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ordergate/ordergate/config"
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

// command is one sub-command. To add one, write its function in a file of its own and add
// a line to commands.
type command struct {
	name    string
	summary string
	run     func(args []string, e *env) int
	hidden  bool // not listed by help (a process of another command)
}

func commands() []command {
	return []command{
		{name: "run", summary: "run the worker (configuration from ORDERGATE_* variables; --check: doctor)", run: cmdRun},
		{name: "doctor", summary: "check everything run needs and report every finding at once, with what to fix", run: cmdDoctor},
		{name: "dev", summary: "zero-setup demo: embedded broker and Redis, sample requests, outcomes printed", run: cmdDev},
		{name: "validate", summary: "print the event the worker would publish for request files, offline", run: cmdValidate},
		{name: "produce", summary: "publish request files to the input topic", run: cmdProduce},
		{name: "tail", summary: "print the events ordergate publishes, one line each (or --json)", run: cmdTail},
		{name: "check", summary: "read the input and output topics and report lost, repeated or reordered events", run: cmdCheck},
		{name: "dlq", summary: "list, show and replay the dead letters", run: cmdDLQ},
		{name: "replay", summary: "--diff: re-decide part of the input topic with this binary's rules, compare with the events", run: cmdReplay},
		{name: "config", summary: "print the effective configuration (secrets masked) and the reference", run: cmdConfig},
		{name: "clients", summary: "clients file tools: hash a secret (from standard input), check a file", run: cmdClients},
		{name: "bench", summary: "measure the worker against a plain kafka-go referee on an embedded broker", run: cmdBench},
		{name: "healthcheck", summary: "probe a running worker's /healthz or /readyz (the image's HEALTHCHECK)", run: cmdHealthcheck},
		{name: "version", summary: "print the version", run: cmdVersion},
		{name: "bench-ceiling", run: cmdBenchCeiling, hidden: true},
		{name: "bench-passthrough", run: cmdBenchPassthrough, hidden: true},
	}
}

func run(args []string, e *env) int {
	if len(args) == 0 {
		usage(e.stderr)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "--help", "-help":
		if len(args) > 1 && args[0] == "help" {
			// `help COMMAND` is `COMMAND -h`.
			if c, ok := findCommand(args[1]); ok {
				return c.run([]string{"-h"}, e)
			}
			return unknownCommand(args[1], e)
		}
		usage(e.stdout)
		return exitOK
	case "--version", "-version", "-v":
		return cmdVersion(nil, e)
	}
	if c, ok := findCommand(args[0]); ok {
		return c.run(args[1:], e)
	}
	return unknownCommand(args[0], e)
}

func findCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// unknownCommand reports a command that does not exist, with the closest one.
func unknownCommand(name string, e *env) int {
	var names []string
	for _, c := range commands() {
		if !c.hidden {
			names = append(names, c.name)
		}
	}
	msg := fmt.Sprintf("ordergate: unknown command %q", name)
	if s := config.Closest(name, names); s != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", s)
	}
	fmt.Fprintln(e.stderr, msg+"; ordergate help lists the commands")
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "ordergate validates telecom order requests from Kafka and publishes one accepted or rejected event per request.")
	fmt.Fprintln(w, "\nUsage: ordergate COMMAND [flags] [arguments]\n\nCommands:")
	for _, c := range commands() {
		if !c.hidden {
			fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
		}
	}
	fmt.Fprintln(w, "\nordergate help COMMAND (or ordergate COMMAND -h) shows a command's flags; ordergate --version its version.")
	fmt.Fprintln(w, "Configuration: ORDERGATE_* variables, see ordergate config.")
}
