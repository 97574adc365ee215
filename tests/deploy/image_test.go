package deploy

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/app/testkit"
	"github.com/ordergate/ordergate/internal/foundation/samples"
	"github.com/ordergate/ordergate/internal/foundation/testredis"
	"github.com/ordergate/ordergate/processor/order"
)

// containersConf is the podman configuration of the test: no default ulimits (crun and
// runc both fail to set RLIMIT_NPROC in this sandbox), runc, cgroupfs and a file event log (no
// systemd here).
const containersConf = `[containers]
default_ulimits = []

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
`

// podman runs podman with a storage of its own under a temporary directory, so that the test
// leaves no image behind and does not meet another test's.
type podman struct {
	t    *testing.T
	bin  string
	base []string
	env  []string
}

func newPodman(t *testing.T) *podman {
	t.Helper()
	bin := podmanTool.get(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "containers.conf")
	if err := os.WriteFile(conf, []byte(containersConf), 0o644); err != nil {
		t.Fatal(err)
	}
	return &podman{t: t, bin: bin,
		base: []string{"--root", filepath.Join(dir, "storage"), "--runroot", filepath.Join(dir, "run"), "--storage-driver", "vfs"},
		env:  append(os.Environ(), "CONTAINERS_CONF="+conf, "TMPDIR="+dir)}
}

