// Package testredis gives tests a real redis-server, never a fake: the shared one of the
// machine (Shared, 127.0.0.1:6379 unless ORDERGATE_TEST_REDIS_ADDR says otherwise, which
// `make test` starts when none answers) with a key prefix per test (Prefix), or a
// disposable one on a spare loopback port (Start) that a test can stop, kill, restart on the
// same port, freeze and thaw to play outages.
//
// A missing redis-server or a shared Redis that does not answer fails the test with a
// message saying how to get one: it never skips, because a skipped outage test is a test
// that silently stopped proving anything.
package testredis
