package testredis

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// DefaultSharedAddr is the address of the machine's shared Redis.
const DefaultSharedAddr = "127.0.0.1:6379"

// SharedAddrEnv names the environment variable that overrides DefaultSharedAddr.
const SharedAddrEnv = "ORDERGATE_TEST_REDIS_ADDR"

// Shared returns the address (host:port) of the machine's shared Redis: the value of
// ORDERGATE_TEST_REDIS_ADDR, else 127.0.0.1:6379. It fails the test when that Redis does not
// answer PING within a second. Tests that write to it must keep to their own Prefix.
func Shared(t testing.TB) string {
	t.Helper()
	addr := os.Getenv(SharedAddrEnv)
	if addr == "" {
		addr = DefaultSharedAddr
	}
	if err := ping(addr, time.Second); err != nil {
		t.Fatalf("testredis: the shared Redis at %s does not answer PING (%v): run `make test` "+
			"(it starts one with scripts/ensure-redis.sh), start redis-server on that port, "+
			"or set %s to the address of one", addr, err, SharedAddrEnv)
	}
	return addr
}

var (
	// runID tells this test process from earlier and concurrent ones: a process id alone
	// is recycled (containers start their processes with the same small pids), and keys of
	// an earlier run may still be cached in the shared Redis.
	runID = newRunID()
	// prefixes counts the prefixes handed out by this process.
	prefixes atomic.Int64
)

func newRunID() string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano())
	}
	return hex.EncodeToString(b[:])
}

// Prefix returns a Redis key prefix that no other test, of this process or of any other
// run, is given: "ordergate-test:{run}:{n}:{test name}:". Each call returns a new one, so a
// test that needs two independent key spaces calls it twice. The test name is there only to
// make keys readable in redis-cli; the run id and counter make the prefix unique.
func Prefix(t testing.TB) string {
	name := strings.NewReplacer("/", ".", " ", "_", ":", ".").Replace(t.Name())
	return fmt.Sprintf("ordergate-test:%s:%d:%s:", runID, prefixes.Add(1), name)
}
