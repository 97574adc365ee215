package testredis

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startTimeout bounds the wait for a new redis-server to answer PING.
const startTimeout = 10 * time.Second

// stopTimeout bounds the wait for redis-server to exit after SIGTERM before it is killed.
const stopTimeout = 10 * time.Second

// Server is a redis-server process owned by one test, listening on 127.0.0.1 with no
// persistence (--save "" --appendonly no). Its methods must be called from the test's
// goroutine; they fail the test, with the server's own output, when the server does not
// behave.
type Server struct {
	t    testing.TB
	port int
	conf string // a configuration file given first (a sentinel's), or ""
	args []string
	dir  string

	mu   sync.Mutex
	proc *process
}

// process is one run of redis-server.
type process struct {
	cmd    *exec.Cmd
	out    *lockedBuffer
	exited chan struct{} // closed once the process has ended and been reaped
	err    error         // what Wait returned, readable once exited is closed
}

// Start runs redis-server on a spare port of 127.0.0.1 with the extra arguments given (for
// example "--requirepass", "pw"), waits until it answers PING and kills it when the test
// ends. redis-server must be on PATH: a missing binary fails the test. Its directory (Dir)
// lasts as long as the test, across restarts: a cluster node keeps its nodes.conf there.
func Start(t testing.TB, args ...string) *Server {
	t.Helper()
	return start(t, "", args...)
}

// start is Start with a configuration file, which redis-server reads before the arguments
// (a sentinel's, which the sentinel rewrites as it learns its peers).
func start(t testing.TB, conf string, args ...string) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("testredis: redis-server is not on PATH (%v): install it (Debian/Ubuntu package "+
			"redis-server; `make test` runs scripts/ensure-redis.sh)", err)
	}
	s := &Server{t: t, conf: conf, args: args, dir: t.TempDir()}
	t.Cleanup(s.Kill)
	// A spare port is found by listening on port 0 and closing: another process may take it
	// before redis-server binds it, so a bind failure is retried on a new port.
	var lastErr error
	for range 5 {
		port, err := sparePort()
		if err != nil {
			t.Fatalf("testredis: no spare port on 127.0.0.1: %v", err)
		}
		s.port = port
		p, err := s.launch()
		if err == nil {
			s.proc = p
			return s
		}
		lastErr = err
		if !strings.Contains(err.Error(), "in use") {
			break
		}
	}
	t.Fatalf("testredis: %v", lastErr)
	return nil
}

func sparePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// launch starts redis-server on s.port and waits until it answers PING.
func (s *Server) launch() (*process, error) {
	var args []string
	if s.conf != "" {
		args = append(args, s.conf)
	}
	args = append(append(args,
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir, "--loglevel", "warning",
	), s.args...)
	p := &process{cmd: exec.Command("redis-server", args...), out: &lockedBuffer{}, exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		return nil, errors.New("start redis-server: " + err.Error())
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	if err := s.awaitPing(p); err != nil {
		p.kill()
		return nil, err
	}
	return p, nil
}

// awaitPing waits until p answers PING on s's port, or fails with its output.
func (s *Server) awaitPing(p *process) error {
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-p.exited:
			return errors.New("redis-server on port " + strconv.Itoa(s.port) + " exited (" + p.err.Error() + "): " + p.out.String())
		default:
		}
		err := ping(s.Addr(), 200*time.Millisecond)
		if err == nil {
			// Make sure the server that answers is this one, not another that holds the port.
			pid, perr := serverPID(s.Addr(), 200*time.Millisecond)
			if perr == nil && pid != p.cmd.Process.Pid {
				return errors.New("port " + strconv.Itoa(s.port) + " already in use by redis-server pid " + strconv.Itoa(pid))
			}
			return nil
		}
		if answers(err) {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("redis-server on port " + strconv.Itoa(s.port) + " does not answer PING after " +
				startTimeout.String() + " (" + err.Error() + "): " + p.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Addr returns the server's host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// URL returns the server's address as redis://127.0.0.1:PORT/0.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// Dir returns the server's working directory (--dir), the same across restarts.
func (s *Server) Dir() string { return s.dir }

// Port returns the TCP port, the same across restarts.
func (s *Server) Port() int { return s.port }

// PID returns the process id of the running redis-server, or 0 when it is not running.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return 0
	}
	return s.proc.cmd.Process.Pid
}

// Stop sends SIGTERM to the server's pid and waits for it to exit (a frozen server is thawed
// so that it can). Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.t.Helper()
	p := s.take()
	if p == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	_ = p.cmd.Process.Signal(syscall.SIGCONT)
	select {
	case <-p.exited:
	case <-time.After(stopTimeout):
		p.kill()
		s.t.Errorf("testredis: redis-server (pid %d) ignored SIGTERM for %v and was killed", p.cmd.Process.Pid, stopTimeout)
	}
}

// Kill sends SIGKILL to the server's pid and waits for it to exit. Killing a stopped server
// does nothing; the test's cleanup kills a server still running.
func (s *Server) Kill() {
	if p := s.take(); p != nil {
		p.kill()
	}
}

// Restart starts the server again on the same port, stopping it first (SIGTERM) if it is
// still running, and returns once it answers PING. Its data is gone: nothing persists.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	p, err := s.launch()
	if err != nil {
		s.t.Fatalf("testredis: restart on the same port: %v", err)
	}
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
}

// Freeze suspends the server with SIGSTOP and returns once the kernel reports it stopped:
// its connections stay open and its port keeps accepting TCP connections, but nothing
// answers, as with a hung or swapping server.
func (s *Server) Freeze() {
	s.t.Helper()
	p := s.running("Freeze")
	if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		s.t.Fatalf("testredis: SIGSTOP pid %d: %v", p.cmd.Process.Pid, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !p.stopped() {
		if time.Now().After(deadline) {
			s.t.Fatalf("testredis: redis-server (pid %d) not stopped 5s after SIGSTOP", p.cmd.Process.Pid)
		}
		time.Sleep(time.Millisecond)
	}
}

// Thaw resumes a frozen server with SIGCONT and returns once it answers PING again.
func (s *Server) Thaw() {
	s.t.Helper()
	p := s.running("Thaw")
	if err := p.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		s.t.Fatalf("testredis: SIGCONT pid %d: %v", p.cmd.Process.Pid, err)
	}
	if err := s.awaitPing(p); err != nil {
		s.t.Fatalf("testredis: after SIGCONT: %v", err)
	}
}

// take detaches the running process from s, or returns nil when none runs.
func (s *Server) take() *process {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.proc
	s.proc = nil
	return p
}

// running returns the running process or fails the test: freezing a stopped server is a
// mistake of the test, not an outage.
func (s *Server) running(what string) *process {
	s.t.Helper()
	s.mu.Lock()
	p := s.proc
	s.mu.Unlock()
	if p == nil {
		s.t.Fatalf("testredis: %s: redis-server on port %d is not running (Stop or Kill was called)", what, s.port)
	}
	return p
}

// kill sends SIGKILL and waits until the process is reaped.
func (p *process) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// stopped reports whether the process is in the stopped state, from /proc/PID/stat. Where
// /proc cannot be read it reports true: SIGSTOP is then assumed to have taken effect.
func (p *process) stopped() bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/stat")
	if err != nil {
		return true
	}
	// The state follows the command name, which is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 || i+2 >= len(data) {
		return true
	}
	return data[i+2] == 'T'
}

// lockedBuffer collects the output of redis-server for error messages.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 64<<10 {
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.TrimSpace(b.buf.String())
}
