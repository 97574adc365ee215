package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/app/testkit"
	"github.com/ordergate/ordergate/internal/foundation/samples"
)

// TestDevOnce runs `ordergate dev --once` as a user would and checks its exit status and
// that every sample's line shows the expected outcome and code.
func TestDevOnce(t *testing.T) {
	runtimeDir := t.TempDir()
	cmd := exec.Command(testkit.Binary(t), "dev", "--once", "--http", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+runtimeDir, "NO_COLOR=1")
	done := make(chan struct{})
	var out []byte
	var err error
	go func() {
		out, err = cmd.CombinedOutput()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(3 * time.Minute):
		cmd.Process.Kill()
		t.Fatal("dev --once did not exit within 3 minutes")
	}
	text := string(out)
	if err != nil {
		t.Fatalf("dev --once: %v\n%s", err, text)
	}
	all, lerr := samples.Load(samples.Files())
	if lerr != nil {
		t.Fatal(lerr)
	}
	lines := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			lines[f[0]] = line
		}
	}
	for _, s := range all {
		if s.Clients {
			continue
		}
		line, ok := lines[s.Name]
		if !ok {
			t.Errorf("no line for sample %s", s.Name)
			continue
		}
		want := "accepted"
		if s.Outcome == "rejected" {
			want = fmt.Sprintf("rejected %d ", s.Code)
		}
		if !strings.Contains(line, want) || strings.Contains(line, "DIFFERS") {
			t.Errorf("sample %s: %q, want %q", s.Name, line, want)
		}
	}
	for _, want := range []string{"embedded Kafka at 127.0.0.1:", "/metrics", "every outcome as in its golden file"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// Issue 21, items 1 and 8: --once exits, so it shows no examples to try against it and
	// leaves no state behind for produce or tail to find.
	for _, never := range []string{"produce", "Still running", "go run"} {
		if strings.Contains(text, never) {
			t.Errorf("dev --once says %q", never)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(runtimeDir, fmt.Sprintf("ordergate-%d", os.Getuid()))); len(entries) != 0 {
		t.Errorf("dev --once left %d state files", len(entries))
	}
	if t.Failed() {
		t.Log(text)
	}
}
