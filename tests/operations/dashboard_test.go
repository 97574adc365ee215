package operations

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

const dashboardFile = "../../deploy/grafana/ordergate.json"

// dashboard is the part of a Grafana dashboard the tests read.
type dashboard struct {
	UID           string  `json:"uid"`
	Title         string  `json:"title"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Type       string          `json:"type"`
			Name       string          `json:"name"`
			Query      json.RawMessage `json:"query"`
			Datasource json.RawMessage `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int             `json:"id"`
	Type       string          `json:"type"`
	Title      string          `json:"title"`
	Datasource json.RawMessage `json:"datasource"`
	Collapsed  bool            `json:"collapsed"`
	GridPos    struct{ H, W, X, Y int }
	Targets    []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // a row's panels
}

func loadDashboard(t *testing.T) (dashboard, []byte) {
	t.Helper()
	data, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return d, data
}

// allPanels returns the panels, rows' nested panels included, in order.
func allPanels(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}

// dashboardExprs returns every PromQL expression of the dashboard, named by where it is:
// each target of each panel (rows included), and the selector of each label_values()
// variable query. Grafana's variables are replaced (see grafanaVariables).
func dashboardExprs(t *testing.T, d dashboard) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range allPanels(d.Panels) {
		for _, tg := range p.Targets {
			where := fmt.Sprintf("panel %q target %s", p.Title, tg.RefID)
			if strings.TrimSpace(tg.Expr) == "" {
				t.Errorf("%s has no expression", where)
				continue
			}
			out[where] = grafanaVariables.Replace(tg.Expr)
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		q := variableQuery(v.Query)
		m := labelValuesQuery.FindStringSubmatch(q)
		if m == nil {
			t.Errorf("variable %s: query %q is not label_values(selector, label)", v.Name, q)
			continue
		}
		out["variable "+v.Name] = grafanaVariables.Replace(m[1])
		out["variable "+v.Name+" label"] = fmt.Sprintf("count by (%s) (%s)", m[2], grafanaVariables.Replace(m[1]))
	}
	for where, e := range out {
		if strings.Contains(e, "$") {
			t.Errorf("%s: %q uses a Grafana variable the test does not know", where, e)
		}
	}
	return out
}

// variableQuery reads a variable's query, a string or {"query": "..."} (Grafana 10+).
func variableQuery(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		Query string `json:"query"`
	}
	_ = json.Unmarshal(raw, &o)
	return o.Query
}

// TestDashboardShape: the dashboard imports into any Grafana 11 with any Prometheus data
// source: a recent schema, a ${datasource} variable, no data source uid written in, unique
// panel ids on a 24-column grid without overlaps.
func TestDashboardShape(t *testing.T) {
	d, data := loadDashboard(t)
	if d.SchemaVersion < 39 {
		t.Errorf("schemaVersion %d, want >= 39", d.SchemaVersion)
	}
	if d.UID == "" || d.Title == "" {
		t.Errorf("uid %q, title %q: both are needed (links and provisioning use the uid)", d.UID, d.Title)
	}
	hasDS := false
	for _, v := range d.Templating.List {
		if v.Type == "datasource" && v.Name == "datasource" && variableQuery(v.Query) == "prometheus" {
			hasDS = true
		}
	}
	if !hasDS {
		t.Error(`no "datasource" variable of type datasource with query "prometheus"`)
	}
	// Every data source reference anywhere in the JSON is the variable.
	var generic any
	if err := json.Unmarshal(data, &generic); err != nil {
		t.Fatal(err)
	}
	walkJSON(generic, "", func(path string, key string, v any) {
		if key != "datasource" {
			return
		}
		switch ds := v.(type) {
		case string:
			if ds != "${datasource}" && ds != "$datasource" {
				t.Errorf("%s: data source %q is written in; use ${datasource}", path, ds)
			}
		case map[string]any:
			if ds["uid"] != "${datasource}" && ds["uid"] != "$datasource" {
				t.Errorf("%s: data source uid %v is written in; use ${datasource}", path, ds["uid"])
			}
			if ds["type"] != "prometheus" {
				t.Errorf("%s: data source type %v, want prometheus", path, ds["type"])
			}
		}
	})

	ids := map[int]string{}
	var placed []panel
	for _, p := range allPanels(d.Panels) {
		if prev, dup := ids[p.ID]; dup || p.ID == 0 {
			t.Errorf("panel %q: id %d (also %q)", p.Title, p.ID, prev)
		}
		ids[p.ID] = p.Title
		g := p.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
			t.Errorf("panel %q: gridPos %+v is off the 24-column grid", p.Title, g)
		}
		for _, q := range placed {
			h := q.GridPos
			if g.X < h.X+h.W && h.X < g.X+g.W && g.Y < h.Y+h.H && h.Y < g.Y+g.H {
				t.Errorf("panels %q %+v and %q %+v overlap", p.Title, g, q.Title, h)
			}
		}
		placed = append(placed, p)
		if p.Type == "row" {
			if len(p.Panels) > 0 && !p.Collapsed {
				t.Errorf("row %q is open but nests panels (Grafana would hide them)", p.Title)
			}
			continue
		}
		if len(p.Datasource) == 0 {
			t.Errorf("panel %q has no datasource", p.Title)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
	}
}

func walkJSON(v any, path string, f func(path, key string, v any)) {
	switch v := v.(type) {
	case map[string]any:
		for k, c := range v {
			f(path, k, c)
			walkJSON(c, path+"/"+k, f)
		}
	case []any:
		for i, c := range v {
			walkJSON(c, fmt.Sprintf("%s/%d", path, i), f)
		}
	}
}

