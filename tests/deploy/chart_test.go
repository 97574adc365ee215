package deploy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v4"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/internal/app/worker"
	"github.com/ordergate/ordergate/processor/servicepoint"
)

const (
	chartDir  = "deploy/helm/ordergate"
	release   = "og"
	namespace = "orders"
	container = "ordergate"
)

// chartCase is one set of values the chart is rendered with: the defaults, or an example
// values file of the chart (deploy/helm/ordergate/examples), which is what a user starts from.
type chartCase struct {
	name       string
	valuesFile string // relative to the chart, "" for the defaults
}

var chartCases = []chartCase{
	{"defaults", ""},
	{"production-keda", "examples/production-keda.yaml"},
	{"mtls-hpa", "examples/mtls-hpa.yaml"},
	{"small-file-inventory", "examples/small-file-inventory.yaml"},
}

// object is one rendered manifest.
type object struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	raw []byte // the manifest as JSON
}

func (o object) String() string { return o.Kind + "/" + o.Metadata.Name }

// helmRun runs helm with args on the chart and returns its standard output, or an error with
// its standard error (which also carries helm's notices, such as the link it follows).
func helmRun(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helmTool.get(t), args...)
	cmd.Dir = repoPath(chartDir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// render renders the chart for c with helm template, plus --set flags, and splits the output
// into its objects.
func render(t *testing.T, c chartCase, sets ...string) ([]object, error) {
	t.Helper()
	args := []string{"template", release, ".", "--namespace", namespace}
	if c.valuesFile != "" {
		args = append(args, "-f", c.valuesFile)
	}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	out, err := helmRun(t, args...)
	if err != nil {
		return nil, err
	}
	return splitManifests(t, out), nil
}

// splitManifests decodes a stream of YAML documents (duplicate keys refused) into objects.
func splitManifests(t *testing.T, stream string) []object {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(stream))
	var objs []object
	for {
		var doc any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("rendered YAML: %v", err)
		}
		if doc == nil {
			continue
		}
		raw, err := json.Marshal(doc)
		if err != nil {
			t.Fatalf("rendered YAML as JSON: %v", err)
		}
		var o object
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatal(err)
		}
		o.raw = raw
		objs = append(objs, o)
	}
	return objs
}

// decodeStrict decodes JSON into v, refusing any field v does not have (the API server's
// strict field validation) and anything after the value.
func decodeStrict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the object")
	}
	return nil
}

// coreTypes are the Kubernetes API types of the objects of Kubernetes itself that the chart
// renders, by apiVersion and kind.
var coreTypes = map[string]func() any{
	"apps/v1 Deployment":                     func() any { return &appsv1.Deployment{} },
	"v1 Service":                             func() any { return &corev1.Service{} },
	"v1 Secret":                              func() any { return &corev1.Secret{} },
	"v1 ConfigMap":                           func() any { return &corev1.ConfigMap{} },
	"policy/v1 PodDisruptionBudget":          func() any { return &policyv1.PodDisruptionBudget{} },
	"autoscaling/v2 HorizontalPodAutoscaler": func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
}

// chart is a rendered chart: every object decoded into its type.
type chart struct {
	objs          []object
	deployment    *appsv1.Deployment
	services      map[string]*corev1.Service
	secrets       map[string]*corev1.Secret
	configMaps    map[string]*corev1.ConfigMap
	pdbs          []*policyv1.PodDisruptionBudget
	hpas          []*autoscalingv2.HorizontalPodAutoscaler
	custom        map[string]map[string]any // kind -> the custom resource of that kind
	customObjects []object
}

// decodeChart decodes every object strictly: the core ones into k8s.io/api types, the custom
// resources as JSON (validated against their CRDs by the caller). Any other kind fails.
func decodeChart(t *testing.T, objs []object) *chart {
	t.Helper()
	c := &chart{objs: objs, services: map[string]*corev1.Service{}, secrets: map[string]*corev1.Secret{},
		configMaps: map[string]*corev1.ConfigMap{}, custom: map[string]map[string]any{}}
	for _, o := range objs {
		if o.Metadata.Name == "" {
			t.Errorf("%s %s has no name", o.APIVersion, o.Kind)
		}
		if mk, ok := coreTypes[o.APIVersion+" "+o.Kind]; ok {
			v := mk()
			if err := decodeStrict(o.raw, v); err != nil {
				t.Errorf("%s does not decode strictly into %T: %v", o, v, err)
				continue
			}
			switch v := v.(type) {
			case *appsv1.Deployment:
				if c.deployment != nil {
					t.Errorf("two Deployments")
				}
				c.deployment = v
			case *corev1.Service:
				c.services[v.Name] = v
			case *corev1.Secret:
				c.secrets[v.Name] = v
			case *corev1.ConfigMap:
				c.configMaps[v.Name] = v
			case *policyv1.PodDisruptionBudget:
				c.pdbs = append(c.pdbs, v)
			case *autoscalingv2.HorizontalPodAutoscaler:
				c.hpas = append(c.hpas, v)
			}
			continue
		}
		if _, ok := customKinds[o.APIVersion+" "+o.Kind]; ok {
			var doc map[string]any
			if err := json.Unmarshal(o.raw, &doc); err != nil {
				t.Fatal(err)
			}
			if _, dup := c.custom[o.Kind]; dup {
				t.Errorf("two %s objects", o.Kind)
			}
			c.custom[o.Kind] = doc
			c.customObjects = append(c.customObjects, o)
			continue
		}
		t.Errorf("%s: apiVersion %s kind %s is neither a Kubernetes type the test knows nor a vendored CRD", o, o.APIVersion, o.Kind)
	}
	if c.deployment == nil {
		t.Fatal("no Deployment rendered")
	}
	return c
}

