package artifacts

import (
	"encoding/json"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case: FROM, RUN, ...
	args string
	line int
}

// stage is one build stage: its FROM and its instructions.
type stage struct {
	image, name string
	ins         []instruction
}

// parseDockerfile splits a Dockerfile into stages of instructions (comments dropped,
// backslash continuations joined) and returns them with the global ARGs (those before the
// first FROM) and their defaults.
func parseDockerfile(t testing.TB, text string) ([]stage, map[string]string) {
	t.Helper()
	var stages []stage
	globals := map[string]string{}
	var cur strings.Builder
	start := 0
	flush := func() {
		s := strings.TrimSpace(cur.String())
		cur.Reset()
		if s == "" {
			return
		}
		cmd, args, _ := strings.Cut(s, " ")
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: start}
		if in.cmd == "FROM" {
			f := strings.Fields(in.args)
			st := stage{image: f[len(f)-1]}
			for i, x := range f {
				if strings.EqualFold(x, "AS") && i+1 < len(f) {
					st.image, st.name = f[i-1], f[i+1]
				}
			}
			stages = append(stages, st)
		}
		if len(stages) == 0 {
			if in.cmd != "ARG" {
				t.Fatalf("line %d: %s before the first FROM", in.line, in.cmd)
			}
			name, def, _ := strings.Cut(in.args, "=")
			globals[name] = def
			return
		}
		stages[len(stages)-1].ins = append(stages[len(stages)-1].ins, in)
	}
	for i, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur.Len() == 0) {
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		cur.WriteString(trimmed)
		flush()
	}
	flush()
	return stages, globals
}

// source resolves the image of a FROM: a global ARG (${NAME}) is replaced by its default.
func source(image string, args map[string]string) string {
	if name, ok := strings.CutPrefix(image, "${"); ok {
		return args[strings.TrimSuffix(name, "}")]
	}
	return image
}

// named returns the stage called name.
func named(stages []stage, name string) (stage, bool) {
	for _, s := range stages {
		if s.name == name {
			return s, true
		}
	}
	return stage{}, false
}

