package apicheck

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime"
	sigsyaml "sigs.k8s.io/yaml"

	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
)

// TestCRDShapeEligibleKinds lists which kinds are decided by shape.
func TestCRDShapeEligibleKinds(t *testing.T) {
	c := checker(t)
	var yes, no []string
	for _, k := range c.crds().kinds() {
		v, err := c.crds().lookup(k)
		require.NoError(t, err)
		require.NoError(t, v.build())
		if v.byShape {
			yes = append(yes, k.String())
		} else {
			no = append(no, k.String())
		}
	}
	sort.Strings(yes)
	sort.Strings(no)
	t.Logf("by shape: %d kinds; not: %s", len(yes), strings.Join(no, "; "))
	for _, want := range []string{"Application", "AppProject", "HelmRelease", "HelmRepository", "GitRepository", "PeerAuthentication"} {
		assert.Contains(t, strings.Join(yes, " "), "Kind="+want)
	}
}

// goldenCustom returns the custom resources of the committed outputs:
// the golden files and the GitOps entry-point files (overlays/_argocd,
// overlays/_flux) of the repository and its examples.
func goldenCustom(t testing.TB) []map[string]any {
	c := checker(t)
	files, _ := filepath.Glob("../../golden/*.yaml")
	for _, g := range []string{"../../examples/*/golden/*.yaml", "../../overlays/_*/*/*.yaml", "../../overlays/_*/*.yaml",
		"../../examples/*/overlays/_*/*/*.yaml", "../../examples/*/overlays/_*/*.yaml"} {
		more, _ := filepath.Glob(g)
		files = append(files, more...)
	}
	require.NotEmpty(t, files)
	seen := map[string]bool{}
	var docs []map[string]any
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, d := range splitDocuments(data) {
			var m map[string]any
			if sigsyaml.Unmarshal(d.data, &m) != nil || m == nil {
				continue
			}
			o, perr := objectOf(m)
			require.Nil(t, perr)
			if _, _, ok := c.customShape(o); !ok || seen[string(o.json)] {
				continue
			}
			seen[string(o.json)] = true
			docs = append(docs, o.m)
		}
	}
	return docs
}

// otherStrings replace a blankable string in the tests.
var otherStrings = []string{"", "ü-ñ-日本", strings.Repeat("z", 5000), "$(x)", "not a Pattern!!", "a\nb", "-", "1", "true", "null"}

// blankPaths lists the paths of o's strings that the shape blanks: a
// string whose change leaves the key equal.
type leaf struct {
	path []any // string keys and int indexes
	val  any
}

func leaves(v any, at []any, out *[]leaf) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			leaves(e, append(append([]any{}, at...), k), out)
		}
	case []any:
		for i, e := range x {
			leaves(e, append(append([]any{}, at...), i), out)
		}
	default:
		*out = append(*out, leaf{at, x})
	}
}

// with returns a deep copy of m with the value at path set to val; del
// removes it instead, add sets a new key beside it.
func with(m map[string]any, path []any, val any) map[string]any {
	cp := runtime.DeepCopyJSON(m) // the objects are JSON values (objectOf)
	var cur any = cp
	for i, p := range path {
		last := i == len(path)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				c[p.(string)] = val
			}
			cur = c[p.(string)]
		case []any:
			if last {
				c[p.(int)] = val
			}
			cur = c[p.(int)]
		}
	}
	return cp
}

func shapeOf(t testing.TB, c *Checker, m map[string]any) ([32]byte, bool) {
	o, perr := objectOf(m)
	require.Nil(t, perr)
	k, _, ok := c.customShape(o)
	return k, ok
}