// worker returns the ordergate container of the Deployment.
func (c *chart) worker(t *testing.T) *corev1.Container {
	t.Helper()
	for i := range c.deployment.Spec.Template.Spec.Containers {
		if ctr := &c.deployment.Spec.Template.Spec.Containers[i]; ctr.Name == container {
			return ctr
		}
	}
	t.Fatalf("the Deployment has no container %q", container)
	return nil
}

// envValue returns the plain value of a variable of the worker container.
func (c *chart) envValue(t *testing.T, name string) (string, bool) {
	t.Helper()
	for _, e := range c.worker(t).Env {
		if e.Name == name && e.ValueFrom == nil {
			return e.Value, true
		}
	}
	return "", false
}

// values reads the chart's values for c: values.yaml, overridden by the case's file (a shallow
// merge per top-level key is enough for the keys the tests read).
func values(t *testing.T, c chartCase) map[string]any {
	t.Helper()
	read := func(rel string) map[string]any {
		data, err := os.ReadFile(filepath.Join(repoPath(chartDir), rel))
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		if err := yaml.Unmarshal(data, &v); err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		return v
	}
	v := read("values.yaml")
	if c.valuesFile != "" {
		merge(v, read(c.valuesFile))
	}
	return v
}

// merge copies src into dst, maps merged key by key, like helm.
func merge(dst, src map[string]any) {
	for k, sv := range src {
		if sm, ok := sv.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				merge(dm, sm)
				continue
			}
		}
		dst[k] = sv
	}
}

// path reads a nested value of values, e.g. path(v, "kafka", "inputPartitions").
func path(v map[string]any, keys ...string) any {
	var cur any = v
	for _, k := range keys {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

// TestChart renders the chart for its default values and each example values file, lints it,
// decodes every object strictly into the Kubernetes API types or validates it against its
// vendored CRD, and checks what the objects must say to each other and to the worker.
func TestChart(t *testing.T) {
	crds := loadCRDs(t)
	for _, cc := range chartCases {
		t.Run(cc.name, func(t *testing.T) {
			lintArgs := []string{"lint", "--strict", "."}
			if cc.valuesFile != "" {
				lintArgs = append(lintArgs, "-f", cc.valuesFile)
			}
			if out, err := helmRun(t, lintArgs...); err != nil {
				t.Errorf("%v\n%s", err, out)
			}
			objs, err := render(t, cc)
			if err != nil {
				t.Fatal(err)
			}
			c := decodeChart(t, objs)
			for _, o := range c.customObjects {
				crds.validate(t, o)
			}
			v := values(t, cc)
			partitions := int32(path(v, "kafka", "inputPartitions").(int))
			checkPodSecurity(t, c)
			checkProbesAndShutdown(t, c)
			checkReplicas(t, c, partitions)
			checkSelectors(t, c)
			checkSecretsAndFiles(t, c, v)
			checkEnvironmentLoads(t, c)
			checkMonitoring(t, c, v)
			checkKEDA(t, c)
		})
	}
}

// checkPodSecurity: non-root, read-only root filesystem, no capabilities, no privilege
// escalation, seccomp RuntimeDefault, no service account token, no service links, the
// workers spread over zones and nodes.
func checkPodSecurity(t *testing.T, c *chart) {
	t.Helper()
	pod := c.deployment.Spec.Template.Spec
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Error("the pod does not run as a non-root user")
	}
	if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Error("the pod's seccomp profile is not RuntimeDefault")
	}
	ctr := c.worker(t)
	sc := ctr.SecurityContext
	switch {
	case sc == nil:
		t.Fatal("the container has no securityContext")
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Error("the root filesystem is writable")
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Error("privilege escalation is allowed")
	case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
		t.Errorf("capabilities %+v: want drop ALL, add none", sc.Capabilities)
	case sc.Privileged != nil && *sc.Privileged:
		t.Error("the container is privileged")
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("the service account token is mounted: the worker never calls the API")
	}
	// A Service called ordergate would inject ORDERGATE_SERVICE_HOST and the like, which the
	// worker reports as unknown variables.
	if pod.EnableServiceLinks == nil || *pod.EnableServiceLinks {
		t.Error("service links are enabled: they inject ORDERGATE_* variables")
	}
	keys := map[string]bool{}
	for _, tsc := range pod.TopologySpreadConstraints {
		keys[tsc.TopologyKey] = true
		sel, err := metav1.LabelSelectorAsSelector(tsc.LabelSelector)
		if err != nil || !sel.Matches(labels.Set(c.deployment.Spec.Template.Labels)) {
			t.Errorf("topology spread on %s does not select the workers", tsc.TopologyKey)
		}
	}
	if !keys["topology.kubernetes.io/zone"] || !keys["kubernetes.io/hostname"] {
		t.Errorf("topology spread over %v: want zones and nodes", keys)
	}
	if ctr.Resources.Requests.Memory().IsZero() || ctr.Resources.Requests.Cpu().IsZero() {
		t.Error("no CPU or memory request")
	}
}

