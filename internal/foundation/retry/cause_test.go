package retry

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestCatalogMatchesTheOperationsGuide checks that docs/operations.md lists exactly the
// catalog's labels for ordergate_retries_total and its publish causes for
// ordergate_publish_failures_total, and that no label is in the catalog twice.
func TestCatalogMatchesTheOperationsGuide(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	row := func(metric string) []string {
		for line := range strings.Lines(string(doc)) {
			if strings.HasPrefix(line, "| `"+metric+"`") {
				cells := strings.Split(line, "|")
				meaning := cells[len(cells)-2]
				if _, after, ok := strings.Cut(meaning, "`cause`:"); ok {
					meaning = after
				}
				var labels []string
				for _, m := range regexp.MustCompile("`([a-z_]+)`").FindAllStringSubmatch(meaning, -1) {
					labels = append(labels, m[1])
				}
				slices.Sort(labels)
				return slices.Compact(labels)
			}
		}
		t.Fatalf("docs/operations.md has no row for %s", metric)
		return nil
	}
	var all, publish []string
	seen := map[string]bool{}
	for _, c := range Causes {
		if seen[c.Label] || c.Meaning == "" {
			t.Errorf("cause %q: repeated, or without a meaning", c.Label)
		}
		seen[c.Label] = true
		all = append(all, c.Label)
		if c.Publish {
			publish = append(publish, c.Label)
		}
	}
	slices.Sort(all)
	slices.Sort(publish)
	if got := row("ordergate_retries_total"); !slices.Equal(got, all) {
		t.Errorf("docs list the retry causes %v, the catalog %v", got, all)
	}
	if got := row("ordergate_publish_failures_total"); !slices.Equal(got, publish) {
		t.Errorf("docs list the publish causes %v, the catalog %v", got, publish)
	}
}

// TestCauseOfAnErrorWithoutCause checks the fallback label, which the catalog must hold.
func TestCauseOfAnErrorWithoutCause(t *testing.T) {
	if got := CauseOf(os.ErrClosed); got != CauseOther || !slices.ContainsFunc(Causes, func(c Cause) bool { return c.Label == got }) {
		t.Errorf("CauseOf = %q, want %q, a label of the catalog", got, CauseOther)
	}
}
