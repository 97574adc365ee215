// Package artifacts checks the files that integrators and operators use, against the code
// and the samples: the JSON Schemas of docs/schemas and the AsyncAPI document docs/asyncapi.yaml
// (schema_test.go, events_test.go, asyncapi_test.go), the docker compose file (compose_test.go),
// the Dockerfile (dockerfile_test.go), and the layout a newcomer reads first: the top level
// and the direction of imports (layout_test.go). It holds tests only.
package artifacts

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v4"
)

// root is the repository's root directory.
var root = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(filepath.Dir(file)))
}()

// path returns a repository path as a file path.
func path(rel string) string { return filepath.Join(root, filepath.FromSlash(rel)) }

// Schema files of docs/schemas and the ids they declare.
const (
	schemaDir        = "docs/schemas"
	idDisconnect     = "urn:ordergate:schema:request:R_BVPN_FR_1:1.0.0"
	idUpdate         = "urn:ordergate:schema:request:U_BVPN_CUSTOM003_1:1.0.0"
	idAccount        = "urn:ordergate:schema:request:PATCH-billingAccountById:1.0.0"
	idEvent          = "urn:ordergate:schema:event:1.1.0"
	idHeaders        = "urn:ordergate:schema:headers:1.1.0"
	typeDisconnect   = "R_BVPN_FR_1"
	typeUpdate       = "U_BVPN_CUSTOM003_1"
	typeAccount      = "PATCH-billingAccountById"
	asyncAPIDocument = "docs/asyncapi.yaml"
)

// requestSchemaIDs maps each request type to the id of its body's schema.
var requestSchemaIDs = map[string]string{
	typeDisconnect: idDisconnect,
	typeUpdate:     idUpdate,
	typeAccount:    idAccount,
}

// headerDefs maps each request type to the $defs of headers.json that describes its headers.
var headerDefs = map[string]string{
	typeDisconnect: "disconnectRequest",
	typeUpdate:     "updateRequest",
	typeAccount:    "accountRequest",
}

// schemaFile is one file of docs/schemas.
type schemaFile struct {
	name string         // file name, e.g. event.json
	id   string         // its $id
	doc  map[string]any // its content, as jsonschema.UnmarshalJSON reads it
}

// readSchemaFiles reads every JSON file of docs/schemas.
func readSchemaFiles(t testing.TB) []schemaFile {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(path(schemaDir), "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	if len(names) == 0 {
		t.Fatalf("no schema in %s", schemaDir)
	}
	var out []schemaFile
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		doc, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: not a JSON object", name)
		}
		id, _ := doc["$id"].(string)
		out = append(out, schemaFile{name: filepath.Base(name), id: id, doc: doc})
	}
	return out
}

// schemas compiles the schemas of docs/schemas, format assertions on (date, date-time,
// email, uuid are checked, as a validator configured for it would).
type schemas struct {
	c     *jsonschema.Compiler
	mu    sync.Mutex
	cache map[string]*jsonschema.Schema
}

// loadSchemas adds every file of docs/schemas to a compiler under its $id. With draft07
// set, the files are read as draft-07 (their $schema removed), as an AsyncAPI 3.0 tool
// reads them.
func loadSchemas(t testing.TB, draft07 bool) *schemas {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if draft07 {
		c.DefaultDraft(jsonschema.Draft7)
	}
	for _, f := range readSchemaFiles(t) {
		if f.id == "" {
			t.Fatalf("%s has no $id", f.name)
		}
		doc := f.doc
		if draft07 {
			doc = cloneJSON(t, f.doc).(map[string]any)
			delete(doc, "$schema")
		}
		if err := c.AddResource(f.id, doc); err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
	}
	return &schemas{c: c, cache: map[string]*jsonschema.Schema{}}
}

// get compiles (once) the schema at loc, an $id with an optional fragment.
func (s *schemas) get(t testing.TB, loc string) *jsonschema.Schema {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if sch, ok := s.cache[loc]; ok {
		return sch
	}
	sch, err := s.c.Compile(loc)
	if err != nil {
		t.Fatalf("compile %s: %v", loc, err)
	}
	s.cache[loc] = sch
	return sch
}

// validate validates a JSON value (as decoded by decodeJSON) against the schema at loc.
func (s *schemas) validate(t testing.TB, loc string, v any) error {
	t.Helper()
	return s.get(t, loc).Validate(v)
}

// decodeJSON decodes JSON as the validator wants it (numbers as json.Number).
func decodeJSON(data []byte) (any, error) {
	return jsonschema.UnmarshalJSON(bytes.NewReader(data))
}

// mustJSON marshals v (a value of decodeJSON, or any Go value) and decodes it again.
func cloneJSON(t testing.TB, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := decodeJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// readYAML reads a YAML file into plain JSON values (maps with string keys, json.Number).
func readYAML(t testing.TB, rel string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path(rel))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	js, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("%s: not representable as JSON: %v", rel, err)
	}
	out, err := decodeJSON(js)
	if err != nil {
		t.Fatal(err)
	}
	m, ok := out.(map[string]any)
	if !ok {
		t.Fatalf("%s: not a mapping", rel)
	}
	return m
}

// validationSummary returns the first lines of a validation error, for test messages.
func validationSummary(err error) string {
	if err == nil {
		return "valid"
	}
	var ve *jsonschema.ValidationError
	if errors.As(err, &ve) {
		lines := strings.Split(ve.Error(), "\n")
		if len(lines) > 8 {
			lines = append(lines[:8], "  ...")
		}
		return strings.Join(lines, "\n")
	}
	return err.Error()
}