// TestDashboardPanels: the panels an operator looks for are there, each on the metrics that
// answer its question (issue 8's list).
func TestDashboardPanels(t *testing.T) {
	d, _ := loadDashboard(t)
	want := []struct {
		title   string
		metrics []string // each must be selected by the panel
		quant   []string // histogram_quantile arguments the panel must use
	}{
		{"Throughput", []string{"ordergate_records_consumed_total", "ordergate_outcomes_total"}, nil},
		{"Outcomes by code", []string{"ordergate_outcomes_total"}, nil},
		{"Rejection ratio", []string{"ordergate_outcomes_total"}, nil},
		{"End-to-end latency", []string{"ordergate_end_to_end_latency_seconds_bucket"}, []string{"0.5", "0.99"}},
		{"Decision latency", []string{"ordergate_decision_duration_seconds_bucket"}, []string{"0.99"}},
		{"Consumer lag per partition", []string{"ordergate_consumer_lag"}, nil},
		{"Committed offset per partition", []string{"ordergate_committed_offset"}, nil},
		{"Cache hit ratio", []string{"ordergate_cache_hits_total", "ordergate_cache_misses_total"}, nil},
		{"Inventory calls by result", []string{"ordergate_inventory_calls_total"}, nil},
		{"Inventory errors", []string{"ordergate_inventory_calls_total"}, nil},
		{"Retries by cause", []string{"ordergate_retries_total"}, nil},
		{"Publish failures", []string{"ordergate_publish_failures_total"}, nil},
		{"DLQ records", []string{"ordergate_dlq_records_total"}, nil},
		{"Truncated events", []string{"ordergate_truncated_events_total"}, nil},
		{"In-flight records", []string{"ordergate_in_flight_records"}, nil},
		{"Ready", []string{"ordergate_ready"}, nil},
		{"Stuck partitions", []string{"ordergate_stuck_partitions"}, nil},
		{"Offset resets", []string{"ordergate_offset_resets_total"}, nil},
		{"Build info", []string{"ordergate_build_info"}, nil},
		{"Resident memory", []string{"process_resident_memory_bytes"}, nil},
	}
	byTitle := map[string][]panel{}
	for _, p := range allPanels(d.Panels) {
		byTitle[p.Title] = append(byTitle[p.Title], p)
	}
	for _, w := range want {
		ps := byTitle[w.title]
		if len(ps) == 0 {
			t.Errorf("no panel %q", w.title)
			continue
		}
		selected := map[string]bool{}
		var exprs []string
		for _, p := range ps {
			for _, tg := range p.Targets {
				e := grafanaVariables.Replace(tg.Expr)
				exprs = append(exprs, e)
				names, err := metricNames(e)
				if err != nil {
					t.Errorf("panel %q: %v", w.title, err)
				}
				for _, n := range names {
					selected[n] = true
				}
			}
		}
		for _, m := range w.metrics {
			if !selected[m] {
				t.Errorf("panel %q does not select %s (it selects %v)", w.title, m, sortedKeys(selected))
			}
		}
		all := strings.Join(exprs, "\n")
		for _, q := range w.quant {
			if !strings.Contains(all, "histogram_quantile("+q+",") {
				t.Errorf("panel %q has no histogram_quantile(%s, ...)", w.title, q)
			}
		}
	}
}

// TestDashboardMetricsExist: every expression of the dashboard parses as PromQL and names
// only metrics and labels a live worker exports: renaming a metric or a label in
// metrics/metrics.go breaks this test until the dashboard follows.
func TestDashboardMetricsExist(t *testing.T) {
	d, _ := loadDashboard(t)
	exprs := dashboardExprs(t, d)
	if len(exprs) < 20 {
		t.Fatalf("only %d expressions found in the dashboard", len(exprs))
	}
	exported := live(t).exported(t)
	for _, where := range sortedKeys(setOf(exprs)) {
		for _, err := range checkExpr(exprs[where], exported, nil) {
			t.Errorf("%s: %v\n    %s", where, err, exprs[where])
		}
	}
	if t.Failed() {
		t.Logf("exported series: %v", exported.names())
	}
}

// TestCheckerCatchesRenames proves the check above bites: without a metric (as after a
// rename in metrics.go) or with a label renamed, the dashboard fails it.
func TestCheckerCatchesRenames(t *testing.T) {
	d, _ := loadDashboard(t)
	exprs := dashboardExprs(t, d)
	exported := live(t).exported(t)
	count := func(s series, wantIn string) int {
		n := 0
		for _, e := range exprs {
			for _, err := range checkExpr(e, s, nil) {
				if strings.Contains(err.Error(), wantIn) {
					n++
				}
			}
		}
		return n
	}
	for _, name := range []string{"ordergate_consumer_lag", "ordergate_end_to_end_latency_seconds_bucket", "ordergate_retries_total", "process_resident_memory_bytes"} {
		if n := count(exported.without(name), name); n == 0 {
			t.Errorf("without %s the dashboard still passes", name)
		}
	}
	relabelled := exported.without("ordergate_retries_total")
	relabelled["ordergate_retries_total"] = map[string]bool{"reason": true}
	if n := count(relabelled, `label "cause"`); n == 0 {
		t.Error(`with ordergate_retries_total's label renamed to "reason", the dashboard still passes`)
	}
	if errs := checkExpr("sum(rate(ordergate_retries_total[5m]", exported, nil); len(errs) == 0 {
		t.Error("a broken expression passes")
	}
}

func setOf(m map[string]string) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}
