package artifacts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ordergate/ordergate/internal/foundation/samples"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/processor/order/country"
)

// What a JSON Schema of docs/schemas can and cannot tell.
//
// The request schemas are structural: required members (null counts as missing), JSON
// types, non-blank strings of at most 255 code points, E.164 and account phone numbers,
// e-mail addresses, requestedAt as a calendar date, the value lists (title of the update,
// profile, bandwidth, mediumType) and the closed member lists of the BVPN requests. headers.json
// adds the headers: businessId among the assigned ISO 3166-1 codes, id not blank, the account
// request's credentials present with at least 5 characters, and a type header equal to the
// body's type.
//
// Rules-only (ordergate decides them, no schema can):
//   - row 2, the size limit (ORDERGATE_MAX_MESSAGE_BYTES), and row 3's duplicated names and
//     invalid UTF-8 (a JSON decoder keeps the last duplicate and replaces bad bytes);
//   - row 4, a header given twice (a JSON object has one member per name);
//   - rows 5 and 6 on the BVPN requests, which depend on ORDERGATE_CLIENTS_FILE, and rows 6
//     and 11 against the clients file (secret digests, businessIds);
//   - row 16, requestedAt at least 20 days after the record's Paris date and a French working
//     day (it depends on the record timestamp);
//   - rows 17-19, the service-point resolution against the inventory.
//
// The tests below hold the schemas to that: every sample and every mutation of an accepted
// sample that the rules reject for a structural reason must break its schema, and every one
// that the rules accept (or reject only for a rules-only reason) must pass it.

// sampleDir is the samples directory.
const sampleDir = "internal/foundation/samples/requests"

// loadSamples reads the samples, the sample inventory and the clients file.
func loadSamples(t testing.TB) ([]samples.Sample, []order.ServicePoint, *order.Clients) {
	t.Helper()
	list, err := samples.Load(os.DirFS(path(sampleDir)))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path(sampleDir + "/inventory.json"))
	if err != nil {
		t.Fatal(err)
	}
	var inv []order.ServicePoint
	if err := json.Unmarshal(data, &inv); err != nil {
		t.Fatal(err)
	}
	data, err = os.ReadFile(path(sampleDir + "/clients.json"))
	if err != nil {
		t.Fatal(err)
	}
	clients, err := order.ParseClients(data)
	if err != nil {
		t.Fatal(err)
	}
	return list, inv, clients
}

// resolve answers a lookup from the inventory, as the file inventory does.
func resolve(inv []order.ServicePoint, l order.Lookup) []order.ServicePoint {
	var out []order.ServicePoint
	for _, sp := range inv {
		v := map[order.Criterion]string{order.ByID: sp.ID, order.ByReference: sp.Reference, order.ByCustomerReference: sp.CustomerReference}[l.Criterion]
		if v != "" && v == l.Value {
			out = append(out, sp)
		}
	}
	return out
}

// decideSample decides a record as the worker does (rules, then resolution).
func decideSample(s *samples.Sample, value []byte, inv []order.ServicePoint, clients *order.Clients) order.Decision {
	rules := &order.Rules{}
	if s.Clients {
		rules.Clients = clients
	}
	d := rules.Decide(&order.Record{Value: value, Headers: order.HeaderPairs(s.Headers), Time: s.Time})
	if d.Outcome == order.NeedsServicePoint {
		d.Resolve(resolve(inv, d.Lookup))
	}
	return d
}

// contractHeaders are the header names the contract reads, in their documented case.
var contractHeaders = []string{"type", "businessId", "id", "client_id", "client_secret", "X-Correlation-ID", "channelId", "lob", "targetSystem"}

