package artifacts

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestRootIsTheDesignCard: the top level shows the data flow (cmd, config, consumer,
// processor, publisher) and the usual project files, nothing else (README.md, Layout).
func TestRootIsTheDesignCard(t *testing.T) {
	allowed := []string{"cmd", "config", "consumer", "processor", "publisher", "internal", "tests", "deploy", "docs",
		"scripts", "testdata", "docker-compose.yml", "Dockerfile", "Makefile", "go.mod", "go.sum", "README.md"}
	// What git tracks (a binary built at the root is ignored), else what is on disk.
	var names []string
	cmd := exec.Command("git", "ls-files")
	cmd.Dir = root
	if out, err := cmd.Output(); err == nil {
		for _, f := range strings.Fields(string(out)) {
			names = append(names, strings.SplitN(f, "/", 2)[0])
		}
	} else {
		entries, err := os.ReadDir(root)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	for _, name := range slices.Compact(names) {
		if !strings.HasPrefix(name, ".") && !slices.Contains(allowed, name) {
			t.Errorf("%s is at the top level: move it under internal/ or tests/, or say in README.md why it stays", name)
		}
	}
}

// TestImportsRunOneWay: data flows consumer -> processor -> publisher, the pure packages
// (processor/order, publisher/event) and internal/foundation sit below everything, and
// nothing calls back up. Checked on each package's transitive imports, from go list.
func TestImportsRunOneWay(t *testing.T) {
	const mod = "github.com/ordergate/ordergate/"
	cmd := exec.Command("go", "list", "-json=ImportPath,Deps", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := map[string][]string{} // package (relative) -> the module's packages it depends on
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p struct {
			ImportPath string
			Deps       []string
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(p.ImportPath, mod)
		deps[name] = []string{}
		for _, d := range p.Deps {
			if strings.HasPrefix(d, mod) {
				deps[name] = append(deps[name], strings.TrimPrefix(d, mod))
			}
		}
	}
	under := func(pkg string, roots ...string) bool {
		for _, r := range roots {
			if pkg == r || strings.HasPrefix(pkg, r+"/") {
				return true
			}
		}
		return false
	}
	rules := []struct {
		packages []string // the packages the rule is about (and those beneath)
		may      []string // all they may import of the module
	}{
		{[]string{"processor/order"}, []string{"processor/order"}},
		{[]string{"publisher/event"}, []string{"processor/order"}},
		{[]string{"internal/foundation"}, []string{"internal/foundation"}},
		{[]string{"processor/servicepoint"}, []string{"processor/order", "internal/foundation"}},
		{[]string{"processor"}, []string{"processor", "internal/foundation"}},
		{[]string{"publisher"}, []string{"publisher", "processor", "internal/foundation"}},
		{[]string{"consumer"}, []string{"processor", "internal/foundation"}},
		{[]string{"config"}, nil},
	}
	checked := 0
	for pkg, ds := range deps {
		for _, r := range rules {
			if !under(pkg, r.packages...) || (r.packages[0] == "processor" && under(pkg, "processor/order", "processor/servicepoint")) ||
				(r.packages[0] == "publisher" && under(pkg, "publisher/event")) {
				continue
			}
			checked++
			for _, d := range ds {
				if !under(d, r.may...) {
					t.Errorf("%s imports %s: against the flow (it may import only %v)", pkg, d, r.may)
				}
			}
			break
		}
		for _, d := range ds {
			if !strings.HasPrefix(pkg, "tests/") && under(d, "internal/app/testkit", "internal/foundation/testredis") {
				t.Errorf("%s, a production package, imports the test kit %s", pkg, d)
			}
		}
	}
	if checked < 10 {
		t.Errorf("only %d packages checked: did go list find the module?", checked)
	}
}
