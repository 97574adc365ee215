package testredis

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// ClusterOptions configure StartCluster. The zero value is 3 primaries with one replica
// each and a node timeout of 2 s.
type ClusterOptions struct {
	// Primaries is the number of primaries (default 3), which share the 16384 slots.
	Primaries int
	// Replicas is the number of replicas of each primary (default 1).
	Replicas int
	// NodeTimeout is cluster-node-timeout (default 2s): a primary that does not answer for
	// that long is failed over to its replica, a few hundred milliseconds later.
	NodeTimeout time.Duration
	// Password, when set, is every node's requirepass and masterauth (the default user's).
	Password string
	// Args are more arguments of every node.
	Args []string
	// TLS, when set, gives every node a TLS port too (TLSAddrs), with this certificate, and
	// makes the cluster bus and the replication use TLS. The plain ports stay, for the test's
	// own commands.
	TLS *TLSFiles
}

// TLSFiles are the PEM files of a server certificate, its key and the CA that signs it.
type TLSFiles struct {
	CertFile, KeyFile, CAFile string
}

// Cluster is a Redis Cluster of redis-server processes on spare ports of 127.0.0.1, made
// by `redis-cli --cluster create`, each node a Server that the test can kill, stop and
// restart (its nodes.conf survives in its directory, so it rejoins with its identity; its
// data does not: nothing persists). Every node is killed when the test ends. Its methods
// must be called from the test's goroutine.
type Cluster struct {
	t     testing.TB
	opts  ClusterOptions
	Nodes []*Server
	tls   []string // the nodes' TLS addresses, with ClusterOptions.TLS
}

// StartCluster starts the nodes, creates the cluster and returns once every node reports
// cluster_state:ok, knows every other node, and every replica is in sync. redis-server and
// redis-cli must be on PATH.
func StartCluster(t testing.TB, opts ClusterOptions) *Cluster {
	t.Helper()
	needCLI(t)
	if opts.Primaries <= 0 {
		opts.Primaries = 3
	}
	if opts.Replicas < 0 {
		opts.Replicas = 0
	} else if opts.Replicas == 0 {
		opts.Replicas = 1
	}
	if opts.NodeTimeout <= 0 {
		opts.NodeTimeout = 2 * time.Second
	}
	args := []string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
		"--cluster-node-timeout", strconv.FormatInt(opts.NodeTimeout.Milliseconds(), 10)}
	if opts.Password != "" {
		args = append(args, "--requirepass", opts.Password, "--masterauth", opts.Password)
	}
	args = append(args, opts.Args...)
	c := &Cluster{t: t, opts: opts}
	n := opts.Primaries * (1 + opts.Replicas)
	for range n {
		nodeArgs := args
		if f := opts.TLS; f != nil {
			port, err := sparePort()
			if err != nil {
				t.Fatalf("testredis: no spare port: %v", err)
			}
			nodeArgs = append(append([]string(nil), args...), "--tls-port", strconv.Itoa(port), "--tls-cluster", "yes",
				"--tls-replication", "yes", "--tls-cert-file", f.CertFile, "--tls-key-file", f.KeyFile,
				"--tls-ca-cert-file", f.CAFile, "--tls-auth-clients", "no")
			c.tls = append(c.tls, "127.0.0.1:"+strconv.Itoa(port))
		}
		c.Nodes = append(c.Nodes, Start(t, nodeArgs...))
	}
	create := append([]string{"--cluster", "create"}, c.Addrs()...)
	create = append(create, "--cluster-replicas", strconv.Itoa(opts.Replicas), "--cluster-yes")
	if out, err := c.cli(create...); err != nil {
		t.Fatalf("testredis: redis-cli --cluster create: %v\n%s", err, out)
	}
	c.wait(30*time.Second, true)
	return c
}

// needCLI fails the test when redis-cli is missing.
func needCLI(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Fatalf("testredis: redis-cli is not on PATH (%v): install it (Debian/Ubuntu package redis-tools; "+
			"`make test` runs scripts/ensure-redis.sh)", err)
	}
}

