package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ordergate/ordergate/internal/app/testkit"
)

// startDev runs `ordergate dev` (it keeps running) with a runtime directory of the test's
// own, and waits for the end of the samples.
func startDev(t *testing.T, runtimeDir string) (*exec.Cmd, *testkit.Buffer) {
	t.Helper()
	cmd := exec.Command(testkit.Binary(t), "dev", "--http", "127.0.0.1:0")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ORDERGATE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "XDG_RUNTIME_DIR="+runtimeDir, "NO_COLOR=1")
	out := &testkit.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		if t.Failed() {
			t.Logf("dev output:\n%s", out.String())
		}
	})
	waitOutput(t, out, "Still running", 1, 3*time.Minute)
	return cmd, out
}

// waitOutput waits until out holds n occurrences of s.
func waitOutput(t *testing.T, out *testkit.Buffer, s string, n int, timeout time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(timeout); strings.Count(out.String(), s) < n; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d %q after %v", strings.Count(out.String(), s), n, s, timeout)
		}
	}
}

// yours counts the lines of inputs dev did not publish itself that it accepted.
func yours(out string) int {
	return len(regexp.MustCompile(`(?m)^input \d+/\d+ .* accepted$`).FindAllString(out, -1))
}

// TestDevAlongsideOthers runs a dev as a user does and checks what the issues saw:
// a `dev --once` next to it leaves it alone and produce still finds it (issue 21, item 1);
// the banner's and the README's produce examples are accepted as given (item 8); an event
// that another consumer published is not shown as dev's (item 9); tail prints the events
// without kcat; and once dev has stopped, produce says so instead of trying localhost.
func TestDevAlongsideOthers(t *testing.T) {
	clearOrdergateEnv(t)
	runtimeDir := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", runtimeDir)
	bin := testkit.Binary(t)
	dev, out := startDev(t, runtimeDir)
	brokers := regexp.MustCompile(`embedded Kafka at (\S+),`).FindStringSubmatch(out.String())[1]

	// Item 1: a dev --once beside it.
	once := exec.Command(bin, "dev", "--once", "--http", "127.0.0.1:0")
	once.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+runtimeDir, "NO_COLOR=1")
	if b, err := once.CombinedOutput(); err != nil {
		t.Fatalf("dev --once: %v\n%s", err, b)
	}
	body := filepath.Join(samplesDir, "bodies/update-by-customer-reference.json")
	if r := runCLI(t, "", "produce", "--key", "MINE-1", body); r.code != exitOK || !strings.Contains(r.stdout, "orders.requests partition") {
		t.Fatalf("produce after a dev --once: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	waitOutput(t, out, "key=MINE-1", 1, time.Minute)

	// Item 8: the banner's examples, run as printed.
	var examples []string
	for line := range strings.Lines(out.String()) {
		if strings.HasPrefix(line, "  "+bin+" produce ") {
			examples = append(examples, strings.TrimSpace(line))
		}
	}
	if len(examples) != len(devExamples) {
		t.Fatalf("%d produce examples in the banner, want %d", len(examples), len(devExamples))
	}
	for _, ex := range examples {
		f := strings.Fields(ex)
		cmd := exec.Command(f[0], f[1:]...)
		cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+runtimeDir)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", ex, err, b)
		}
	}
	// The README's, from the repository's root, with the built binary for go run.
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)go run ./cmd/ordergate produce (.*?)\n```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README shows no produce example")
	}
	cmdLine := strings.SplitN(strings.ReplaceAll(string(m[1]), "\\\n", " "), "\n", 2)[0]
	cmd := exec.Command(bin, append([]string{"produce"}, strings.Fields(cmdLine)...)...)
	cmd.Dir, cmd.Env = "../..", append(os.Environ(), "XDG_RUNTIME_DIR="+runtimeDir)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("README example: %v\n%s", err, b)
	}
	for deadline := time.Now().Add(time.Minute); yours(out.String()) < 1+len(examples)+1; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of your requests accepted, want %d", yours(out.String()), 1+len(examples)+1)
		}
	}

	// Item 9: an event on the output topic that dev's worker did not publish.
	lines := strings.Count(out.String(), "\n")
	w := &kafka.Writer{Addr: kafka.TCP(brokers), Topic: "orders.accepted", RequiredAcks: kafka.RequireAll}
	ev := `{"eventId":"another-group","eventType":"order.accepted","requestType":"R_BVPN_FR_1","source":{"topic":"orders.requests","partition":0,"offset":0}}`
	if err := w.WriteMessages(context.Background(), kafka.Message{Key: []byte("OTHER-GROUP"), Value: []byte(ev)}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	time.Sleep(2 * time.Second)
	if after := strings.Count(out.String(), "\n"); after != lines || strings.Contains(out.String(), "OTHER-GROUP") {
		t.Errorf("dev printed %d lines for an event it did not decide", after-lines)
	}

	// tail: from the beginning, then from now.
	r := runCLI(t, "", "tail", "--from-beginning", "-n", "5")
	if r.code != exitOK || len(regexp.MustCompile(`(?m)^input \d+/\d+ +\S+ +key=\S+ +(accepted|rejected \d+ .*)$`).FindAllString(r.stdout, -1)) != 5 {
		t.Errorf("tail --from-beginning -n 5: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, "", "tail", "--from-beginning", "-n", "3", "--json")
	for line := range strings.Lines(r.stdout) {
		var e struct {
			EventID string `json:"eventId"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil || e.EventID == "" {
			t.Errorf("tail --json line %q: %v", line, err)
		}
	}
	done := make(chan cliResult, 1)
	go func() { done <- runCLI(t, "", "tail", "-n", "1") }()
	time.Sleep(3 * time.Second) // tail starts at the end of each partition
	if r := runCLI(t, "", "produce", "--key", "TAIL-1", body); r.code != exitOK {
		t.Fatalf("produce: %s", r.stderr)
	}
	select {
	case r := <-done:
		if !strings.Contains(r.stdout, "key=TAIL-1") || !strings.Contains(r.stdout, "accepted") {
			t.Errorf("tail from now: %q %q", r.stdout, r.stderr)
		}
	case <-time.After(time.Minute):
		t.Fatal("tail did not print the new event")
	}

	// Ctrl-C: dev says a second one exits at once, stops, and leaves no state behind.
	must(t, dev.Process.Signal(syscall.SIGINT))
	if err := dev.Wait(); err != nil {
		t.Errorf("dev after Ctrl-C: %v", err)
	}
	if !strings.Contains(out.String(), "stopping (Ctrl-C again to exit at once)") {
		t.Error("dev did not say that a second Ctrl-C exits at once")
	}
	r = runCLI(t, "", "produce", body)
	if r.code != exitUsage || r.stderr != "ordergate produce: no running `ordergate dev` found; pass --brokers (or set ORDERGATE_KAFKA_BROKERS)\n" {
		t.Errorf("produce without a dev: exit %d, %q", r.code, r.stderr)
	}
	if entries, _ := os.ReadDir(filepath.Join(runtimeDir, fmt.Sprintf("ordergate-%d", os.Getuid()))); len(entries) != 0 {
		t.Errorf("%d state files left", len(entries))
	}
}
