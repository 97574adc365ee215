package operations

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v4"
)

const (
	prometheusDir = "../../deploy/prometheus"
	operationsDoc = "../../docs/operations.md"
	runbookBase   = "https://github.com/ordergate/ordergate/blob/main/docs/operations.md#"
)

// promtool returns the path of promtool; the test fails (never skips) without it.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool is not on PATH: run scripts/ensure-promtool.sh (`make tools` does), " +
			"or install Prometheus's promtool another way")
	}
	return p
}

// runPromtool runs promtool in dir and returns its output and whether it succeeded.
func runPromtool(t *testing.T, dir string, args ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command(promtool(t), args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if _, exit := err.(*exec.ExitError); err != nil && !exit {
		t.Fatalf("promtool %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), err == nil
}

// TestAlertRulesPassPromtool: the rules are valid and their unit tests pass; the compose
// Prometheus configuration is valid and loads them.
func TestAlertRulesPassPromtool(t *testing.T) {
	for _, args := range [][]string{
		{"check", "rules", "alerts.yml"},
		{"test", "rules", "alerts_test.yml"},
		{"check", "config", "prometheus.yml"},
	} {
		if out, ok := runPromtool(t, prometheusDir, args...); !ok {
			t.Errorf("promtool %s failed:\n%s", strings.Join(args, " "), out)
		}
	}
}

// TestPromtoolRejectsBrokenRules: the checks above bite. An invalid expression fails
// `promtool check rules`, and a changed threshold fails the unit tests.
func TestPromtoolRejectsBrokenRules(t *testing.T) {
	rules, err := os.ReadFile(filepath.Join(prometheusDir, "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(filepath.Join(prometheusDir, "alerts_test.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, old, new, args string
	}{
		{"invalid expression", "expr: ordergate_ready == 0", "expr: ordergate_ready == ", "check rules alerts.yml"},
		{"unknown function", "rate(ordergate_retries_total[5m])", "rates(ordergate_retries_total[5m])", "check rules alerts.yml"},
		{"threshold moved", "> 0.05", "> 0.5", "test rules alerts_test.yml"},
		{"for removed", "for: 5m\n        labels:\n          severity: critical\n        annotations:\n          summary: 'ordergate {{ $labels.instance }} is not ready'",
			"labels:\n          severity: critical\n        annotations:\n          summary: 'ordergate {{ $labels.instance }} is not ready'", "test rules alerts_test.yml"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if !bytes.Contains(rules, []byte(c.old)) {
				t.Fatalf("alerts.yml no longer contains %q: update this test", c.old)
			}
			dir := t.TempDir()
			broken := bytes.Replace(rules, []byte(c.old), []byte(c.new), 1)
			if err := os.WriteFile(filepath.Join(dir, "alerts.yml"), broken, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "alerts_test.yml"), tests, 0o644); err != nil {
				t.Fatal(err)
			}
			if out, ok := runPromtool(t, dir, strings.Fields(c.args)...); ok {
				t.Errorf("promtool %s accepts the broken rules:\n%s", c.args, out)
			}
		})
	}
}

// alertRules are the alerts of alerts.yml.
type alertRule struct {
	Alert       string            `yaml:"alert"`
	Record      string            `yaml:"record"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func loadAlerts(t *testing.T) []alertRule {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(prometheusDir, "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Name  string      `yaml:"name"`
			Rules []alertRule `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}
	var out []alertRule
	for _, g := range f.Groups {
		out = append(out, g.Rules...)
	}
	if len(out) == 0 {
		t.Fatal("alerts.yml has no rule")
	}
	return out
}

// TestAlertRulesShape: every alert waits (for), says how bad it is (severity), what
// happens (summary, description) and where its runbook is: a section of
// docs/operations.md that exists.
func TestAlertRulesShape(t *testing.T) {
	doc, err := os.ReadFile(operationsDoc)
	if err != nil {
		t.Fatal(err)
	}
	anchors := markdownAnchors(string(doc))
	want := []string{"OrdergateDown", "OrdergateNotReady", "OrdergateNoProgress", "OrdergateConsumerLagGrowing",
		"OrdergateRetryStorm", "OrdergateDLQRecords", "OrdergateRejectionRatioJump", "OrdergateInventoryErrors",
		"OrdergateOffsetReset"}
	seen := map[string]bool{}
	for _, r := range loadAlerts(t) {
		if r.Record != "" {
			t.Errorf("recording rule %s: the dashboard and these tests expect alerts only", r.Record)
			continue
		}
		if seen[r.Alert] {
			t.Errorf("alert %s is defined twice", r.Alert)
		}
		seen[r.Alert] = true
		if d, err := time.ParseDuration(r.For); err != nil || d < time.Minute {
			t.Errorf("%s: for %q, want a duration of at least 1m", r.Alert, r.For)
		}
		if s := r.Labels["severity"]; s != "critical" && s != "warning" {
			t.Errorf("%s: severity %q, want critical or warning", r.Alert, s)
		}
		for _, a := range []string{"summary", "description", "runbook_url"} {
			if strings.TrimSpace(r.Annotations[a]) == "" {
				t.Errorf("%s: no %s annotation", r.Alert, a)
			}
		}
		wantURL := runbookBase + strings.ToLower(r.Alert)
		if r.Annotations["runbook_url"] != wantURL {
			t.Errorf("%s: runbook_url %q, want %q", r.Alert, r.Annotations["runbook_url"], wantURL)
		}
		if !anchors[strings.ToLower(r.Alert)] {
			t.Errorf("%s: docs/operations.md has no section #%s (its runbook)", r.Alert, strings.ToLower(r.Alert))
		}
	}
	for _, w := range want {
		if !seen[w] {
			t.Errorf("no alert %s", w)
		}
	}
}

// markdownAnchors returns the anchors GitHub makes of a document's headings, and the
// explicit <a id="..."> ones.
func markdownAnchors(doc string) map[string]bool {
	out := map[string]bool{}
	drop := regexp.MustCompile(`[^\p{L}\p{N}\- _]`)
	for _, line := range strings.Split(doc, "\n") {
		if h, ok := strings.CutPrefix(strings.TrimLeft(line, "#"), " "); ok && strings.HasPrefix(line, "#") {
			slug := strings.ReplaceAll(drop.ReplaceAllString(strings.ToLower(strings.TrimSpace(h)), ""), " ", "-")
			out[slug] = true
		}
	}
	for _, m := range regexp.MustCompile(`<a (?:id|name)="([^"]+)"`).FindAllStringSubmatch(doc, -1) {
		out[m[1]] = true
	}
	return out
}

// TestAlertTestsCoverEveryAlert: alerts_test.yml has, for every alert, a case where it
// fires and one where it stays silent.
func TestAlertTestsCoverEveryAlert(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(prometheusDir, "alerts_test.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Tests []struct {
			Name  string `yaml:"name"`
			Cases []struct {
				Alert     string `yaml:"alertname"`
				ExpAlerts []any  `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatalf("alerts_test.yml: %v", err)
	}
	fires, silent := map[string]bool{}, map[string]bool{}
	for _, tc := range f.Tests {
		for _, c := range tc.Cases {
			if len(c.ExpAlerts) > 0 {
				fires[c.Alert] = true
			} else {
				silent[c.Alert] = true
			}
		}
	}
	for _, r := range loadAlerts(t) {
		if !fires[r.Alert] {
			t.Errorf("alerts_test.yml: no case where %s fires", r.Alert)
		}
		if !silent[r.Alert] {
			t.Errorf("alerts_test.yml: no case where %s stays silent", r.Alert)
		}
	}
}

// TestAlertMetricsExist: every alert expression names only metrics and labels a live
// worker exports (and Prometheus's own up): a renamed metric would silence an alert for
// good, which no unit test of the rules can see.
func TestAlertMetricsExist(t *testing.T) {
	rules := loadAlerts(t)
	exported := live(t).exported(t)
	prom := series{"up": {"job": true, "instance": true}}
	for _, r := range rules {
		for _, err := range checkExpr(r.Expr, exported, prom) {
			t.Errorf("%s: %v\n    %s", r.Alert, err, r.Expr)
		}
	}
	// The check bites: without the lag metric, the lag alerts fail it.
	n := 0
	for _, r := range rules {
		n += len(checkExpr(r.Expr, exported.without("ordergate_consumer_lag"), prom))
	}
	if n == 0 {
		t.Error("without ordergate_consumer_lag the alerts still pass the check")
	}
	if t.Failed() {
		t.Log(fmt.Sprint("exported series: ", exported.names()))
	}
}
