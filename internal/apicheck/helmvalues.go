package apicheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// Istio's charts are embedded per version (charts/<version>/, copied by
// charts/gen.sh from Istio's published charts): each release's values are
// checked against the chart of the version it installs. A version between
// the embedded ones uses the embedded chart of the same minor, else the
// newest one below it (the oldest for anything older).
//
// legacySnapshots are the vendored istio.io/istio commits that give the
// values of the charts istioctl renders beside istiod and base (the legacy
// gateways, CNI, ztunnel), which Istio's Helm repository does not publish
// as meshc installs them: an IstioOperator's spec.values may set any of
// them. A chart version x.y.z uses the first snapshot whose upToMinor is
// >= y. istio.io/istio has no module versions for its releases and the
// module proxy serves none of the release-1.2x branch commits, so these
// are the served commits closest to the releases (see README.md).
var legacySnapshots = []struct {
	module    string
	upToMinor int
}{
	{"istio.io/istio@v0.0.0-20240221233722-55f12a68b4f9", 22},          // master of 2024-02-21, after the release-1.21 branch cut
	{"istio.io/istio@v0.0.0-20260827124520-eed52ebb66ad", math.MaxInt}, // master of 2026-08-27 (VERSION 1.31)
}

// legacyChartDirs are the charts of an IstioOperator's values that are not
// embedded per version, as directories of istio.io/istio.
var legacyChartDirs = []string{
	"manifests/charts/gateways/istio-ingress",
	"manifests/charts/gateways/istio-egress",
	"manifests/charts/istio-cni",
	"manifests/charts/ztunnel",
}

// helmCharts are the charts embedded per version, by the names meshc uses
// (the chart names in Istio's Helm repository).
var helmCharts = map[string]bool{"base": true, "istiod": true, "gateway": true}

// freeFormValues lists the keys, at any depth of a chart's values, below
// which any key is accepted even where values.yaml shows some example
// content, with the reason. (A map that values.yaml leaves empty, `{}`, and a
// key whose default is null accept anything below them too; lists are not
// checked item by item, since values.yaml gives no item schema.)
var freeFormValues = map[string]string{
	// Kubernetes labels and annotations: the keys are the user's. Their
	// syntax is checked with apimachinery (see labelValues, annotationValues).
	"annotations":                       "Kubernetes annotations",
	"podAnnotations":                    "Kubernetes annotations (the gateway chart shows its Prometheus and injection defaults)",
	"serviceAnnotations":                "Kubernetes annotations",
	"serviceAccountAnnotations":         "Kubernetes annotations",
	"deploymentAnnotations":             "Kubernetes annotations",
	"sidecarInjectorWebhookAnnotations": "Kubernetes annotations",
	"injectedAnnotations":               "Kubernetes annotations",
	"labels":                            "Kubernetes labels (the legacy gateways charts show app/istio)",
	"podLabels":                         "Kubernetes labels",
	"deploymentLabels":                  "Kubernetes labels",
	"daemonSetLabels":                   "Kubernetes labels",
	"nodeSelector":                      "Kubernetes node labels",
	// Kubernetes API objects copied into the rendered manifests verbatim.
	"affinity":                 "a core/v1 Affinity, copied verbatim",
	"securityContext":          "a core/v1 PodSecurityContext, copied verbatim",
	"containerSecurityContext": "a core/v1 SecurityContext, copied verbatim",
	"seccompProfile":           "a core/v1 SeccompProfile, copied verbatim",
	"seLinuxOptions":           "a core/v1 SELinuxOptions, copied verbatim",
	"autoscaleBehavior":        "an autoscaling/v2 HorizontalPodAutoscalerBehavior, copied verbatim",
	"podDisruptionBudget":      "a policy/v1 PodDisruptionBudgetSpec, copied verbatim",
	"updateStrategy":           "an apps/v1 DaemonSetUpdateStrategy, copied verbatim",
	"dnsConfig":                "a core/v1 PodDNSConfig, copied verbatim",
	// Maps keyed by the user's own names.
	"env":          "environment variables by name",
	"templates":    "sidecarInjectorWebhook.templates: custom injection templates by name",
	"meshNetworks": "global.meshNetworks: the mesh's networks by name",
}

// labelValues and annotationValues are the free-form keys whose content is
// checked as Kubernetes labels or annotations.
var (
	labelValues      = map[string]bool{"labels": true, "podLabels": true, "deploymentLabels": true, "daemonSetLabels": true, "nodeSelector": true}
	annotationValues = map[string]bool{
		"annotations": true, "podAnnotations": true, "serviceAnnotations": true, "serviceAccountAnnotations": true,
		"deploymentAnnotations": true, "sidecarInjectorWebhookAnnotations": true, "injectedAnnotations": true,
	}
)