// headerObject returns the record headers as the JSON object headers.json describes: one
// member per name, the names the contract reads in their documented case. ok is false when
// a header the contract reads is given twice with different values (row 4: a JSON object
// cannot say it).
func headerObject(hs [][2]string) (obj map[string]any, ok bool) {
	obj = map[string]any{}
	for _, h := range hs {
		name := h[0]
		for _, c := range contractHeaders {
			if strings.EqualFold(c, name) {
				name = c
			}
		}
		if prev, seen := obj[name]; seen && prev != h[1] {
			return nil, false
		}
		obj[name] = h[1]
	}
	return obj, true
}

// verdict is what the schemas say of one record.
type verdict struct {
	body    map[string]error // by request type: the body against its schema
	headers map[string]error // by request type: the headers against headers.json (absent: not representable)
	notJSON error            // the value is not one JSON value
	typeHdr bool             // a type header is given
}

func (v verdict) message(typ string) bool {
	if v.notJSON != nil || v.body[typ] != nil {
		return false
	}
	err, ok := v.headers[typ]
	return !ok || err == nil
}

// judge validates a record's value and headers against every request type's schemas.
func judge(t testing.TB, sc *schemas, value []byte, hs [][2]string) verdict {
	t.Helper()
	v := verdict{body: map[string]error{}, headers: map[string]error{}}
	doc, err := decodeJSON(value)
	if err != nil {
		v.notJSON = err
	}
	obj, ok := headerObject(hs)
	_, v.typeHdr = obj["type"]
	for typ, id := range requestSchemaIDs {
		if v.notJSON == nil {
			v.body[typ] = sc.validate(t, id, doc)
		}
		if ok {
			v.headers[typ] = sc.validate(t, idHeaders+"#/$defs/"+headerDefs[typ], obj)
		}
	}
	return v
}

// duplicateName reports whether a JSON text gives a name twice in one object.
func duplicateName(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	var walk func() bool
	walk = func() bool {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return false
				}
				if seen[k.(string)] {
					return true
				}
				seen[k.(string)] = true
				if walk() {
					return true
				}
			}
			_, _ = dec.Token()
		case json.Delim('['):
			for dec.More() {
				if walk() {
					return true
				}
			}
			_, _ = dec.Token()
		}
		return false
	}
	return walk()
}

// expectation checks a verdict against the rules' decision. It returns "" when they
// agree, else what is wrong; rulesOnly says why a check was skipped.
func expectation(d order.Decision, v verdict, value []byte, clients bool) (problem, rulesOnly string) {
	typ := d.Type.String()
	e := d.Error()
	row := order.Row(0)
	if e != nil {
		row = e.Row
	}
	switch {
	case d.Outcome != order.Rejected, row == order.RowRequestedAt, row >= order.RowSeveralServicePoints:
		// Accepted, or rejected for a rules-only reason after every structural row passed.
		if typ == "" {
			return "the rules name no type", ""
		}
		if v.notJSON != nil {
			return "the schemas cannot read the value: " + v.notJSON.Error(), ""
		}
		if err := v.body[typ]; err != nil {
			return fmt.Sprintf("the rules pass the body (outcome %s, row %d) but %s rejects it:\n%s", d.Outcome, row, typ, validationSummary(err)), ""
		}
		if err, ok := v.headers[typ]; ok && err != nil {
			if typ == typeAccount && !v.typeHdr {
				return "", "an account request named by the body's type only (tolerated by ordergate, outside the message)"
			}
			return fmt.Sprintf("the rules pass the headers but headers.json#/$defs/%s rejects them:\n%s", headerDefs[typ], validationSummary(err)), ""
		}
		if row != 0 {
			return "", fmt.Sprintf("row %d", row)
		}
		return "", ""
	case row == order.RowMissingBody, row == order.RowInvalidBody, row == order.RowTooLarge:
		switch {
		case row == order.RowTooLarge:
			return "", "row 2: the size limit"
		case !utf8.Valid(value):
			return "", "row 3: invalid UTF-8"
		case v.notJSON != nil:
			return "", "" // not JSON: no schema applies
		case duplicateName(value):
			return "", "row 3: a name given twice"
		}
		for typ, err := range v.body {
			if err == nil {
				return fmt.Sprintf("row %d, but the %s schema accepts the value", row, typ), ""
			}
		}
		return "", ""
	case row == order.RowHeaderConflict:
		return "", "row 4: a header given twice"
	case row == order.RowAccessDenied:
		return "", "row 11: the clients file"
	case row == order.RowMissingCredentials || row == order.RowInvalidCredentials:
		if typ != typeAccount {
			return "", fmt.Sprintf("row %d on a BVPN request: depends on the clients file", row)
		}
		if err, ok := v.headers[typ]; ok && err == nil {
			if clients && row == order.RowInvalidCredentials {
				return "", "row 6: the secret against the clients file"
			}
			return fmt.Sprintf("row %d, but headers.json#/$defs/accountRequest accepts the headers", row), ""
		}
		return "", ""
	case row == order.RowMissingHeader || row == order.RowInvalidHeader:
		if err, ok := v.headers[typAccountOr(typ)]; ok && err == nil {
			return fmt.Sprintf("row %d, but headers.json#/$defs/accountRequest accepts the headers", row), ""
		}
		return "", ""
	case row == order.RowMissingType || row == order.RowUnsupportedType:
		// No type can be told: the record must fit no request type's message.
		for t := range requestSchemaIDs {
			if v.message(t) {
				return fmt.Sprintf("row %d (%s), but the record fits the %s message (body and headers)", row, e.Field, t), ""
			}
		}
		return "", ""
	default: // rows 12-15: the body of the named type is invalid
		if typ == "" {
			return fmt.Sprintf("row %d without a type", row), ""
		}
		if v.notJSON == nil && v.body[typ] == nil {
			return fmt.Sprintf("row %d (%s: %s), but the %s schema accepts the body", row, e.Field, e.Arg, typ), ""
		}
		return "", ""
	}
}