// checkProbesAndShutdown: startup and liveness on /healthz and readiness on /readyz of the
// port of ORDERGATE_HTTP_ADDR, and a grace period above ORDERGATE_SHUTDOWN_TIMEOUT.
func checkProbesAndShutdown(t *testing.T, c *chart) {
	t.Helper()
	ctr := c.worker(t)
	addr, _ := c.envValue(t, "ORDERGATE_HTTP_ADDR")
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("ORDERGATE_HTTP_ADDR=%q: %v", addr, err)
	}
	if len(ctr.Ports) != 1 || fmt.Sprint(ctr.Ports[0].ContainerPort) != port {
		t.Fatalf("container ports %+v, want %s (ORDERGATE_HTTP_ADDR)", ctr.Ports, port)
	}
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"startup", ctr.StartupProbe, "/healthz"}, {"liveness", ctr.LivenessProbe, "/healthz"}, {"readiness", ctr.ReadinessProbe, "/readyz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("no %s probe over HTTP", p.name)
			continue
		}
		if p.probe.HTTPGet.Path != p.path || p.probe.HTTPGet.Port.String() != ctr.Ports[0].Name {
			t.Errorf("%s probe %s on %s, want %s on %s", p.name, p.probe.HTTPGet.Path, p.probe.HTTPGet.Port.String(), p.path, ctr.Ports[0].Name)
		}
	}
	timeout, _ := c.envValue(t, "ORDERGATE_SHUTDOWN_TIMEOUT")
	d, err := time.ParseDuration(timeout)
	if err != nil {
		t.Fatalf("ORDERGATE_SHUTDOWN_TIMEOUT=%q: %v", timeout, err)
	}
	grace := c.deployment.Spec.Template.Spec.TerminationGracePeriodSeconds
	if grace == nil || time.Duration(*grace)*time.Second <= d {
		t.Errorf("terminationGracePeriodSeconds %v is not above ORDERGATE_SHUTDOWN_TIMEOUT %s", grace, d)
	}
}

// checkReplicas: the fixed replica count, or the autoscaler's bounds, never above the input's
// partitions; with an autoscaler, the Deployment leaves replicas to it.
func checkReplicas(t *testing.T, c *chart, partitions int32) {
	t.Helper()
	so, keda := c.custom["ScaledObject"]
	autoscaled := keda || len(c.hpas) > 0
	if keda && len(c.hpas) > 0 {
		t.Error("both a ScaledObject and an HPA")
	}
	switch r := c.deployment.Spec.Replicas; {
	case autoscaled && r != nil:
		t.Errorf("replicas %d set on an autoscaled Deployment: each helm upgrade would fight the autoscaler", *r)
	case !autoscaled && (r == nil || *r < 1 || *r > partitions):
		t.Errorf("replicas %v, want 1 to %d (the input's partitions)", r, partitions)
	}
	for _, h := range c.hpas {
		if h.Spec.MaxReplicas > partitions || h.Spec.MinReplicas == nil || *h.Spec.MinReplicas > h.Spec.MaxReplicas {
			t.Errorf("HPA replicas %v to %d, want at most %d (the input's partitions)", h.Spec.MinReplicas, h.Spec.MaxReplicas, partitions)
		}
		if h.Spec.ScaleTargetRef.Kind != "Deployment" || h.Spec.ScaleTargetRef.Name != c.deployment.Name {
			t.Errorf("the HPA scales %+v, not the Deployment", h.Spec.ScaleTargetRef)
		}
		if len(h.Spec.Metrics) != 1 || h.Spec.Metrics[0].External == nil || h.Spec.Metrics[0].External.Target.AverageValue == nil {
			t.Errorf("the HPA does not scale on an external lag metric averaged per worker: %+v", h.Spec.Metrics)
		}
	}
	if keda {
		spec := so["spec"].(map[string]any)
		minR, maxR := asInt(spec["minReplicaCount"]), asInt(spec["maxReplicaCount"])
		// The CRD's CEL rule, which the schema check does not evaluate.
		if maxR > int(partitions) || minR > maxR {
			t.Errorf("ScaledObject replicas %d to %d, want at most %d (the input's partitions)", minR, maxR, partitions)
		}
	}
}