// run runs podman with args and returns its standard output; the error carries its standard
// error.
func (p *podman) run(args ...string) (string, error) {
	cmd := exec.Command(p.bin, append(append([]string{}, p.base...), args...)...)
	cmd.Env = p.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String(), fmt.Errorf("podman %s: %w\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// logs returns what a container printed, standard output and error (the worker logs on
// the latter, which podman logs writes to its own).
func (p *podman) logs(name string) string {
	cmd := exec.Command(p.bin, append(append([]string{}, p.base...), "logs", name)...)
	cmd.Env = p.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Sprintf("podman logs %s: %v\n%s", name, err, out)
	}
	return string(out)
}

func (p *podman) must(args ...string) string {
	p.t.Helper()
	out, err := p.run(args...)
	if err != nil {
		p.t.Fatal(err)
	}
	return out
}

// buildContext writes what the Dockerfile's prebuilt stage copies: the binary, built on the
// host with the Dockerfile's own go build command, and the host's CA bundle.
func buildContext(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(repoPath("Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(data), "\\\n", " ")
	m := regexp.MustCompile(`(?m)^RUN (?:--mount=\S+ +)*(CGO_ENABLED=0 .*go build .*-o /out/ordergate .*)$`).FindStringSubmatch(text)
	if m == nil {
		t.Fatal("no go build step writing /out/ordergate in the Dockerfile")
	}
	dir := t.TempDir()
	build := strings.ReplaceAll(m[1], "/out/", dir+"/")
	cmd := exec.Command("sh", "-c", build)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", build, err, out)
	}
	ca, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		t.Fatalf("the host's CA bundle, which the image carries: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ca-certificates.crt"), ca, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// freePort returns a loopback port nobody listens on (the container shares the host's network).
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestImage builds the Dockerfile's final stage with podman and runs it as a user would run it
// in production (host network, read-only root, user 65532, no capabilities, a memory limit)
// against the test kit's broker and the shared Redis on the host: the samples get their
// outcomes, the HEALTHCHECK command answers, /readyz turns ready, the memory limit is read from
// the cgroup, and SIGTERM (podman stop -t 30) stops it with exit status 0, everything it
// published committed.
func TestImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the image")
	}
	p := newPodman(t)
	ctxDir := buildContext(t)
	tag := fmt.Sprintf("localhost/ordergate-test:%d", os.Getpid())
	// The docker format: the OCI image format has no HEALTHCHECK.
	p.must("build", "--quiet", "--format", "docker", "--build-arg", "BINARY_FROM=prebuilt",
		"-f", repoPath("Dockerfile"), "-t", tag, ctxDir)
	t.Cleanup(func() { _, _ = p.run("rmi", "--force", tag) })

	var imgs []struct {
		Size   int64
		Config struct {
			User       string
			Entrypoint []string
			Cmd        []string
			StopSignal string
		}
		Healthcheck struct{ Test []string }
	}
	inspect := p.must("image", "inspect", tag)
	if err := json.Unmarshal([]byte(inspect), &imgs); err != nil || len(imgs) != 1 {
		t.Fatalf("podman image inspect: %v\n%s", err, inspect)
	}
	img := imgs[0]
	t.Logf("image size: %.1f MiB (%d bytes)", float64(img.Size)/(1<<20), img.Size)
	if img.Config.User != "65532:65532" || strings.Join(img.Config.Entrypoint, " ") != "/usr/local/bin/ordergate" ||
		strings.Join(img.Config.Cmd, " ") != "run" || img.Config.StopSignal != "SIGTERM" {
		t.Errorf("image config: user %q, entrypoint %q, cmd %q, stop signal %q", img.Config.User, img.Config.Entrypoint, img.Config.Cmd, img.Config.StopSignal)
	}
	hc := img.Healthcheck.Test
	if len(hc) < 2 || hc[0] != "CMD" {
		t.Fatalf("image HEALTHCHECK %q", hc)
	}
	// The image holds the binary and the CA roots, nothing else (no shell, no package).
	if files := imageFiles(t, p, tag); !slices.Equal(files, []string{"etc/ssl/certs/ca-certificates.crt", "usr/local/bin/ordergate"}) {
		t.Errorf("the image's files: %q", files)
	}

	// The broker (one partition: a sample's offset is its index) and the samples on it.
	c := testkit.NewCluster(t, 1, nil)
	all, err := samples.Load(samples.Files())
	if err != nil {
		t.Fatal(err)
	}
	var sent []samples.Sample
	var recs []order.Record
	for _, s := range all {
		if s.Clients {
			continue // decided with the clients file: see the security tests
		}
		sent = append(sent, s)
		recs = append(recs, testkit.SampleRecord(&s))
	}
	c.Produce(t, recs...)

	const group = "ordergate-image-test"
	port := freePort(t)
	name := fmt.Sprintf("ordergate-test-%d", os.Getpid())
	env := map[string]string{
		"ORDERGATE_KAFKA_BROKERS":     strings.Join(c.Brokers, ","),
		"ORDERGATE_KAFKA_GROUP_ID":    group,
		"ORDERGATE_REDIS_URL":         "redis://" + testredis.Shared(t) + "/0",
		"ORDERGATE_REDIS_KEY_PREFIX":  testredis.Prefix(t),
		"ORDERGATE_INVENTORY_FILE":    "/etc/ordergate/inventory.json",
		"ORDERGATE_HTTP_ADDR":         fmt.Sprintf("127.0.0.1:%d", port),
		"ORDERGATE_SHUTDOWN_TIMEOUT":  "20s",
		"ORDERGATE_RETRY_MAX_BACKOFF": "500ms",
		"ORDERGATE_BATCH_MAX_RECORDS": "50",
	}
	args := []string{"run", "--detach", "--name", name, "--runtime", "runc",
		"--network", "host", "--read-only", "--user", "65532", "--cap-drop", "ALL",
		"--security-opt", "no-new-privileges", "--memory", "256m",
		"--volume", repoPath("internal/foundation/samples/requests/inventory.json") + ":/etc/ordergate/inventory.json:ro"}
	for k, v := range env {
		args = append(args, "--env", k+"="+v)
	}
	p.must(append(args, tag)...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("container logs:\n%s", p.logs(name))
		}
		_, _ = p.run("rm", "--force", "--time", "0", name)
	})

	// /readyz turns ready: the broker and Redis answer.
	readyz := fmt.Sprintf("http://127.0.0.1:%d/readyz", port)
	waitReady(t, readyz, 2*time.Minute)

	// The image's HEALTHCHECK, as podman runs it (exit 0: healthy), with the line it said, and
	// the same command for /readyz.
	if out, err := p.run("healthcheck", "run", name); err != nil {
		t.Errorf("podman healthcheck run: %q, %v", out, err)
	}
	var health struct {
		Status string
		Log    []struct {
			ExitCode int
			Output   string
		}
	}
	if err := json.Unmarshal([]byte(p.must("inspect", "--format", "{{json .State.Health}}", name)), &health); err != nil {
		t.Fatal(err)
	}
	if n := len(health.Log); health.Status != "healthy" || n == 0 || health.Log[n-1].ExitCode != 0 ||
		!strings.Contains(health.Log[n-1].Output, "/healthz 200 OK: ok") {
		t.Errorf("health after podman healthcheck run: %+v", health)
	}
	out, err := p.run("exec", name, hc[1], "healthcheck", "--ready")
	if err != nil || !strings.Contains(out, "/readyz 200 OK: ready") {
		t.Errorf("ordergate healthcheck --ready in the container: %q, %v", out, err)
	}

	// Every sample is decided as its manifest says.
	c.WaitEvents(t, len(sent), 2*time.Minute)
	outcomes := map[int64]string{}
	for _, topic := range []string{testkit.Topics.Accepted, testkit.Topics.Rejected} {
		for _, m := range c.Read(t, topic) {
			var ev struct {
				EventType string
				Source    struct{ Offset int64 }
				Errors    []struct {
					Code  int
					Field string
				}
			}
			if err := json.Unmarshal(m.Value, &ev); err != nil {
				t.Fatal(err)
			}
			got := strings.TrimPrefix(ev.EventType, "order.")
			if len(ev.Errors) > 0 {
				got += fmt.Sprintf(" %d %s", ev.Errors[0].Code, ev.Errors[0].Field)
			}
			outcomes[ev.Source.Offset] = got
		}
	}
	for i, s := range sent {
		want := s.Outcome
		if s.Outcome == "rejected" {
			want += fmt.Sprintf(" %d %s", s.Code, s.Field)
		}
		if outcomes[int64(i)] != want {
			t.Errorf("%s: %q, want %q", s.Name, outcomes[int64(i)], want)
		}
	}

	// The Go runtime's soft limit comes from the container's memory limit (the cgroup).
	logs := p.logs(name)
	if !regexp.MustCompile(`"msg":"memory limit","limit":"256MiB","source":"/sys/fs/cgroup/[^"]+","go_soft_limit":"216.0MiB"`).MatchString(logs) {
		t.Errorf("no start-up line with the cgroup's 256MiB limit and a 216.0MiB soft limit:\n%s", logs)
	}

	// SIGTERM mid-stream: records keep arriving while podman stops the container.
	stopProducing := produceUntilStopped(t, c)
	c.WaitEvents(t, len(sent)+200, 2*time.Minute)
	start := time.Now()
	p.must("stop", "--time", "30", name)
	stopped := time.Since(start)
	inputs := stopProducing()
	state := strings.TrimSpace(p.must("inspect", "--format", "{{.State.ExitCode}} {{.State.OOMKilled}}", name))
	if state != "0 false" {
		t.Fatalf("after podman stop: exit status and OOM-killed %q, want 0 false (SIGKILL after 30 s would be 137)", state)
	}
	published := c.Events(t)
	committed := 0
	for _, off := range c.Committed(t, group) {
		if off > 0 {
			committed += int(off)
		}
	}
	t.Logf("stopped in %v: %d inputs, %d events published, %d offsets committed", stopped.Round(time.Millisecond), inputs, published, committed)
	if committed != published {
		t.Errorf("after SIGTERM: %d events published, %d offsets committed: a stop must commit exactly what it published", published, committed)
	}
	if published >= inputs {
		t.Errorf("the worker decided all %d inputs before the signal: the test did not stop it mid-stream", inputs)
	}
}