func typAccountOr(typ string) string {
	if typ == "" {
		return typeAccount
	}
	return typ
}

// TestSchemaFiles checks the files themselves: 2020-12 with an $id and a version, in the
// subset of keywords that draft-07 (the AsyncAPI 3.0 Schema Object) reads the same way, and
// the definitions the files share identical.
func TestSchemaFiles(t *testing.T) {
	files := readSchemaFiles(t)
	want := map[string]string{
		"request-R_BVPN_FR_1.json": idDisconnect, "request-U_BVPN_CUSTOM003_1.json": idUpdate,
		"request-PATCH-billingAccountById.json": idAccount, "event.json": idEvent, "headers.json": idHeaders,
	}
	// Keywords of 2020-12 that draft-07 does not know, or reads differently.
	only2020 := []string{"$anchor", "$dynamicRef", "$dynamicAnchor", "$recursiveRef", "$recursiveAnchor", "$vocabulary",
		"prefixItems", "dependentRequired", "dependentSchemas", "unevaluatedItems", "unevaluatedProperties", "minContains", "maxContains", "contentSchema"}
	shared := map[string]map[string]string{} // $defs name -> file -> JSON
	idVersion := regexp.MustCompile(`^urn:ordergate:schema:[A-Za-z0-9_:-]+:([0-9]+\.[0-9]+\.[0-9]+)$`)
	for _, f := range files {
		t.Run(f.name, func(t *testing.T) {
			if want[f.name] == "" {
				t.Fatalf("unexpected file %s in %s (add it to this test)", f.name, schemaDir)
			}
			if f.id != want[f.name] {
				t.Errorf("$id %q, want %q", f.id, want[f.name])
			}
			if f.doc["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
				t.Errorf("$schema %v, want draft 2020-12", f.doc["$schema"])
			}
			m := idVersion.FindStringSubmatch(f.id)
			if m == nil || f.doc["x-version"] != m[1] {
				t.Errorf("x-version %v does not match the version of $id %s", f.doc["x-version"], f.id)
			}
			for _, k := range []string{"title", "description"} {
				if s, _ := f.doc[k].(string); s == "" {
					t.Errorf("no %s", k)
				}
			}
			var walk func(p string, v any)
			walk = func(p string, v any) {
				switch v := v.(type) {
				case map[string]any:
					if _, ok := v["$ref"]; ok && len(v) > 1 && !strings.Contains(p, "/properties/$ref") {
						t.Errorf("%s: $ref with siblings (draft-07 ignores them; wrap in allOf)", p)
					}
					if ref, ok := v["$ref"].(string); ok && !strings.HasPrefix(ref, "#/$defs/") {
						t.Errorf("%s: $ref %q leaves the file (keep each file self-contained)", p, ref)
					}
					for k, x := range v {
						for _, bad := range only2020 {
							if k == bad && !strings.HasSuffix(p, "/properties") {
								t.Errorf("%s: keyword %s is not read the same by draft-07", p, k)
							}
						}
						walk(p+"/"+k, x)
					}
				case []any:
					for i, x := range v {
						walk(fmt.Sprintf("%s/%d", p, i), x)
					}
				}
			}
			walk("#", f.doc)
			defs, _ := f.doc["$defs"].(map[string]any)
			for name, def := range defs {
				b, _ := json.Marshal(def)
				if shared[name] == nil {
					shared[name] = map[string]string{}
				}
				shared[name][f.name] = string(b)
			}
		})
	}
	// Definitions of the same name must not drift apart, except the ones that differ by
	// request type on purpose.
	differ := map[string]bool{"person": true}
	for name, byFile := range shared {
		if differ[name] || len(byFile) < 2 {
			continue
		}
		var first, firstFile string
		for file, js := range byFile {
			if first == "" {
				first, firstFile = js, file
				continue
			}
			if js != first {
				t.Errorf("$defs/%s differs between %s and %s", name, firstFile, file)
			}
		}
	}
	// Every file compiles both ways.
	for _, draft07 := range []bool{false, true} {
		sc := loadSchemas(t, draft07)
		for _, id := range want {
			sc.get(t, id)
		}
	}
}

