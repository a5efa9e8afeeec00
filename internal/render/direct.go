package render

import (
	"bytes"
	"fmt"
	"sort"

	yaml "go.yaml.in/yaml/v2"
	"sigs.k8s.io/kustomize/kyaml/resid"

	"github.com/golemtrust/meshc/internal/compile"
)

// Objects prints a cluster's objects exactly as `kustomize build` prints
// its overlay: in kustomize's legacy order, each object printed as kustomize's
// resource.AsYAML prints it, separated by "---".
// meshc produces every object itself, so it need not pay for a krusty
// build and a YAML round trip on every run; tests prove the two outputs
// byte-identical on the example mesh and on generated ones.
func Objects(objs []compile.Doc) ([]byte, error) {
	type entry struct {
		id  resid.ResId
		doc compile.Doc
	}
	entries := make([]entry, len(objs))
	for i, o := range objs {
		md, _ := o["metadata"].(compile.Doc)
		name, _ := md["name"].(string)
		ns, _ := md["namespace"].(string)
		apiVersion, _ := o["apiVersion"].(string)
		kind, _ := o["kind"].(string)
		group, version := resid.ParseGroupVersion(apiVersion)
		entries[i] = entry{resid.NewResIdWithNamespace(resid.NewGvk(group, version, kind), name, ns), o}
	}
	sort.Slice(entries, func(i, j int) bool { return legacyLess(entries[i].id, entries[j].id) })
	var buf bytes.Buffer
	for i, e := range entries {
		if i > 0 && entries[i-1].id == e.id {
			return nil, fmt.Errorf("meshc bug: two objects with id %s", e.id)
		}
		// kustomize converts JSON to YAML with go-yaml v2, which sorts
		// map keys its own way; marshalling meshc's maps with the same
		// library yields the same bytes without the JSON detour (meshc's
		// values are strings, ints, float64s, bools, maps and lists, which
		// survive JSON unchanged).
		y, err := yaml.Marshal(e.doc)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(y)
	}
	return buf.Bytes(), nil
}

// legacyLess is kustomize's legacy resource order (api/internal/builtins
// SortOrderTransformer, which Go cannot import): by kind priority, then
// group/version/kind, then namespace and name.
func legacyLess(a, b resid.ResId) bool {
	if !a.Gvk.Equals(b.Gvk) {
		return a.Gvk.IsLessThan(b.Gvk)
	}
	return legacySortString(a) < legacySortString(b)
}

func legacySortString(id resid.ResId) string {
	ns, name := id.Namespace, id.Name
	if ns == "" {
		ns = "~X"
	}
	if name == "" {
		name = "~N"
	}
	return id.Gvk.String() + "|" + ns + "|" + name
}