// imageFiles lists the regular files of an image (what podman export of a container of it
// writes), sorted.
func imageFiles(t *testing.T, p *podman, image string) []string {
	t.Helper()
	id := strings.TrimSpace(p.must("create", image))
	defer p.run("rm", id)
	archive := filepath.Join(t.TempDir(), "image.tar")
	p.must("export", "--output", archive, id)
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var files []string
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			files = append(files, strings.TrimPrefix(h.Name, "/"))
		}
	}
	slices.Sort(files)
	return files
}

// waitReady polls a /readyz URL until it answers 200.
func waitReady(t *testing.T, url string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = fmt.Sprintf("%s: %s", resp.Status, body)
		} else {
			last = err.Error()
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s not ready after %v: %s", url, timeout, last)
}

// produceUntilStopped writes valid requests to the input topic, 200 at a time, until the
// returned function is called; that function returns the number of records on the input topic.
func produceUntilStopped(t *testing.T, c *testkit.Cluster) func() int {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		for seq := 0; ctx.Err() == nil; seq += 200 {
			recs := make([]order.Record, 200)
			for i := range recs {
				recs[i] = testkit.Record("k"+strconv.Itoa((seq+i)%17), testkit.Disconnect("SP-FR-0001", seq+i), testkit.RecordTime)
			}
			c.Produce(t, recs...)
			time.Sleep(20 * time.Millisecond)
		}
	})
	return func() int {
		cancel()
		wg.Wait()
		return c.Count(t, testkit.Topics.Requests)
	}
}