// cli runs redis-cli with args (and the cluster's password) and returns its output.
func (c *Cluster) cli(args ...string) (string, error) {
	if c.opts.Password != "" {
		args = append([]string{"-a", c.opts.Password, "--no-auth-warning"}, args...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "redis-cli", args...).CombinedOutput()
	return string(out), err
}

// Addrs returns the address of every node, host:port.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.Nodes))
	for i, s := range c.Nodes {
		addrs[i] = s.Addr()
	}
	return addrs
}

// TLSAddrs returns the TLS address of every node (ClusterOptions.TLS), in the order of
// Nodes.
func (c *Cluster) TLSAddrs() []string { return append([]string(nil), c.tls...) }

// Client returns a client of one node, for the test's own commands; it is closed when the
// test ends.
func (c *Cluster) Client(s *Server) *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr(), Password: c.opts.Password, DialTimeout: time.Second,
		ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second, MaxRetries: -1})
	c.t.Cleanup(func() { rdb.Close() })
	return rdb
}

// WaitOK waits until every running node reports cluster_state:ok with all 16384 slots
// served by primaries that no running node flags as failing, and fails the test after
// timeout. After a primary is killed, it returns once its replica has taken over.
func (c *Cluster) WaitOK(timeout time.Duration) {
	c.t.Helper()
	c.wait(timeout, false)
}

func (c *Cluster) wait(timeout time.Duration, full bool) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		problem := c.problem(full)
		if problem == "" {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("testredis: cluster not ok after %v: %s", timeout, problem)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// problem returns what keeps the cluster from being ok, or "". With full, every node must
// also be running, known to every other, and every replica in sync with its primary.
func (c *Cluster) problem(full bool) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, s := range c.Nodes {
		if s.PID() == 0 {
			if full {
				return s.Addr() + " is not running"
			}
			continue
		}
		rdb := redis.NewClient(&redis.Options{Addr: s.Addr(), Password: c.opts.Password, MaxRetries: -1})
		info, err := rdb.ClusterInfo(ctx).Result()
		var repl string
		if err == nil && full {
			repl, err = rdb.Info(ctx, "replication").Result()
		}
		rdb.Close()
		if err != nil {
			return s.Addr() + ": " + err.Error()
		}
		for _, want := range []string{"cluster_state:ok", "cluster_slots_ok:16384", "cluster_slots_pfail:0", "cluster_slots_fail:0"} {
			if !strings.Contains(info, want+"\r\n") {
				return s.Addr() + " lacks " + want
			}
		}
		for _, n := range c.viewOf(ctx, rdbFor(c, s)) {
			if n.primary && n.slots > 0 && (n.failing || c.stopped(n.addr)) {
				return s.Addr() + " still has " + n.addr + " serve slots while it is down"
			}
		}
		if full {
			if !strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(len(c.Nodes))+"\r\n") {
				return s.Addr() + " does not know every node yet"
			}
			if strings.Contains(repl, "role:slave") && !strings.Contains(repl, "master_link_status:up") {
				return s.Addr() + " is a replica not in sync yet"
			}
		}
	}
	return ""
}

// node is one line of CLUSTER NODES.
type node struct {
	id, addr string
	primary  bool
	failing  bool
	slots    int
	first    int // the lowest slot served, -1 for none
}

// view returns the cluster as the first running node sees it.
func (c *Cluster) view() []node {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, s := range c.Nodes {
		if s.PID() == 0 {
			continue
		}
		if nodes := c.viewOf(ctx, rdbFor(c, s)); nodes != nil {
			return nodes
		}
	}
	c.t.Fatal("testredis: no cluster node answers CLUSTER NODES")
	return nil
}

// rdbFor returns a client of s for one call; viewOf closes it.
func rdbFor(c *Cluster, s *Server) *redis.Client {
	return redis.NewClient(&redis.Options{Addr: s.Addr(), Password: c.opts.Password, MaxRetries: -1})
}

