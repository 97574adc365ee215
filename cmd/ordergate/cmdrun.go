package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/consumer"
	"github.com/ordergate/ordergate/worker"
)

func cmdRun(args []string, e *env) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "Usage: ordergate run\n\nRuns the worker. Configuration comes from the ORDERGATE_* variables: see `ordergate config`.")
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	cfg, warnings, err := config.Load()
	if err != nil {
		fmt.Fprintln(e.stderr, "ordergate:", err)
		return exitUsage
	}
	if err := cfg.RequireInventory(); err != nil {
		fmt.Fprintln(e.stderr, "ordergate:", err)
		return exitUsage
	}
	log := worker.NewLogger(cfg, e.stderr)
	for _, w := range warnings {
		log.Warn(w)
	}
	log.Info("configuration", "config", cfg)
	ctx, stop := signalContext(e)
	defer stop()
	w, err := worker.New(ctx, cfg, worker.Options{Logger: log, Now: e.now})
	if err != nil {
		fmt.Fprintln(e.stderr, "ordergate:", err)
		return exitUsage
	}
	if err := w.Run(ctx); err != nil {
		if errors.Is(err, consumer.ErrUnfinished) {
			return exitFailure
		}
		fmt.Fprintln(e.stderr, "ordergate:", err)
		return exitFailure
	}
	return exitOK
}

// signalContext returns a context that ends at the first SIGINT or SIGTERM; a second signal
// exits the process at once with status 1.
func signalContext(e *env) (context.Context, func()) {
	ctx, cancel := context.WithCancel(e.ctx)
	if e.signals == nil {
		return ctx, cancel
	}
	ch, stopSignals := e.signals()
	go func() {
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
		cancel()
		select {
		case sig := <-ch:
			fmt.Fprintf(e.stderr, "ordergate: second %v, exiting at once\n", sig)
			exitNow(exitFailure)
		case <-e.ctx.Done():
		}
	}()
	return ctx, func() { stopSignals(); cancel() }
}
