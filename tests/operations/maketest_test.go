package operations

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMakeTestIsQuiet (issue 21, item 14): `make test` printed about 40 "fuzz: elapsed"
// lines per fuzz target and no summary. Its stages now print one line each, a failing
// stage's output (go test's, without the fuzzer's progress), and a closing "N passed, N
// failed" line; every stage runs, and the run fails when one did. A Makefile with the
// real one's shell settings runs scripts/stage.sh with a stage that passes, one that
// fuzzes and one that fails.
func TestMakeTestIsQuiet(t *testing.T) {
	stage, err := filepath.Abs("../../scripts/stage.sh")
	if err != nil {
		t.Fatal(err)
	}
	makefile := "../../Makefile"
	real, err := os.ReadFile(makefile)
	if err != nil {
		t.Fatal(err)
	}
	// The real test recipe: sources the script, then only stage lines, then summary.
	recipe := regexp.MustCompile(`(?s)\ntest: tools\n\t@\. scripts/stage\.sh\n((?:\tstage \S+ +.+\n)+)\tsummary\n`).FindSubmatch(real)
	if recipe == nil {
		t.Fatalf("the test recipe of %s is not `. scripts/stage.sh`, stage lines, summary", makefile)
	}
	if n := strings.Count(string(recipe[1]), "\tstage "); n < 8 {
		t.Errorf("%d stages in make test, want gofmt, vet, unit, the fuzz targets and govulncheck", n)
	}
	// Every stage's command, as make expands it, is a program that exists (a stage written
	// NAME VAR=value ... would run nothing).
	dry := exec.Command("make", "--no-print-directory", "-n", "test")
	dry.Dir = "../.."
	expanded, err := dry.Output()
	if err != nil {
		t.Fatalf("make -n test: %v", err)
	}
	for line := range strings.Lines(string(expanded)) {
		if f := strings.Fields(line); len(f) > 2 && f[0] == "stage" {
			if _, err := exec.LookPath(f[2]); err != nil && !fileExists(filepath.Join("../..", f[2])) {
				t.Errorf("stage %s runs %q, which is no program", f[1], f[2])
			}
		}
	}
	dir := t.TempDir()
	mk := `.ONESHELL:
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
test:
	@. ` + stage + `
	stage passes   bash -c 'printf "ok  \tpkg/a\t0.1s\nok  \tpkg/b\t0.2s\n"'
	stage fuzzes   bash -c 'for i in $$(seq 40); do echo "fuzz: elapsed: $${i}s, execs: $$((i*1000)) (1000/sec)"; done; echo PASS'
	stage fails    bash -c 'printf -- "--- FAIL: TestX (0.00s)\n    x_test.go:1: boom\nFAIL\nFAIL\tpkg/c\t0.1s\nok  \tpkg/d\t0.1s\n"; exit 1'
	stage after    echo "after: 0 found"
	summary
`
	if err := os.WriteFile(filepath.Join(dir, "Makefile"), []byte(mk), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("make", "--no-print-directory", "test")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	text := string(out)
	if err == nil {
		t.Errorf("make test succeeded with a failing stage:\n%s", text)
	}
	want := []*regexp.Regexp{
		regexp.MustCompile(`(?m)^ok    passes +\d+s  2 packages ok, 0 failed$`),
		regexp.MustCompile(`(?m)^ok    fuzzes +\d+s  40000 executions$`),
		regexp.MustCompile(`(?m)^FAIL  fails +\d+s  1 packages ok, 1 failed \(1 failed tests\) \(exit status 1\); its output:$`),
		regexp.MustCompile(`(?m)^ +x_test.go:1: boom$`),
		regexp.MustCompile(`(?m)^ok    after +\d+s  after: 0 found$`),
		regexp.MustCompile(`(?m)^make test: 3 passed, 1 failed \(failed: fails\)$`),
	}
	for _, re := range want {
		if !re.MatchString(text) {
			t.Errorf("output lacks %s:\n%s", re, text)
		}
	}
	if strings.Contains(text, "fuzz: elapsed") {
		t.Errorf("the fuzzer's progress is shown:\n%s", text)
	}
	if lines := strings.Count(text, "\n"); lines > 14 {
		t.Errorf("%d lines for four stages:\n%s", lines, text)
	}
}

// TestEnsureRedisStopsWhatItStarts (issue 21, item 14): scripts/ensure-redis.sh started a
// Redis it never stopped. Given --until-exit PID, the Redis it starts stops once PID ends;
// a Redis that already answers is left alone.
func TestEnsureRedisStopsWhatItStarts(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	owner := exec.Command("sleep", "300") // stands for make
	if err := owner.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = owner.Process.Kill(); _ = owner.Wait() }()
	tmp := t.TempDir()
	run := func() string {
		cmd := exec.Command("../../scripts/ensure-redis.sh", "--until-exit", strconv.Itoa(owner.Process.Pid))
		cmd.Env = append(os.Environ(), "ORDERGATE_TEST_REDIS_PORT="+strconv.Itoa(port), "TMPDIR="+tmp)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("ensure-redis: %v\n%s", err, out)
		}
		return string(out)
	}
	pidfile := filepath.Join(tmp, "ordergate-test-redis-"+strconv.Itoa(port)+".pid")
	t.Cleanup(func() { // never leave a Redis behind, even when the test fails
		if b, err := os.ReadFile(pidfile); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				if p, err := os.FindProcess(pid); err == nil {
					_ = p.Kill()
				}
			}
		}
	})
	if out := run(); !strings.Contains(out, "starting redis-server") || !answersPing(port) {
		t.Fatalf("no Redis started on %d:\n%s", port, out)
	}
	if out := run(); out != "" { // already answering: nothing started
		t.Errorf("second run: %q", out)
	}
	_ = owner.Process.Kill()
	_ = owner.Wait()
	for deadline := time.Now().Add(15 * time.Second); answersPing(port); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the Redis started for the tests still answers after its owner ended")
		}
	}
	if _, err := os.Stat(pidfile); !os.IsNotExist(err) {
		t.Errorf("pid file %s left: %v", pidfile, err)
	}
}