// TestRequestSamples validates every sample of internal/foundation/samples/requests against its type's schemas
// (body and headers), with the schemas read as 2020-12 and as draft-07: a sample the rules
// accept must pass, and one they reject for a structural reason must fail.
func TestRequestSamples(t *testing.T) {
	list, inv, clients := loadSamples(t)
	for _, draft07 := range []bool{false, true} {
		sc := loadSchemas(t, draft07)
		name := "2020-12"
		if draft07 {
			name = "draft-07"
		}
		t.Run(name, func(t *testing.T) {
			accepted := 0
			for i := range list {
				s := &list[i]
				d := decideSample(s, s.Value, inv, clients)
				if got := d.Outcome.String(); got != s.Outcome {
					t.Fatalf("%s: the rules give %s, the manifest %s", s.Name, got, s.Outcome)
				}
				if d.Outcome == order.Accepted {
					accepted++
				}
				v := judge(t, sc, s.Value, s.Headers)
				problem, rulesOnly := expectation(d, v, s.Value, s.Clients)
				if problem != "" {
					t.Errorf("sample %s: %s", s.Name, problem)
				} else if rulesOnly != "" && testing.Verbose() {
					t.Logf("sample %s: rules-only: %s", s.Name, rulesOnly)
				}
			}
			if accepted == 0 {
				t.Fatal("no accepted sample")
			}
		})
	}
}

// mutation is one change to an accepted sample's body.
type mutation struct {
	what  string
	value []byte
}

