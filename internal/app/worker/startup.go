package worker

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
)

// early serves the HTTP endpoints from the start of New, before the wait for Kafka and
// Redis (up to the start-up timeout): /healthz answers while the process runs, as
// docs/deploy.md says, and /readyz says what the worker is waiting for.
type early struct {
	srv     *http.Server
	done    chan struct{} // closed when Serve has returned
	waiting atomic.Pointer[string]
}

// serveEarly opens the listener of ORDERGATE_HTTP_ADDR and serves the worker's handler,
// /readyz answering 503 "not ready: starting: ..." until Run starts.
func (w *Worker) serveEarly() error {
	l, err := net.Listen("tcp", w.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("ORDERGATE_HTTP_ADDR=%s: %w", w.cfg.HTTPAddr, err)
	}
	w.listener = l
	w.startup.setWaiting("starting")
	handler := w.Handler()
	w.startup.srv = newHTTPServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if waiting := w.startup.waiting.Load(); waiting != nil && r.URL.Path == "/readyz" {
			rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
			rw.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(rw, "not ready: starting:", *waiting)
			return
		}
		handler.ServeHTTP(rw, r)
	}), endpointLimits)
	w.startup.done = make(chan struct{})
	go func() {
		defer close(w.startup.done)
		if err := w.startup.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			w.log.Error("http server stopped", "err", err)
		}
	}()
	return nil
}

// setWaiting sets what /readyz says the start-up waits for ("" once started).
func (e *early) setWaiting(what string) {
	if what == "" {
		e.waiting.Store(nil)
		return
	}
	e.waiting.Store(&what)
}

// stop closes the server (its listener too) and waits for Serve to return; it does nothing
// when the server was never started.
func (e *early) stop(shutdown func(*http.Server) error) {
	if e.srv == nil {
		return
	}
	_ = shutdown(e.srv)
	<-e.done
}
