package servicepoint

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"
)

// NewRedisClient returns a go-redis client built from a copy of opts with
// ContextTimeoutEnabled set. Without it a frozen Redis (SIGSTOP, a long fork, a network
// partition) blocks each call for the client's full read timeout whatever the caller's
// context deadline says.
func NewRedisClient(opts *redis.Options) *redis.Client {
	o := *opts
	o.ContextTimeoutEnabled = true
	return redis.NewClient(&o)
}

// The modes of a Redis connection (the values of ORDERGATE_REDIS_MODE).
const (
	ModeSingle   = "single"
	ModeCluster  = "cluster"
	ModeSentinel = "sentinel"
)

// RedisObserver receives what a Redis connection sees, node by node; the worker feeds its
// metrics from it. Implementations must be cheap and safe for concurrent use.
type RedisObserver interface {
	// RedisNodeRoundTrip counts one exchange with one node (a command or a pipeline of
	// resolution; connection set-up and probes are not counted). node is host:port, or
	// "primary" for the primary a Sentinel deployment names.
	RedisNodeRoundTrip(node string)
	// RedisError counts one failed exchange (or one failed command), by kind: one of
	// RedisErrorKinds. An exchange that fails with several kinds counts each once.
	RedisError(kind string)
}

// Redis is the cache's connection in one of the three modes, with what its probe needs.
// It is a redis.UniversalClient: a *redis.Client for one server or a Sentinel-managed
// primary, a *redis.ClusterClient for a cluster (and for a Sentinel deployment that reads
// from replicas).
type Redis struct {
	redis.UniversalClient
	mode string

	// sentinel mode: the sentinels asked by Probe for the nodes they see
	master    string
	sentinels []*redis.SentinelClient
}

// OpenRedis returns the connection of opts (see config.Config.RedisUniversalOptions): a
// Sentinel-managed primary when MasterName is set, a cluster when IsClusterMode is, one
// server otherwise, with ContextTimeoutEnabled. Every node's exchanges and errors are
// reported to obs (nil: none): the hooks are installed before the first command, and on
// every cluster node as go-redis meets it.
func OpenRedis(opts *redis.UniversalOptions, obs RedisObserver) *Redis {
	o := *opts
	o.ContextTimeoutEnabled = true
	r := &Redis{mode: ModeSingle}
	switch {
	case o.MasterName != "":
		r.mode, r.master = ModeSentinel, o.MasterName
		for _, addr := range o.Addrs {
			r.sentinels = append(r.sentinels, redis.NewSentinelClient(&redis.Options{
				Addr: addr, Username: o.SentinelUsername, Password: o.SentinelPassword, TLSConfig: o.TLSConfig,
				DialTimeout: o.DialTimeout, ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout,
				ContextTimeoutEnabled: true, MaxRetries: -1,
			}))
		}
	case o.IsClusterMode:
		r.mode = ModeCluster
	}
	client := redis.NewUniversalClient(&o)
	r.UniversalClient = client
	r.instrument(obs)
	return r
}

// WrapRedis returns client (a single server's, as `ordergate dev` builds) as a connection,
// instrumented for obs (nil: not).
func WrapRedis(client redis.UniversalClient, obs RedisObserver) *Redis {
	r := &Redis{UniversalClient: client, mode: ModeSingle}
	if _, ok := client.(*redis.ClusterClient); ok {
		r.mode = ModeCluster
	}
	r.instrument(obs)
	return r
}

// Mode returns ModeSingle, ModeCluster or ModeSentinel.
func (r *Redis) Mode() string { return r.mode }

// Close closes the client and the sentinels' connections.
func (r *Redis) Close() error {
	err := r.UniversalClient.Close()
	for _, s := range r.sentinels {
		_ = s.Close()
	}
	return err
}

func (r *Redis) instrument(obs RedisObserver) {
	if obs == nil {
		return
	}
	switch c := r.UniversalClient.(type) {
	case *redis.ClusterClient:
		c.OnNewNode(func(node *redis.Client) {
			node.AddHook(nodeHook{node: node.Options().Addr, obs: obs})
		})
	case *redis.Client:
		node := c.Options().Addr
		if r.mode == ModeSentinel {
			node = "primary" // the failover client follows the primary wherever it goes
		}
		c.AddHook(nodeHook{node: node, obs: obs})
	}
}

