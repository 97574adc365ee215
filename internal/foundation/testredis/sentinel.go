package testredis

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// SentinelOptions configure StartSentinel. The zero value is a primary named "ordergate"
// with one replica, watched by three sentinels (quorum 2) that fail it over after 1 s.
type SentinelOptions struct {
	// Master is the name the sentinels monitor the primary under (default "ordergate").
	Master string
	// Password, when set, is the data nodes' requirepass and masterauth, given to the
	// sentinels (sentinel auth-pass).
	Password string
	// SentinelPassword, when set, is the sentinels' requirepass (and sentinel-pass, which
	// they use among themselves).
	SentinelPassword string
	// DownAfter is down-after-milliseconds (default 1s).
	DownAfter time.Duration
	// Args are more arguments of the data nodes.
	Args []string
}

// Sentinel is a primary, its replica and three sentinels, redis-server processes on spare
// ports of 127.0.0.1 (the sentinels run `redis-server sentinel.conf --sentinel`). Every
// process is killed when the test ends. Its methods must be called from the test's
// goroutine.
type Sentinel struct {
	t    testing.TB
	opts SentinelOptions
	// Data are the data nodes: the first primary, then its replica. Which one is the primary
	// changes with failovers: see Primary.
	Data []*Server
	// Sentinels are the three sentinels.
	Sentinels []*Server
}

// StartSentinel starts the primary, the replica and the sentinels, and returns once the
// replica is in sync and every sentinel knows the replica and the two other sentinels.
func StartSentinel(t testing.TB, opts SentinelOptions) *Sentinel {
	t.Helper()
	if opts.Master == "" {
		opts.Master = "ordergate"
	}
	if opts.DownAfter <= 0 {
		opts.DownAfter = time.Second
	}
	data := append([]string(nil), opts.Args...)
	if opts.Password != "" {
		data = append(data, "--requirepass", opts.Password, "--masterauth", opts.Password)
	}
	s := &Sentinel{t: t, opts: opts}
	primary := Start(t, data...)
	replica := Start(t, append(data, "--replicaof", "127.0.0.1", strconv.Itoa(primary.Port()))...)
	s.Data = []*Server{primary, replica}
	dir := t.TempDir()
	for i := range 3 {
		conf := filepath.Join(dir, fmt.Sprintf("sentinel-%d.conf", i))
		lines := []string{
			fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 2", opts.Master, primary.Port()),
			fmt.Sprintf("sentinel down-after-milliseconds %s %d", opts.Master, opts.DownAfter.Milliseconds()),
			fmt.Sprintf("sentinel failover-timeout %s 10000", opts.Master),
			fmt.Sprintf("sentinel parallel-syncs %s 1", opts.Master),
		}
		if opts.Password != "" {
			lines = append(lines, fmt.Sprintf("sentinel auth-pass %s %s", opts.Master, opts.Password))
		}
		if opts.SentinelPassword != "" {
			lines = append(lines, "requirepass "+opts.SentinelPassword, "sentinel sentinel-pass "+opts.SentinelPassword)
		}
		if err := os.WriteFile(conf, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		s.Sentinels = append(s.Sentinels, start(t, conf, "--sentinel"))
	}
	s.waitReady(30 * time.Second)
	return s
}

// Master returns the name the sentinels monitor the primary under.
func (s *Sentinel) Master() string { return s.opts.Master }

// Addrs returns the sentinels' addresses, host:port.
func (s *Sentinel) Addrs() []string {
	addrs := make([]string, len(s.Sentinels))
	for i, n := range s.Sentinels {
		addrs[i] = n.Addr()
	}
	return addrs
}

// sentinel returns a client of a sentinel; the caller closes it.
func (s *Sentinel) sentinel(n *Server) *redis.SentinelClient {
	return redis.NewSentinelClient(&redis.Options{Addr: n.Addr(), Password: s.opts.SentinelPassword,
		DialTimeout: time.Second, ReadTimeout: 2 * time.Second, MaxRetries: -1})
}

// DataClient returns a client of a data node, for the test's own commands; it is closed
// when the test ends.
func (s *Sentinel) DataClient(n *Server) *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: n.Addr(), Password: s.opts.Password, DialTimeout: time.Second,
		ReadTimeout: 2 * time.Second, MaxRetries: -1})
	s.t.Cleanup(func() { rdb.Close() })
	return rdb
}

