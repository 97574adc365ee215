package servicepoint

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ordergate/ordergate/internal/foundation/testredis"
	"github.com/ordergate/ordergate/processor/order"
)

// redisError is an error reply of Redis, as go-redis reports one.
type redisError string

func (e redisError) Error() string { return string(e) }
func (redisError) RedisError()     {}

// TestRedisErrorKind: each reply and failure of Redis falls in its kind.
func TestRedisErrorKind(t *testing.T) {
	for err, want := range map[error]string{
		redisError("MOVED 3999 127.0.0.1:6381"):                                          KindMoved,
		redisError("ASK 3999 127.0.0.1:6381"):                                            KindAsk,
		redisError("TRYAGAIN Multiple keys request during rehashing"):                    KindTryAgain,
		redisError("CLUSTERDOWN The cluster is down"):                                    KindClusterDown,
		redisError("LOADING Redis is loading the dataset in memory"):                     KindLoading,
		redisError("READONLY You can't write against a read only replica."):              KindReadOnly,
		redisError("MASTERDOWN Link with MASTER is down"):                                KindMasterDown,
		redisError("NOAUTH Authentication required."):                                    KindAuth,
		redisError("WRONGPASS invalid username-password pair"):                           KindAuth,
		redisError("NOPERM this user has no permissions"):                                KindAuth,
		redisError("OOM command not allowed when used memory > 'maxmemory'."):            KindOOM,
		redisError("ERR something else"):                                                 KindOther,
		context.DeadlineExceeded:                                                         KindTimeout,
		fmt.Errorf("read: %w", &net.OpError{Op: "read", Err: errors.New("i/o timeout")}): KindConnection,
		&net.OpError{Op: "dial", Err: errors.New("connection refused")}:                  KindConnection,
		redis.ErrClosed: KindConnection,
	} {
		if got := RedisErrorKind(err); got != want {
			t.Errorf("%v: %s, want %s", err, got, want)
		}
	}
}

// kindRecorder is a RedisObserver that records everything.
type kindRecorder struct {
	mu     sync.Mutex
	trips  map[string]int
	errors map[string]int
}

func (k *kindRecorder) RedisNodeRoundTrip(node string) { k.mu.Lock(); k.trips[node]++; k.mu.Unlock() }
func (k *kindRecorder) RedisError(kind string)         { k.mu.Lock(); k.errors[kind]++; k.mu.Unlock() }

// TestSingleNodeConnection: one server's connection counts one exchange per batch round
// trip (not the connection's set-up, not the probe), counts the errors of a stopped server
// by kind, and its probe pings it.
func TestSingleNodeConnection(t *testing.T) {
	srv := testredis.Start(t)
	rec := &kindRecorder{trips: map[string]int{}, errors: map[string]int{}}
	rdb := OpenRedis(&redis.UniversalOptions{Addrs: []string{srv.Addr()}, ReadTimeout: 300 * time.Millisecond,
		DialTimeout: 300 * time.Millisecond, MaxRetries: -1}, rec)
	defer rdb.Close()
	ctx := context.Background()
	n, err := rdb.Probe(ctx)
	if err != nil || n != (Nodes{Primaries: 1}) || rdb.Mode() != ModeSingle {
		t.Fatalf("probe: %+v, %v (mode %s)", n, err, rdb.Mode())
	}
	r := NewResolver(rdb, &FileInventory{}, Options{KeyPrefix: testredis.Prefix(t)})
	if _, err := r.Resolve(ctx, []order.Lookup{byID("SP-1"), byID("SP-2")}); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	trips, errs := rec.trips[srv.Addr()], len(rec.errors)
	rec.mu.Unlock()
	if trips != 2 || errs != 0 {
		t.Fatalf("%d exchanges (want 2: read, write-back), errors %v", trips, rec.errors)
	}
	srv.Stop()
	if _, err := rdb.Probe(ctx); err == nil {
		t.Fatal("the probe of a stopped server succeeded")
	}
	if _, err := r.Resolve(ctx, []order.Lookup{byID("SP-1")}); err == nil {
		t.Fatal("a batch read a stopped server")
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.errors[KindConnection] == 0 {
		t.Fatalf("errors %v, want connection errors", rec.errors)
	}
}