// TestCRDShapeRealObjects: every custom resource of the committed
// outputs; each string outside metadata is replaced by other strings. Where
// the key stays equal, the full check must still pass; where it does not,
// the string was kept verbatim. Then non-blankable mutations: a type
// change, an added unknown field, every verbatim string replaced: the key
// differs or the full check agrees with the shape path.
func TestCRDShapeRealObjects(t *testing.T) {
	c := checker(t)
	docs := goldenCustom(t)
	require.Greater(t, len(docs), 20)
	kinds := map[string]int{}
	blanked, kept, agreed := 0, 0, 0
	for i, doc := range docs {
		require.Empty(t, c.Object("g.yaml", doc), "document %d passes", i)
		kinds[doc["kind"].(string)]++
		base, ok := shapeOf(t, c, doc)
		require.True(t, ok)
		var ls []leaf
		leaves(doc, nil, &ls)
		for _, l := range ls {
			if l.path[0] == "metadata" || l.path[0] == "apiVersion" || l.path[0] == "kind" {
				continue
			}
			if _, isStr := l.val.(string); isStr {
				for _, s := range otherStrings {
					m := with(doc, l.path, s)
					k, ok := shapeOf(t, c, m)
					require.True(t, ok)
					if k == base {
						blanked++
						whole := c.Object("g.yaml", m)
						if len(whole) > 0 {
							// Only the per-object checks (Helm values) may refuse it.
							o, _ := objectOf(m)
							_, cv, _ := c.customShape(o)
							require.False(t, c.perObject(o, cv), "%v=%q in %s: the shape path would pass %v", l.path, s, doc["kind"], whole)
						}
					} else {
						kept++
					}
				}
			}
			// A type change and an unknown field beside the leaf: the key differs.
			for _, other := range []any{int64(7), true, nil, map[string]any{}, []any{}} {
				if fmt.Sprintf("%T", other) == fmt.Sprintf("%T", l.val) {
					continue
				}
				k, ok := shapeOf(t, c, with(doc, l.path, other))
				if ok && k == base {
					t.Fatalf("%v: a %T has the key of a %T", l.path, other, l.val)
				}
			}
			if len(l.path) > 1 {
				if _, inMap := l.path[len(l.path)-1].(string); inMap {
					p := append(append([]any{}, l.path[:len(l.path)-1]...), "zzUnknownField")
					k, ok := shapeOf(t, c, with(doc, p, "x"))
					if ok && k == base {
						// only in an open subtree
						assert.Empty(t, c.Object("g.yaml", with(doc, p, "x")), "%v: an added field with the same key", p)
					}
				}
			}
			agreed++
		}
	}
	t.Logf("%d objects %v; string mutations: %d blanked (full check agreed), %d kept verbatim; %d leaves", len(docs), kinds, blanked, kept, agreed)
	assert.Greater(t, blanked, 100)
	assert.Greater(t, kept, 0)
}

// TestCRDShapeConstrained: a value the schema constrains is in the key.
func TestCRDShapeConstrained(t *testing.T) {
	c := checker(t)
	pa := map[string]any{"apiVersion": "security.istio.io/v1beta1", "kind": "PeerAuthentication",
		"metadata": map[string]any{"name": "default", "namespace": "istio-system"},
		"spec":     map[string]any{"mtls": map[string]any{"mode": "STRICT"}}}
	hr := map[string]any{"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmRepository",
		"metadata": map[string]any{"name": "istio", "namespace": "flux-system"},
		"spec":     map[string]any{"interval": "10m", "url": "https://istio-release.storage.googleapis.com/charts"}}
	for _, tc := range []struct {
		doc  map[string]any
		path []any
		val  any
	}{
		{pa, []any{"spec", "mtls", "mode"}, "BOGUS"},   // enum
		{hr, []any{"spec", "interval"}, "ten minutes"}, // pattern
		{hr, []any{"spec", "url"}, "not a url"},        // pattern
		{hr, []any{"spec", "interval"}, int64(10)},     // type
	} {
		require.Empty(t, c.Object("s.yaml", tc.doc))
		base, ok := shapeOf(t, c, tc.doc)
		require.True(t, ok)
		m := with(tc.doc, tc.path, tc.val)
		k, _ := shapeOf(t, c, m)
		assert.NotEqual(t, base, k, "%v", tc.path)
		assert.NotEmpty(t, c.Object("s.yaml", m), "%v=%v is refused", tc.path, tc.val)
	}
	// Through Verdicts: the learnt shape does not pass the bad object.
	v := NewVerdicts(nil)
	require.Empty(t, v.Object("s.yaml", [32]byte{1}, pa))
	assert.NotEmpty(t, v.Object("s.yaml", [32]byte{2}, with(pa, []any{"spec", "mtls", "mode"}, "BOGUS")))
	assert.NotEmpty(t, v.Object("s.yaml", [32]byte{3}, with(pa, []any{"metadata", "name"}, "Not_A_Name")), "metadata is checked per object")
}