func asInt(v any) int {
	switch n := v.(type) {
	case float64:
		return int(n)
	case json.Number:
		i, _ := n.Int64()
		return int(i)
	}
	return -1
}

// checkSelectors: the Service, the PDB and the monitors select the workers' pods.
func checkSelectors(t *testing.T, c *chart) {
	t.Helper()
	pods := labels.Set(c.deployment.Spec.Template.Labels)
	sel, err := metav1.LabelSelectorAsSelector(c.deployment.Spec.Selector)
	if err != nil || !sel.Matches(pods) {
		t.Error("the Deployment's selector does not match its pods")
	}
	for _, s := range c.services {
		if !labels.SelectorFromSet(s.Spec.Selector).Matches(pods) {
			t.Errorf("Service %s does not select the workers", s.Name)
		}
		if len(s.Spec.Ports) != 1 || s.Spec.Ports[0].TargetPort.String() != "http" {
			t.Errorf("Service %s ports %+v, want the worker's http port", s.Name, s.Spec.Ports)
		}
	}
	if len(c.pdbs) != 1 {
		t.Fatalf("%d PodDisruptionBudgets, want 1", len(c.pdbs))
	}
	pdb := c.pdbs[0]
	if sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector); err != nil || !sel.Matches(pods) {
		t.Error("the PodDisruptionBudget does not select the workers")
	}
	if pdb.Spec.MaxUnavailable == nil && pdb.Spec.MinAvailable == nil {
		t.Error("the PodDisruptionBudget bounds nothing")
	}
}

// configVars are the variables of config.Config: name -> whether it is a secret (a
// config.Secret field).
func configVars(t *testing.T) map[string]bool {
	t.Helper()
	vars := map[string]bool{}
	typ := reflect.TypeFor[config.Config]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		vars[f.Tag.Get("envconfig")] = f.Type == reflect.TypeFor[config.Secret]()
	}
	if len(vars) < 20 {
		t.Fatalf("only %d variables in config.Config", len(vars))
	}
	return vars
}

// existing are the objects the example values files expect in the cluster (their comments say
// how to create them), with values that config.Load accepts.
func existing(t *testing.T) (secrets map[string]map[string]string, configMaps map[string]map[string]string) {
	t.Helper()
	clients, err := os.ReadFile(repoPath("internal/foundation/samples/requests/clients.json"))
	if err != nil {
		t.Fatal(err)
	}
	ca, cert, key := testPKI(t)
	return map[string]map[string]string{
			"ordergate-secrets": {
				"ORDERGATE_REDIS_URL":               "rediss://ordergate:s3cret@/0", // sentinel mode: no host
				"ORDERGATE_REDIS_SENTINEL_PASSWORD": "sentinel-s3cret",
				"ORDERGATE_INVENTORY_TOKEN":         "token-1234",
				"ORDERGATE_KAFKA_SASL_PASSWORD":     "kafka-s3cret",
			},
			"ordergate-kafka-client": {"ca.crt": string(ca), "tls.crt": string(cert), "tls.key": string(key)},
		}, map[string]map[string]string{
			"ordergate-clients": {"clients.json": string(clients)},
		}
}

