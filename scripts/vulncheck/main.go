// Command vulncheck reads the JSON of govulncheck (-format json) on standard input and
// decides what fails `make test`: a vulnerability of a third-party module that the code
// reaches (a symbol-level finding) fails; one of the standard library is reported with the
// Go release that fixes it and does not fail, since the Go running the tests cannot be
// changed here, unless the Go release the image is built with (the Dockerfile's
// `FROM golang:X.Y.Z`) lacks the fix: the image would ship it. It prints one summary line,
// then, with -v or when failing, the details. See scripts/govulncheck.sh.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// message is one message of govulncheck's JSON stream (protocol v1.0.0): only the parts
// read here.
type message struct {
	Config *struct {
		GoVersion string `json:"go_version"`
		DB        string `json:"db"`
	} `json:"config"`
	OSV *struct {
		ID      string `json:"id"`
		Summary string `json:"summary"`
	} `json:"osv"`
	Finding *finding `json:"finding"`
}

type finding struct {
	OSV          string  `json:"osv"`
	FixedVersion string  `json:"fixed_version"`
	Trace        []frame `json:"trace"`
}

type frame struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Package  string `json:"package"`
	Function string `json:"function"`
}

// vuln is one vulnerability that the code reaches.
type vuln struct {
	id, summary, module, version, fixed string
}

// Result is what the stream says.
type Result struct {
	GoVersion string
	// ThirdParty and Stdlib are the vulnerabilities the code calls, by id.
	ThirdParty, Stdlib []vuln
	// NotCalled counts the vulnerabilities of imported packages or required modules that
	// the code does not call.
	NotCalled int
}

func isStdlib(module string) bool { return module == "stdlib" || module == "toolchain" }

// Read reads a govulncheck JSON stream.
func Read(r io.Reader) (*Result, error) {
	res := &Result{}
	summaries := map[string]string{}
	reached := map[string]vuln{}
	other := map[string]bool{}
	dec := json.NewDecoder(bufio.NewReader(r))
	for {
		var m message
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("govulncheck output: %w", err)
		}
		switch {
		case m.Config != nil:
			res.GoVersion = m.Config.GoVersion
		case m.OSV != nil:
			summaries[m.OSV.ID] = m.OSV.Summary
		case m.Finding != nil && len(m.Finding.Trace) > 0:
			f, top := m.Finding, m.Finding.Trace[0]
			if top.Function == "" { // the package is imported or the module required, not called
				other[f.OSV] = true
				continue
			}
			reached[f.OSV] = vuln{id: f.OSV, module: top.Module, version: top.Version, fixed: f.FixedVersion}
		}
	}
	for id, v := range reached {
		v.summary = summaries[id]
		if isStdlib(v.module) {
			res.Stdlib = append(res.Stdlib, v)
		} else {
			res.ThirdParty = append(res.ThirdParty, v)
		}
		delete(other, id)
	}
	res.NotCalled = len(other)
	byID := func(a, b vuln) int { return strings.Compare(a.id, b.id) }
	slices.SortFunc(res.Stdlib, byID)
	slices.SortFunc(res.ThirdParty, byID)
	return res, nil
}

// goVersion parses "go1.26.8", "v1.26.8" or "1.26.8" into comparable numbers.
func goVersion(s string) []int {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "go"), "v")
	var out []int
	for _, f := range strings.Split(s, ".") {
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil
		}
		out = append(out, n)
	}
	return out
}

// before reports whether version a is before b ("" is before everything).
func before(a, b string) bool { return slices.Compare(goVersion(a), goVersion(b)) < 0 }

// imageGo returns the Go release of the Dockerfile's builder (FROM golang:X.Y.Z), or "".
func imageGo(dockerfile string) string {
	data, err := os.ReadFile(dockerfile)
	if err != nil {
		return ""
	}
	m := regexp.MustCompile(`(?m)^FROM\s+golang:([0-9]+\.[0-9]+\.[0-9]+)`).FindSubmatch(data)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// Report prints the summary line, then, when verbose or failing, the details; it returns
// false when the run fails.
func Report(w io.Writer, res *Result, image string, verbose bool) bool {
	var stdlibFix string
	byFix := map[string][]string{}
	var fixes []string
	for _, v := range res.Stdlib {
		if before(stdlibFix, v.fixed) {
			stdlibFix = v.fixed
		}
		if byFix[v.fixed] == nil {
			fixes = append(fixes, v.fixed)
		}
		byFix[v.fixed] = append(byFix[v.fixed], v.id)
	}
	slices.SortFunc(fixes, func(a, b string) int { return slices.Compare(goVersion(a), goVersion(b)) })
	imageLacks := image != "" && stdlibFix != "" && before(image, stdlibFix)
	ok := len(res.ThirdParty) == 0 && !imageLacks
	status := "ok"
	if !ok {
		status = "FAIL"
	}
	line := fmt.Sprintf("govulncheck: %s: %d reachable in third-party modules; standard library of %s (the Go running the tests, reported only):",
		status, len(res.ThirdParty), res.GoVersion)
	if len(fixes) == 0 {
		line += " none"
	}
	for i, f := range fixes {
		if i > 0 {
			line += ";"
		}
		line += fmt.Sprintf(" %s fixed in go%s", strings.Join(byFix[f], ", "), strings.TrimPrefix(f, "v"))
	}
	if image != "" {
		line += "; image builder golang:" + image
	}
	fmt.Fprintln(w, line)
	if !verbose && ok {
		return ok
	}
	for _, v := range res.ThirdParty {
		fmt.Fprintf(w, "  FAIL %s %s@%s, fixed in %s: %s\n", v.id, v.module, v.version, orNone(v.fixed), v.summary)
	}
	for _, v := range res.Stdlib {
		fmt.Fprintf(w, "  stdlib %s in %s, fixed in go%s: %s\n", v.id, res.GoVersion, strings.TrimPrefix(v.fixed, "v"), v.summary)
	}
	if imageLacks {
		fmt.Fprintf(w, "  FAIL the Dockerfile builds with golang:%s, which lacks fixes of go%s: move its FROM golang: pin\n", image, strings.TrimPrefix(stdlibFix, "v"))
	}
	if res.NotCalled > 0 {
		fmt.Fprintf(w, "  (%d more in packages or modules the code imports but does not call: `govulncheck -show verbose` lists them)\n", res.NotCalled)
	}
	return ok
}

func orNone(s string) string {
	if s == "" {
		return "no release yet"
	}
	return s
}

func main() {
	dockerfile := flag.String("dockerfile", "Dockerfile", "the Dockerfile whose builder Go release ships the standard library")
	verbose := flag.Bool("v", false, "print every vulnerability reported, not only the summary line")
	flag.Parse()
	res, err := Read(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulncheck:", err)
		os.Exit(2)
	}
	if !Report(os.Stdout, res, imageGo(*dockerfile), *verbose) {
		os.Exit(1)
	}
}
