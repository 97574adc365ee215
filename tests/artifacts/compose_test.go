package artifacts

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/processor/servicepoint"
)

const composeFile = "docker-compose.yml"

// loadCompose loads docker-compose.yml as `docker compose` does (interpolation,
// normalization, consistency checks), with an empty environment so that the host's
// variables change nothing.
func loadCompose(t testing.TB) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{path(composeFile)},
		cli.WithWorkingDirectory(root),
		cli.WithEnv([]string{}),
		cli.WithInterpolation(true),
		cli.WithNormalization(true),
		cli.WithConsistency(true),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("%s: %v", composeFile, err)
	}
	return p
}

// configVariables returns the names and defaults of the variables of config.Config, read
// from its envconfig and default tags.
func configVariables(t testing.TB) map[string]string {
	t.Helper()
	vars := map[string]string{}
	typ := reflect.TypeFor[config.Config]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		name := f.Tag.Get("envconfig")
		if name == "" || !strings.HasPrefix(name, "ORDERGATE_") {
			t.Fatalf("config.Config.%s has no ORDERGATE_ envconfig tag", f.Name)
		}
		vars[name] = f.Tag.Get("default")
	}
	if len(vars) < 20 {
		t.Fatalf("only %d variables in config.Config", len(vars))
	}
	return vars
}

// unknownOrdergateVariables returns the ORDERGATE_* variables that a service sets and
// config.Config does not know, as "service: NAME".
func unknownOrdergateVariables(p *types.Project, known map[string]string) []string {
	var bad []string
	for _, name := range p.ServiceNames() {
		s := p.Services[name]
		for v := range s.Environment {
			if strings.HasPrefix(strings.ToUpper(v), "ORDERGATE_") {
				if _, ok := known[v]; !ok {
					bad = append(bad, name+": "+v)
				}
			}
		}
	}
	sort.Strings(bad)
	return bad
}

var ordergateVarRE = regexp.MustCompile(`ORDERGATE_[A-Z0-9_]+`)