// Nodes counts the nodes a probe saw, by role.
type Nodes struct {
	Primaries, Replicas, Sentinels int
}

// Probe checks that Redis can serve resolution, as the mode needs it, and counts the nodes
// it sees:
//
//   - single: the server answers PING;
//   - cluster: every primary of the slot map answers PING (the map reloaded once if one
//     does not: a failover may have replaced it) and the cluster reports cluster_state:ok;
//     the nodes are those of CLUSTER SLOTS;
//   - sentinel: the primary answers PING (through the failover client, which asks the
//     sentinels where it is); the replicas and the sentinels are those the first answering
//     sentinel reports in good health. A sentinel that does not answer is not a failure of
//     the cache (the primary serves; only the next failover needs them): it shows in
//     Nodes.Sentinels.
func (r *Redis) Probe(ctx context.Context) (Nodes, error) {
	switch r.mode {
	case ModeCluster:
		if c, ok := r.UniversalClient.(*redis.ClusterClient); ok {
			return probeCluster(ctx, c)
		}
	case ModeSentinel:
		if err := r.Ping(ctx).Err(); err != nil {
			return Nodes{}, fmt.Errorf("primary %s: %w", r.master, err)
		}
		n := Nodes{Primaries: 1}
		for _, s := range r.sentinels {
			replicas, err := s.Replicas(ctx, r.master).Result()
			if err != nil {
				continue
			}
			others, err := s.Sentinels(ctx, r.master).Result()
			if err != nil {
				continue
			}
			n.Replicas = healthy(replicas)
			n.Sentinels = 1 + healthy(others)
			break
		}
		return n, nil
	}
	if err := r.Ping(ctx).Err(); err != nil {
		return Nodes{}, err
	}
	return Nodes{Primaries: 1}, nil
}

func probeCluster(ctx context.Context, c *redis.ClusterClient) (Nodes, error) {
	ping := func(ctx context.Context, node *redis.Client) error {
		if err := node.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("primary %s: %w", node.Options().Addr, err)
		}
		return nil
	}
	if err := c.ForEachMaster(ctx, ping); err != nil {
		c.ReloadState(ctx)
		if err := c.ForEachMaster(ctx, ping); err != nil {
			return Nodes{}, err
		}
	}
	info, err := c.ClusterInfo(ctx).Result()
	if err != nil {
		return Nodes{}, fmt.Errorf("cluster info: %w", err)
	}
	if !strings.Contains(info, "cluster_state:ok") {
		return Nodes{}, errors.New("cluster_state is not ok: some slots have no primary that answers")
	}
	slots, err := c.ClusterSlots(ctx).Result()
	if err != nil {
		return Nodes{}, fmt.Errorf("cluster slots: %w", err)
	}
	primaries, replicas := map[string]bool{}, map[string]bool{}
	for _, s := range slots {
		for i, n := range s.Nodes {
			if i == 0 {
				primaries[n.Addr] = true
			} else {
				replicas[n.Addr] = true
			}
		}
	}
	return Nodes{Primaries: len(primaries), Replicas: len(replicas)}, nil
}

// healthy counts the nodes a sentinel reports without a down or disconnected flag.
func healthy(nodes []map[string]string) int {
	n := 0
	for _, node := range nodes {
		flags := node["flags"]
		if !strings.Contains(flags, "s_down") && !strings.Contains(flags, "o_down") && !strings.Contains(flags, "disconnected") {
			n++
		}
	}
	return n
}