// templateOnlyValues are keys that the charts' templates read although
// values.yaml does not list them: the profile mechanism of zzz_profile.yaml.
var templateOnlyValues = map[string]bool{
	"profile": true, "compatibilityVersion": true, "platform": true,
	"global.profile": true, "global.platform": true,
}

// chartSet is Istio's charts at one version.
type chartSet struct {
	version [3]int
	about   string // the version, x.y.z
	charts  map[string]*chart
	// operator is the union of the values of the charts that an
	// IstioOperator installs, for its spec.values.
	operator *chart
}

// chart is the values definition of one chart.
type chart struct {
	name   string
	set    *chartSet
	values map[string]any
	// pilotAlias: the chart copies everything under `pilot` to the top
	// level (zzy_descope_legacy.yaml of recent istiod charts), so pilot.X
	// means X.
	pilotAlias bool
	schema     *jsonschema.Schema
}

// loadCharts reads the embedded values of every chart version, oldest
// first.
func loadCharts() ([]*chartSet, error) {
	entries, err := fs.ReadDir(chartFS, "charts")
	if err != nil {
		return nil, err
	}
	var sets []*chartSet
	for _, e := range entries {
		v, ok := parseVersion(e.Name())
		if !e.IsDir() || !ok {
			continue
		}
		set := &chartSet{version: v, about: e.Name(), charts: map[string]*chart{}}
		dir := "charts/" + e.Name() + "/"
		for name := range helmCharts {
			vals, err := loadValues(chartFS, dir+name+"/values.yaml")
			if err != nil {
				return nil, err
			}
			ch := &chart{name: name, set: set, values: vals}
			if _, hasPilot := vals["pilot"]; name == "istiod" && !hasPilot {
				ch.pilotAlias = true
			}
			if name == "gateway" {
				if ch.schema, err = loadValuesSchema(chartFS, dir+name+"/values.schema.json", vals); err != nil {
					return nil, err
				}
			}
			set.charts[name] = ch
		}
		op := map[string]any{}
		mergeValues(op, deepCopyValues(set.charts["istiod"].values))
		mergeValues(op, deepCopyValues(set.charts["base"].values))
		legacy := "schemas/" + legacySnapshotFor(v[1]) + "/"
		for _, d := range legacyChartDirs {
			vals, err := loadValues(schemaFS, legacy+d+"/values.yaml")
			if err != nil {
				return nil, err
			}
			// In an IstioOperator's values the ztunnel chart's values sit
			// under `ztunnel`, and the CNI chart's under `cni` (older CNI
			// charts already nest them there).
			switch {
			case strings.HasSuffix(d, "/ztunnel"):
				vals = map[string]any{"ztunnel": vals}
			case strings.HasSuffix(d, "/istio-cni"):
				if _, nested := vals["cni"]; !nested {
					vals = map[string]any{"cni": vals}
				}
			}
			mergeValues(op, vals)
		}
		set.operator = &chart{name: "IstioOperator", set: set, values: op, pilotAlias: set.charts["istiod"].pilotAlias}
		sets = append(sets, set)
	}
	slices.SortFunc(sets, func(a, b *chartSet) int { return slices.Compare(a.version[:], b.version[:]) })
	if len(sets) == 0 {
		return nil, fmt.Errorf("no chart versions embedded under charts/")
	}
	return sets, nil
}

// legacySnapshotFor names the istio.io/istio snapshot for a minor version.
func legacySnapshotFor(minor int) string {
	for _, s := range legacySnapshots {
		if minor <= s.upToMinor {
			return s.module
		}
	}
	return legacySnapshots[len(legacySnapshots)-1].module
}

// deepCopyValues copies a values tree, so merging into a copy leaves the
// chart's own values alone.
func deepCopyValues(v map[string]any) map[string]any {
	out := make(map[string]any, len(v))
	for k, x := range v {
		if m, ok := x.(map[string]any); ok {
			out[k] = deepCopyValues(m)
			continue
		}
		out[k] = x
	}
	return out
}

var versionRE = regexp.MustCompile(`(\d+)\.(\d+)(?:\.(\d+))?`)

