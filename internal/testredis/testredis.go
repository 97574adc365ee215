// Package testredis gives tests a real redis-server: the shared one of the machine
// (127.0.0.1:6379, which `make test` starts when none answers), or a disposable one on a
// spare port that a test can stop, kill, restart, freeze and thaw.
package testredis

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Shared returns the address of the machine's Redis (ORDERGATE_TEST_REDIS_ADDR overrides
// 127.0.0.1:6379) and fails the test when it does not answer.
func Shared(t testing.TB) string {
	t.Helper()
	addr := os.Getenv("ORDERGATE_TEST_REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	if err := ping(addr, time.Second); err != nil {
		t.Fatalf("no Redis at %s (%v): run `make test`, which starts one, or scripts/ensure-redis.sh", addr, err)
	}
	return addr
}

var prefixes atomic.Int64

// Prefix returns a key prefix that no other test of this process uses.
func Prefix(t testing.TB) string {
	return fmt.Sprintf("ordergate-test:%d:%d:%s:", os.Getpid(), prefixes.Add(1), strings.ReplaceAll(t.Name(), "/", "."))
}

// Server is a redis-server process owned by one test.
type Server struct {
	t    testing.TB
	port int
	args []string
	cmd  *exec.Cmd
}

// Start runs redis-server on a spare loopback port, with no persistence and the extra
// arguments given (for example "--requirepass", "pw"), and stops it when the test ends.
func Start(t testing.TB, args ...string) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server is not installed (Debian package redis-server; `make test` installs it): %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := &Server{t: t, port: port, args: args}
	s.start()
	t.Cleanup(func() { s.Kill() })
	return s
}

func (s *Server) start() {
	s.t.Helper()
	args := append([]string{"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", s.t.TempDir(), "--loglevel", "warning"}, s.args...)
	s.cmd = exec.Command("redis-server", args...)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := ping(s.Addr(), 200*time.Millisecond)
		if err == nil || strings.Contains(err.Error(), "NOAUTH") || strings.Contains(err.Error(), "AUTH") {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server on port %d does not answer: %v", s.port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Addr returns host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// URL returns redis://host:port/0.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// Stop ends the server with SIGTERM and waits for it.
func (s *Server) Stop() { s.signal(syscall.SIGTERM) }

// Kill ends the server with SIGKILL and waits for it.
func (s *Server) Kill() { s.signal(syscall.SIGKILL) }

func (s *Server) signal(sig syscall.Signal) {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGCONT) // a frozen server must run to exit
	_ = s.cmd.Process.Signal(sig)
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Restart starts the server again on the same port (after Stop or Kill).
func (s *Server) Restart() {
	s.t.Helper()
	if s.cmd != nil {
		s.Kill()
	}
	s.start()
}

// Freeze suspends the server (SIGSTOP): connections stay open and nothing answers.
func (s *Server) Freeze() { _ = s.cmd.Process.Signal(syscall.SIGSTOP) }

// Thaw resumes a frozen server (SIGCONT).
func (s *Server) Thaw() { _ = s.cmd.Process.Signal(syscall.SIGCONT) }

// ping speaks RESP to addr and expects +PONG.
func ping(addr string, timeout time.Duration) error {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil {
		return err
	}
	if reply := string(buf[:n]); !strings.HasPrefix(reply, "+PONG") {
		return fmt.Errorf("%s", strings.TrimSpace(reply))
	}
	return nil
}