func (s stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.ins {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// TestDockerfile checks the Dockerfile: multi-stage, a Go builder of go.mod's version, a
// static build, a final image FROM scratch run by a non-root user, the port of the default
// ORDERGATE_HTTP_ADDR exposed, and a HEALTHCHECK that is the binary's own probe.
func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile(path("Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	stages, args := parseDockerfile(t, string(data))
	if len(stages) < 2 {
		t.Fatalf("%d stage(s): want a multi-stage build", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]

	// The builder's Go is go.mod's go directive (major.minor), pinned to a patch release.
	gomod, err := os.ReadFile(path("go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go ([0-9]+)\.([0-9]+)`).FindSubmatch(gomod)
	if m == nil {
		t.Fatal("go.mod has no go directive")
	}
	goMinor := string(m[1]) + "." + string(m[2])
	img := regexp.MustCompile(`^golang:([0-9]+\.[0-9]+)\.[0-9]+(-[a-z0-9]+)?$`).FindStringSubmatch(build.image)
	if img == nil {
		t.Fatalf("builder %q: want golang:X.Y.Z (pinned to a patch release)", build.image)
	}
	if img[1] != goMinor {
		t.Errorf("builder Go %s, go.mod says go %s", img[1], goMinor)
	}
	if build.name == "" {
		t.Error("the builder stage has no name (FROM ... AS build)")
	}
	// Every FROM is pinned, scratch, or an earlier stage (directly or through a global ARG's
	// default).
	pinned := regexp.MustCompile(`^[a-z0-9./_-]+:[0-9][a-z0-9._-]*(@sha256:[0-9a-f]{64})?$|^scratch$`)
	for i, s := range stages {
		if _, earlier := named(stages[:i], source(s.image, args)); !earlier && !pinned.MatchString(s.image) {
			t.Errorf("FROM %s: not pinned to a version, nor an earlier stage", s.image)
		}
	}

	// A static, trimmed, stripped build of ./cmd/ordergate.
	var goBuild string
	for _, in := range build.all("RUN") {
		if strings.Contains(in.args, "go build") {
			goBuild = in.args
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", `-ldflags "-s -w"`, "./cmd/ordergate"} {
		if !strings.Contains(goBuild, want) {
			t.Errorf("the go build step lacks %s: %q", want, goBuild)
		}
	}
	if _, err := os.Stat(path("cmd/ordergate")); err != nil {
		t.Error(err)
	}

	// The final stage: scratch, the binary and the CA roots copied from the stage that
	// BINARY_FROM names, which is the builder by default.
	if final.image != "scratch" {
		t.Errorf("final image %s: want scratch (the binary needs nothing else)", final.image)
	}
	var binPath string
	for _, in := range final.all("COPY") {
		f := strings.Fields(in.args)
		from, ok := strings.CutPrefix(f[0], "--from=")
		if !ok {
			t.Errorf("line %d: the final stage copies from the build context", in.line)
			continue
		}
		st, ok := named(stages, from)
		if !ok {
			t.Errorf("line %d: no stage %s", in.line, from)
			continue
		}
		if origin := source(st.image, args); from != build.name && origin != build.name {
			t.Errorf("line %d: the final stage copies from %s (FROM %s by default), not from the builder %s", in.line, from, origin, build.name)
		}
		if strings.HasSuffix(f[len(f)-1], "/ordergate") {
			binPath = f[len(f)-1]
		}
	}
	if binPath == "" {
		t.Fatal("the final stage does not copy the binary")
	}
	// The prebuilt stage (the image test's path) copies from the context exactly the files
	// the builder makes in /out.
	if pre, ok := named(stages, "prebuilt"); !ok || pre.image != "scratch" {
		t.Error("no prebuilt stage FROM scratch (tests/deploy builds the final stage from it)")
	} else {
		var made, copied []string
		for _, in := range build.ins {
			for _, m := range regexp.MustCompile(`/out/([a-z.-]+)`).FindAllStringSubmatch(in.args, -1) {
				made = append(made, m[1])
			}
		}
		for _, in := range pre.all("COPY") {
			f := strings.Fields(in.args)
			copied = append(copied, f[:len(f)-1]...)
		}
		made, copied = slices.Compact(slices.Sorted(slices.Values(made))), slices.Sorted(slices.Values(copied))
		if !slices.Equal(made, copied) {
			t.Errorf("the prebuilt stage copies %v, the builder makes %v in /out", copied, made)
		}
	}
	users := final.all("USER")
	if len(users) == 0 {
		t.Fatal("the final stage has no USER (it would run as root)")
	}
	user, _, _ := strings.Cut(users[len(users)-1].args, ":")
	if user == "root" || user == "0" || user == "" {
		t.Errorf("USER %s: want a non-root user", users[len(users)-1].args)
	}

	// EXPOSE and HEALTHCHECK agree with the default ORDERGATE_HTTP_ADDR.
	_, port, err := net.SplitHostPort(configVariables(t)["ORDERGATE_HTTP_ADDR"])
	if err != nil {
		t.Fatal(err)
	}
	exposed := false
	for _, in := range final.all("EXPOSE") {
		for _, f := range strings.Fields(in.args) {
			if strings.TrimSuffix(f, "/tcp") == port {
				exposed = true
			}
		}
	}
	if !exposed {
		t.Errorf("the final stage does not EXPOSE %s", port)
	}
	// The HEALTHCHECK runs the binary's own probe in exec form (scratch has no shell), which
	// reads ORDERGATE_HTTP_ADDR as the worker does.
	hcs := final.all("HEALTHCHECK")
	if len(hcs) != 1 {
		t.Fatalf("%d HEALTHCHECK instructions in the final stage, want 1", len(hcs))
	}
	_, hcCmd, ok := strings.Cut(hcs[0].args, "CMD ")
	var argv []string
	if !ok || json.Unmarshal([]byte(hcCmd), &argv) != nil {
		t.Fatalf("HEALTHCHECK %q: want CMD [\"%s\", \"healthcheck\", ...] (exec form: no shell in the image)", hcs[0].args, binPath)
	}
	if len(argv) < 2 || argv[0] != binPath || argv[1] != "healthcheck" {
		t.Errorf("HEALTHCHECK runs %q, want %s healthcheck", argv, binPath)
	}
	if strings.Contains(string(data), "wget") || strings.Contains(string(data), "busybox") {
		t.Error("the Dockerfile still names wget or busybox")
	}
	var entry string
	for _, in := range final.all("ENTRYPOINT") {
		entry = in.args
	}
	if !strings.Contains(entry, "ordergate") {
		t.Errorf("ENTRYPOINT %q does not run ordergate", entry)
	}
	if cmds := final.all("CMD"); len(cmds) == 0 || !strings.Contains(cmds[len(cmds)-1].args, `"run"`) {
		t.Error(`the final stage has no CMD ["run"]`)
	}
}

// dockerignore is the list of patterns of .dockerignore, in Docker's semantics: paths
// relative to the context, ** for any number of directories, ! for an exception, the last
// matching pattern wins, and a pattern that matches a directory matches what it holds.
type dockerignore []struct {
	re     *regexp.Regexp
	except bool
}

func readDockerignore(t testing.TB) dockerignore {
	t.Helper()
	data, err := os.ReadFile(path(".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var d dockerignore
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		except := strings.HasPrefix(line, "!")
		p := filepath.ToSlash(filepath.Clean(strings.TrimPrefix(strings.TrimPrefix(line, "!"), "/")))
		var re strings.Builder
		re.WriteString("^")
		for i := 0; i < len(p); i++ {
			switch c := p[i]; {
			case strings.HasPrefix(p[i:], "**/"):
				re.WriteString("(.*/)?")
				i += 2
			case strings.HasPrefix(p[i:], "**"):
				re.WriteString(".*")
				i++
			case c == '*':
				re.WriteString("[^/]*")
			case c == '?':
				re.WriteString("[^/]")
			default:
				re.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		re.WriteString("(/.*)?$")
		d = append(d, struct {
			re     *regexp.Regexp
			except bool
		}{regexp.MustCompile(re.String()), except})
	}
	return d
}

func (d dockerignore) excluded(rel string) bool {
	out := false
	for _, p := range d {
		if p.re.MatchString(rel) {
			out = !p.except
		}
	}
	return out
}

// TestDockerBuildContext builds the binary as the Dockerfile does, from a copy of only the
// files .dockerignore leaves in the build context: a pattern that drops a file the build
// needs (the samples the binary embeds, a package) fails here, without Docker.
func TestDockerBuildContext(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	ign := readDockerignore(t)
	for rel, want := range map[string]bool{
		"internal/foundation/samples/requests/samples.json": false, "internal/foundation/samples/requests/bodies/empty.json": false,
		"internal/foundation/samples/embed.go": false,
		"go.mod":                               false, "go.sum": false, "cmd/ordergate/main.go": false, "processor/order/rules.go": false,
		".git/HEAD": true, "processor/order/rules_test.go": true, "docs/contract.md": true, "processor/order/testdata/x": true,
		"tests/artifacts/schema_test.go": true, "ordergate": true,
	} {
		if got := ign.excluded(rel); got != want {
			t.Errorf(".dockerignore: %s excluded=%v, want %v", rel, got, want)
		}
	}
	ctx := t.TempDir()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if d.IsDir() {
			if rel == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		if ign.excluded(rel) || !d.Type().IsRegular() {
			return nil
		}
		dst := filepath.Join(ctx, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(dst)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "ordergate")
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w", "-o", bin, "./cmd/ordergate")
	cmd.Dir = ctx
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOFLAGS=-mod=readonly")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build in the Docker build context: %v\n%s", err, out)
	}
	// The static binary runs and carries the samples (embedded from internal/foundation/samples/requests).
	out, err := exec.Command(bin, "validate", "--inventory", path(sampleDir+"/inventory.json"), path(sampleDir+"/bodies/disconnect-by-id.json")).CombinedOutput()
	if err != nil {
		t.Fatalf("the built binary: %v\n%s", err, out)
	}
	// The image's HEALTHCHECK command is in this binary.
	if out, err := exec.Command(bin, "healthcheck", "-h").CombinedOutput(); err != nil {
		t.Errorf("ordergate healthcheck -h: %v\n%s", err, out)
	}
	if file, err := exec.Command("go", "version", bin).CombinedOutput(); err == nil && !strings.Contains(string(file), "go1.") {
		t.Errorf("go version %s: %s", bin, file)
	}
	if out, err := exec.Command("go", "version", "-m", bin).CombinedOutput(); err == nil && !strings.Contains(string(out), "CGO_ENABLED=0") {
		t.Errorf("the binary was not built with CGO_ENABLED=0:\n%s", out)
	}
}
