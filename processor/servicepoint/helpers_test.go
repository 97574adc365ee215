package servicepoint

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ordergate/ordergate/internal/foundation/testredis"
	"github.com/ordergate/ordergate/processor/order"
)

// roundTripHook counts what reaches Redis, as go-redis sends it: single commands by name and
// pipelines with their length. The commands go-redis sends to set up a new connection are
// not round trips of the resolver and are left out.
type roundTripHook struct {
	mu        sync.Mutex
	commands  map[string]int
	pipelines []string
}

func (h *roundTripHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *roundTripHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !connectionSetup(cmd.Name()) {
			h.mu.Lock()
			h.commands[cmd.Name()]++
			h.mu.Unlock()
		}
		return next(ctx, cmd)
	}
}

func (h *roundTripHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) > 0 && !connectionSetup(cmds[0].Name()) {
			h.mu.Lock()
			h.pipelines = append(h.pipelines, describePipeline(cmds))
			h.mu.Unlock()
		}
		return next(ctx, cmds)
	}
}

// counts returns the MGET commands, the pipelines (each with its commands' names, e.g.
// "getrange*100") and every other command seen so far.
func (h *roundTripHook) counts() (mgets int, pipelines []string, others int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for name, n := range h.commands {
		if name == "mget" {
			mgets += n
		} else {
			others += n
		}
	}
	return mgets, append([]string(nil), h.pipelines...), others
}

// describePipeline names a pipeline by its commands: "getrange*100", "set*2".
func describePipeline(cmds []redis.Cmder) string {
	var parts []string
	for i := 0; i < len(cmds); {
		j := i
		for j < len(cmds) && cmds[j].Name() == cmds[i].Name() {
			j++
		}
		parts = append(parts, fmt.Sprintf("%s*%d", cmds[i].Name(), j-i))
		i = j
	}
	return strings.Join(parts, ",")
}

// inventoryServer is an httptest inventory in front of a FileInventory: it counts its calls
// (in all, per lookup, and at most at once) and can be told to misbehave.
type inventoryServer struct {
	*httptest.Server
	inv      *FileInventory
	calls    atomic.Int64
	inFlight atomic.Int64
	maxIn    atomic.Int64
	delay    atomic.Int64 // nanoseconds to wait before answering
	mode     atomic.Value // string: see serve
	perKey   sync.Map     // "criterion=value" -> *atomic.Int64
	lastReq  atomic.Pointer[http.Request]
}

