package main

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/internal/app/testkit"
)

// plantedBroker listens like a broker and counts the connections it gets.
func plantedBroker(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var n atomic.Int64
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			c.Close()
		}
	}()
	return l.Addr().String(), &n
}

// TestExplicitSettingsWinOverDevState (issue 23, item 1): produce and check preferred the
// dev state file to ORDERGATE_KAFKA_BROKERS, so that a planted file sent the credentials
// of the real cluster to another broker. Any explicit Kafka setting now wins.
func TestExplicitSettingsWinOverDevState(t *testing.T) {
	clearOrdergateEnv(t)
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	c := testkit.NewCluster(t, 1, nil)
	planted, connections := plantedBroker(t)
	path, err := writeDevState(devState{Brokers: []string{planted}, PID: os.Getpid(), Started: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(path)
	file := filepath.Join(t.TempDir(), "r.json")
	if err := os.WriteFile(file, []byte(`{}`), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Setenv("ORDERGATE_KAFKA_BROKERS", strings.Join(c.Brokers, ","))
	if r := runCLI(t, "", "produce", file); r.code != exitOK {
		t.Fatalf("produce with ORDERGATE_KAFKA_BROKERS: exit %d, %s", r.code, r.stderr)
	}
	if n := c.Count(t, testkit.Topics.Requests); n != 1 || connections.Load() != 0 {
		t.Fatalf("%d records on the configured broker, %d connections to the planted one", n, connections.Load())
	}
	os.Unsetenv("ORDERGATE_KAFKA_BROKERS")

	// SASL or TLS settings point at a real cluster too: the dev state is not read.
	t.Setenv("ORDERGATE_KAFKA_SASL_MECHANISM", "PLAIN")
	t.Setenv("ORDERGATE_KAFKA_SASL_USERNAME", "app")
	t.Setenv("ORDERGATE_KAFKA_SASL_PASSWORD", "real-cluster-password")
	cfg, _, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	got, err := toolTarget("", cfg)
	if err != nil || got.KafkaBrokers[0] != "localhost:9092" || got.KafkaSASLPassword == "" {
		t.Errorf("with SASL set: brokers %v, err %v", got.KafkaBrokers, err)
	}
	for _, name := range []string{"ORDERGATE_KAFKA_SASL_MECHANISM", "ORDERGATE_KAFKA_SASL_USERNAME", "ORDERGATE_KAFKA_SASL_PASSWORD"} {
		os.Unsetenv(name)
	}

	// The flag wins over everything; without any setting, the running dev is used.
	cfg, _, _ = config.Load()
	if got, _ := toolTarget("kafka:9092", cfg); got.KafkaBrokers[0] != "kafka:9092" {
		t.Errorf("--brokers: %v", got.KafkaBrokers)
	}
	if got, err := toolTarget("", cfg); err != nil || got.KafkaBrokers[0] != planted {
		t.Errorf("no setting: %v, %v; want the running dev's %s", got.KafkaBrokers, err, planted)
	}
}

// TestDevStateOnlyInADirectoryOfOnesOwn (issue 23, item 1): the state was read from a
// shared directory with no owner or mode check. A state that is not the user's own is
// ignored, and a command that finds no dev says so (issue 21, item 1).
func TestDevStateOnlyInADirectoryOfOnesOwn(t *testing.T) {
	clearOrdergateEnv(t)
	planted, _ := plantedBroker(t)
	plant := func(t *testing.T) string { // a valid state of a live process
		t.Helper()
		t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
		path, err := writeDevState(devState{Brokers: []string{planted}, PID: os.Getpid(), Started: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		return path
	}
	cases := []struct {
		name   string
		spoil  func(t *testing.T, path string)
		rootOK bool // needs root (to give a file away)
	}{
		{"directory open to others", func(t *testing.T, path string) { must(t, os.Chmod(filepath.Dir(path), 0o777)) }, false},
		{"file open to others", func(t *testing.T, path string) { must(t, os.Chmod(path, 0o644)) }, false},
		{"file is a link", func(t *testing.T, path string) {
			real := filepath.Join(filepath.Dir(path), "real.json")
			must(t, os.Rename(path, real))
			must(t, os.Symlink(real, path))
		}, false},
		{"directory is a link", func(t *testing.T, path string) {
			dir := filepath.Dir(path)
			elsewhere := filepath.Join(t.TempDir(), "elsewhere")
			must(t, os.Rename(dir, elsewhere))
			must(t, os.Symlink(elsewhere, dir))
		}, false},
		{"directory of another user", func(t *testing.T, path string) { must(t, os.Chown(filepath.Dir(path), 12345, 12345)) }, true},
		{"file of another user", func(t *testing.T, path string) { must(t, os.Chown(path, 12345, 12345)) }, true},
		{"process gone", func(t *testing.T, path string) {
			data, err := os.ReadFile(path)
			must(t, err)
			dead := filepath.Join(filepath.Dir(path), "dev-999999999.json")
			must(t, os.WriteFile(dead, []byte(strings.Replace(string(data), strconv.Itoa(os.Getpid()), "999999999", 1)), 0o600))
			must(t, os.Remove(path))
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.rootOK && os.Getuid() != 0 {
				t.Skip("giving a file to another user needs root")
			}
			path := plant(t)
			cfg, _, _ := config.Load()
			if got, err := toolTarget("", cfg); err != nil || got.KafkaBrokers[0] != planted {
				t.Fatalf("the unspoilt state is not used: %v, %v", got.KafkaBrokers, err)
			}
			tc.spoil(t, path)
			got, err := toolTarget("", cfg)
			if !errors.Is(err, errNoDev) {
				t.Fatalf("brokers %v, err %v: the state is used", got.KafkaBrokers, err)
			}
			r := runCLI(t, "", "tail")
			if r.code != exitUsage || !strings.Contains(r.stderr, "no running `ordergate dev` found; pass --brokers") {
				t.Errorf("tail: exit %d, %q", r.code, r.stderr)
			}
		})
	}
}

// TestDevStateIsWrittenThroughNoLink (issue 23, item 1): dev wrote its state following a
// planted symbolic link and overwrote another file.
func TestDevStateIsWrittenThroughNoLink(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	victim := filepath.Join(t.TempDir(), "victim")
	must(t, os.WriteFile(victim, []byte("precious"), 0o600))
	dir := devStateDir()
	must(t, os.Mkdir(dir, 0o700))
	state := filepath.Join(dir, "dev-"+strconv.Itoa(os.Getpid())+".json")
	must(t, os.Symlink(victim, state))
	path, err := writeDevState(devState{Brokers: []string{"127.0.0.1:1"}, PID: os.Getpid(), Started: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(victim); string(data) != "precious" {
		t.Errorf("the link's target was overwritten: %q", data)
	}
	if info, err := os.Lstat(path); err != nil || !info.Mode().IsRegular() || info.Mode().Perm() != 0o600 {
		t.Errorf("state file %v, %v", info, err)
	}
	// A link in place of the directory: nothing is written through it.
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	elsewhere := t.TempDir()
	must(t, os.Chmod(elsewhere, 0o700))
	must(t, os.Symlink(elsewhere, devStateDir()))
	if _, err := writeDevState(devState{Brokers: []string{"127.0.0.1:1"}, PID: os.Getpid()}); err == nil {
		t.Error("the state was written through a linked directory")
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
		t.Errorf("%d files written through the link", len(entries))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
