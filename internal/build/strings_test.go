package build_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/util/validation"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/golemtrust/meshc/internal/build"
	"github.com/golemtrust/meshc/internal/emit"
)

// trickyStrings are values YAML readers love to turn into something else:
// YAML 1.1 booleans (which Kubernetes' and Helm's sigs.k8s.io/yaml still
// reads), nulls, octal, hex, binary, sexagesimal and float numbers,
// timestamps, indicators, surrounding spaces, unicode and multi-line text.
var trickyStrings = []string{
	"yes", "no", "on", "off", "y", "n", "Y", "NO", "True", "false",
	"~", "null", "Null", "",
	"0123", "0x1F", "0o17", "0b101", "1_000", "1e3", "12e03", "1.0", "-1", "+1", "1:20", ".inf", "-.inf", ".NaN", "NaN",
	"2024-01-01", "2001-12-14t21:59:43.10-05:00",
	": ", "#", "a #b", "key: value", "- item", "? x", "*alias", "&anchor", "!tag", "%YAML", "@at", "`tick", "|", ">", "=", "<<",
	"[1, 2]", "{a: 1}", `"double"`, `'single'`, `back\slash`, "tab\there",
	"  leading", "trailing  ", " ", "Ünïcödé ✓", "日本語", "emoji 🚀",
	"line one\nline two", "line one\nline two\n", "  indented\nnext  \n", "ends with blank lines\n\n\n", "\nstarts with a newline",
	"x\n---\ny", "---", "...", "windows\r\nline",
}

// TestEveryStringSurvives puts trickyStrings where a cluster file takes
// free text: namespace label values (the ones Kubernetes allows there),
// the ingress gateway's service annotations (any string) and authorization
// paths; builds; and requires each to come out as the same string from the
// overlay files, the golden file (meshc's kustomize) and kubectl kustomize,
// decoded by both a YAML 1.2 (go.yaml.in/yaml/v3) and a YAML 1.1
// (sigs.k8s.io/yaml, as the API server and Helm read) parser.
func TestEveryStringSurvives(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	require.NoError(t, err, "kubectl is needed to cross-check the overlays; install it")

	labels := map[string]string{}
	annotations := map[string]string{}
	var paths []string
	for i, s := range trickyStrings {
		annotations[fmt.Sprintf("test.meshc.io/s%02d", i)] = s
		if len(validation.IsValidLabelValue(s)) == 0 {
			labels[fmt.Sprintf("s%02d", i)] = s
		}
		if s != "" {
			paths = append(paths, s)
		}
	}
	require.GreaterOrEqual(t, len(labels), 20, "label values cover the YAML 1.1 scalars")
	// The YAML 1.1 parser does what the test relies on: it reads plain
	// yes and 0123 as a boolean and a number, so a lost quote fails.
	probe := decoders["sigs.k8s.io/yaml"](t, "a: yes\nb: 0123\nc: ~\n")
	require.Equal(t, map[string]any{"a": true, "b": float64(83), "c": nil}, probe[0])
	cluster := map[string]any{
		"name":         "strings",
		"network":      "net",
		"environment":  "staging",
		"controlPlane": map[string]any{"revision": "1-21", "ingressGateway": map[string]any{"serviceAnnotations": annotations}},
		"namespaces": map[string]any{"strings": map[string]any{
			"labels": labels,
			"authorization": []any{map[string]any{
				"name": "paths", "selector": map[string]any{"app": "api"},
				"from":  []any{map[string]any{"serviceAccount": "web"}},
				"paths": paths,
			}},
		}},
	}
	const meshFile = "meshID: strings\nrevisions: {\"1-21\": 1.21.0}\ngitops: {repoURL: https://git.example.com/mesh.git}\n"

	for _, format := range []string{"json", "yaml"} {
		t.Run(format, func(t *testing.T) {
			root := t.TempDir()
			in := filepath.Join(root, "clusters")
			require.NoError(t, os.MkdirAll(in, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(in, "mesh.yaml"), []byte(meshFile), 0o644))
			var data []byte
			if format == "json" {
				data, err = json.MarshalIndent(cluster, "", "  ")
			} else {
				data, err = marshalYAML(cluster)
			}
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(in, "strings."+format), data, 0o644))

			opts := build.Options{ClustersDir: in, OutDir: filepath.Join(root, "overlays"), GoldenDir: filepath.Join(root, "golden")}
			m, diags := build.Validate(opts)
			require.NotNil(t, m, diags.String())
			out, err := build.Compile(m, opts)
			require.NoError(t, err)
			require.NoError(t, emit.Write(out.Trees()...))

			overlays := map[string]string{}
			for p, c := range tree(t, opts.OutDir) {
				if strings.HasSuffix(p, ".yaml") && (strings.HasPrefix(p, "strings/") || strings.HasPrefix(p, "_istioctl/strings/")) {
					overlays[p] = c
				}
			}
			golden, err := os.ReadFile(filepath.Join(opts.GoldenDir, "strings.yaml"))
			require.NoError(t, err)
			kustomized, err := exec.Command(kubectl, "kustomize", filepath.Join(opts.OutDir, "strings")).Output()
			require.NoError(t, err, "kubectl kustomize: %s", stderrOf(err))

			sources := map[string]string{"golden/strings.yaml": string(golden), "kubectl kustomize": string(kustomized)}
			for p, c := range overlays {
				sources["overlays/"+p] = c
			}
			seen := map[string]bool{}
			for _, name := range slices.Sorted(maps.Keys(sources)) {
				group := name
				if strings.HasPrefix(name, "overlays/") {
					group = "overlays"
				}
				for parser, decode := range decoders {
					where := name + " (" + parser + ")"
					// Each source holds some of the objects; whichever it
					// holds must carry every string intact.
					objects := decode(t, sources[name])
					// A kustomization carries its patches inline, as YAML
					// in a string: decoded with the same parser, they
					// must carry every string too.
					for _, o := range objects {
						if o["kind"] != "Kustomization" {
							continue
						}
						patches, _ := o["patches"].([]any)
						for _, p := range patches {
							if text, ok := dig(p, "patch").(string); ok {
								objects = append(objects, decode(t, text)...)
							}
						}
					}
					for _, o := range objects {
						id := fmt.Sprint(o["kind"], "/", dig(o, "metadata", "name"))
						switch id {
						case "Namespace/strings":
							assertStrings(t, where+" Namespace labels", labels, dig(o, "metadata", "labels"))
						case "HelmRelease/istio-ingressgateway":
							assertStrings(t, where+" HelmRelease service annotations", annotations, dig(o, "spec", "values", "service", "annotations"))
						case "AuthorizationPolicy/paths":
							assertStrings(t, where+" AuthorizationPolicy paths", paths, dig(o, "spec", "rules", 0, "to", 0, "operation", "paths"))
						case "IstioOperator/ingress-gateway":
							// The gateway's IstioOperator, for istioctl installs.
							assertStrings(t, where+" IstioOperator service annotations", annotations, dig(o, "spec", "components", "ingressGateways", 0, "k8s", "serviceAnnotations"))
						default:
							continue
						}
						seen[group+" "+id] = true
					}
				}
			}
			// Every channel was looked at.
			for _, want := range []string{
				"overlays Namespace/strings", "overlays HelmRelease/istio-ingressgateway", "overlays AuthorizationPolicy/paths", "overlays IstioOperator/ingress-gateway",
				"golden/strings.yaml Namespace/strings", "golden/strings.yaml HelmRelease/istio-ingressgateway", "golden/strings.yaml AuthorizationPolicy/paths",
				"kubectl kustomize Namespace/strings", "kubectl kustomize HelmRelease/istio-ingressgateway", "kubectl kustomize AuthorizationPolicy/paths",
			} {
				assert.True(t, seen[want], "no %s to check", want)
			}
		})
	}
}