// answersPing reports whether a Redis answers PING on the port.
func answersPing(port int) bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

// TestFuzzRetriesOnlyTheDeadlineRace: a fuzz stage that ends on Go 1.26's coordinator race
// ("context deadline exceeded", no failing input: golang/go#75804), which failed make test
// here once, runs once more; a real failure never does. A fake go stands in for the fuzzer.
func TestFuzzRetriesOnlyTheDeadlineRace(t *testing.T) {
	script, err := filepath.Abs("../../scripts/fuzz.sh")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		outputs []string // what the fake go prints, run after run; "ok" passes
		fails   bool
		runs    int
	}{
		{"deadline race, then a pass", []string{"--- FAIL: FuzzX (10.2s)\n    context deadline exceeded\nFAIL", "ok"}, false, 2},
		{"deadline race twice", []string{"--- FAIL: FuzzX\n    context deadline exceeded", "--- FAIL: FuzzX\n    context deadline exceeded"}, true, 2},
		{"a failing input", []string{"--- FAIL: FuzzX\n    x_test.go:9: boom\n    Failing input written to testdata/fuzz/FuzzX/abc\n    context deadline exceeded", "ok"}, true, 1},
		{"a panic", []string{"panic: runtime error\n--- FAIL: FuzzX", "ok"}, true, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var fake strings.Builder
			fake.WriteString("#!/usr/bin/env bash\nn=$(cat \"$0.count\" 2>/dev/null || echo 0); n=$((n+1)); echo $n > \"$0.count\"\n")
			for i, out := range tc.outputs {
				status := 1
				if out == "ok" {
					out, status = "PASS\nok  \tpkg\t10s", 0
				}
				fake.WriteString("if [ $n -eq " + strconv.Itoa(i+1) + " ]; then printf '%s\\n' '" + strings.ReplaceAll(out, "'", "") + "'; exit " + strconv.Itoa(status) + "; fi\n")
			}
			fake.WriteString("exit 3\n")
			goBin := filepath.Join(dir, "go")
			if err := os.WriteFile(goBin, []byte(fake.String()), 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(script, "FuzzX", "./pkg", "10s")
			cmd.Env = append(os.Environ(), "GO="+goBin, "TMPDIR="+dir)
			out, err := cmd.CombinedOutput()
			if (err != nil) != tc.fails {
				t.Errorf("failed: %v, want %v:\n%s", err, tc.fails, out)
			}
			n, _ := os.ReadFile(goBin + ".count")
			if runs, _ := strconv.Atoi(strings.TrimSpace(string(n))); runs != tc.runs {
				t.Errorf("%d runs, want %d:\n%s", runs, tc.runs, out)
			}
		})
	}
}

func fileExists(path string) bool {
	info, err := os.Stat(path)
	return err == nil && !info.IsDir()
}
