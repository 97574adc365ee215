package testkit

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/internal/app/worker"
)

// Running is an in-process worker.
type Running struct {
	W      *worker.Worker
	cancel context.CancelFunc
	done   chan error
	Logs   *Buffer
}

// StartWorker builds and runs a worker in-process; it is stopped (gracefully) when the
// test ends, if the test did not stop it.
func StartWorker(t testing.TB, cfg config.Config, opts worker.Options) *Running {
	t.Helper()
	r := &Running{done: make(chan error, 1), Logs: &Buffer{}}
	if opts.Logger == nil {
		var out io.Writer = r.Logs
		opts.Logger = slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	w, err := worker.New(ctx, cfg, opts)
	if err != nil {
		cancel()
		t.Fatalf("worker: %v", err)
	}
	r.W, r.cancel = w, cancel
	go func() { r.done <- w.Run(ctx) }()
	t.Cleanup(func() {
		select {
		case <-r.done:
			r.done <- nil
		default:
			r.cancel()
			<-r.done
		}
		if t.Failed() {
			t.Logf("worker log:\n%s", r.Logs.String())
		}
	})
	return r
}

// Stop asks the worker to stop (as SIGTERM does) and returns Run's result.
func (r *Running) Stop(t testing.TB, timeout time.Duration) error {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err
		return err
	case <-time.After(timeout):
		t.Fatalf("worker still running %v after the stop", timeout)
		return nil
	}
}
