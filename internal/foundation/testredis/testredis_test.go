package testredis

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func client(t *testing.T, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 300 * time.Millisecond,
		ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond, MaxRetries: -1,
		ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	return c
}

func TestServerLifecycle(t *testing.T) {
	s := Start(t)
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") || s.URL() != "redis://"+s.Addr()+"/0" {
		t.Fatalf("Addr %q URL %q", s.Addr(), s.URL())
	}
	ctx := context.Background()
	c := client(t, s.Addr())
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	cfg, err := c.ConfigGet(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if cfg["save"] != "" || cfg["appendonly"] != "no" {
		t.Errorf("persistence on: save=%q appendonly=%q", cfg["save"], cfg["appendonly"])
	}
	pid := s.PID()
	if pid == 0 {
		t.Fatal("no pid while running")
	}

	s.Stop()
	if s.PID() != 0 {
		t.Error("pid still set after Stop")
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process %d still exists after Stop: %v", pid, err)
	}
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("PING answered after Stop")
	}
	s.Stop() // stopping twice is harmless

	port := s.Port()
	s.Restart()
	if s.Port() != port || s.PID() == pid {
		t.Fatalf("restart: port %d -> %d, pid %d -> %d", port, s.Port(), pid, s.PID())
	}
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING after Restart: %v", err)
	}
	if n := c.Exists(ctx, "k").Val(); n != 0 {
		t.Error("data survived a restart without persistence")
	}

	s.Kill()
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("PING answered after Kill")
	}
	s.Restart()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING after Kill and Restart: %v", err)
	}
}

func TestFreezeThaw(t *testing.T) {
	s := Start(t)
	c := client(t, s.Addr())
	ctx := context.Background()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	s.Freeze()
	start := time.Now()
	err := c.Ping(ctx).Err()
	var ne net.Error
	if err == nil || !(errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("PING on a frozen server: %v, want a timeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("PING on a frozen server took %v with a 300ms read timeout", d)
	}
	s.Thaw()
	deadline := time.Now().Add(5 * time.Second)
	for c.Ping(ctx).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatal("no PING answer 5s after Thaw")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A frozen server still stops cleanly (the cleanup relies on it).
	s.Freeze()
	s.Stop()
}

func TestStartArgs(t *testing.T) {
	s := Start(t, "--requirepass", "s3cret")
	ctx := context.Background()
	if err := client(t, s.Addr()).Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Fatalf("PING without password: %v", err)
	}
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), Password: "s3cret"})
	defer c.Close()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING with password: %v", err)
	}
}

func TestTwoServersGetTwoPorts(t *testing.T) {
	a, b := Start(t), Start(t)
	if a.Addr() == b.Addr() || a.PID() == b.PID() {
		t.Fatalf("%s (pid %d) and %s (pid %d)", a.Addr(), a.PID(), b.Addr(), b.PID())
	}
}

func TestShared(t *testing.T) {
	addr := Shared(t)
	if err := client(t, addr).Ping(context.Background()).Err(); err != nil {
		t.Fatalf("Shared returned %s, which does not answer: %v", addr, err)
	}
}

func TestPrefixIsUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 3 {
		t.Run("same name", func(t *testing.T) {
			for range 2 {
				p := Prefix(t)
				if seen[p] {
					t.Fatalf("prefix %q given twice", p)
				}
				seen[p] = true
				if !strings.HasPrefix(p, "ordergate-test:"+runID+":") || !strings.HasSuffix(p, ":") || strings.ContainsAny(p, " /") {
					t.Errorf("prefix %q", p)
				}
			}
		})
	}
}