// TestComposeVariables checks that every ORDERGATE_* variable of docker-compose.yml is a
// variable of config.Config, and that the worker's environment loads with config.Load
// (container paths replaced by the files mounted there), without a warning.
func TestComposeVariables(t *testing.T) {
	known := configVariables(t)
	p := loadCompose(t)
	if bad := unknownOrdergateVariables(p, known); len(bad) > 0 {
		t.Errorf("variables unknown to config.Config: %v", bad)
	}
	// The text too (comments, commands): a mistyped name anywhere is a bug.
	data, err := os.ReadFile(path(composeFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range ordergateVarRE.FindAllString(string(data), -1) {
		if _, ok := known[name]; !ok && !strings.HasSuffix(name, "_") {
			t.Errorf("%s names %s, which config.Config does not know", composeFile, name)
		}
	}
	// The check must fail on an unknown variable.
	s := p.Services["ordergate"]
	typo := "ORDERGATE_CACHE_TLL"
	s.Environment = types.MappingWithEquals{typo: ptr("1m")}
	p2 := *p
	p2.Services = types.Services{"ordergate": s}
	if bad := unknownOrdergateVariables(&p2, known); !slices.Equal(bad, []string{"ordergate: " + typo}) {
		t.Errorf("an unknown variable is not reported: %v", bad)
	}

	// The worker's environment is a valid configuration.
	og := p.Services["ordergate"]
	mounts := map[string]string{}
	for _, v := range og.Volumes {
		if v.Type == types.VolumeTypeBind {
			mounts[v.Target] = v.Source
		}
	}
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "ORDERGATE_") {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
	for name, value := range og.Environment {
		if value == nil {
			t.Errorf("ordergate: %s has no value", name)
			continue
		}
		v := *value
		if host, ok := mounts[v]; ok {
			v = host
		}
		t.Setenv(name, v)
	}
	cfg, warnings, err := config.Load()
	if err != nil {
		t.Fatalf("the ordergate service's environment does not load: %v", err)
	}
	if len(warnings) > 0 {
		t.Errorf("config.Load warns: %v", warnings)
	}
	if err := cfg.RequireInventory(); err != nil {
		t.Errorf("ordergate run would refuse it: %v", err)
	}
}

func ptr(s string) *string { return &s }

// TestComposeServices checks the services, their images, healthchecks, dependencies and
// ports, and that the worker points at the compose broker, Redis and topics.
func TestComposeServices(t *testing.T) {
	p := loadCompose(t)
	known := configVariables(t)
	want := []string{"grafana", "kafka", "kafka-init", "ordergate", "prometheus", "redis"}
	if got := p.ServiceNames(); !slices.Equal(sortedCopy(got), want) {
		t.Fatalf("services %v, want %v", sortedCopy(got), want)
	}
	pinned := regexp.MustCompile(`^[a-z0-9./_-]+:v?[0-9]+\.[0-9]+(\.[0-9]+)?(-[a-z0-9.]+)?(@sha256:[0-9a-f]{64})?$`)
	for _, name := range want {
		s := p.Services[name]
		if s.Build == nil && !pinned.MatchString(s.Image) {
			t.Errorf("%s: image %q is not pinned to a version", name, s.Image)
		}
	}
	if img := p.Services["kafka"].Image; !strings.HasPrefix(img, "apache/kafka:") {
		t.Errorf("kafka: image %s, want the official apache/kafka", img)
	}
	// Healthchecks.
	for _, name := range []string{"kafka", "redis", "ordergate", "prometheus", "grafana"} {
		hc := p.Services[name].HealthCheck
		if hc == nil || hc.Disable || len(hc.Test) < 2 || (hc.Test[0] != "CMD" && hc.Test[0] != "CMD-SHELL") {
			t.Errorf("%s: no healthcheck", name)
		}
	}
	// Dependencies, with conditions.
	deps := map[string]map[string]string{
		"kafka-init": {"kafka": types.ServiceConditionHealthy},
		"ordergate":  {"kafka": types.ServiceConditionHealthy, "kafka-init": types.ServiceConditionCompletedSuccessfully, "redis": types.ServiceConditionHealthy},
		"grafana":    {"prometheus": types.ServiceConditionHealthy},
	}
	for svc, want := range deps {
		got := p.Services[svc].DependsOn
		for dep, cond := range want {
			if got[dep].Condition != cond {
				t.Errorf("%s depends on %s with condition %q, want %q", svc, dep, got[dep].Condition, cond)
			}
		}
	}
	// Ports: published on loopback.
	published := map[string]uint32{}
	for _, name := range want {
		for _, port := range p.Services[name].Ports {
			if port.HostIP != "127.0.0.1" {
				t.Errorf("%s: port %d published on %q, want 127.0.0.1 only", name, port.Target, port.HostIP)
			}
			published[name] = port.Target
		}
	}
	og := p.Services["ordergate"]
	env := func(name string) string {
		if v := og.Environment[name]; v != nil {
			return *v
		}
		return known[name]
	}
	_, httpPort, err := net.SplitHostPort(env("ORDERGATE_HTTP_ADDR"))
	if err != nil {
		t.Fatal(err)
	}
	for svc, port := range map[string]string{"ordergate": httpPort, "kafka": "9094", "prometheus": "9090", "grafana": "3000"} {
		if fmt.Sprint(published[svc]) != port {
			t.Errorf("%s publishes port %d, want %s", svc, published[svc], port)
		}
	}
	// The image has no shell nor HTTP client: the binary probes /readyz itself, on
	// ORDERGATE_HTTP_ADDR (the published port above).
	if hc := strings.Join(og.HealthCheck.Test, " "); hc != "CMD /usr/local/bin/ordergate healthcheck --ready" {
		t.Errorf("ordergate healthcheck %q, want CMD /usr/local/bin/ordergate healthcheck --ready", hc)
	}
	if og.Build == nil || og.Build.Dockerfile != "Dockerfile" {
		t.Error("ordergate is not built from the Dockerfile")
	}
	if g := og.StopGracePeriod; g == nil || *g <= types.Duration(mustDuration(t, env("ORDERGATE_SHUTDOWN_TIMEOUT"))) {
		t.Errorf("ordergate: stop_grace_period %v must exceed ORDERGATE_SHUTDOWN_TIMEOUT %s", g, env("ORDERGATE_SHUTDOWN_TIMEOUT"))
	}
	// The worker reaches the broker on the listener the broker advertises for containers,
	// and the redis service.
	kenv := p.Services["kafka"].Environment
	advertised := ""
	if v := kenv["KAFKA_ADVERTISED_LISTENERS"]; v != nil {
		advertised = *v
	}
	for _, b := range strings.Split(env("ORDERGATE_KAFKA_BROKERS"), ",") {
		if !strings.Contains(advertised, "://"+b) {
			t.Errorf("broker %s is not a listener kafka advertises (%s)", b, advertised)
		}
	}
	u, err := url.Parse(env("ORDERGATE_REDIS_URL"))
	if err != nil || u.Hostname() != "redis" {
		t.Errorf("ORDERGATE_REDIS_URL %q does not name the redis service", env("ORDERGATE_REDIS_URL"))
	}
}

func mustDuration(t testing.TB, s string) int64 {
	t.Helper()
	var d types.Duration
	if err := d.DecodeMapstructure(s); err != nil {
		t.Fatalf("duration %q: %v", s, err)
	}
	return int64(d)
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	sort.Strings(out)
	return out
}

// TestComposeTopics checks the one-shot topic creation: the four topics of the worker's
// configuration, the input with LogAppendTime, and the outputs without it.
func TestComposeTopics(t *testing.T) {
	p := loadCompose(t)
	known := configVariables(t)
	og := p.Services["ordergate"]
	topic := func(name string) string {
		if v := og.Environment[name]; v != nil {
			return *v
		}
		return known[name]
	}
	init := p.Services["kafka-init"]
	script := strings.Join(append(append([]string{}, init.Entrypoint...), init.Command...), " ")
	lines := map[string]string{}
	for _, line := range strings.Split(script, "\n") {
		if !strings.Contains(line, "--create") {
			continue
		}
		m := regexp.MustCompile(`--topic\s+(\S+)`).FindStringSubmatch(line)
		if m == nil {
			t.Errorf("kafka-init: a --create without --topic: %s", line)
			continue
		}
		lines[m[1]] = line
	}
	input := topic("ORDERGATE_TOPIC_REQUESTS")
	for _, name := range []string{"ORDERGATE_TOPIC_REQUESTS", "ORDERGATE_TOPIC_ACCEPTED", "ORDERGATE_TOPIC_REJECTED", "ORDERGATE_TOPIC_DLQ"} {
		line, ok := lines[topic(name)]
		if !ok {
			t.Errorf("kafka-init does not create %s (%s)", topic(name), name)
			continue
		}
		for _, want := range []string{"--partitions ", "--replication-factor 1", "--if-not-exists", "--bootstrap-server kafka:9092"} {
			if !strings.Contains(line, want) {
				t.Errorf("kafka-init, topic %s: no %q", topic(name), want)
			}
		}
		lat := strings.Contains(line, "message.timestamp.type=LogAppendTime")
		if topic(name) == input && !lat {
			t.Errorf("kafka-init: the input topic %s is not created with message.timestamp.type=LogAppendTime", input)
		}
		if topic(name) != input && lat {
			t.Errorf("kafka-init: output topic %s with LogAppendTime (the events keep the worker's time)", topic(name))
		}
	}
	if init.Restart != "no" {
		t.Errorf("kafka-init: restart %q, want no (one-shot)", init.Restart)
	}
}

// TestComposeMounts checks that every file the compose file mounts exists in the
// repository, and reads the ones it can: the inventory, the Grafana provisioning and the
// Prometheus configuration.
func TestComposeMounts(t *testing.T) {
	p := loadCompose(t)
	targets := map[string]string{} // container path -> repository file
	for _, name := range p.ServiceNames() {
		s := p.Services[name]
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			rel, err := filepath.Rel(root, v.Source)
			if err != nil || strings.HasPrefix(rel, "..") {
				t.Errorf("%s mounts %s, outside the repository", name, v.Source)
				continue
			}
			if !v.ReadOnly {
				t.Errorf("%s mounts %s read-write", name, rel)
			}
			targets[v.Target] = v.Source
			st, err := os.Stat(v.Source)
			if err != nil {
				t.Errorf("%s mounts %s, which does not exist: %v", name, filepath.ToSlash(rel), err)
				continue
			}
			if st.IsDir() {
				t.Errorf("%s mounts the directory %s (mount files)", name, rel)
			}
		}
		if s.Build != nil {
			if _, err := os.Stat(filepath.Join(s.Build.Context, s.Build.Dockerfile)); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
	// The inventory the worker reads.
	if src, ok := targets["/etc/ordergate/inventory.json"]; ok {
		data, err := os.ReadFile(src)
		if err == nil {
			_, err = servicepoint.ParseFileInventory(data)
		}
		if err != nil {
			t.Errorf("the compose inventory: %v", err)
		}
	} else {
		t.Error("no inventory mounted at /etc/ordergate/inventory.json")
	}
	// Grafana: the datasource is the compose Prometheus, the dashboards provider reads the
	// directory the dashboard is mounted in.
	ds := readYAMLFile(t, targets["/etc/grafana/provisioning/datasources/ordergate.yml"])
	if u, _ := jsonPointer(ds, "/datasources/0/url"); u != "http://prometheus:9090" {
		t.Errorf("Grafana datasource url %v, want http://prometheus:9090", u)
	}
	db := readYAMLFile(t, targets["/etc/grafana/provisioning/dashboards/ordergate.yml"])
	dir, _ := jsonPointer(db, "/providers/0/options/path")
	found := false
	for target := range targets {
		if strings.HasSuffix(target, ".json") && filepath.Dir(target) == dir {
			found = true
		}
	}
	if !found {
		t.Errorf("no dashboard is mounted in the provider's directory %v", dir)
	}
	// Prometheus: its rule files are the mounted alerts, and it scrapes ordergate.
	if src, ok := targets["/etc/prometheus/prometheus.yml"]; ok && fileExists(src) {
		prom := readYAMLFile(t, src)
		rules, _ := prom["rule_files"].([]any)
		for _, r := range rules {
			rp := fmt.Sprint(r)
			if !filepath.IsAbs(rp) {
				rp = filepath.Join("/etc/prometheus", rp)
			}
			if _, ok := targets[rp]; !ok {
				t.Errorf("prometheus.yml: rule file %v is not mounted", r)
			}
		}
		if len(rules) == 0 {
			t.Error("prometheus.yml loads no rule file (the alerts)")
		}
		data, _ := os.ReadFile(src)
		if !strings.Contains(string(data), "ordergate:8080") {
			t.Error("prometheus.yml does not scrape ordergate:8080")
		}
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// readYAMLFile reads a YAML file given by its path (empty: fails).
func readYAMLFile(t testing.TB, file string) map[string]any {
	t.Helper()
	if file == "" {
		t.Fatal("a provisioning file is not mounted")
	}
	rel, err := filepath.Rel(root, file)
	if err != nil {
		t.Fatal(err)
	}
	return readYAML(t, filepath.ToSlash(rel))
}
