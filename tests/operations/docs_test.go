package operations

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// docSection returns the lines of the "## title" section of a Markdown document.
func docSection(t *testing.T, doc, title string) []string {
	t.Helper()
	var out []string
	in := false
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "## ") {
			in = strings.TrimPrefix(line, "## ") == title
			continue
		}
		if in {
			out = append(out, line)
		}
	}
	if len(out) == 0 {
		t.Fatalf("docs/operations.md has no section %q", title)
	}
	return out
}

// firstCells returns the first cell of each table row of lines, without its backquotes.
func firstCells(lines []string) []string {
	var out []string
	cell := regexp.MustCompile("^\\| `([^`]+)` \\|")
	for _, line := range lines {
		if m := cell.FindStringSubmatch(line); m != nil {
			out = append(out, m[1])
		}
	}
	return out
}

// TestOperationsDocListsEveryMetric: docs/operations.md has one row per metric of a live
// worker, and every metric name the document mentions anywhere is exported (no row left
// behind by a rename).
func TestOperationsDocListsEveryMetric(t *testing.T) {
	data, err := os.ReadFile(operationsDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	exported := live(t).exported(t)
	rows := map[string]bool{}
	for _, name := range firstCells(docSection(t, doc, "Metrics")) {
		if rows[name] {
			t.Errorf("metric %s has two rows", name)
		}
		rows[name] = true
	}
	families := map[string]bool{}
	for name := range exported {
		if !strings.HasPrefix(name, "ordergate_") {
			continue
		}
		base := name
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if b, ok := strings.CutSuffix(name, suffix); ok {
				if _, isHist := exported[b+"_bucket"]; isHist {
					base = b
				}
			}
		}
		families[base] = true
	}
	for f := range families {
		if !rows[f] {
			t.Errorf("metric %s is not in the Metrics table of docs/operations.md", f)
		}
	}
	for r := range rows {
		if !families[r] {
			t.Errorf("docs/operations.md documents %s, which ordergate does not export", r)
		}
	}
	mentioned := map[string]bool{}
	for _, m := range regexp.MustCompile(`\b(?:ordergate|go|process)_[a-z0-9_]*[a-z0-9]\b`).FindAllString(doc, -1) {
		if !families[m] && exported[m] == nil && !mentioned[m] {
			t.Errorf("docs/operations.md mentions %s, which ordergate does not export", m)
		}
		mentioned[m] = true
	}
}

// TestOperationsDocLogLines: every log message of the Logs table is one the code writes
// (a renamed message would send an operator grepping for nothing).
func TestOperationsDocLogLines(t *testing.T) {
	data, err := os.ReadFile(operationsDoc)
	if err != nil {
		t.Fatal(err)
	}
	messages := firstCells(docSection(t, string(data), "Logs"))
	if len(messages) < 10 {
		t.Fatalf("only %d log lines documented", len(messages))
	}
	var sources strings.Builder
	err = filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != "../.." || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sources.Write(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	code := sources.String()
	for _, m := range messages {
		if !strings.Contains(code, `"`+m) {
			t.Errorf("docs/operations.md documents the log line %q, which no Go source writes", m)
		}
	}
}