// checkSecretsAndFiles: every ORDERGATE_* variable the chart sets is one of config.Config;
// a secret one only ever comes from a Secret, and a non-secret one never does; every Secret
// and ConfigMap referenced is rendered or existing (and has the key); no ConfigMap holds a
// variable, and the chart's ConfigMaps hold only the files, which parse.
func checkSecretsAndFiles(t *testing.T, c *chart, v map[string]any) {
	t.Helper()
	vars := configVars(t)
	existingSecrets, existingConfigMaps := existing(t)
	seen := map[string]bool{}
	for _, e := range c.worker(t).Env {
		if seen[e.Name] {
			t.Errorf("%s is set twice", e.Name)
		}
		seen[e.Name] = true
		secret, known := vars[e.Name]
		if !known {
			t.Errorf("the chart sets %s, which config.Config does not have", e.Name)
			continue
		}
		fromSecret := e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil
		if secret != fromSecret {
			t.Errorf("%s: secret %v, but from a Secret %v", e.Name, secret, fromSecret)
		}
		if fromSecret {
			ref := e.ValueFrom.SecretKeyRef
			if s, ok := c.secrets[ref.Name]; ok {
				if _, ok := s.StringData[ref.Key]; !ok {
					t.Errorf("%s: Secret %s has no key %s", e.Name, ref.Name, ref.Key)
				}
			} else if _, ok := existingSecrets[ref.Name]; !ok || ref.Name != path(v, "secrets", "existingSecret") {
				t.Errorf("%s: Secret %s is neither rendered nor secrets.existingSecret", e.Name, ref.Name)
			}
		}
	}
	for name, s := range c.secrets {
		for key := range s.StringData {
			if !vars[key] {
				t.Errorf("Secret %s holds %s, which is not a secret variable", name, key)
			}
		}
	}
	for name, cm := range c.configMaps {
		for key, value := range cm.Data {
			if key != "inventory.json" && key != "clients.json" {
				t.Errorf("ConfigMap %s holds %s: only the inventory and clients files belong in one", name, key)
			}
			for s := range c.secrets {
				for _, secret := range c.secrets[s].StringData {
					if secret != "" && strings.Contains(value, secret) {
						t.Errorf("ConfigMap %s holds a value of Secret %s", name, s)
					}
				}
			}
		}
	}
	for _, vol := range c.deployment.Spec.Template.Spec.Volumes {
		switch {
		case vol.ConfigMap != nil:
			data := existingConfigMaps[vol.ConfigMap.Name]
			if cm, ok := c.configMaps[vol.ConfigMap.Name]; ok {
				data = cm.Data
			}
			for _, it := range vol.ConfigMap.Items {
				if _, ok := data[it.Key]; !ok {
					t.Errorf("volume %s: ConfigMap %s has no key %s", vol.Name, vol.ConfigMap.Name, it.Key)
				}
			}
		case vol.Secret != nil:
			for _, it := range vol.Secret.Items {
				if _, ok := existingSecrets[vol.Secret.SecretName][it.Key]; !ok {
					t.Errorf("volume %s: Secret %s has no key %s", vol.Name, vol.Secret.SecretName, it.Key)
				}
			}
		default:
			t.Errorf("volume %s is neither a ConfigMap nor a Secret", vol.Name)
		}
	}
}