func (s *Sentinel) waitReady(timeout time.Duration) {
	s.t.Helper()
	s.waitFor(timeout, func(ctx context.Context) string {
		for _, n := range s.Data {
			role, err := s.role(ctx, n)
			if err != nil {
				return n.Addr() + ": " + err.Error()
			}
			if strings.Contains(role, "role:slave") && !strings.Contains(role, "master_link_status:up") {
				return n.Addr() + " is a replica not in sync yet"
			}
		}
		for _, n := range s.Sentinels {
			c := s.sentinel(n)
			replicas, err1 := c.Replicas(ctx, s.opts.Master).Result()
			others, err2 := c.Sentinels(ctx, s.opts.Master).Result()
			c.Close()
			switch {
			case err1 != nil || err2 != nil:
				return fmt.Sprintf("sentinel %s: %v %v", n.Addr(), err1, err2)
			case healthyNodes(replicas) != len(s.Data)-1 || healthyNodes(others) != len(s.Sentinels)-1:
				return fmt.Sprintf("sentinel %s sees %d replicas and %d other sentinels in good health", n.Addr(),
					healthyNodes(replicas), healthyNodes(others))
			}
		}
		return ""
	})
}

// role returns INFO replication of a data node.
func (s *Sentinel) role(ctx context.Context, n *Server) (string, error) {
	rdb := redis.NewClient(&redis.Options{Addr: n.Addr(), Password: s.opts.Password, MaxRetries: -1})
	defer rdb.Close()
	return rdb.Info(ctx, "replication").Result()
}

// Primary returns the data node the sentinels name as the primary, once every running
// sentinel agrees and that node reports itself a primary; it fails the test after 30 s.
func (s *Sentinel) Primary() *Server {
	s.t.Helper()
	var primary *Server
	s.waitFor(30*time.Second, func(ctx context.Context) string {
		var err error
		primary, err = s.named(ctx)
		if err != nil {
			return err.Error()
		}
		return ""
	})
	return primary
}

// WaitFailover waits until the sentinels name a primary other than old and it answers as
// one, and returns it.
func (s *Sentinel) WaitFailover(old *Server, timeout time.Duration) *Server {
	s.t.Helper()
	var primary *Server
	s.waitFor(timeout, func(ctx context.Context) string {
		p, err := s.named(ctx)
		switch {
		case err != nil:
			return err.Error()
		case p == old:
			return "the sentinels still name " + old.Addr()
		}
		primary = p
		return ""
	})
	return primary
}

// WaitReplicas waits until every running sentinel sees n replicas in good health (a former
// primary brought back is turned into a replica of the new one).
func (s *Sentinel) WaitReplicas(n int, timeout time.Duration) {
	s.t.Helper()
	s.waitFor(timeout, func(ctx context.Context) string {
		for _, sn := range s.Sentinels {
			if sn.PID() == 0 {
				continue
			}
			c := s.sentinel(sn)
			replicas, err := c.Replicas(ctx, s.opts.Master).Result()
			c.Close()
			if err != nil {
				return err.Error()
			}
			if got := healthyNodes(replicas); got != n {
				return fmt.Sprintf("sentinel %s sees %d replicas in good health, want %d", sn.Addr(), got, n)
			}
		}
		return ""
	})
}

// named returns the data node every running sentinel names as the primary, if they agree
// and it reports role:master.
func (s *Sentinel) named(ctx context.Context) (*Server, error) {
	addr := ""
	for _, n := range s.Sentinels {
		if n.PID() == 0 {
			continue
		}
		c := s.sentinel(n)
		hp, err := c.GetMasterAddrByName(ctx, s.opts.Master).Result()
		c.Close()
		if err != nil {
			return nil, fmt.Errorf("sentinel %s: %w", n.Addr(), err)
		}
		a := hp[0] + ":" + hp[1]
		if addr != "" && a != addr {
			return nil, fmt.Errorf("the sentinels disagree: %s and %s", addr, a)
		}
		addr = a
	}
	for _, d := range s.Data {
		if d.Addr() != addr {
			continue
		}
		role, err := s.role(ctx, d)
		if err != nil {
			return nil, fmt.Errorf("primary %s: %w", addr, err)
		}
		if !strings.Contains(role, "role:master") {
			return nil, fmt.Errorf("%s is named but is not a primary yet", addr)
		}
		return d, nil
	}
	return nil, fmt.Errorf("the sentinels name %q, not a data node", addr)
}

func (s *Sentinel) waitFor(timeout time.Duration, problem func(context.Context) string) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		p := problem(ctx)
		cancel()
		if p == "" {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("testredis: sentinel deployment not ready after %v: %s", timeout, p)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// healthyNodes counts the nodes a sentinel reports without a down or disconnected flag.
func healthyNodes(nodes []map[string]string) int {
	n := 0
	for _, node := range nodes {
		flags := node["flags"]
		if !strings.Contains(flags, "s_down") && !strings.Contains(flags, "o_down") && !strings.Contains(flags, "disconnected") {
			n++
		}
	}
	return n
}
