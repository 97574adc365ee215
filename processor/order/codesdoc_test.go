package order

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite generated files (docs/codes.md, golden files)")

// contractNotation writes a description template the way the contract's table does.
var contractNotation = strings.NewReplacer("{HEADER}", "X", "{X}", "X", "{MSG}", "MSG", "{PATH}", "PATH", "{N}", "N")

// codesMarkdown renders the catalog as the table of docs/codes.md.
func codesMarkdown() []byte {
	var b bytes.Buffer
	b.WriteString("# Decision rows and error codes\n\n")
	b.WriteString("Generated from `order.Catalog` by `go test ./order -run TestCodesDoc -update`; a test fails when\n")
	b.WriteString("this page and the code disagree. Rows are checked in order; the first row that finds a\n")
	b.WriteString("violation gives the event's `error`, and every violation of that row is listed in `errors`.\n")
	b.WriteString("In descriptions, X, PATH, MSG and N are filled in (see the contract as implemented in\n")
	b.WriteString("[contract.md](contract.md)).\n\n")
	b.WriteString("| row | status | code | message | description | field |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- |\n")
	for _, e := range Catalog {
		desc := contractNotation.Replace(e.Description)
		if e.ByType != nil {
			desc = "for `R_BVPN_FR_1`: " + desc
			for _, t := range []RequestType{TypeDisconnect, TypeUpdate, TypeAccountContact} {
				if alt, ok := e.ByType[t]; ok {
					desc += " For `" + t.String() + "`: " + contractNotation.Replace(alt)
				}
			}
		}
		fmt.Fprintf(&b, "| %d | %d | %d | %s | %s | %s |\n", e.Row, e.Status, e.Code, e.Message, desc, e.Field)
	}
	return b.Bytes()
}

// TestCodesDoc keeps docs/codes.md equal to the catalog.
func TestCodesDoc(t *testing.T) {
	const path = "../../docs/codes.md"
	want := codesMarkdown()
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	have, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run: go test ./order -run TestCodesDoc -update)", err)
	}
	if !bytes.Equal(have, want) {
		t.Fatalf("docs/codes.md differs from order.Catalog; run: go test ./order -run TestCodesDoc -update")
	}
}