// FuzzCRDShape: learn the shapes of the committed custom resources, then
// replace one string leaf (by index) with any string: whenever the shape
// path says valid, the full check says valid.
func FuzzCRDShape(f *testing.F) {
	c, err := Default()
	if err != nil {
		f.Fatal(err)
	}
	docs := goldenCustom(f)
	verdicts := NewVerdicts(nil)
	var all [][]leaf
	for i, doc := range docs {
		if errs := verdicts.Object("s.yaml", sha256.Sum256([]byte(fmt.Sprint("learn", i))), doc); len(errs) > 0 {
			f.Fatal(errs)
		}
		var ls []leaf
		leaves(doc, nil, &ls)
		all = append(all, ls)
	}
	for i, s := range otherStrings {
		f.Add(uint(i), uint(i*7), s, false)
		f.Add(uint(i*3), uint(i*11), s, true)
	}
	n := 0
	f.Fuzz(func(t *testing.T, d, l uint, s string, number bool) {
		n++
		doc := docs[d%uint(len(docs))]
		ls := all[d%uint(len(docs))]
		lf := ls[l%uint(len(ls))]
		var val any = s
		if number {
			val = int64(len(s))
		}
		m := with(doc, lf.path, val)
		viaShape := verdicts.Object("s.yaml", sha256.Sum256([]byte(fmt.Sprint("fuzz", n, d, l, s, number))), m)
		if whole := c.Object("s.yaml", m); len(viaShape) == 0 && len(whole) > 0 {
			t.Fatalf("%v=%q in %s: shape path valid, whole check %v", lf.path, s, doc["kind"], whole)
		}
	})
}

// TestCRDShapeListTypes: the items of a list-type set and the key fields
// of a list-type map's items are kept (listtype reads them), a list-type
// map item's other fields and an atomic list's strings are blanked; no
// embedded CRD has a set today, so the schema is made here.
func TestCRDShapeListTypes(t *testing.T) {
	set, lmap := "set", "map"
	str := structuralschema.Structural{Generic: structuralschema.Generic{Type: "string"}}
	item := structuralschema.Structural{Generic: structuralschema.Generic{Type: "object"},
		Properties: map[string]structuralschema.Structural{"k": str, "v": str}}
	s := &structuralschema.Structural{Generic: structuralschema.Generic{Type: "object"}, Properties: map[string]structuralschema.Structural{
		"set":    {Generic: structuralschema.Generic{Type: "array"}, Items: &str, Extensions: structuralschema.Extensions{XListType: &set}},
		"map":    {Generic: structuralschema.Generic{Type: "array"}, Items: &item, Extensions: structuralschema.Extensions{XListType: &lmap, XListMapKeys: []string{"k"}}},
		"atomic": {Generic: structuralschema.Generic{Type: "array"}, Items: &str},
	}}
	obj := func(a, b, k, v, at string) map[string]any {
		return map[string]any{"apiVersion": "x/v1", "kind": "X", "metadata": map[string]any{},
			"set": []any{a, b}, "map": []any{map[string]any{"k": k, "v": v}}, "atomic": []any{at}}
	}
	key := func(m map[string]any) [32]byte {
		k, ok := crdShape(m, s)
		require.True(t, ok)
		return k
	}
	base := key(obj("a", "b", "k", "v", "x"))
	assert.NotEqual(t, base, key(obj("a", "a", "k", "v", "x")), "a set duplicate")
	assert.NotEqual(t, base, key(obj("a", "b", "k2", "v", "x")), "a map key field")
	assert.Equal(t, base, key(obj("a", "b", "k", "other", "y")), "a map item's value field, an atomic list's string")
}

// BenchmarkArgoClusters checks one cluster's Argo CD AppProject and
// Applications (examples/argocd, cluster lancre) for 1,000 distinct
// clusters, the cluster's name replaced in every string, with a fresh
// Verdicts each time: by shape, and with the custom shapes off (before).
func BenchmarkArgoClusters(b *testing.B) {
	data, err := os.ReadFile("../../examples/argocd/overlays/_argocd/lancre/applications.yaml")
	require.NoError(b, err)
	var clusters [][]map[string]any
	for i := range 1000 {
		var docs []map[string]any
		text := strings.ReplaceAll(string(data), "lancre", fmt.Sprintf("c%04d", i))
		for _, d := range splitDocuments([]byte(text)) {
			var m map[string]any
			require.NoError(b, sigsyaml.Unmarshal(d.data, &m))
			docs = append(docs, m)
		}
		clusters = append(clusters, docs)
	}
	for _, mode := range []struct {
		name string
		off  bool
	}{{"shape", false}, {"full", true}} {
		b.Run(mode.name, func(b *testing.B) {
			for range b.N {
				v := NewVerdicts(nil)
				v.noCustomShapes = mode.off
				for i, docs := range clusters {
					for j, doc := range docs {
						if errs := v.Object("a.yaml", sha256.Sum256([]byte(fmt.Sprint(i, j))), doc); len(errs) > 0 {
							b.Fatal(errs)
						}
					}
				}
			}
		})
	}
}
