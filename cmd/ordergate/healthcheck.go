package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/ordergate/ordergate/config"
)

// cmdHealthcheck probes a running worker's /healthz (or /readyz with --ready) on
// ORDERGATE_HTTP_ADDR and exits 0 when it answers 200, 1 otherwise, with one line that says
// why. It is the image's HEALTHCHECK, so that the image needs no shell nor HTTP client. A bad
// configuration is 1 too (Docker reserves the status 2 of a health check); only bad flags,
// a mistake in the command line itself, exit 2.
func cmdHealthcheck(args []string, e *env) int {
	fs := newFlags(e, "healthcheck", "[--ready] [--timeout 2s]",
		`Probes the running worker's /healthz (or /readyz) on ORDERGATE_HTTP_ADDR, read as run reads it.
Exit status 0 when it answers 200, 1 otherwise (a bad configuration too), 2 on bad flags; one
line says why.`)
	ready := fs.Bool("ready", false, "probe /readyz (the broker, Redis and no stuck partition) instead of /healthz (the process serves)")
	timeout := fs.Duration("timeout", 2*time.Second, "give up after `DURATION`")
	rest, err := fs.parse(args)
	if err != nil {
		return status(err)
	}
	if len(rest) > 0 {
		fs.fail(fmt.Sprintf("unexpected argument %q", rest[0]))
		return exitUsage
	}
	if *timeout <= 0 {
		fs.fail("--timeout must be greater than 0")
		return exitUsage
	}
	cfg, _, err := config.Load()
	if err != nil {
		fmt.Fprintln(e.stderr, "ordergate healthcheck:", err)
		return exitFailure
	}
	path := "/healthz"
	if *ready {
		path = "/readyz"
	}
	url, err := probeURL(cfg.HTTPAddr, path)
	if err != nil {
		fmt.Fprintln(e.stderr, "ordergate healthcheck:", err)
		return exitFailure
	}
	ctx, cancel := context.WithTimeout(e.ctx, *timeout)
	defer cancel()
	line, ok := probe(ctx, url)
	if !ok {
		fmt.Fprintln(e.stderr, "ordergate healthcheck:", line)
		return exitFailure
	}
	fmt.Fprintln(e.stdout, "ordergate healthcheck:", line)
	return exitOK
}

// probeURL is the URL of path on the listen address addr, seen from the same host: a
// wildcard or empty host is probed on loopback.
func probeURL(addr, path string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("ORDERGATE_HTTP_ADDR=%q: %v", addr, err)
	}
	if port == "0" {
		return "", fmt.Errorf("ORDERGATE_HTTP_ADDR=%q: port 0 is chosen at random when the worker starts, so there is no port to probe", addr)
	}
	switch ip := net.ParseIP(host); {
	case host == "" || ip != nil && ip.Equal(net.IPv4zero):
		host = "127.0.0.1"
	case ip != nil && ip.Equal(net.IPv6unspecified):
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + path, nil
}

// probe GETs url and returns one line saying what it answered, and whether that was 200.
// No proxy (an HTTP_PROXY meant for the inventory must not carry a probe of loopback) and
// no redirect are followed.
func probe(ctx context.Context, url string) (string, bool) {
	client := &http.Client{
		Transport:     &http.Transport{Proxy: nil, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err.Error(), false
	}
	resp, err := client.Do(req)
	if err != nil {
		return err.Error(), false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	// The body's first line: "ok", "ready", or "not ready: redis: ..." (the reason).
	first, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
	line := fmt.Sprintf("%s %s", url, resp.Status)
	if first != "" {
		line += ": " + strings.TrimSpace(first)
	}
	return line, resp.StatusCode == http.StatusOK
}