// viewOf returns the cluster as rdb's node sees it (nil when it does not answer), and
// closes rdb.
func (c *Cluster) viewOf(ctx context.Context, rdb *redis.Client) []node {
	out, err := rdb.ClusterNodes(ctx).Result()
	rdb.Close()
	if err != nil {
		return nil
	}
	var nodes []node
	for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		n := node{id: f[0], addr: strings.Split(f[1], "@")[0], primary: strings.Contains(f[2], "master"),
			failing: strings.Contains(f[2], "fail"), first: -1}
		for _, r := range f[8:] {
			if strings.HasPrefix(r, "[") {
				continue // a slot being migrated or imported
			}
			lo, hi, ok := strings.Cut(r, "-")
			a, _ := strconv.Atoi(lo)
			b := a
			if ok {
				b, _ = strconv.Atoi(hi)
			}
			n.slots += b - a + 1
			if n.first < 0 || a < n.first {
				n.first = a
			}
		}
		nodes = append(nodes, n)
	}
	return nodes
}

// stopped reports whether the node at addr is one of this cluster's and not running.
func (c *Cluster) stopped(addr string) bool {
	for _, s := range c.Nodes {
		if s.Addr() == addr {
			return s.PID() == 0
		}
	}
	return false
}

// Primaries returns the primaries that serve slots and are not failing, in the order of
// Nodes.
func (c *Cluster) Primaries() []*Server {
	c.t.Helper()
	byAddr := map[string]bool{}
	for _, n := range c.view() {
		if n.primary && !n.failing && n.slots > 0 {
			byAddr[n.addr] = true
		}
	}
	var out []*Server
	for _, s := range c.Nodes {
		if byAddr[s.Addr()] {
			out = append(out, s)
		}
	}
	return out
}

// Slots returns how many slots s serves as a primary, as s itself says.
func (c *Cluster) Slots(s *Server) int { return c.self(s).slots }

// FirstSlot returns the lowest slot s serves as a primary (as s itself says), -1 for none:
// `redis-cli --cluster reshard` moves a source's slots lowest first.
func (c *Cluster) FirstSlot(s *Server) int { return c.self(s).first }

// self returns s as it sees itself, a primary serving no slot when it is not a primary.
func (c *Cluster) self(s *Server) node {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, n := range c.viewOf(ctx, rdbFor(c, s)) {
		if n.addr == s.Addr() && n.primary {
			return n
		}
	}
	return node{addr: s.Addr(), first: -1}
}

// ID returns the cluster node id of s.
func (c *Cluster) ID(s *Server) string {
	c.t.Helper()
	for _, n := range c.view() {
		if n.addr == s.Addr() {
			return n.id
		}
	}
	c.t.Fatalf("testredis: %s is not in CLUSTER NODES", s.Addr())
	return ""
}

// Reshard moves slots slots, with their keys, from primary from to primary to with
// `redis-cli --cluster reshard`, pipeline keys at a time (MIGRATE batches: small ones make
// the move last and clients meet ASK and MOVED), and returns when it is done.
func (c *Cluster) Reshard(from, to *Server, slots, pipeline int) string {
	c.t.Helper()
	out, err := c.cli("--cluster", "reshard", to.Addr(), "--cluster-from", c.ID(from), "--cluster-to", c.ID(to),
		"--cluster-slots", strconv.Itoa(slots), "--cluster-pipeline", strconv.Itoa(max(pipeline, 1)), "--cluster-yes")
	if err != nil {
		c.t.Fatalf("testredis: redis-cli --cluster reshard: %v\n%s", err, tail(out, 2000))
	}
	return out
}

// KillAll kills every node (SIGKILL), as a whole cluster going down.
func (c *Cluster) KillAll() {
	for _, s := range c.Nodes {
		s.Kill()
	}
}

// RestartAll starts every node that is not running again (each with its nodes.conf, none
// with data) and waits until the cluster is ok.
func (c *Cluster) RestartAll(timeout time.Duration) {
	c.t.Helper()
	for _, s := range c.Nodes {
		if s.PID() == 0 {
			s.Restart()
		}
	}
	c.WaitOK(timeout)
}

// String describes the cluster: each node's address, role and slot count.
func (c *Cluster) String() string {
	var b strings.Builder
	for _, n := range c.view() {
		role := "replica"
		if n.primary {
			role = "primary"
		}
		if n.failing {
			role += " (failing)"
		}
		fmt.Fprintf(&b, "%s %s %d slots; ", n.addr, role, n.slots)
	}
	return strings.TrimSuffix(b.String(), "; ")
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
