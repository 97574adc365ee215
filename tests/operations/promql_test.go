package operations

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

var promql = parser.NewParser(parser.Options{})

// grafanaVariables are replaced before an expression of the dashboard is parsed: the
// built-in intervals by a duration, the dashboard's own variables (used in regular
// expression matchers) by a regular expression.
var grafanaVariables = strings.NewReplacer(
	"$__rate_interval", "5m", "${__rate_interval}", "5m",
	"$__interval", "1m", "${__interval}", "1m",
	"$__range", "1h", "${__range}", "1h",
	"${job}", ".*", "$job", ".*",
	"${instance}", ".*", "$instance", ".*",
)

// checkExpr parses one PromQL expression and returns what is wrong with it against the
// series a live worker exports (plus extra, e.g. Prometheus's own up): a metric name that
// is not exported, a matcher, a grouping or a vector matching on a label its series do not
// carry (job and instance always exist).
func checkExpr(expr string, exported series, extra series) []error {
	var errs []error
	e, err := promql.ParseExpr(expr)
	if err != nil {
		return []error{fmt.Errorf("does not parse: %v", err)}
	}
	lookup := func(name string) (map[string]bool, bool) {
		if l, ok := exported[name]; ok {
			return l, true
		}
		l, ok := extra[name]
		return l, ok
	}
	// labelsUnder returns the label names the series selected under n can carry.
	labelsUnder := func(n parser.Node) map[string]bool {
		out := map[string]bool{}
		for k := range targetLabels {
			out[k] = true
		}
		parser.Inspect(n, func(c parser.Node, _ []parser.Node) error {
			if vs, ok := c.(*parser.VectorSelector); ok {
				l, _ := lookup(selectorName(vs))
				for k := range l {
					out[k] = true
				}
			}
			return nil
		})
		return out
	}
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.VectorSelector:
			name := selectorName(n)
			if name == "" {
				errs = append(errs, fmt.Errorf("selector %s names no metric", n))
				return nil
			}
			labels, ok := lookup(name)
			if !ok {
				errs = append(errs, fmt.Errorf("metric %s is not exported by ordergate", name))
				return nil
			}
			for _, m := range n.LabelMatchers {
				if m.Name != "__name__" && !labels[m.Name] && !targetLabels[m.Name] {
					errs = append(errs, fmt.Errorf("%s has no label %q (it has %v)", name, m.Name, sortedKeys(labels)))
				}
			}
		case *parser.AggregateExpr:
			if n.Without {
				return nil
			}
			have := labelsUnder(n.Expr)
			for _, g := range n.Grouping {
				if !have[g] {
					errs = append(errs, fmt.Errorf("%s by (%s): no series under it has the label %q", n.Op, strings.Join(n.Grouping, ", "), g))
				}
			}
		case *parser.BinaryExpr:
			vm := n.VectorMatching
			if vm == nil || !vm.On {
				return nil
			}
			for side, have := range map[string]map[string]bool{"left": labelsUnder(n.LHS), "right": labelsUnder(n.RHS)} {
				for _, lb := range vm.MatchingLabels {
					if !have[lb] {
						errs = append(errs, fmt.Errorf("on (%s): the %s side has no label %q", strings.Join(vm.MatchingLabels, ", "), side, lb))
					}
				}
			}
		}
		return nil
	})
	return errs
}

func selectorName(vs *parser.VectorSelector) string {
	if vs.Name != "" {
		return vs.Name
	}
	for _, m := range vs.LabelMatchers {
		if m.Name == "__name__" && m.Type == labels.MatchEqual {
			return m.Value
		}
	}
	return ""
}

// metricNames returns the metric names an expression selects.
func metricNames(expr string) ([]string, error) {
	e, err := promql.ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			seen[selectorName(vs)] = true
		}
		return nil
	})
	return sortedKeys(seen), nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// labelValuesQuery matches Grafana's label_values(selector, label) variable query.
var labelValuesQuery = regexp.MustCompile(`^\s*label_values\(\s*(.+?)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$`)
