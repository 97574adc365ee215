package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/app/testkit"
	"github.com/ordergate/ordergate/internal/foundation/testredis"
)

// waitLogs waits until the process printed s.
func waitLogs(t *testing.T, p *testkit.Process, s string, timeout time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !strings.Contains(p.Logs(), s); time.Sleep(50 * time.Millisecond) {
		if p.Cmd.ProcessState != nil || time.Now().After(deadline) {
			t.Fatalf("no %q after %v:\n%s", s, timeout, p.Logs())
		}
	}
}

// TestCtrlCSaysASecondExitsAtOnce (issue 21, item 12): Ctrl-C with the inventory down
// waited the full shutdown timeout, then exited 1, without saying that a second Ctrl-C
// stops at once. It says so when the wait starts, and a second one does.
func TestCtrlCSaysASecondExitsAtOnce(t *testing.T) {
	c := testkit.NewCluster(t, 1, nil)
	inventory := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	}))
	defer inventory.Close()
	c.Produce(t, testkit.Record("WAN-1", testkit.Disconnect("SP-FR-0001", 1), testkit.RecordTime))
	cfg := testkit.Config(t, c, testredis.Shared(t), testredis.Prefix(t))
	cfg.LogLevel = "info"
	env := append(testkit.Env(t, cfg), "ORDERGATE_INVENTORY_URL="+inventory.URL, "ORDERGATE_SHUTDOWN_TIMEOUT=30s",
		"ORDERGATE_REDIS_URL="+string(cfg.RedisURL))
	p := testkit.StartProcess(t, env, "run")
	waitLogs(t, p, "batch step failed, retrying", time.Minute)
	must(t, p.Cmd.Process.Signal(syscall.SIGINT))
	waitLogs(t, p, "a second Ctrl-C or SIGTERM exits at once", 5*time.Second)
	start := time.Now()
	must(t, p.Cmd.Process.Signal(syscall.SIGINT))
	if code := p.Wait(t, 10*time.Second); code != exitFailure {
		t.Errorf("exit status %d after a second Ctrl-C, want 1", code)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the second Ctrl-C took %v", d)
	}
}

// TestLogsAreTextOnATerminal (issue 21, item 11): JSON logs on a terminal. Unless
// ORDERGATE_LOG_FORMAT is set, logs are text when stderr is a terminal (a pseudo-terminal
// from script(1) here), JSON otherwise.
func TestLogsAreTextOnATerminal(t *testing.T) {
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script(1) is not installed: no pseudo-terminal to run under")
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	inventory, err := filepath.Abs(inventoryFile)
	if err != nil {
		t.Fatal(err)
	}
	// run stops right after its configuration line: its HTTP address is taken.
	base := []string{"ORDERGATE_INVENTORY_FILE=" + inventory, "ORDERGATE_HTTP_ADDR=" + busy.Addr().String()}
	for _, tc := range []struct {
		name     string
		terminal bool
		env      []string
		want     string
	}{
		{"terminal", true, nil, "level=INFO msg=configuration"},
		{"pipe", false, nil, `"msg":"configuration"`},
		{"terminal, JSON asked for", true, []string{"ORDERGATE_LOG_FORMAT=json"}, `"msg":"configuration"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(testkit.Binary(t), "run")
			if tc.terminal {
				cmd = exec.Command(script, "-qec", testkit.Binary(t)+" run", "/dev/null")
			}
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "ORDERGATE_") {
					cmd.Env = append(cmd.Env, kv)
				}
			}
			cmd.Env = append(append(cmd.Env, base...), tc.env...)
			out, _ := cmd.CombinedOutput()
			if !strings.Contains(string(out), tc.want) {
				t.Errorf("output lacks %q:\n%s", tc.want, out)
			}
		})
	}
}

// TestRunRefusesAnEmptyClientsList (issue 17, item 6): a clients file of [] was taken as a
// valid list (every valid request then rejected 41); run refuses it at start, saying why.
func TestRunRefusesAnEmptyClientsList(t *testing.T) {
	clearOrdergateEnv(t)
	clients := filepath.Join(t.TempDir(), "clients.json")
	must(t, os.WriteFile(clients, []byte("[]\n"), 0o600))
	inventory, err := filepath.Abs(inventoryFile)
	must(t, err)
	t.Setenv("ORDERGATE_CLIENTS_FILE", clients)
	t.Setenv("ORDERGATE_INVENTORY_FILE", inventory)
	t.Setenv("ORDERGATE_HTTP_ADDR", "127.0.0.1:0")
	t.Setenv("ORDERGATE_KAFKA_BROKERS", "127.0.0.1:1")
	r := runCLI(t, "", "run")
	want := "ordergate: ORDERGATE_CLIENTS_FILE=" + clients + ": line 1, column 2: the list of clients is empty: every request would be refused (401)"
	if r.code != exitUsage || !strings.Contains(r.stderr, want) {
		t.Errorf("exit %d, stderr:\n%s\nwant %q", r.code, r.stderr, want)
	}
}

// TestSIGTERMDuringStartupIsAStop: a SIGTERM while run waits for a broker that does not
// answer exited 2 with "does not answer (check ...)", as a bad configuration does; an
// orchestrator stopping a pod that had not started yet saw a failure. It exits 0 and says
// it stopped during start-up.
func TestSIGTERMDuringStartupIsAStop(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	dead := ln.Addr().String()
	must(t, ln.Close()) // nothing listens there: every connection is refused
	cfg := testkit.Config(t, testkit.NewCluster(t, 1, nil), testredis.Shared(t), testredis.Prefix(t))
	cfg.LogLevel = "info"
	cfg.KafkaBrokers = []string{dead}
	inventory, err := filepath.Abs(inventoryFile)
	must(t, err)
	env := append(testkit.Env(t, cfg), "ORDERGATE_KAFKA_BROKERS="+dead, "ORDERGATE_INVENTORY_FILE="+inventory,
		"ORDERGATE_REDIS_URL="+string(cfg.RedisURL))
	p := testkit.StartProcess(t, env, "run")
	waitLogs(t, p, "kafka does not answer yet, waiting", 20*time.Second)
	must(t, p.Cmd.Process.Signal(syscall.SIGTERM))
	if code := p.Wait(t, 10*time.Second); code != exitOK {
		t.Errorf("exit status %d after SIGTERM during start-up, want 0:\n%s", code, p.Logs())
	}
	if !strings.Contains(p.Logs(), "ordergate stopped during start-up") {
		t.Errorf("no line says the worker stopped during start-up:\n%s", p.Logs())
	}
}