// parseVersion finds x.y[.z] in s (a version or a semver range such as
// ~1.22.0); a missing patch is 0.
func parseVersion(s string) ([3]int, bool) {
	m := versionRE.FindStringSubmatch(s)
	if m == nil {
		return [3]int{}, false
	}
	var v [3]int
	for i := range 3 {
		v[i], _ = strconv.Atoi(m[i+1])
	}
	return v, true
}

// loadValues reads a values.yaml and unwraps the defaults of recent charts
// (`defaults:` in 1.22, `_internal_defaults_do_not_set:` since), which users
// set without the wrapper.
func loadValues(fsys fs.FS, file string) (map[string]any, error) {
	data, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil, err
	}
	var vals map[string]any
	if err := yamlToValue(data, &vals); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	for _, wrapper := range []string{"_internal_defaults_do_not_set", "defaults"} {
		if inner, ok := vals[wrapper].(map[string]any); ok && len(vals) == 1 {
			return inner, nil
		}
	}
	return vals, nil
}

// loadValuesSchema compiles a chart's values.schema.json and adds the keys
// it documents to the chart's known values.
func loadValuesSchema(fsys fs.FS, file string, vals map[string]any) (*jsonschema.Schema, error) {
	data, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: not a JSON object", file)
	}
	// Istio's schemas name the generic "http://json-schema.org/schema#";
	// Helm applies them with draft-07 semantics (a $ref's siblings are
	// ignored), so compile them as draft-07.
	delete(m, "$schema")
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	if err := c.AddResource(file, m); err != nil {
		return nil, err
	}
	sch, err := c.Compile(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if defs, ok := m["$defs"].(map[string]any); ok {
		if v, ok := defs["values"].(map[string]any); ok {
			addSchemaKeys(vals, v)
		}
	}
	return sch, nil
}

// addSchemaKeys adds the properties a JSON schema documents to a values tree.
func addSchemaKeys(vals map[string]any, sch map[string]any) {
	props, _ := sch["properties"].(map[string]any)
	for name, raw := range props {
		ps, _ := raw.(map[string]any)
		sub, _ := ps["properties"].(map[string]any)
		existing, exists := vals[name]
		switch {
		case !exists && len(sub) > 0:
			m := map[string]any{}
			addSchemaKeys(m, ps)
			vals[name] = m
		case !exists:
			vals[name] = nil // documented, no structure: accept anything
		default:
			if m, ok := existing.(map[string]any); ok && len(m) > 0 && len(sub) > 0 {
				addSchemaKeys(m, ps)
			}
		}
	}
}

// mergeValues merges src into dst; a map that either side leaves empty
// (free-form) stays empty.
func mergeValues(dst, src map[string]any) {
	for k, sv := range src {
		dv, exists := dst[k]
		if !exists {
			dst[k] = sv
			continue
		}
		dm, dIsMap := dv.(map[string]any)
		sm, sIsMap := sv.(map[string]any)
		switch {
		case dIsMap && sIsMap && len(dm) == 0:
		case dIsMap && sIsMap && len(sm) == 0:
			dst[k] = map[string]any{}
		case dIsMap && sIsMap:
			mergeValues(dm, sm)
		}
	}
}

func yamlToValue(data []byte, v any) error {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return err
	}
	return utiljson.Unmarshal(js, v)
}

// chartFor returns the definition of an Istio chart at a version, or nil if
// the chart is not one of Istio's.
func (c *Checker) chartFor(name, version string) *chart {
	if !helmCharts[name] {
		return nil
	}
	return c.chartsFor(version).charts[name]
}

// chartsFor picks the embedded charts for an Istio version: the ones of the
// same minor, else the newest older ones, else the oldest (also when the
// version does not parse).
func (c *Checker) chartsFor(version string) *chartSet {
	sets := c.charts()
	v, ok := parseVersion(version)
	if !ok {
		return sets[0]
	}
	pick := sets[0]
	for _, s := range sets {
		if s.version[0] == v[0] && s.version[1] == v[1] {
			return s
		}
		if slices.Compare(s.version[:], v[:]) <= 0 {
			pick = s
		}
	}
	return pick
}

// check validates values set for the chart; at is their field path in the object.
func (ch *chart) check(p *problems, pc *protoChecker, at string, values map[string]any) {
	w := valuesWalker{p: p, pc: pc, ch: ch}
	w.walk(at, nil, values, ch.values)
	if ch.schema != nil {
		ch.validateSchema(p, at, values)
	}
}

type valuesWalker struct {
	p  *problems
	pc *protoChecker
	ch *chart
}

