package deploy

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v4"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// crdDir holds the CRDs of the custom resources the chart renders, vendored with their
// licences (see its README.md).
const crdDir = "testdata/crds"

// customKinds are the custom resources the chart may render, by apiVersion and kind.
var customKinds = map[string]bool{
	"monitoring.coreos.com/v1 ServiceMonitor": true,
	"monitoring.coreos.com/v1 PodMonitor":     true,
	"monitoring.coreos.com/v1 PrometheusRule": true,
	"keda.sh/v1alpha1 ScaledObject":           true,
	"keda.sh/v1alpha1 TriggerAuthentication":  true,
}

// crdSchemas are the compiled schemas of the vendored CRDs, by apiVersion and kind.
type crdSchemas map[string]*jsonschema.Schema

// loadCRDs compiles the openAPIV3Schema of every served version of every vendored CRD.
func loadCRDs(t *testing.T) crdSchemas {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(crdDir, "*", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CRDs in %s: %v", crdDir, err)
	}
	out := crdSchemas{}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var crd struct {
			Kind string
			Spec struct {
				Group string
				Names struct{ Kind string }
				// Versions keep their schemas as decoded YAML.
				Versions []struct {
					Name   string
					Served bool
					Schema struct {
						OpenAPIV3Schema map[string]any `yaml:"openAPIV3Schema"`
					}
				}
			}
		}
		if err := yaml.Unmarshal(data, &crd); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if crd.Kind != "CustomResourceDefinition" {
			t.Fatalf("%s is a %s", f, crd.Kind)
		}
		for _, v := range crd.Spec.Versions {
			if !v.Served {
				continue
			}
			key := crd.Spec.Group + "/" + v.Name + " " + crd.Spec.Names.Kind
			schema := v.Schema.OpenAPIV3Schema
			closeObjects(schema)
			// Through JSON, as the compiler reads documents (numbers as json.Number).
			raw, err := json.Marshal(schema)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			url := "urn:crd:" + strings.ReplaceAll(key, " ", ":")
			if err := c.AddResource(url, doc); err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			sch, err := c.Compile(url)
			if err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			out[key] = sch
		}
	}
	for kind := range customKinds {
		if out[kind] == nil {
			t.Fatalf("no vendored CRD for %s", kind)
		}
	}
	return out
}

// closeObjects makes every object schema that lists its properties refuse any other field,
// as the API server does for a structural schema (it prunes unknown fields, or refuses them
// under strict field validation), unless the schema preserves unknown fields. It walks the
// schema keywords only, so that a property called "properties" is not mistaken for one.
func closeObjects(schema map[string]any) {
	if props, ok := schema["properties"].(map[string]any); ok {
		if _, open := schema["additionalProperties"]; !open && schema["x-kubernetes-preserve-unknown-fields"] != true {
			schema["additionalProperties"] = false
		}
		for _, p := range props {
			if m, ok := p.(map[string]any); ok {
				closeObjects(m)
			}
		}
	}
	for _, key := range []string{"items", "additionalProperties", "not"} {
		if m, ok := schema[key].(map[string]any); ok {
			closeObjects(m)
		}
	}
	for _, key := range []string{"allOf", "anyOf", "oneOf"} {
		list, _ := schema[key].([]any)
		for _, x := range list {
			if m, ok := x.(map[string]any); ok {
				closeObjects(m)
			}
		}
	}
}

// validate checks a custom resource against its CRD's schema, and its metadata strictly
// against the Kubernetes ObjectMeta (the CRDs leave metadata to the API server).
func (s crdSchemas) validate(t *testing.T, o object) {
	t.Helper()
	sch := s[o.APIVersion+" "+o.Kind]
	if sch == nil {
		t.Errorf("%s: no CRD for %s %s", o, o.APIVersion, o.Kind)
		return
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(o.raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(doc); err != nil {
		t.Errorf("%s does not match its CRD:\n%v", o, err)
	}
	var whole struct {
		Metadata json.RawMessage `json:"metadata"`
	}
	if err := json.Unmarshal(o.raw, &whole); err != nil {
		t.Fatal(err)
	}
	var meta metav1.ObjectMeta
	if err := decodeStrict(whole.Metadata, &meta); err != nil {
		t.Errorf("%s metadata: %v", o, err)
	}
}
