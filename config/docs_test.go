package config

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const docsPath = "../docs/configuration.md"

// TestDocsReferenceMatchesConfig checks that the reference table of
// docs/configuration.md has one row per variable, in the order of Config,
// with its default, and that the page names no other ORDERGATE_ variable
// except its examples of a placeholder and a typo.
func TestDocsReferenceMatchesConfig(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]string // the cells of each table row that documents a variable
	for line := range strings.Lines(string(doc)) {
		if strings.HasPrefix(line, "| `ORDERGATE_") {
			cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			rows = append(rows, cells)
		}
	}
	for i, v := range variables {
		if i >= len(rows) {
			t.Errorf("%s is not in the reference table", v.name)
			continue
		}
		if rows[i][0] != "`"+v.name+"`" {
			t.Errorf("table row %d documents %s, want %s", i+1, rows[i][0], v.name)
		}
		want := "unset"
		if v.def != "" {
			want = "`" + v.def + "`"
		}
		if rows[i][1] != want {
			t.Errorf("table row of %s gives the default %s, want %s", v.name, rows[i][1], want)
		}
	}
	if len(rows) > len(variables) {
		t.Errorf("the table documents %d variables, Config has %d", len(rows), len(variables))
	}

	examples := []string{"ORDERGATE_NAME", "ORDERGATE_CACHE_TLL"}
	for _, name := range regexp.MustCompile(`ORDERGATE_[A-Z0-9_]+`).FindAllString(string(doc), -1) {
		if !isKnown(name) && !slices.Contains(examples, name) {
			t.Errorf("the page names %s, which Config does not have", name)
		}
	}
}

// TestDocsExamplesAreTheRealMessages checks that every example message of
// docs/configuration.md is what the loader says for some environment.
func TestDocsExamplesAreTheRealMessages(t *testing.T) {
	doc, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	examples := [][]string{
		{"ORDERGATE_CACHE_TTL=10 minutes"},
		{"ORDERGATE_KAFKA_BROKERS=kafka-1:9092,kafka-2"},
		{"ORDERGATE_TOPIC_DLQ=orders.requests"},
		{"ORDERGATE_REDIS_URL=redis://app:s3cret@cache:6379/x"},
		{"ORDERGATE_KAFKA_SASL_MECHANISM=PLAIN", "ORDERGATE_KAFKA_SASL_USERNAME=app"},
	}
	for _, env := range examples {
		_, _, err := loadWith(t, env)
		if err == nil {
			t.Fatalf("%q: no error", env)
		}
		if !strings.Contains(string(doc), "\n"+err.Error()+"\n") {
			t.Errorf("%s does not show the message %s", docsPath, err)
		}
	}
	_, warnings, err := loadWith(t, []string{"ORDERGATE_CACHE_TLL=1m"})
	if err != nil || len(warnings) != 1 {
		t.Fatalf("warnings %q, error %v", warnings, err)
	}
	if flat := strings.Join(strings.Fields(string(doc)), " "); !strings.Contains(flat, warnings[0]) {
		t.Errorf("%s does not show the warning %s", docsPath, warnings[0])
	}
}