func (w *valuesWalker) walk(at string, keys []string, user, known any) {
	if len(keys) > 0 {
		name := keys[len(keys)-1]
		switch {
		case len(keys) == 1 && name == "meshConfig":
			w.pc.checkMeshConfig(w.p, at, user)
			return
		case name == "resources":
			if _, isMap := known.(map[string]any); isMap || known == nil {
				checkResources(w.p, at, user)
				return
			}
		case labelValues[name]:
			checkStringMap(w.p, at, user, func(m map[string]string, fp *field.Path) field.ErrorList {
				return metav1validation.ValidateLabels(m, fp)
			})
			return
		case annotationValues[name]:
			checkStringMap(w.p, at, user, apivalidation.ValidateAnnotations)
			return
		case freeFormValues[name] != "":
			return
		}
	}
	switch k := known.(type) {
	case map[string]any:
		if len(k) == 0 {
			return
		}
		um, ok := user.(map[string]any)
		if !ok {
			if user != nil {
				w.p.addf(at, "Invalid value: must be a map (as in the %s), not %s", w.ch.describe(), describe(user))
			}
			return
		}
		for _, key := range sortedMapKeys(um) {
			kp := append(append([]string(nil), keys...), key)
			fp := joinPath(at, key)
			kv, exists := k[key]
			switch {
			case exists:
				w.walk(fp, kp, um[key], kv)
			case templateOnlyValues[strings.Join(kp, ".")]:
			case w.ch.pilotAlias && len(keys) == 0 && key == "pilot":
				w.walk(fp, nil, um[key], k)
			default:
				w.p.add(fp, unknownField(key, sortedMapKeys(k))+" (not in the "+w.ch.describe()+")")
			}
		}
	case []any, nil:
	default:
		switch user.(type) {
		case map[string]any, []any:
			w.p.addf(at, "Invalid value: must be %s like its default %v (in the %s), not %s", describe(k), k, w.ch.describe(), describe(user))
		}
	}
}

func (ch *chart) describe() string {
	if ch.name == "IstioOperator" {
		return "values of Istio's charts at " + ch.set.about
	}
	return ch.name + " chart's values at " + ch.set.about
}

// validateSchema applies the chart's values.schema.json, as Helm does.
func (ch *chart) validateSchema(p *problems, at string, values map[string]any) {
	js, err := json.Marshal(values)
	if err != nil {
		p.add(at, err.Error())
		return
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		p.add(at, err.Error())
		return
	}
	err = ch.schema.Validate(inst)
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		if err != nil {
			p.add(at, err.Error())
		}
		return
	}
	printer := message.NewPrinter(language.English)
	var leaves func(e *jsonschema.ValidationError)
	leaves = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			fp := at
			for _, k := range e.InstanceLocation {
				if _, err := strconv.Atoi(k); err == nil {
					fp += "[" + k + "]"
				} else {
					fp = joinPath(fp, k)
				}
			}
			p.add(fp, e.ErrorKind.LocalizedString(printer)+" (values.schema.json of the "+ch.describe()+")")
			return
		}
		for _, c := range e.Causes {
			leaves(c)
		}
	}
	leaves(ve)
}

// checkResources decodes a resources value strictly as a core/v1
// ResourceRequirements, as the charts copy it into containers.
func checkResources(p *problems, at string, v any) {
	if v == nil {
		return
	}
	js, err := json.Marshal(v)
	if err != nil {
		p.add(at, err.Error())
		return
	}
	var rr corev1.ResourceRequirements
	strictErrs, err := sigsjson.UnmarshalStrict(js, &rr)
	t := reflect.TypeOf(rr)
	if err != nil {
		n := len(p.errs)
		reportUndecodable(p, t, v, at)
		if len(p.errs) == n {
			p.addf(at, "cannot be decoded as resource requirements: %v", err)
		}
		return
	}
	for _, se := range strictErrs {
		m := strictErrRE.FindStringSubmatch(se.Error())
		if m == nil {
			p.add(at, se.Error())
			continue
		}
		parts := strings.Split(indexRE.ReplaceAllString(m[2], ""), ".")
		p.add(joinPath(at, m[2]), unknownField(parts[len(parts)-1], jsonFieldsAt(t, parts[:len(parts)-1]))+" (a core/v1 ResourceRequirements)")
	}
	for _, name := range sortedKeys(rr.Requests) {
		req := rr.Requests[name]
		if lim, ok := rr.Limits[name]; ok && req.Cmp(lim) > 0 {
			p.addf(joinPath(at, "requests."+string(name)), "Invalid value: %q: must be less than or equal to %s limit of %s", req.String(), name, lim.String())
		}
	}
	for _, l := range []corev1.ResourceList{rr.Requests, rr.Limits} {
		for _, name := range sortedKeys(l) {
			p.addFieldErrors(at, nonNegative(l[name], field.NewPath(string(name))))
		}
	}
}

