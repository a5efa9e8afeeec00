package render

import (
	"fmt"
	"sort"
	"sync"

	"sigs.k8s.io/kustomize/kyaml/resid"

	"github.com/golemtrust/meshc/internal/compile"
	"github.com/golemtrust/meshc/internal/yamlenc"
)

// Objects prints a cluster's objects exactly as `kustomize build` prints
// its overlay: in kustomize's legacy order, each object printed as kustomize's
// resource.AsYAML prints it, separated by "---".
// meshc produces every object itself, so it need not pay for a krusty
// build and a YAML round trip on every run; tests prove the two outputs
// byte-identical on the example mesh and on generated ones.
func Objects(objs []compile.Doc) ([]byte, error) {
	out, _, err := ObjectsEach(objs)
	return out, err
}

// Rendered is one object of a rendered stream and its bytes there.
type Rendered struct {
	Doc   compile.Doc
	Bytes []byte // a part of the stream: the object's YAML, without "---"
}

// ObjectsEach is Objects that also returns each object with its bytes, in
// the stream's order, so a caller can check or hash the objects without
// parsing the stream again.
func ObjectsEach(objs []compile.Doc) ([]byte, []Rendered, error) {
	type entry struct {
		id  resid.ResId
		doc compile.Doc
		key string // legacySortString(id), made once: the sort compares it n log n times
	}
	entries := make([]entry, len(objs))
	for i, o := range objs {
		md, _ := o["metadata"].(compile.Doc)
		name, _ := md["name"].(string)
		ns, _ := md["namespace"].(string)
		apiVersion, _ := o["apiVersion"].(string)
		kind, _ := o["kind"].(string)
		group, version := resid.ParseGroupVersion(apiVersion)
		id := resid.NewResIdWithNamespace(resid.NewGvk(group, version, kind), name, ns)
		entries[i] = entry{id, o, legacySortString(id)}
	}
	sort.Slice(entries, func(i, j int) bool {
		return legacyLess(entries[i].id, entries[j].id, entries[i].key, entries[j].key)
	})
	// Printed into a pooled scratch buffer, then copied once into one of
	// the exact size: the golden bytes are held until written, and
	// growing them by appending would allocate about twice their size.
	sp := scratch.Get().(*[]byte)
	buf := (*sp)[:0]
	spans := make([][2]int, len(entries))
	for i, e := range entries {
		if i > 0 && entries[i-1].id == e.id {
			return nil, nil, fmt.Errorf("meshc bug: two objects with id %s", e.id)
		}
		if i > 0 {
			buf = append(buf, "---\n"...)
		}
		// kustomize converts JSON to YAML with go-yaml v2, which sorts
		// map keys its own way; yamlenc writes meshc's maps byte for byte
		// as that library does (its tests prove it), without the JSON
		// detour and without yaml.v2's cost (meshc's values are strings,
		// ints, float64s, bools, maps and lists, which survive JSON
		// unchanged).
		start := len(buf)
		buf = yamlenc.Append(buf, e.doc)
		spans[i] = [2]int{start, len(buf)}
	}
	golden := append(make([]byte, 0, len(buf)), buf...)
	*sp = buf
	scratch.Put(sp)
	out := make([]Rendered, len(entries))
	for i, e := range entries {
		out[i] = Rendered{Doc: e.doc, Bytes: golden[spans[i][0]:spans[i][1]:spans[i][1]]}
	}
	return golden, out, nil
}

// scratch holds ObjectsEach's printing buffers between clusters.
var scratch = sync.Pool{New: func() any { return new([]byte) }}

// legacyLess is kustomize's legacy resource order (api/internal/builtins
// SortOrderTransformer, which Go cannot import): by kind priority, then
// group/version/kind, then namespace and name.
func legacyLess(a, b resid.ResId, aKey, bKey string) bool {
	if !a.Gvk.Equals(b.Gvk) {
		return a.Gvk.IsLessThan(b.Gvk)
	}
	return aKey < bKey // legacySortString of each
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