// mutations returns variants of a JSON object: each member deleted, replaced by values of
// every JSON type and by the edge cases of its kind, and an unknown member added to every
// object.
func mutations(t testing.TB, body []byte) []mutation {
	t.Helper()
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 255)
	generic := []any{nil, "", " ", "\t", "\u00a0", "\u0085", "\u2003", "\ufeff", "x", long, long + "y",
		strings.Repeat("é", 255), strings.Repeat("é", 256), strings.Repeat("🥐", 255), strings.Repeat("🥐", 256),
		json.Number("12"), true, map[string]any{}, []any{}, []any{"x"}}
	byName := map[string][]any{
		"phone": {"+33140000000", "+3314000000", "+331400000", "+33 140000000", "0033140000000", "+0140000000", "+1234567", "+12345678", "+123456789012345", "+1234567890123456", "+33140000000\n", "+٣٣140000000"},
		"email": emailCases(),
		"title": {"M.", "Mrs.", "M", "Mme", "mrs.", "M. "},
		"profile": {"FDJ CONNECT OPTIMA 8M", "FDJ CONNECT OPTIMA 18M", "FDJ CONNECT FTTH", "FDJ CONNECT ULTIME", "FDJ CONNECT CELL",
			"FDJ CONNECT FIBRE", "fdj connect ftth", "FDJ CONNECT FTTH "},
		"bandwidth":   {"8M", "1M", "Extended", "100M", "extended", "8m"},
		"mediumType":  {"Telephone", "Mobile", "Email", "Fax", "telephone", "Email "},
		"phoneNumber": {"12345678", "+12345678", "123456", "1234567", "123456789012345", "1234567890123456", "+1234567890123456", "12-34-56-78", "+ 12345678", "++1234567", "0012345678"},
		"requestedAt": {"2026-12-31", "2027-01-04", "2026-02-30", "2028-02-29", "2027-02-29", "2026-1-01", "01/12/2026", "2026-12-31T00:00:00Z", " 2026-12-31", "0000-01-01", "2026-13-01", "2026-12-00"},
		"type":        {typeDisconnect, typeUpdate, typeAccount, "R_BVPN_FR_2", "r_bvpn_fr_1"},
		"id":          {"SP-FR-9999", "SP-FR-0001"},
	}
	byName["mobile"] = byName["phone"]
	byName["emailAddress"] = byName["email"]
	var out []mutation
	add := func(what string, mutated any) {
		b, err := json.Marshal(mutated)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, mutation{what, b})
	}
	// walk visits every member and item; set replaces the node at the path in a copy.
	var walk func(p []any, node any)
	walk = func(p []any, node any) {
		switch n := node.(type) {
		case map[string]any:
			add(pathString(p)+": add an unknown member", setAt(doc, p, withMember(n, "zzUnknown", "x")))
			add(pathString(p)+": add an unknown null member", setAt(doc, p, withMember(n, "zzUnknown", nil)))
			keys := make([]string, 0, len(n))
			for k := range n {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				q := append(append([]any{}, p...), k)
				add(pathString(q)+": deleted", setAt(doc, p, withoutMember(n, k)))
				for _, v := range append(append([]any{}, byName[k]...), generic...) {
					add(fmt.Sprintf("%s = %s", pathString(q), short(v)), setAt(doc, q, v))
				}
				walk(q, n[k])
			}
		case []any:
			for i := range n {
				q := append(append([]any{}, p...), i)
				for _, v := range generic {
					add(fmt.Sprintf("%s = %s", pathString(q), short(v)), setAt(doc, q, v))
				}
				walk(q, n[i])
			}
		}
	}
	walk(nil, doc)
	return out
}

func emailCases() []any {
	label63 := strings.Repeat("d", 63)
	return []any{"a@b.fr", "a@b", "a.b@c.fr", "a..b@c.fr", ".a@c.fr", "a.@c.fr", "Paul <p@x.fr>", "p@x.123", "p@x.fr1", "p@1.fr",
		"p@-x.fr", "p@x-.fr", "p@x.fr.", "p@x..fr", strings.Repeat("a", 64) + "@x.fr", strings.Repeat("a", 65) + "@x.fr",
		`"q"@x.fr`, "p@[1.2.3.4]", "p@x_y.fr", "a+b@x.fr", "é@x.fr", "p@é.fr", "a{b}|c~@x.fr", "a`b@x.fr", "p@" + strings.Repeat("d", 64) + ".fr",
		"p@" + label63 + "." + label63 + "." + label63 + "." + strings.Repeat("d", 61) + ".fr", "p@" + label63 + "." + label63 + "." + label63 + "." + strings.Repeat("d", 58) + ".fr",
		"p q@x.fr", "p@x.fr ", "p@x", "@x.fr", "p@", "p@@x.fr", "a@b@x.fr", "p(c)@x.fr"}
}

