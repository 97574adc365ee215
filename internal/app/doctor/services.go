package doctor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/ordergate/ordergate/internal/app/worker"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/processor/servicepoint"
)

// checkRedis checks that Redis answers, takes writes under the key prefix, and evicts when
// full.
func checkRedis(ctx context.Context, r *Report, o Options) {
	if o.blocked("ORDERGATE_REDIS_URL", "ORDERGATE_REDIS_TIMEOUT") {
		r.add("redis", Error, "not checked: ORDERGATE_REDIS_URL is not valid (see the config findings)", "")
		return
	}
	opts, err := o.Config.RedisOptions()
	if err != nil {
		r.add("redis", Error, o.scrub(err), "correct ORDERGATE_REDIS_URL")
		return
	}
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = o.Timeout, o.Timeout, o.Timeout
	opts.MaxRetries = -1 // one answer, not go-redis's retries
	client := servicepoint.NewRedisClient(opts)
	defer client.Close()
	cctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	if err := client.Ping(cctx).Err(); err != nil {
		fix := "check the host and port in ORDERGATE_REDIS_URL (rediss:// for TLS) and the network"
		if isRedisAuthError(err) {
			fix = "check the user and password in ORDERGATE_REDIS_URL"
		}
		r.add("redis", Error, "Redis does not answer PING: "+o.scrub(err), fix)
		return
	}
	var random [6]byte
	_, _ = rand.Read(random[:])
	key := o.Config.RedisKeyPrefix + "doctor:" + hex.EncodeToString(random[:])
	if err := client.Set(cctx, key, "1", 10*time.Second).Err(); err != nil {
		r.add("redis", Error, "Redis refuses a write under the key prefix: "+o.scrub(err),
			"give the Redis user SET, GET and MGET on keys starting with "+o.Config.RedisKeyPrefix+" (docs/security.md)")
		return
	}
	client.Del(cctx, key)
	r.ok("redis", "Redis answers and takes writes under %q", o.Config.RedisKeyPrefix)
	policy, err := client.ConfigGet(cctx, "maxmemory-policy").Result()
	switch {
	case err != nil || policy["maxmemory-policy"] == "":
		r.ok("redis.eviction", "maxmemory-policy not readable (CONFIG is refused, as on managed Redis); make sure it evicts: allkeys-lru or volatile-ttl")
	case policy["maxmemory-policy"] == "noeviction":
		r.add("redis.eviction", Warning, "maxmemory-policy is noeviction: a full Redis refuses new cache entries, and every lookup then goes to the inventory",
			"set maxmemory and maxmemory-policy allkeys-lru (or volatile-ttl: every entry has a TTL)")
	default:
		r.ok("redis.eviction", "maxmemory-policy is %s", policy["maxmemory-policy"])
	}
}

func isRedisAuthError(err error) bool {
	msg := strings.ToUpper(err.Error())
	return strings.Contains(msg, "WRONGPASS") || strings.Contains(msg, "NOAUTH") || strings.Contains(msg, "NOPERM")
}

// checkInventory checks that the inventory answers, and knows o.ServicePoint.
func checkInventory(ctx context.Context, r *Report, o Options) {
	cfg := o.Config
	if o.blocked("ORDERGATE_INVENTORY_URL", "ORDERGATE_INVENTORY_TOKEN", "ORDERGATE_INVENTORY_FILE", "ORDERGATE_INVENTORY_TIMEOUT") {
		r.add("inventory", Error, "not checked: the inventory settings are not valid (see the config findings)", "")
		return
	}
	var inv servicepoint.Inventory
	where := ""
	switch {
	case cfg.InventoryFile != "":
		f, err := servicepoint.LoadFileInventory(cfg.InventoryFile)
		if err != nil {
			r.add("inventory", Error, "ORDERGATE_INVENTORY_FILE: "+o.scrub(err), "correct the file (a JSON array of service points)")
			return
		}
		inv, where = f, "the inventory file"
	case cfg.InventoryURL != "":
		inv, where = servicepoint.NewHTTPInventory(cfg.InventoryURL, string(cfg.InventoryToken), min(cfg.InventoryTimeout, o.Timeout), nil), "the inventory at "+cfg.InventoryURL
	default:
		return // reported by checkConfig
	}
	probe := o.ServicePoint
	if probe == "" {
		probe = "ordergate-doctor-no-such-service-point"
	}
	cctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	matches, err := inv.Find(cctx, order.Lookup{Criterion: order.ByID, Value: probe})
	switch {
	case err != nil:
		r.add("inventory", Error, fmt.Sprintf("%s fails: %s", where, o.scrub(err)),
			"check ORDERGATE_INVENTORY_URL (the worker asks {url}/servicePoints?id=...; a gateway's page means a wrong path), ORDERGATE_INVENTORY_TOKEN and the service itself; the worker would retry every BVPN request until it answers")
	case o.ServicePoint == "":
		r.ok("inventory", "%s answers (pass --service-point ID to check that it finds a service point you know)", where)
	case len(matches) == 0:
		r.add("inventory", Error,
			fmt.Sprintf("%s has no service point with id %q (it answered: none)", where, o.ServicePoint),
			"check that ORDERGATE_INVENTORY_URL points at the right inventory (environment, path): valid requests naming this service point would be rejected 3622")
	default:
		r.ok("inventory", "%s finds service point %q", where, o.ServicePoint)
	}
}

// checkClients reads the clients file as the worker does.
func checkClients(r *Report, o Options) {
	path := o.Config.ClientsFile
	switch {
	case o.blocked("ORDERGATE_CLIENTS_FILE"):
		return // reported by checkConfig
	case path == "":
		r.add("clients", Warning, "ORDERGATE_CLIENTS_FILE is not set: only PATCH-billingAccountById requests need credentials, checked by presence and length",
			"set it in production (contract section 5; ordergate clients hash computes the digests)")
		return
	}
	c, err := worker.LoadClients(path)
	if err != nil {
		r.add("clients", Error, o.scrub(err), "correct the file: "+order.ClientsShape+" (ordergate clients check FILE)")
		return
	}
	r.ok("clients", "%s: %d clients", path, c.Len())
}

// checkHTTP checks that the address of the endpoints can be listened on.
func checkHTTP(r *Report, o Options) {
	if o.blocked("ORDERGATE_HTTP_ADDR") {
		return
	}
	l, err := net.Listen("tcp", o.Config.HTTPAddr)
	if err != nil {
		r.add("http", Warning, fmt.Sprintf("ORDERGATE_HTTP_ADDR=%s cannot be listened on: %s", o.Config.HTTPAddr, o.scrub(err)),
			"free the port (is a worker running here already?) or set ORDERGATE_HTTP_ADDR; run stops at once when it cannot listen")
		return
	}
	l.Close()
	r.ok("http", "%s is free for /metrics, /healthz and /readyz", o.Config.HTTPAddr)
}