// checkEnvironmentLoads: the worker container's environment, with its Secrets, its memory
// limit and its mounted files resolved, is a configuration that `ordergate run` accepts,
// without a warning; the files it names parse as the worker parses them.
func checkEnvironmentLoads(t *testing.T, c *chart) {
	t.Helper()
	ctr := c.worker(t)
	existingSecrets, existingConfigMaps := existing(t)
	// Mounted files, written where the test can read them.
	dir := t.TempDir()
	mounts := map[string]string{} // mount path -> local directory
	volumes := map[string]corev1.Volume{}
	for _, vol := range c.deployment.Spec.Template.Spec.Volumes {
		volumes[vol.Name] = vol
	}
	for _, m := range ctr.VolumeMounts {
		if !m.ReadOnly {
			t.Errorf("volume %s is mounted writable", m.Name)
		}
		vol, ok := volumes[m.Name]
		if !ok {
			t.Fatalf("mount of an undeclared volume %s", m.Name)
		}
		local := filepath.Join(dir, m.Name)
		if err := os.MkdirAll(local, 0o755); err != nil {
			t.Fatal(err)
		}
		var data map[string]string
		var items []corev1.KeyToPath
		switch {
		case vol.ConfigMap != nil:
			data, items = existingConfigMaps[vol.ConfigMap.Name], vol.ConfigMap.Items
			if cm, ok := c.configMaps[vol.ConfigMap.Name]; ok {
				data = cm.Data
			}
		case vol.Secret != nil:
			data, items = existingSecrets[vol.Secret.SecretName], vol.Secret.Items
		}
		for _, it := range items {
			if err := os.WriteFile(filepath.Join(local, it.Path), []byte(data[it.Key]), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		mounts[m.MountPath] = local
	}
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "ORDERGATE_") {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
	for _, e := range ctr.Env {
		value := e.Value
		switch {
		case e.ValueFrom == nil:
			for mountPath, local := range mounts {
				if rest, ok := strings.CutPrefix(value, mountPath+"/"); ok {
					value = filepath.Join(local, rest)
				}
			}
		case e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			var ok bool
			if s, rendered := c.secrets[ref.Name]; rendered {
				value, ok = s.StringData[ref.Key]
			} else {
				value, ok = existingSecrets[ref.Name][ref.Key]
			}
			if !ok {
				if ref.Optional != nil && *ref.Optional {
					continue
				}
				t.Fatalf("%s: no key %s in Secret %s", e.Name, ref.Key, ref.Name)
			}
		case e.ValueFrom.ResourceFieldRef != nil:
			ref := e.ValueFrom.ResourceFieldRef
			if ref.Resource != "limits.memory" || (ref.ContainerName != "" && ref.ContainerName != ctr.Name) {
				t.Fatalf("%s from %+v, want the container's limits.memory", e.Name, ref)
			}
			limit := ctr.Resources.Limits.Memory()
			if limit.IsZero() {
				t.Fatalf("%s from limits.memory, but the container has no memory limit (the node's memory would be read)", e.Name)
			}
			value = fmt.Sprint(limit.Value()) // the downward API gives bytes (divisor 1)
		default:
			t.Fatalf("%s: a source the test does not know: %+v", e.Name, e.ValueFrom)
		}
		t.Setenv(e.Name, value)
	}
	cfg, warnings, err := config.Load()
	if err != nil {
		t.Fatalf("the worker's environment does not load: %v", err)
	}
	if len(warnings) > 0 {
		t.Errorf("config.Load warns: %v", warnings)
	}
	if err := cfg.RequireInventory(); err != nil {
		t.Errorf("ordergate run would refuse it: %v", err)
	}
	if lim := ctr.Resources.Limits.Memory(); !lim.IsZero() && int64(cfg.MemoryLimit) != lim.Value() {
		t.Errorf("ORDERGATE_MEMORY_LIMIT %d, want the container's limit %d", cfg.MemoryLimit, lim.Value())
	}
	if cfg.InventoryFile != "" {
		if _, err := servicepoint.LoadFileInventory(cfg.InventoryFile); err != nil {
			t.Errorf("the inventory file: %v", err)
		}
	}
	if cfg.ClientsFile != "" {
		if _, err := worker.LoadClients(cfg.ClientsFile); err != nil {
			t.Errorf("the clients file: %v", err)
		}
	}
}

// checkMonitoring: a monitor scrapes the workers' http port with the job the alerts select,
// and the PrometheusRule is deploy/prometheus/alerts.yml for that job.
func checkMonitoring(t *testing.T, c *chart, v map[string]any) {
	t.Helper()
	job := path(v, "metrics", "jobName").(string)
	for _, kind := range []string{"ServiceMonitor", "PodMonitor"} {
		m, ok := c.custom[kind]
		if !ok {
			continue
		}
		spec := m["spec"].(map[string]any)
		sel := spec["selector"].(map[string]any)["matchLabels"].(map[string]any)
		set := labels.Set{}
		for k, x := range sel {
			set[k] = x.(string)
		}
		target := labels.Set(c.deployment.Spec.Template.Labels)
		if kind == "ServiceMonitor" {
			if len(c.services) != 1 {
				t.Fatalf("a ServiceMonitor with %d Services", len(c.services))
			}
			for _, s := range c.services {
				target = labels.Set(s.Labels)
			}
		}
		if !labels.SelectorFromSet(set).Matches(target) {
			t.Errorf("the %s's selector %v does not match %v", kind, set, target)
		}
		eps, _ := spec["endpoints"].([]any)
		if kind == "PodMonitor" {
			eps, _ = spec["podMetricsEndpoints"].([]any)
		}
		if len(eps) != 1 {
			t.Fatalf("%s: %d endpoints", kind, len(eps))
		}
		ep := eps[0].(map[string]any)
		relabel, _ := json.Marshal(ep["relabelings"])
		if ep["port"] != "http" || ep["path"] != "/metrics" || !strings.Contains(string(relabel), fmt.Sprintf(`"replacement":%q`, job)) ||
			!strings.Contains(string(relabel), `"targetLabel":"job"`) {
			t.Errorf("%s endpoint %v: want port http, /metrics, job %q", kind, ep, job)
		}
	}
	rule, ok := c.custom["PrometheusRule"]
	if !ok {
		return
	}
	data, err := os.ReadFile(repoPath("deploy/prometheus/alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(data), `job="ordergate"`, fmt.Sprintf("job=%q", job))
	text = strings.ReplaceAll(text, `job "ordergate"`, fmt.Sprintf("job %q", job))
	var want map[string]any
	if err := yaml.Unmarshal([]byte(text), &want); err != nil {
		t.Fatal(err)
	}
	if got, want := asJSON(t, rule["spec"].(map[string]any)["groups"]), asJSON(t, want["groups"]); !reflect.DeepEqual(got, want) {
		t.Errorf("the PrometheusRule's groups are not deploy/prometheus/alerts.yml's:\n%v\nwant\n%v", got, want)
	}
}

// asJSON normalizes a decoded YAML or JSON value through JSON, so that two equal documents
// compare equal whatever decoded them.
func asJSON(t *testing.T, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkKEDA: the ScaledObject scales the Deployment on the lag of the worker's own group and
// input topic, on the worker's brokers, with the worker's credentials.
func checkKEDA(t *testing.T, c *chart) {
	t.Helper()
	so, ok := c.custom["ScaledObject"]
	if !ok {
		if _, auth := c.custom["TriggerAuthentication"]; auth {
			t.Error("a TriggerAuthentication without a ScaledObject")
		}
		return
	}
	spec := so["spec"].(map[string]any)
	if spec["scaleTargetRef"].(map[string]any)["name"] != c.deployment.Name {
		t.Errorf("the ScaledObject scales %v, not the Deployment %s", spec["scaleTargetRef"], c.deployment.Name)
	}
	triggers := spec["triggers"].([]any)
	if len(triggers) != 1 {
		t.Fatalf("%d triggers, want the Kafka lag only", len(triggers))
	}
	trig := triggers[0].(map[string]any)
	md := trig["metadata"].(map[string]any)
	for key, variable := range map[string]string{"bootstrapServers": "ORDERGATE_KAFKA_BROKERS", "consumerGroup": "ORDERGATE_KAFKA_GROUP_ID", "topic": "ORDERGATE_TOPIC_REQUESTS"} {
		if want, _ := c.envValue(t, variable); md[key] != want {
			t.Errorf("trigger %s %v, the worker's %s is %q", key, md[key], variable, want)
		}
	}
	if trig["type"] != "kafka" || md["offsetResetPolicy"] != "earliest" || md["allowIdleConsumers"] != "false" {
		t.Errorf("trigger %v: want kafka, earliest (a new group starts there), no idle consumers", trig)
	}
	mechanism, sasl := c.envValue(t, "ORDERGATE_KAFKA_SASL_MECHANISM")
	want := map[string]string{"PLAIN": "plaintext", "SCRAM-SHA-256": "scram_sha256", "SCRAM-SHA-512": "scram_sha512"}[mechanism]
	if got, _ := md["sasl"].(string); got != want {
		t.Errorf("trigger sasl %q, want %q for %s", got, want, mechanism)
	}
	tlsOn, _ := c.envValue(t, "ORDERGATE_KAFKA_TLS_ENABLED")
	if got, _ := md["tls"].(string); (got == "enable") != (tlsOn == "true") {
		t.Errorf("trigger tls %q, the worker's ORDERGATE_KAFKA_TLS_ENABLED %q", got, tlsOn)
	}
	auth, hasAuth := c.custom["TriggerAuthentication"]
	_, hasCA := c.envValue(t, "ORDERGATE_KAFKA_TLS_CA_FILE")
	_, hasCert := c.envValue(t, "ORDERGATE_KAFKA_TLS_CERT_FILE")
	if hasAuth != (sasl || hasCA || hasCert) {
		t.Fatalf("TriggerAuthentication rendered %v, the worker has SASL %v, a CA %v, a certificate %v", hasAuth, sasl, hasCA, hasCert)
	}
	if !hasAuth {
		return
	}
	ref, _ := trig["authenticationRef"].(map[string]any)
	if ref["name"] != auth["metadata"].(map[string]any)["name"] {
		t.Errorf("the trigger's authenticationRef %v is not the TriggerAuthentication", ref)
	}
	// Every parameter KEDA needs comes from where the worker takes it.
	params := map[string]string{}
	aspec := auth["spec"].(map[string]any)
	for _, x := range asList(aspec["secretTargetRef"]) {
		r := x.(map[string]any)
		params[r["parameter"].(string)] = "secret " + r["name"].(string) + " " + r["key"].(string)
	}
	for _, x := range asList(aspec["env"]) {
		r := x.(map[string]any)
		if r["containerName"] != container {
			t.Errorf("env parameter %v reads another container", r)
		}
		if _, ok := c.envValue(t, r["name"].(string)); !ok {
			t.Errorf("env parameter %v: the worker has no plain %s", r, r["name"])
		}
		params[r["parameter"].(string)] = "env " + r["name"].(string)
	}
	wantParams := map[string]string{}
	for _, e := range c.worker(t).Env {
		if e.Name == "ORDERGATE_KAFKA_SASL_PASSWORD" {
			wantParams["password"] = "secret " + e.ValueFrom.SecretKeyRef.Name + " " + e.ValueFrom.SecretKeyRef.Key
			wantParams["username"] = "env ORDERGATE_KAFKA_SASL_USERNAME"
		}
	}
	for _, vol := range c.deployment.Spec.Template.Spec.Volumes {
		if vol.Secret == nil {
			continue
		}
		for _, it := range vol.Secret.Items {
			param := map[string]string{"ca.crt": "ca", "tls.crt": "cert", "tls.key": "key"}[it.Key]
			wantParams[param] = "secret " + vol.Secret.SecretName + " " + it.Key
		}
	}
	if !reflect.DeepEqual(params, wantParams) {
		t.Errorf("KEDA's parameters %v, want the worker's %v", params, wantParams)
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// TestChartRefuses renders values that must not deploy: each fails with a message that says
// why (a fail in the templates, or values.schema.json).
func TestChartRefuses(t *testing.T) {
	defaults := chartCase{"defaults", ""}
	for _, tt := range []struct {
		name string
		sets []string
		want string
	}{
		{"more workers than partitions", []string{"replicaCount=7"}, "replicaCount (7) is above kafka.inputPartitions (6)"},
		{"KEDA above the partitions", []string{"autoscaling.keda.enabled=true", "autoscaling.keda.maxReplicas=8"}, "autoscaling.keda.maxReplicas (8) is above kafka.inputPartitions (6)"},
		{"HPA above the partitions", []string{"autoscaling.hpa.enabled=true", "kafka.inputPartitions=3", "autoscaling.hpa.maxReplicas=4"}, "autoscaling.hpa.maxReplicas (4) is above kafka.inputPartitions (3)"},
		{"HPA minimum above the partitions", []string{"autoscaling.hpa.enabled=true", "kafka.inputPartitions=2", "autoscaling.hpa.minReplicas=3"}, "autoscaling.hpa.minReplicas (3) is above its maxReplicas (2)"},
		{"two autoscalers", []string{"autoscaling.keda.enabled=true", "autoscaling.hpa.enabled=true"}, "choose one autoscaler"},
		{"grace period under the shutdown timeout", []string{"terminationGracePeriodSeconds=20"}, "terminationGracePeriodSeconds (20) must be above shutdownTimeoutSeconds (20)"},
		{"no inventory", []string{"inventory.url="}, "ordergate run needs an inventory"},
		{"two inventories", []string{"inventory.file.content=[]"}, "set only one inventory"},
		{"a secret in config", []string{"config.ORDERGATE_REDIS_URL=redis://a:b@c:6379/0"}, "invalid propertyName 'ORDERGATE_REDIS_URL'"},
		{"a variable set from the values, in config", []string{"config.ORDERGATE_KAFKA_BROKERS=k:9092"}, "invalid propertyName 'ORDERGATE_KAFKA_BROKERS'"},
		{"a misspelt variable", []string{"config.ORDERGATE_CACHE_TLL=1m"}, "invalid propertyName 'ORDERGATE_CACHE_TLL'"},
		{"a misspelt key", []string{"kafka.inputPartition=6"}, "additional properties 'inputPartition' not allowed"},
		{"two monitors", []string{"metrics.serviceMonitor.enabled=true", "metrics.podMonitor.enabled=true"}, "choose one"},
		{"SASL without a user", []string{"kafka.sasl.mechanism=PLAIN", "secrets.kafkaSaslPassword=x"}, "kafka.sasl.username is required"},
		{"SASL without a password", []string{"kafka.sasl.mechanism=PLAIN", "kafka.sasl.username=app"}, "secrets.kafkaSaslPassword (or secrets.existingSecret) is required"},
		{"a CA without TLS", []string{"kafka.tls.caSecret=ca"}, "kafka.tls.enabled is false"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := render(t, defaults, tt.sets...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("--set %v: %v, want an error saying %q", tt.sets, err, tt.want)
			}
		})
	}
	// The bounds themselves are allowed.
	for _, sets := range [][]string{{"replicaCount=6"}, {"autoscaling.keda.enabled=true", "autoscaling.keda.maxReplicas=6", "autoscaling.keda.minReplicas=0"}} {
		if _, err := render(t, defaults, sets...); err != nil {
			t.Errorf("--set %v: %v", sets, err)
		}
	}
}

// TestChartConfigNames checks values.schema.json's list of the variables allowed in `config`
// against config.Config: all real, none secret, none that the chart sets from its other values
// (each set through config renders once only), and together with those they cover every
// variable, so a new variable of config.Config must be added to the chart.
func TestChartConfigNames(t *testing.T) {
	data, err := os.ReadFile(repoPath(chartDir + "/values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Properties struct {
			Config struct {
				PropertyNames struct {
					Enum []string `json:"enum"`
				} `json:"propertyNames"`
			} `json:"config"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatal(err)
	}
	allowed := schema.Properties.Config.PropertyNames.Enum
	vars := configVars(t)
	for _, name := range allowed {
		secret, known := vars[name]
		if !known {
			t.Errorf("config allows %s, which config.Config does not have", name)
		}
		if secret {
			t.Errorf("config allows the secret %s: it would be a plain value in the Deployment", name)
		}
	}
	// Every allowed variable set through config at once (valid values from config's own
	// defaults where it has one), on the richest examples: none is set twice.
	defaults := map[string]string{}
	typ := reflect.TypeFor[config.Config]()
	for i := range typ.NumField() {
		defaults[typ.Field(i).Tag.Get("envconfig")] = typ.Field(i).Tag.Get("default")
	}
	var sets []string
	for _, name := range allowed {
		value := defaults[name]
		if name == "ORDERGATE_MEMORY_LIMIT" {
			value = "200Mi"
		}
		if value == "" {
			t.Fatalf("no value to set %s with", name)
		}
		sets = append(sets, "config."+name+"="+value)
	}
	covered := map[string]bool{}
	for _, name := range allowed {
		covered[name] = true
	}
	for _, cc := range chartCases {
		objs, err := render(t, cc, sets...)
		if err != nil {
			t.Fatalf("%s with every config variable: %v", cc.name, err)
		}
		c := decodeChart(t, objs)
		seen := map[string]bool{}
		for _, e := range c.worker(t).Env {
			if seen[e.Name] {
				t.Errorf("%s: %s set twice (by config and by the chart)", cc.name, e.Name)
			}
			seen[e.Name] = true
			covered[e.Name] = true
		}
	}
	for name := range vars {
		if !covered[name] {
			t.Errorf("no values of the chart set %s", name)
		}
	}
}