// marshalYAML writes v as YAML with yaml.v3, indented by two, except that
// it double-quotes a "<<" value, which yaml.v3 leaves plain: CUE's YAML
// decoder reads a plain "<<" as a YAML 1.1 merge key and fails (with an
// empty message and no position: a loader issue, not an output one).
// (yaml.v3's default indent of four is avoided too: it writes a block
// scalar that starts with a newline, inside a list, with a wrong
// indentation indicator that no parser reads.)
func marshalYAML(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return plainMerge.ReplaceAll(buf.Bytes(), []byte(`$1 "<<"`)), nil
}

var plainMerge = regexp.MustCompile(`(?m)([:-]) <<$`)

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

// docSeparator splits a YAML stream: "---" at the start of a line. Inside
// block or quoted scalars a line never starts there, since it is indented.
var docSeparator = regexp.MustCompile(`(?m)^---\n`)

// decoders read a YAML stream into objects, each with a different
// parser; a string must be a Go string, equal to the input, in both.
var decoders = map[string]func(t *testing.T, stream string) []map[string]any{
	"yaml.v3": func(t *testing.T, stream string) []map[string]any {
		var out []map[string]any
		for _, doc := range docSeparator.Split(stream, -1) {
			var o map[string]any
			require.NoError(t, yaml.Unmarshal([]byte(doc), &o), "yaml.v3:\n%s", doc)
			if o != nil {
				out = append(out, o)
			}
		}
		return out
	},
	"sigs.k8s.io/yaml": func(t *testing.T, stream string) []map[string]any {
		var out []map[string]any
		for _, doc := range docSeparator.Split(stream, -1) {
			var o map[string]any
			require.NoError(t, sigsyaml.Unmarshal([]byte(doc), &o), "sigs.k8s.io/yaml:\n%s", doc)
			if o != nil {
				out = append(out, o)
			}
		}
		return out
	},
}

// dig follows map keys and list indexes.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// assertStrings requires got to hold exactly want's strings, as strings:
// a map for labels and annotations (other keys, such as meshc's own
// labels, are allowed), a list for paths.
func assertStrings(t *testing.T, where string, want, got any) {
	t.Helper()
	switch w := want.(type) {
	case map[string]string:
		g, ok := got.(map[string]any)
		if !assert.True(t, ok, "%s: not a map: %#v", where, got) {
			return
		}
		for _, k := range slices.Sorted(maps.Keys(w)) {
			s, isString := g[k].(string)
			assert.True(t, isString && s == w[k], "%s: %s: got %#v (%T), want %q", where, k, g[k], g[k], w[k])
		}
	case []string:
		g, ok := got.([]any)
		if !assert.True(t, ok, "%s: not a list: %#v", where, got) || !assert.Len(t, g, len(w), where) {
			return
		}
		for i := range w {
			s, isString := g[i].(string)
			assert.True(t, isString && s == w[i], "%s: [%d]: got %#v (%T), want %q", where, i, g[i], g[i], w[i])
		}
	}
}
