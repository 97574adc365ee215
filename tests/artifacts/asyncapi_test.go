package artifacts

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ordergate/ordergate/config"
)

// The official AsyncAPI 3.0.0 JSON Schema, vendored (see testdata/README.md).
const (
	asyncAPISchemaFile   = "testdata/asyncapi-3.0.0.json"
	asyncAPISchemaSHA256 = "d4571a420e6ffb7fcc7066c95a6db1202f299a3c51daa103d0706bf30f95e626"
	asyncAPISchemaID     = "http://asyncapi.com/definitions/3.0.0/asyncapi.json"
)

// TestAsyncAPIDocument validates docs/asyncapi.yaml against the official AsyncAPI 3.0.0 JSON
// Schema.
func TestAsyncAPIDocument(t *testing.T) {
	data, err := os.ReadFile(asyncAPISchemaFile)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != asyncAPISchemaSHA256 {
		t.Fatalf("%s is not the vendored file (SHA-256 %x): see testdata/README.md", asyncAPISchemaFile, sum)
	}
	schemaDoc, err := decodeJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(asyncAPISchemaID, schemaDoc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(asyncAPISchemaID)
	if err != nil {
		t.Fatalf("compile the AsyncAPI 3.0.0 schema: %v", err)
	}
	doc := readYAML(t, asyncAPIDocument)
	if err := sch.Validate(doc); err != nil {
		t.Fatalf("%s is not a valid AsyncAPI 3.0.0 document:\n%v", asyncAPIDocument, err)
	}
	// The schema must have teeth: a document with an unknown top-level member, or a
	// message without its channel's shape, fails.
	broken := withMember(doc, "channel", map[string]any{})
	if err := sch.Validate(broken); err == nil {
		t.Error("the AsyncAPI schema accepts an unknown top-level member")
	}
	info := withMember(doc["info"].(map[string]any), "version", json.Number("1"))
	if err := sch.Validate(withMember(doc, "info", info)); err == nil {
		t.Error("the AsyncAPI schema accepts a number as info.version")
	}
}

// jsonPointer resolves a JSON pointer ("" or "/a/b") in v.
func jsonPointer(v any, ptr string) (any, bool) {
	if ptr == "" {
		return v, true
	}
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch n := v.(type) {
		case map[string]any:
			x, ok := n[tok]
			if !ok {
				return nil, false
			}
			v = x
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n) {
				return nil, false
			}
			v = n[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// refs returns every $ref of a document with its location.
func refs(v any, at string, out map[string]string) {
	switch n := v.(type) {
	case map[string]any:
		if r, ok := n["$ref"].(string); ok {
			out[at] = r
		}
		for k, x := range n {
			refs(x, at+"/"+k, out)
		}
	case []any:
		for i, x := range n {
			refs(x, fmt.Sprintf("%s/%d", at, i), out)
		}
	}
}

// schemaFileIDs maps the files of docs/schemas to their $id.
func schemaFileIDs(t testing.TB) map[string]string {
	ids := map[string]string{}
	for _, f := range readSchemaFiles(t) {
		ids[f.name] = f.id
	}
	return ids
}

// resolveRef resolves a $ref of docs/asyncapi.yaml: an internal one to its value, an external
// one (./schemas/FILE#PTR) to the schema location "$id#PTR" that the compiler knows.
func resolveRef(t testing.TB, doc map[string]any, ids map[string]string, ref string) (value any, schemaLoc string, err error) {
	file, ptr, _ := strings.Cut(ref, "#")
	if file == "" {
		v, ok := jsonPointer(doc, ptr)
		if !ok {
			return nil, "", fmt.Errorf("%s: no such location in the document", ref)
		}
		return v, "", nil
	}
	rel, ok := strings.CutPrefix(file, "./schemas/")
	if !ok || strings.Contains(rel, "/") {
		return nil, "", fmt.Errorf("%s: external references must name ./schemas/FILE", ref)
	}
	data, err := os.ReadFile(path(schemaDir + "/" + rel))
	if err != nil {
		return nil, "", fmt.Errorf("%s: %v", ref, err)
	}
	target, err := decodeJSON(data)
	if err != nil {
		return nil, "", err
	}
	v, ok := jsonPointer(target, ptr)
	if !ok {
		return nil, "", fmt.Errorf("%s: no such location in %s", ref, rel)
	}
	loc := ids[rel]
	if ptr != "" {
		loc += "#" + ptr
	}
	return v, loc, nil
}

// TestAsyncAPIReferences resolves every $ref of docs/asyncapi.yaml, and checks that every
// schema of docs/schemas is used.
func TestAsyncAPIReferences(t *testing.T) {
	doc := readYAML(t, asyncAPIDocument)
	ids := schemaFileIDs(t)
	all := map[string]string{}
	refs(doc, "#", all)
	used := map[string]bool{}
	for at, ref := range all {
		if _, _, err := resolveRef(t, doc, ids, ref); err != nil {
			t.Errorf("%s: %v", at, err)
		}
		if file, _, _ := strings.Cut(ref, "#"); file != "" {
			used[strings.TrimPrefix(file, "./schemas/")] = true
		}
	}
	for name := range ids {
		if !used[name] {
			t.Errorf("docs/schemas/%s is not referenced by %s", name, asyncAPIDocument)
		}
	}
}

// TestAsyncAPIChannels checks the channels against the configuration's default topics, and
// the headers each message documents.
func TestAsyncAPIChannels(t *testing.T) {
	doc := readYAML(t, asyncAPIDocument)
	defaults := map[string]string{}
	typ := reflect.TypeFor[config.Config]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		defaults[f.Tag.Get("envconfig")] = f.Tag.Get("default")
	}
	want := map[string]string{
		"requests":    defaults["ORDERGATE_TOPIC_REQUESTS"],
		"accepted":    defaults["ORDERGATE_TOPIC_ACCEPTED"],
		"rejected":    defaults["ORDERGATE_TOPIC_REJECTED"],
		"deadLetters": defaults["ORDERGATE_TOPIC_DLQ"],
	}
	channels := doc["channels"].(map[string]any)
	if len(channels) != len(want) {
		t.Errorf("%d channels, want %d", len(channels), len(want))
	}
	for name, topic := range want {
		ch, ok := channels[name].(map[string]any)
		if !ok {
			t.Errorf("no channel %s", name)
			continue
		}
		if topic == "" || ch["address"] != topic {
			t.Errorf("channel %s: address %v, want the default topic %q", name, ch["address"], topic)
		}
		kb, _ := jsonPointer(ch, "/bindings/kafka")
		k, _ := kb.(map[string]any)
		if k == nil || k["topic"] != topic {
			t.Errorf("channel %s: no Kafka binding naming topic %s", name, topic)
			continue
		}
		cfg, _ := k["topicConfiguration"].(map[string]any)
		ts, _ := cfg["message.timestamp.type"].(string)
		if name == "requests" && ts != "LogAppendTime" {
			t.Errorf("channel requests: message.timestamp.type %q, want LogAppendTime", ts)
		}
		if name != "requests" && ts != "" {
			t.Errorf("channel %s sets message.timestamp.type", name)
		}
	}
	// The request headers of the contract, section 1, are documented, the secret as such and
	// the deprecated ones as deprecated.
	headers := readSchemaFiles(t)
	var defs map[string]any
	for _, f := range headers {
		if f.id == idHeaders {
			defs = f.doc["$defs"].(map[string]any)
		}
	}
	for _, name := range []string{"disconnectRequest", "updateRequest", "accountRequest"} {
		props, _ := jsonPointer(defs, "/"+name+"/properties")
		p, _ := props.(map[string]any)
		for _, h := range contractHeaders {
			if name != "accountRequest" && (h == "businessId" || h == "id") {
				continue
			}
			hp, ok := p[h].(map[string]any)
			if !ok {
				t.Errorf("headers.json#/$defs/%s does not document header %s", name, h)
				continue
			}
			if h == "client_secret" && (hp["writeOnly"] != true || hp["x-secret"] != true) {
				t.Errorf("headers.json#/$defs/%s: client_secret is not marked writeOnly and x-secret", name)
			}
			deprecated := h == "channelId" || h == "lob" || h == "targetSystem"
			if (hp["deprecated"] == true) != deprecated {
				t.Errorf("headers.json#/$defs/%s: header %s deprecated=%v", name, h, hp["deprecated"])
			}
		}
	}
	for _, name := range []string{"event", "deadLetter"} {
		req, _ := jsonPointer(defs, "/"+name+"/required")
		got := fmt.Sprint(req)
		wantReq := map[string]string{
			"event":      "[ce_specversion ce_id ce_source ce_type ce_time content-type X-Correlation-ID]",
			"deadLetter": "[dlq_reason dlq_source ce_id]",
		}[name]
		if got != wantReq {
			t.Errorf("headers.json#/$defs/%s requires %s, want %s", name, got, wantReq)
		}
	}
}

// messageSchemas returns the payload and headers schema locations of a message (headers
// possibly from its traits).
func messageSchemas(t testing.TB, doc map[string]any, ids map[string]string, msg map[string]any) (payload, headers string) {
	t.Helper()
	loc := func(v any) string {
		m, _ := v.(map[string]any)
		r, _ := m["$ref"].(string)
		if r == "" {
			return ""
		}
		_, l, err := resolveRef(t, doc, ids, r)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	payload, headers = loc(msg["payload"]), loc(msg["headers"])
	traits, _ := msg["traits"].([]any)
	for _, tr := range traits {
		r, _ := tr.(map[string]any)["$ref"].(string)
		v, _, err := resolveRef(t, doc, ids, r)
		if err != nil {
			t.Fatal(err)
		}
		if h := loc(v.(map[string]any)["headers"]); h != "" && headers == "" {
			headers = h
		}
	}
	return payload, headers
}

// TestAsyncAPIExamples validates every message example of docs/asyncapi.yaml against the
// message's payload and headers schemas; the event examples must also be consistent events.
func TestAsyncAPIExamples(t *testing.T) {
	doc := readYAML(t, asyncAPIDocument)
	ids := schemaFileIDs(t)
	sc := loadSchemas(t, false)
	msgs, _ := jsonPointer(doc, "/components/messages")
	names := []string{}
	for n := range msgs.(map[string]any) {
		names = append(names, n)
	}
	sort.Strings(names)
	uuid5 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	for _, name := range names {
		msg := msgs.(map[string]any)[name].(map[string]any)
		payload, headers := messageSchemas(t, doc, ids, msg)
		examples, _ := msg["examples"].([]any)
		if len(examples) == 0 {
			t.Errorf("message %s has no example", name)
		}
		if headers == "" {
			t.Errorf("message %s documents no headers", name)
		}
		for i, ex := range examples {
			ex := ex.(map[string]any)
			what := fmt.Sprintf("message %s, example %v", name, ex["name"])
			if p, ok := ex["payload"]; ok {
				if payload == "" {
					t.Errorf("%s: a payload example without a payload schema", what)
				} else if err := sc.validate(t, payload, p); err != nil {
					t.Errorf("%s: payload: %s", what, validationSummary(err))
				}
			} else if payload != "" {
				t.Errorf("%s: no payload", what)
			}
			h, ok := ex["headers"]
			if !ok {
				t.Errorf("%s (#%d): no headers", what, i)
				continue
			}
			if err := sc.validate(t, headers, h); err != nil {
				t.Errorf("%s: headers: %s", what, validationSummary(err))
			}
			if id, _ := h.(map[string]any)["ce_id"].(string); id != "" && !uuid5.MatchString(id) {
				t.Errorf("%s: ce_id %s", what, id)
			}
			if payload == idEvent {
				value, _ := json.Marshal(ex["payload"])
				r := record{key: []byte("example"), value: value}
				for k, v := range h.(map[string]any) {
					r.headers = append(r.headers, [2]string{k, fmt.Sprint(v)})
				}
				for _, p := range checkEvent(t, sc, r, nil) {
					t.Errorf("%s: %s", what, p)
				}
			}
		}
	}
}
