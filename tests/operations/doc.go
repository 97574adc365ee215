// Package operations holds the project's cross-cutting operations tests, and nothing else: the
// Prometheus alerts of deploy/prometheus pass promtool and their unit tests, the Grafana
// dashboard of deploy/grafana and the alerts only name metrics and labels a live worker
// exports, a live worker's /metrics shows what an operator needs after the sample requests,
// and docs/operations.md lists every metric, alert runbook and log line it talks about.
package operations
