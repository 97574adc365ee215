package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// stream is a govulncheck JSON stream: a reachable vulnerability of the standard library,
// one of a third-party module when thirdParty, and one imported but not called.
func stream(thirdParty bool) string {
	s := `{"config":{"protocol_version":"v1.0.0","scanner_name":"govulncheck","go_version":"go1.26.8","scan_level":"symbol"}}
{"osv":{"id":"GO-2026-6809","summary":"Distrust compromised intermediate certificates in crypto/x509"}}
{"osv":{"id":"GO-2021-0113","summary":"Out-of-bounds read in golang.org/x/text/language"}}
{"osv":{"id":"GO-2026-6609","summary":"Lack of limit on size of parsed Range headers in net/http"}}
{"finding":{"osv":"GO-2026-6809","fixed_version":"v1.26.10","trace":[{"module":"stdlib","version":"v1.26.8","package":"crypto/x509"}]}}
{"finding":{"osv":"GO-2026-6809","fixed_version":"v1.26.10","trace":[{"module":"stdlib","version":"v1.26.8","package":"crypto/x509","function":"Verify","receiver":"*Certificate"},{"module":"github.com/ordergate/ordergate","package":"github.com/ordergate/ordergate/config","function":"KafkaTLS"}]}}
{"finding":{"osv":"GO-2026-6609","fixed_version":"v1.26.9","trace":[{"module":"stdlib","version":"v1.26.8","package":"net/http"}]}}
`
	if thirdParty {
		s += `{"finding":{"osv":"GO-2021-0113","fixed_version":"v0.3.7","trace":[{"module":"golang.org/x/text","version":"v0.3.6","package":"golang.org/x/text/language","function":"Parse"},{"module":"example.com/m","package":"example.com/m","function":"main"}]}}
`
	}
	return s
}

func TestVulncheck(t *testing.T) {
	dir := t.TempDir()
	dockerfile := func(pin string) string {
		p := filepath.Join(dir, "Dockerfile."+pin)
		if err := os.WriteFile(p, []byte("# builder\nFROM golang:"+pin+" AS build\nFROM busybox\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name       string
		thirdParty bool
		pin        string
		ok         bool
		want       []string
	}{
		{"standard library only: reported, not failing", false, "1.26.11", true,
			[]string{"govulncheck: ok: 0 reachable in third-party modules; standard library of go1.26.8 (the Go running the tests, reported only): GO-2026-6809 fixed in go1.26.10; image builder golang:1.26.11",
				"stdlib GO-2026-6809 in go1.26.8, fixed in go1.26.10", "(1 more in packages"}},
		{"a third-party module reached: failing", true, "1.26.11", false,
			[]string{"govulncheck: FAIL: 1 reachable in third-party modules", "FAIL GO-2021-0113 golang.org/x/text@v0.3.6, fixed in v0.3.7"}},
		{"an image builder without the fix: failing", false, "1.26.9", false,
			[]string{"FAIL the Dockerfile builds with golang:1.26.9, which lacks fixes of go1.26.10"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Read(strings.NewReader(stream(tc.thirdParty)))
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			ok := Report(&out, res, imageGo(dockerfile(tc.pin)), true)
			if ok != tc.ok {
				t.Errorf("ok = %v, want %v", ok, tc.ok)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("no %q in:\n%s", w, out.String())
				}
			}
		})
	}
}
