package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// cliResult is what one command wrote and returned.
type cliResult struct {
	code           int
	stdout, stderr string
}

// runCLI runs `ordergate ARGS...` in-process with stdin as standard input.
func runCLI(t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := &env{stdin: strings.NewReader(stdin), stdout: &stdout, stderr: &stderr,
		now: func() time.Time { return goldenClock }, ctx: context.Background()}
	code := run(args, e)
	return cliResult{code, stdout.String(), stderr.String()}
}

// TestFlagsAnywhere (issue 21, item 2): `validate FILE --pretty` read --pretty as a file,
// and `validate FILE --inventory inv.json` said the request needs --inventory FILE.
func TestFlagsAnywhere(t *testing.T) {
	before := runCLI(t, "", "validate", "--pretty", "--at", sampleTime, "--inventory", inventoryFile, acceptedDisconnect)
	if before.code != exitOK {
		t.Fatalf("flags first: exit %d: %s", before.code, before.stderr)
	}
	for _, args := range [][]string{
		{"validate", acceptedDisconnect, "--pretty", "--at", sampleTime, "--inventory", inventoryFile},
		{"validate", "--at=" + sampleTime, acceptedDisconnect, "-pretty", "--inventory=" + inventoryFile},
		{"validate", "--at", sampleTime, acceptedDisconnect, "--inventory", inventoryFile, "--pretty"},
	} {
		r := runCLI(t, "", args...)
		if r.code != exitOK || r.stdout != before.stdout {
			t.Errorf("%q: exit %d, stderr %q, same output: %v", args, r.code, r.stderr, r.stdout == before.stdout)
		}
	}
	// "--" ends the flags: a file named like a flag can still be given.
	dir := t.TempDir()
	odd := filepath.Join(dir, "--pretty")
	data, err := os.ReadFile(acceptedDisconnect)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(odd, data, 0o600); err != nil {
		t.Fatal(err)
	}
	inventory, err := filepath.Abs(inventoryFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	r := runCLI(t, "", "validate", "--at", sampleTime, "--inventory", inventory, "--", "--pretty")
	if r.code != exitOK || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("-- then a file named --pretty: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestHelpAndVersion (issue 21, item 10): --version and help COMMAND did not work, and -h
// of produce and check showed "-brokers ordergate dev" (the flag package took back-quoted
// usage text for the name of the value).
func TestHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}, {"-v"}} {
		if r := runCLI(t, "", args...); r.code != exitOK || !strings.HasPrefix(r.stdout, "ordergate ") {
			t.Errorf("%q: exit %d, %q %q", args, r.code, r.stdout, r.stderr)
		}
	}
	placeholder := regexp.MustCompile(`^  (-[A-Za-z]|--[a-z][a-z0-9-]*)( [A-Z][A-Z:=_]*)?\s{2,}\S`)
	for _, c := range commands() {
		if c.hidden || c.name == "clients" {
			continue
		}
		help := runCLI(t, "", "help", c.name)
		dashH := runCLI(t, "", c.name, "-h")
		if help.code != exitOK || dashH.code != exitOK || help.stdout != dashH.stdout || !strings.HasPrefix(help.stdout, "Usage: ordergate "+c.name) {
			t.Errorf("help %s: exit %d/%d, %q", c.name, help.code, dashH.code, help.stdout)
			continue
		}
		inFlags := false
		for line := range strings.Lines(help.stdout) {
			if strings.HasPrefix(line, "Flags") {
				inFlags = true
				continue
			}
			if inFlags && !placeholder.MatchString(line) {
				t.Errorf("%s -h: flag line %q is not `  --name VALUE  usage`", c.name, line)
			}
		}
		if strings.Contains(help.stdout, "ordergate dev\n") || strings.Contains(help.stdout, " -brokers ") {
			t.Errorf("%s -h still names a value oddly:\n%s", c.name, help.stdout)
		}
	}
	if r := runCLI(t, "", "help", "produce"); !strings.Contains(r.stdout, "--brokers HOST:PORT") {
		t.Errorf("produce -h: %s", r.stdout)
	}
	if r := runCLI(t, "", "help", "nosuch"); r.code != exitUsage {
		t.Errorf("help nosuch: exit %d", r.code)
	}
}

