package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/consumer"
	"github.com/ordergate/ordergate/internal/app/worker"
)

func cmdRun(args []string, e *env) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to `file` (for go tool pprof)")
	memProfile := fs.String("memprofile", "", "write a heap profile at exit to `file`")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "Usage: ordergate run [flags]\n\nRuns the worker. Configuration comes from the ORDERGATE_* variables: see `ordergate config`.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return parseStatus(err)
	}
	stopProfiles, err := startProfiles(*cpuProfile, *memProfile)
	if err != nil {
		fmt.Fprintln(e.stderr, "ordergate:", err)
		return exitUsage
	}
	defer stopProfiles()
	return runWorker(e, worker.Options{})
}

// runWorker loads the configuration and runs a worker until a signal.
func runWorker(e *env, opts worker.Options) int {
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
	worker.RouteLibraryLogs(log)
	for _, w := range warnings {
		log.Warn(w)
	}
	log.Info("configuration", "config", cfg)
	applyMemoryLimit(cfg, os.DirFS("/"), log)
	ctx, stop := signalContext(e)
	defer stop()
	opts.Logger, opts.Now = log, e.now
	w, err := worker.New(ctx, cfg, opts)
	if err != nil {
		fmt.Fprintln(e.stderr, "ordergate:", err)
		return exitUsage
	}
	stopReload := reloadOnSIGHUP(e, w)
	defer stopReload()
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

// startProfiles starts a CPU profile and arranges a heap profile at exit (empty names: none).
func startProfiles(cpu, mem string) (func(), error) {
	var cpuFile *os.File
	if cpu != "" {
		f, err := os.Create(cpu)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, err
		}
		cpuFile = f
	}
	return func() {
		if cpuFile != nil {
			pprof.StopCPUProfile()
			cpuFile.Close()
		}
		if mem != "" {
			if f, err := os.Create(mem); err == nil {
				runtime.GC()
				_ = pprof.WriteHeapProfile(f)
				f.Close()
			}
		}
	}, nil
}

// reloadOnSIGHUP reads the clients and inventory files again on each SIGHUP.
func reloadOnSIGHUP(e *env, w *worker.Worker) func() {
	if e.signals == nil {
		return func() {}
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-ch:
				_ = w.Reload()
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}
