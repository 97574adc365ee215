// Package security holds ordergate's security tests (issue 12); it has no code of its own.
//
// Every test runs the real parts: an in-process kfake broker with SASL (PLAIN,
// SCRAM-SHA-256, SCRAM-SHA-512) or TLS (a CA and certificates generated for the test, a
// client certificate when the broker requires one), a redis-server of the test's own with a
// password, an ACL user or TLS, an HTTP inventory that checks its bearer token, and the
// worker in-process or as the built binary. The canary test plants secrets and personal data
// everywhere the worker reads them and fails on any copy in a log line, an event, a
// dead-letter record, /metrics, `ordergate config` or a start-up error. See docs/security.md.
package security