// The kinds of Redis errors, as reported to RedisObserver.RedisError: a small fixed set,
// fit for a metric label.
const (
	// KindTimeout: no answer in time (a frozen or overloaded server, a partition).
	KindTimeout = "timeout"
	// KindConnection: the connection was refused, reset or closed.
	KindConnection = "connection"
	// KindMoved and KindAsk: a cluster node redirected a command (resharding, failover);
	// go-redis follows the redirection, so these are seen, not failures, unless they
	// exhaust its redirects.
	KindMoved = "moved"
	KindAsk   = "ask"
	// KindTryAgain, KindClusterDown, KindLoading, KindReadOnly, KindMasterDown: the states of
	// a cluster or a replica set on the move (a slot being migrated, no primary for a slot,
	// a server loading its data, a write to a demoted primary, a replica without its
	// primary). All transient: retried, never a decision.
	KindTryAgain    = "tryagain"
	KindClusterDown = "clusterdown"
	KindLoading     = "loading"
	KindReadOnly    = "readonly"
	KindMasterDown  = "masterdown"
	// KindAuth: the credentials or the ACL refused (NOAUTH, WRONGPASS, NOPERM).
	KindAuth = "auth"
	// KindOOM: Redis is full and refuses writes (maxmemory with noeviction).
	KindOOM = "oom"
	// KindOther: anything else.
	KindOther = "other"
)

// RedisErrorKinds lists every kind, for metrics that pre-declare their label values.
var RedisErrorKinds = []string{KindTimeout, KindConnection, KindMoved, KindAsk, KindTryAgain, KindClusterDown,
	KindLoading, KindReadOnly, KindMasterDown, KindAuth, KindOOM, KindOther}

// RedisErrorKind classifies err, a Redis error that is not redis.Nil.
func RedisErrorKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return KindTimeout
	case isMoved(err):
		return KindMoved
	case isAsk(err):
		return KindAsk
	case redis.IsTryAgainError(err):
		return KindTryAgain
	case redis.IsClusterDownError(err):
		return KindClusterDown
	case redis.IsLoadingError(err):
		return KindLoading
	case redis.IsReadOnlyError(err):
		return KindReadOnly
	case redis.IsMasterDownError(err):
		return KindMasterDown
	case redis.IsAuthError(err) || redis.IsPermissionError(err) || redis.HasErrorPrefix(err, "WRONGPASS"):
		return KindAuth
	case redis.IsOOMError(err):
		return KindOOM
	case errors.As(err, new(*net.OpError)) || errors.Is(err, net.ErrClosed) || errors.Is(err, redis.ErrClosed) ||
		strings.Contains(err.Error(), "EOF") || strings.Contains(err.Error(), "connection reset"):
		return KindConnection
	}
	return KindOther
}

func isMoved(err error) bool { _, ok := redis.IsMovedError(err); return ok }
func isAsk(err error) bool   { _, ok := redis.IsAskError(err); return ok }

// nodeHook reports the exchanges and errors of one node's client.
type nodeHook struct {
	node string
	obs  RedisObserver
}

func (h nodeHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h nodeHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if connectionSetup(cmd.Name()) {
			return err // go-redis's own, or a probe's: readiness reports it
		}
		h.obs.RedisNodeRoundTrip(h.node)
		if reportable(ctx, err) {
			h.obs.RedisError(RedisErrorKind(err))
		}
		return err
	}
}

func (h nodeHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		if len(cmds) == 0 || connectionSetup(cmds[0].Name()) {
			return err // a new connection's set-up (CLIENT SETINFO may fail on an older Redis: go-redis ignores it)
		}
		h.obs.RedisNodeRoundTrip(h.node)
		var seen [16]string
		kinds := seen[:0]
		for _, cmd := range cmds {
			if e := cmd.Err(); reportable(ctx, e) && !connectionSetup(cmd.Name()) {
				if k := RedisErrorKind(e); !slices.Contains(kinds, k) {
					kinds = append(kinds, k)
					h.obs.RedisError(k)
				}
			}
		}
		return err
	}
}

// reportable tells a failure of Redis from an answer (redis.Nil), a value of the wrong type
// (a corrupt cache entry, counted as such) and the caller giving up.
func reportable(ctx context.Context, err error) bool {
	return err != nil && !errors.Is(err, redis.Nil) && !redis.HasErrorPrefix(err, "WRONGTYPE") &&
		!(errors.Is(err, context.Canceled) && ctx.Err() != nil)
}

// connectionSetup tells the commands go-redis sends on its own (to open a connection, to
// learn a cluster's map and commands) and the probes' from the exchanges of resolution.
func connectionSetup(name string) bool {
	switch name {
	case "hello", "auth", "client", "select", "readonly", "ping", "cluster", "command", "sentinel", "info":
		return true
	}
	return false
}
