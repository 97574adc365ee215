package main

import (
	"context"
	"errors"
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
	for i, a := range args {
		if a == "--check" || a == "-check" || a == "--check=true" {
			// run --check is an alias of doctor, with doctor's flags.
			return cmdDoctor(append(args[:i:i], args[i+1:]...), e)
		}
	}
	fs := newFlags(e, "run", "[flags]", `Runs the worker. Configuration comes from the ORDERGATE_* variables: see ordergate config.
Ctrl-C (SIGINT) or SIGTERM stops it gracefully within ORDERGATE_SHUTDOWN_TIMEOUT; a second one
exits at once.`)
	fs.Bool("check", false, "check everything the worker needs and exit: ordergate doctor (its flags apply)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to `FILE` (for go tool pprof)")
	memProfile := fs.String("memprofile", "", "write a heap profile at exit to `FILE`")
	if err := fs.parseNoArgs(args); err != nil {
		return status(err)
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
	cfg, warnings, errs := config.LoadPartial()
	if !errs.Has("ORDERGATE_INVENTORY_URL") && !errs.Has("ORDERGATE_INVENTORY_FILE") {
		errs = append(errs, config.AsErrors(cfg.RequireInventory())...)
	}
	if len(errs) > 0 {
		printWarnings(e, warnings)
		printErr(e, "", config.Config{}, errs)
		return exitUsage
	}
	if _, set := os.LookupEnv("ORDERGATE_LOG_FORMAT"); !set && isTerminal(e.stderr) {
		cfg.LogFormat = "text" // a person reads it (docs/configuration.md)
	}
	log := worker.NewLogger(cfg, e.stderr)
	worker.RouteLibraryLogs(log)
	for _, w := range warnings {
		log.Warn(w)
	}
	log.Info("configuration", "config", cfg)
	applyMemoryLimit(cfg, os.DirFS("/"), log)
	ctx, stop := signalContext(e, func(sig os.Signal) {
		// Issue 21, item 12: say at once that a second signal does not wait.
		log.Info("signal received; finishing the batches in hand, a second Ctrl-C or SIGTERM exits at once",
			"signal", sig.String(), "timeout", cfg.ShutdownTimeout.String())
	})
	defer stop()
	opts.Logger, opts.Now = log, e.now
	w, err := worker.New(ctx, cfg, opts)
	if err != nil {
		if ctx.Err() != nil {
			// A SIGTERM while waiting for Kafka or Redis at start-up is a stop asked for, not
			// a bad configuration: nothing was consumed, so nothing is left unfinished.
			log.Info("ordergate stopped during start-up", "waited for", cfg.Scrub(err.Error()))
			return exitOK
		}
		printErr(e, "", cfg, err)
		return exitUsage
	}
	stopReload := reloadOnSIGHUP(e, w)
	defer stopReload()
	if err := w.Run(ctx); err != nil {
		if errors.Is(err, consumer.ErrUnfinished) {
			return exitFailure
		}
		printErr(e, "", cfg, err)
		return exitFailure
	}
	return exitOK
}

// signalContext returns a context that ends at the first SIGINT or SIGTERM, after calling
// onFirst (nil: nothing) with it; a second signal exits the process at once with status 1.
func signalContext(e *env, onFirst func(os.Signal)) (context.Context, func()) {
	ctx, cancel := context.WithCancel(e.ctx)
	if e.signals == nil {
		return ctx, cancel
	}
	ch, stopSignals := e.signals()
	go func() {
		var sig os.Signal
		select {
		case sig = <-ch:
		case <-ctx.Done():
			return
		}
		if onFirst != nil {
			onFirst(sig)
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