// TestTyposGetASuggestion (issue 21, item 13): flags and commands.
func TestTyposGetASuggestion(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"validate", "-inventroy", "inv.json", acceptedDisconnect}, "ordergate validate: unknown flag --inventroy (did you mean --inventory?)"},
		{[]string{"validate", acceptedDisconnect, "--prety"}, "(did you mean --pretty?)"},
		{[]string{"produce", "--brokrs", "x:1", "f.json"}, "(did you mean --brokers?)"},
		{[]string{"chek"}, `unknown command "chek" (did you mean check?)`},
		{[]string{"docter"}, "(did you mean doctor?)"},
		{[]string{"validate", "--at"}, "flag --at needs a value"},
	}
	for _, tt := range tests {
		r := runCLI(t, "", tt.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%q: exit %d, stderr %q, want one line with %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
}

// TestFlagValuesMayBeSecret (issue 23, item 5): `produce -H 'client_secret: X'` printed X
// in its usage error. A header flag is never echoed; "name: value" is a header as curl
// takes it.
func TestFlagValuesMayBeSecret(t *testing.T) {
	const secret = "S3CRET-canary-77"
	for _, args := range [][]string{
		{"produce", "-H", "client_secret " + secret, "f.json"},
		{"validate", "-H", "client_secret" + secret, acceptedDisconnect},
		{"produce", "--client_secret=" + secret, "f.json"},
		{"produce", "-H=client_secret" + secret, "f.json"},
	} {
		r := runCLI(t, "", args...)
		if r.code != exitUsage || strings.Contains(r.stdout+r.stderr, secret) || strings.Contains(r.stderr, "S3CRET") {
			t.Errorf("%q: exit %d, output shows the secret: %q", args, r.code, r.stderr)
		}
	}
	// "name: value" is accepted, as curl's -H.
	r := runCLI(t, "", append(append([]string{"validate", "--at", sampleTime, "-H", "client_secret: sample-secret-pa-jm"},
		"-H", "type: PATCH-billingAccountById", "-H", "businessId:PA", "-H", "id=PA-ACC-100234", "-H", "client_id=channel-pa-jm"), accountBody)...)
	if r.code != exitOK {
		t.Errorf("headers as name: value: exit %d, %s %s", r.code, r.stdout, r.stderr)
	}
}

// TestClientsHash (issue 21, item 7): the digest of the secret on standard input, never
// from an argument (which is not echoed either).
func TestClientsHash(t *testing.T) {
	sum := sha256.Sum256([]byte("sample-secret-pa-jm"))
	want := hex.EncodeToString(sum[:]) + "\n"
	for _, stdin := range []string{"sample-secret-pa-jm", "sample-secret-pa-jm\n", "sample-secret-pa-jm\r\n"} {
		if r := runCLI(t, stdin, "clients", "hash"); r.code != exitOK || r.stdout != want {
			t.Errorf("stdin %q: exit %d, %q %q, want %q", stdin, r.code, r.stdout, r.stderr, want)
		}
	}
	r := runCLI(t, "", "clients", "hash", "sample-secret-pa-jm")
	if r.code != exitUsage || strings.Contains(r.stderr, "sample-secret") || !strings.Contains(r.stderr, "standard input") {
		t.Errorf("secret as an argument: exit %d, %q", r.code, r.stderr)
	}
	for _, stdin := range []string{"", "abc", "two\nlines"} {
		if r := runCLI(t, stdin, "clients", "hash"); r.code != exitUsage || r.stdout != "" {
			t.Errorf("stdin %q: exit %d, %q", stdin, r.code, r.stdout)
		}
	}
	// The digest goes into a file that `clients check` and the worker read.
	file := filepath.Join(t.TempDir(), "clients.json")
	data := `[{"clientId": "channel-pa", "secretSha256": "` + strings.TrimSpace(want) + `", "businessIds": ["PA"]}]`
	if err := os.WriteFile(file, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, "", "clients", "check", file); r.code != exitOK || !strings.Contains(r.stdout, "1 clients") || r.stderr != "" {
		t.Errorf("clients check: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	if err := os.WriteFile(file, []byte(`[{"clientId": "channel-pa", "clientSecret": "x"}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, "", "clients", "check", file)
	if r.code != exitFailure || !strings.Contains(r.stderr, `line 1, column 29: entry 1: unknown field "clientSecret"`) {
		t.Errorf("clients check of a bad file: exit %d, %q", r.code, r.stderr)
	}
}

// TestConfigReportsEveryProblem (issue 21, item 6) as the command prints it: one line each.
func TestConfigReportsEveryProblem(t *testing.T) {
	clearOrdergateEnv(t)
	t.Setenv("ORDERGATE_CACHE_TTL", "soon")
	t.Setenv("ORDERGATE_LOG_LEVEL", "loud")
	t.Setenv("ORDERGATE_REDIS_URL", "redis://app:pw/SECRETTAIL@cache:6379/0")
	r := runCLI(t, "", "config")
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if r.code != exitUsage || len(lines) != 3 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	for i, want := range []string{"ordergate: ORDERGATE_REDIS_URL=", "ordergate: ORDERGATE_CACHE_TTL=", "ordergate: ORDERGATE_LOG_LEVEL="} {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("line %d: %q, want %q...", i+1, lines[i], want)
		}
	}
	if strings.Contains(r.stderr, "SECRETTAIL") {
		t.Errorf("a secret is shown: %s", r.stderr)
	}
	// --json: the same problems, as data.
	j := runCLI(t, "", "config", "--json")
	var out struct {
		Errors []struct{ Variable, Value, Reason string }
	}
	if err := json.Unmarshal([]byte(j.stdout), &out); err != nil || j.code != exitUsage || len(out.Errors) != 3 || out.Errors[1].Variable != "ORDERGATE_CACHE_TTL" {
		t.Errorf("config --json: exit %d, %v, %s", j.code, err, j.stdout)
	}
	if strings.Contains(j.stdout, "SECRETTAIL") {
		t.Errorf("a secret is shown: %s", j.stdout)
	}
}

// TestConfigJSON: `config --json` gives the configuration, masked as printed, and the
// reference.
func TestConfigJSON(t *testing.T) {
	clearOrdergateEnv(t)
	t.Setenv("ORDERGATE_REDIS_URL", "redis://app:canarypw@cache:6379/0")
	r := runCLI(t, "", "config", "--json")
	var out struct {
		Configuration map[string]string
		Warnings      []string
		Reference     []struct{ Name, Default, Meaning string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != exitOK {
		t.Fatalf("exit %d, %v: %s", r.code, err, r.stdout)
	}
	if out.Configuration["ORDERGATE_REDIS_URL"] != "redis://app:***@cache:6379/0" || out.Configuration["ORDERGATE_STUCK_AFTER"] != "60s" {
		t.Errorf("configuration %v", out.Configuration)
	}
	if len(out.Reference) != len(out.Configuration) || out.Reference[0].Name != "ORDERGATE_KAFKA_BROKERS" {
		t.Errorf("reference %v", out.Reference)
	}
	if strings.Contains(r.stdout, "canarypw") {
		t.Error("a secret is shown")
	}
}

// clearOrdergateEnv unsets every ORDERGATE_* variable for the test.
func clearOrdergateEnv(t *testing.T) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(strings.Join(os.Environ(), "\n")))
	for sc.Scan() {
		if name, _, _ := strings.Cut(sc.Text(), "="); strings.HasPrefix(name, "ORDERGATE_") {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
}
