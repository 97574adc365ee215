package testredis

import (
	"fmt"
	"net"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fatalRecorder is a testing.TB whose Fatal and Skip end only the goroutine that calls them,
// recording why, so that a test can check how a helper fails.
type fatalRecorder struct {
	testing.TB
	msg     string
	skipped bool
}

func (f *fatalRecorder) Helper() {}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (f *fatalRecorder) Fatal(args ...any) { f.Fatalf("%s", fmt.Sprint(args...)) }

func (f *fatalRecorder) Skipf(format string, args ...any) {
	f.skipped = true
	runtime.Goexit()
}

func (f *fatalRecorder) Skip(args ...any) { f.Skipf("") }
func (f *fatalRecorder) SkipNow()         { f.Skipf("") }

// run calls fn with f in a goroutine of its own and returns once fn returned or failed.
func (f *fatalRecorder) run(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	<-done
}

// TestStartWithoutRedisServerFails: a missing binary fails the test with a message that
// says what to install; it never skips.
func TestStartWithoutRedisServerFails(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	f := &fatalRecorder{TB: t}
	f.run(func() { Start(f) })
	if f.skipped || !strings.Contains(f.msg, "redis-server is not on PATH") || !strings.Contains(f.msg, "install") {
		t.Fatalf("skipped %v, message %q", f.skipped, f.msg)
	}
}

// TestSharedWithoutRedisFails: a shared Redis that does not answer fails the test and says
// how to get one.
func TestSharedWithoutRedisFails(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	t.Setenv(SharedAddrEnv, addr)
	f := &fatalRecorder{TB: t}
	f.run(func() { Shared(f) })
	if f.skipped || !strings.Contains(f.msg, addr) || !strings.Contains(f.msg, SharedAddrEnv) {
		t.Fatalf("skipped %v, message %q", f.skipped, f.msg)
	}
}

// TestRestartOnATakenPort: when another process took the port while the server was down,
// Restart fails and says so, rather than talking to a stranger: a plain listener, or another
// redis-server that answers PING.
func TestRestartOnATakenPort(t *testing.T) {
	for _, stranger := range []string{"listener", "redis-server"} {
		t.Run(stranger, func(t *testing.T) {
			f := &fatalRecorder{TB: t}
			var s *Server
			f.run(func() { s = Start(f) })
			if s == nil {
				t.Fatalf("Start failed: %s", f.msg)
			}
			s.Stop()
			if stranger == "listener" {
				l, err := net.Listen("tcp", s.Addr())
				if err != nil {
					t.Fatalf("take the port: %v", err)
				}
				defer l.Close()
			} else {
				cmd := exec.Command("redis-server", "--port", strconv.Itoa(s.Port()), "--bind", "127.0.0.1",
					"--save", "", "--appendonly", "no", "--dir", t.TempDir())
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				defer func() { cmd.Process.Kill(); cmd.Wait() }()
				for deadline := time.Now().Add(5 * time.Second); ping(s.Addr(), 100*time.Millisecond) != nil; time.Sleep(10 * time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatal("the stranger does not answer")
					}
				}
			}
			f.run(s.Restart)
			if !strings.Contains(f.msg, "in use") {
				t.Fatalf("Restart on a port taken by a %s: %q", stranger, f.msg)
			}
		})
	}
}