func short(v any) string {
	b, _ := json.Marshal(v)
	s := string(b)
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return s
}

func pathString(p []any) string {
	var b strings.Builder
	for _, x := range p {
		switch x := x.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(x)
		case int:
			fmt.Fprintf(&b, "[%d]", x)
		}
	}
	if b.Len() == 0 {
		return "(body)"
	}
	return b.String()
}

func withMember(m map[string]any, k string, v any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for a, b := range m {
		out[a] = b
	}
	out[k] = v
	return out
}

func withoutMember(m map[string]any, k string) map[string]any {
	out := make(map[string]any, len(m))
	for a, b := range m {
		if a != k {
			out[a] = b
		}
	}
	return out
}

// setAt returns a copy of doc with the node at p replaced by v (p empty: v itself).
func setAt(doc any, p []any, v any) any {
	if len(p) == 0 {
		return v
	}
	switch n := doc.(type) {
	case map[string]any:
		k := p[0].(string)
		out := make(map[string]any, len(n))
		for a, b := range n {
			out[a] = b
		}
		out[k] = setAt(n[k], p[1:], v)
		return out
	case []any:
		i := p[0].(int)
		out := append([]any{}, n...)
		out[i] = setAt(n[i], p[1:], v)
		return out
	}
	panic("setAt: path through a scalar")
}

// TestRequestMutations is a differential test of the schemas against the rules: each
// accepted sample is mutated member by member (deleted, null, blank, too long, wrong type,
// the edge cases of its format or list, an unknown member added), each variant is decided by
// the rules and validated by the schemas, and the two must agree as TestRequestSamples says.
func TestRequestMutations(t *testing.T) {
	list, inv, clients := loadSamples(t)
	for _, draft07 := range []bool{false, true} {
		sc := loadSchemas(t, draft07)
		n, disagreements := 0, 0
		for i := range list {
			s := &list[i]
			if s.Outcome != "accepted" {
				continue
			}
			for _, m := range mutations(t, s.Value) {
				n++
				d := decideSample(s, m.value, inv, clients)
				v := judge(t, sc, m.value, s.Headers)
				if problem, _ := expectation(d, v, m.value, s.Clients); problem != "" {
					disagreements++
					if disagreements <= 40 {
						t.Errorf("draft-07 %v: %s, %s: %s", draft07, s.Name, m.what, problem)
					}
				}
			}
		}
		if disagreements > 40 {
			t.Errorf("... %d disagreements in all", disagreements)
		}
		t.Logf("draft-07 %v: %d mutations of the accepted samples, %d disagreements", draft07, n, disagreements)
		if n < 1000 {
			t.Fatalf("only %d mutations: the samples lost their accepted bodies?", n)
		}
	}
}

// TestSchemasRejectBrokenSamples makes sure a sample that breaks its schema fails: each
// accepted sample, with one structural fault, must fail the schema of its type (a guard
// against a schema that accepts everything).
func TestSchemasRejectBrokenSamples(t *testing.T) {
	list, _, _ := loadSamples(t)
	sc := loadSchemas(t, false)
	for i := range list {
		s := &list[i]
		if s.Outcome != "accepted" {
			continue
		}
		var body map[string]any
		if err := json.Unmarshal(s.Value, &body); err != nil {
			t.Fatal(err)
		}
		typ, _ := body["type"].(string)
		if typ == "" {
			typ = typeAccount
		}
		broken := withMember(body, "contact", "not an array")
		if typ != typeAccount {
			broken = withMember(body, "properties", "not an object")
		}
		doc := cloneJSON(t, broken)
		if err := sc.validate(t, requestSchemaIDs[typ], doc); err == nil {
			t.Errorf("%s: the %s schema accepts a broken body", s.Name, typ)
		}
		if err := sc.validate(t, requestSchemaIDs[typ], cloneJSON(t, body)); err != nil {
			t.Errorf("%s: %s", s.Name, validationSummary(err))
		}
	}
}

