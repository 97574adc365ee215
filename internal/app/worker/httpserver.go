package worker

import (
	"net/http"
	"time"
)

// httpLimits bound what one client of the endpoints can hold: a slow or idle client cannot
// keep a connection, and a request cannot bring large headers (issue 23.6: an idle
// keep-alive was still served after 25 seconds).
type httpLimits struct {
	// ReadHeader and Read bound the time to read a request's headers and the whole
	// request.
	ReadHeader, Read time.Duration
	// Write bounds the time to write a response (a /metrics page included).
	Write time.Duration
	// Idle is how long a keep-alive connection waits for its next request.
	Idle time.Duration
	// MaxHeaderBytes bounds a request's headers.
	MaxHeaderBytes int
}

// endpointLimits are the limits of /metrics, /healthz and /readyz: requests from probes
// and Prometheus are small and quick; a scrape every 15 s or more reconnects after Idle.
var endpointLimits = httpLimits{
	ReadHeader:     5 * time.Second,
	Read:           10 * time.Second,
	Write:          30 * time.Second,
	Idle:           20 * time.Second,
	MaxHeaderBytes: 16 << 10,
}

// newHTTPServer returns the server of the endpoints.
func newHTTPServer(h http.Handler, l httpLimits) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.ReadHeader,
		ReadTimeout:       l.Read,
		WriteTimeout:      l.Write,
		IdleTimeout:       l.Idle,
		MaxHeaderBytes:    l.MaxHeaderBytes,
	}
}