// newInventoryServer serves points; a lookup whose value starts with "SP-" and is not in
// points is answered with one generated service point of that id, so that tests can use
// any number of keys.
func newInventoryServer(t testing.TB, points ...order.ServicePoint) *inventoryServer {
	t.Helper()
	inv, err := NewFileInventory(points)
	if err != nil {
		t.Fatal(err)
	}
	s := &inventoryServer{inv: inv}
	s.mode.Store("ok")
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *inventoryServer) serve(w http.ResponseWriter, r *http.Request) {
	s.calls.Add(1)
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for m := s.maxIn.Load(); n > m && !s.maxIn.CompareAndSwap(m, n); m = s.maxIn.Load() {
	}
	s.lastReq.Store(r.Clone(context.Background()))
	var l order.Lookup
	for _, c := range []order.Criterion{order.ByID, order.ByReference, order.ByCustomerReference} {
		if r.URL.Query().Has(string(c)) {
			l = order.Lookup{Criterion: c, Value: r.URL.Query().Get(string(c))}
		}
	}
	counter, _ := s.perKey.LoadOrStore(string(l.Criterion)+"="+l.Value, new(atomic.Int64))
	counter.(*atomic.Int64).Add(1)
	if d := time.Duration(s.delay.Load()); d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
	switch mode := s.mode.Load().(string); mode {
	case "ok":
	case "hang":
		<-r.Context().Done()
		return
	case "garbage":
		w.Write([]byte("<html>upstream error</html>"))
		return
	case "object":
		w.Write([]byte(`{"id":"SP-1"}`))
		return
	case "no-id":
		w.Write([]byte(`[{"name":"nameless"}]`))
		return
	case "numbers":
		w.Write([]byte(`[1,2,3]`))
		return
	case "truncated":
		w.Write([]byte(`[{"id":"SP-1","name":"cut`))
		return
	case "gateway404":
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte("<html><h1>404 Not Found</h1></html>"))
		return
	default: // an HTTP status
		var code int
		fmt.Sscan(mode, &code)
		http.Error(w, "failing on purpose", code)
		return
	}
	if l.Criterion == "" {
		http.Error(w, "no criterion", http.StatusBadRequest)
		return
	}
	list, _ := s.inv.Find(r.Context(), l)
	if len(list) == 0 && l.Criterion == order.ByID && strings.HasPrefix(l.Value, "SP-") {
		list = []order.ServicePoint{point(l.Value)}
	}
	if len(list) == 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"error":"no service point"}`))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(list)
}

// callsFor returns how many times the server was asked for l.
func (s *inventoryServer) callsFor(l order.Lookup) int64 {
	if c, ok := s.perKey.Load(string(l.Criterion) + "=" + l.Value); ok {
		return c.(*atomic.Int64).Load()
	}
	return 0
}

// point returns a French service point of the given id.
func point(id string) order.ServicePoint {
	return order.ServicePoint{ID: id, Reference: "REF-" + id, CustomerReference: "CR-" + id, Name: "site " + id, Market: "FR", State: "OPERATIONAL"}
}

func byID(v string) order.Lookup { return order.Lookup{Criterion: order.ByID, Value: v} }

// redisTimeout is the Redis timeout of the tests' clients and resolvers.
const redisTimeout = 300 * time.Millisecond

// newClient returns a client of the Redis at addr configured as the worker's (see
// config.RedisOptions), with a hook that counts round trips.
func newClient(t testing.TB, addr string) (*redis.Client, *roundTripHook) {
	t.Helper()
	rdb := NewRedisClient(&redis.Options{Addr: addr, DialTimeout: redisTimeout, ReadTimeout: redisTimeout, WriteTimeout: redisTimeout})
	hook := &roundTripHook{commands: map[string]int{}}
	rdb.AddHook(hook)
	t.Cleanup(func() { rdb.Close() })
	return rdb, hook
}

// rawClient returns a client for the tests' own reads and writes, which no hook counts.
func rawClient(t testing.TB, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { c.Close() })
	return c
}

// newResolver returns a resolver on the Redis at addr under a fresh key prefix (unless opts
// names one), with a hook counting its round trips.
func newResolver(t testing.TB, addr string, inv Inventory, opts Options) (*Resolver, *roundTripHook) {
	t.Helper()
	rdb, hook := newClient(t, addr)
	if opts.KeyPrefix == "" {
		opts.KeyPrefix = testredis.Prefix(t)
	}
	return NewResolver(rdb, inv, opts), hook
}

// observed is what a recorder saw.
type observed struct {
	hits, misses, redisRounds, stale int
	cacheErrors                      map[string]int // by op
	corrupt                          map[string]int // by reason
	results                          map[string]int
}

// recorder is an Observer that records everything.
type recorder struct {
	mu sync.Mutex
	o  observed
}

func newRecorder() *recorder {
	return &recorder{o: observed{results: map[string]int{}, cacheErrors: map[string]int{}, corrupt: map[string]int{}}}
}

func (r *recorder) CacheHits(n int)            { r.mu.Lock(); r.o.hits += n; r.mu.Unlock() }
func (r *recorder) CacheMisses(n int)          { r.mu.Lock(); r.o.misses += n; r.mu.Unlock() }
func (r *recorder) CacheError(op string)       { r.mu.Lock(); r.o.cacheErrors[op]++; r.mu.Unlock() }
func (r *recorder) CacheCorrupt(reason string) { r.mu.Lock(); r.o.corrupt[reason]++; r.mu.Unlock() }
func (r *recorder) CacheStale(n int)           { r.mu.Lock(); r.o.stale += n; r.mu.Unlock() }
func (r *recorder) RedisRoundTrip()            { r.mu.Lock(); r.o.redisRounds++; r.mu.Unlock() }
func (r *recorder) InventoryCall(result string, d time.Duration) {
	r.mu.Lock()
	r.o.results[result]++
	r.mu.Unlock()
}

func (r *recorder) snapshot() observed {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.o
	c.results, c.cacheErrors, c.corrupt = maps.Clone(r.o.results), maps.Clone(r.o.cacheErrors), maps.Clone(r.o.corrupt)
	return c
}