// checkStringMap validates a labels or annotations map whose values are strings.
func checkStringMap(p *problems, at string, v any, validate func(map[string]string, *field.Path) field.ErrorList) {
	m, ok := v.(map[string]any)
	if !ok {
		if v != nil {
			p.addf(at, "Invalid value: must be a map, not %s", describe(v))
		}
		return
	}
	strs := map[string]string{}
	for k, val := range m {
		if s, ok := val.(string); ok {
			strs[k] = s
		} else {
			strs[k] = "" // the key is still checked
		}
	}
	for _, fe := range validate(strs, nil) {
		// apimachinery reports map keys as [key]; keep the values' dotted style.
		p.add(joinPath(at, strings.Trim(fe.Field, "[]")), fe.ErrorBody())
	}
}

func sortedMapKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// checkHelmRelease validates the values of a Flux HelmRelease of one of Istio's charts.
func (c *Checker) checkHelmRelease(p *problems) {
	spec, _ := p.obj.m["spec"].(map[string]any)
	chartSpec, _ := dig(spec, "chart", "spec").(map[string]any)
	name, _ := chartSpec["chart"].(string)
	version, _ := chartSpec["version"].(string)
	ch := c.chartFor(name, version)
	if ch == nil {
		return
	}
	if values, ok := spec["values"].(map[string]any); ok {
		ch.check(p, c.protos, "spec.values", values)
	}
}

// checkArgoApplication validates the Helm values of an Argo CD Application
// whose source (or sources) is one of Istio's charts.
func (c *Checker) checkArgoApplication(p *problems) {
	spec, _ := p.obj.m["spec"].(map[string]any)
	type src struct {
		at string
		m  map[string]any
	}
	var sources []src
	if s, ok := spec["source"].(map[string]any); ok {
		sources = append(sources, src{"spec.source", s})
	}
	if list, ok := spec["sources"].([]any); ok {
		for i, s := range list {
			if m, ok := s.(map[string]any); ok {
				sources = append(sources, src{fmt.Sprintf("spec.sources[%d]", i), m})
			}
		}
	}
	for _, s := range sources {
		name, _ := s.m["chart"].(string)
		version, _ := s.m["targetRevision"].(string)
		ch := c.chartFor(name, version)
		helm, _ := s.m["helm"].(map[string]any)
		if ch == nil || helm == nil {
			continue
		}
		at := s.at + ".helm"
		if values, ok := helm["valuesObject"].(map[string]any); ok {
			ch.check(p, c.protos, at+".valuesObject", values)
		}
		if text, ok := helm["values"].(string); ok && strings.TrimSpace(text) != "" {
			var values map[string]any
			if err := yamlToValue([]byte(text), &values); err != nil {
				p.addf(at+".values", "Invalid value: not a YAML map of Helm values: %v", err)
			} else {
				ch.check(p, c.protos, at+".values", values)
			}
		}
		if params, ok := helm["parameters"].([]any); ok {
			for i, raw := range params {
				param, _ := raw.(map[string]any)
				key, _ := param["name"].(string)
				if key == "" {
					continue
				}
				// Report at the parameter, naming the key it sets.
				sub := &problems{obj: p.obj}
				ch.check(sub, c.protos, "", nestKey(key))
				for _, e := range sub.errs {
					p.addf(fmt.Sprintf("%s.parameters[%d].name", at, i), "%s: %s", e.Field, e.Reason)
				}
			}
		}
	}
}

// nestKey turns a Helm --set key ("a.b\.c.d[0]") into nested maps with a null leaf.
func nestKey(key string) map[string]any {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(key); i++ {
		switch {
		case key[i] == '\\' && i+1 < len(key):
			i++
			cur.WriteByte(key[i])
		case key[i] == '.':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(key[i])
		}
	}
	parts = append(parts, cur.String())
	var v any
	for i := len(parts) - 1; i >= 0; i-- {
		name, _, _ := strings.Cut(parts[i], "[")
		v = map[string]any{name: v}
	}
	return v.(map[string]any)
}

// dig follows map keys.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

var metaType = reflect.TypeOf(metav1.ObjectMeta{})

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