// TestRequestHeaderMutations is TestRequestMutations for the headers: each header the
// contract reads is removed, emptied, given edge-case values, or added, on every accepted
// sample, and headers.json must agree with the rules.
func TestRequestHeaderMutations(t *testing.T) {
	list, inv, clients := loadSamples(t)
	sc := loadSchemas(t, false)
	values := []string{"", " ", "x", "abcd", "abcde", "héllo", "UK", "GB", "PA", "pa", "XX", "ZZ", "EU",
		typeDisconnect, typeUpdate, typeAccount, "R_BVPN_FR_2", "sample-secret-pa-jm"}
	n, disagreements := 0, 0
	for i := range list {
		s := &list[i]
		if s.Outcome != "accepted" {
			continue
		}
		var variants []struct {
			what string
			hs   [][2]string
		}
		add := func(what string, hs [][2]string) {
			variants = append(variants, struct {
				what string
				hs   [][2]string
			}{what, hs})
		}
		for _, name := range contractHeaders {
			idx := -1
			for j, h := range s.Headers {
				if strings.EqualFold(h[0], name) {
					idx = j
				}
			}
			for _, v := range values {
				hs := append([][2]string{}, s.Headers...)
				if idx >= 0 {
					hs[idx][1] = v
					add(fmt.Sprintf("header %s = %q", name, v), hs)
				} else {
					add(fmt.Sprintf("header %s added = %q", name, v), append(hs, [2]string{name, v}))
				}
			}
			if idx >= 0 {
				hs := append(append([][2]string{}, s.Headers[:idx]...), s.Headers[idx+1:]...)
				add("header "+name+" removed", hs)
				add("header "+name+" twice", append(append([][2]string{}, s.Headers...), [2]string{name, "other-value"}))
			}
		}
		for _, v := range variants {
			n++
			m := *s
			m.Headers = v.hs
			d := decideSample(&m, m.Value, inv, clients)
			verdict := judge(t, sc, m.Value, m.Headers)
			if problem, _ := expectation(d, verdict, m.Value, m.Clients); problem != "" {
				disagreements++
				if disagreements <= 40 {
					t.Errorf("%s, %s: %s", s.Name, v.what, problem)
				}
			}
		}
	}
	t.Logf("%d header variants of the accepted samples, %d disagreements", n, disagreements)
}

// TestBusinessIDEnum checks that headers.json lists exactly the codes ordergate accepts as
// businessId (country.IsAssignedAlpha2: the assigned ISO 3166-1 alpha-2 codes).
func TestBusinessIDEnum(t *testing.T) {
	var defs map[string]any
	for _, f := range readSchemaFiles(t) {
		if f.id == idHeaders {
			defs, _ = f.doc["$defs"].(map[string]any)
		}
	}
	enum, _ := jsonPointer(defs, "/accountRequest/properties/businessId/enum")
	listed := map[string]bool{}
	for _, c := range enum.([]any) {
		listed[c.(string)] = true
	}
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			code := string([]rune{a, b})
			if country.IsAssignedAlpha2(code) != listed[code] {
				t.Errorf("businessId %s: ordergate accepts it %v, headers.json lists it %v", code, country.IsAssignedAlpha2(code), listed[code])
			}
		}
	}
	if len(listed) < 240 {
		t.Errorf("only %d codes listed", len(listed))
	}
}
