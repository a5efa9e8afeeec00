package validate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"cuelang.org/go/cue/cuecontext"

	"github.com/golemtrust/meshc/internal/bench"
	"github.com/golemtrust/meshc/internal/load"
)

// shapeEntries returns the namespace entries of generated meshes (the
// repeating and the unique kind) and of the example mesh.
func shapeEntries(t testing.TB) [][]byte {
	var files []string
	for _, opts := range []bench.Options{{}, {Unique: true}} {
		dir := t.TempDir()
		if err := bench.GenerateWith(dir, 12, 12, opts); err != nil {
			t.Fatal(err)
		}
		m, _ := filepath.Glob(filepath.Join(dir, "cluster-*.yaml"))
		files = append(files, m...)
	}
	ex, _ := filepath.Glob("../../clusters/*.yaml")
	files = append(files, ex...)
	var out [][]byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, entries, ok := load.SplitNamespaces(data); ok {
			for _, e := range entries {
				out = append(out, e.Text)
			}
		}
	}
	return out
}

// mutations turn a valid entry into near neighbours, valid or not, of the
// same shape or close to it.
var mutations = [][2]string{
	{"GET", "get"}, {"POST", "P0ST"}, {"pods: 10", "pods: 0"}, {"pods: 20", "pods: 2000000"},
	{"5Gi", "5Gx"}, {"128Mi", "128"}, {"cpu: 100m", "cpu: -1"}, {"cpu: \"5\"", "cpu: 5"},
	{"enabled", "enable"}, {"injection: enabled", "injection: disabled"},
	{"PERMISSIVE", "permissive"}, {"STRICT", "DISABLE"}, {"web-000", "Web_000"},
	{"api-001-authz", "api-001-authz-" + strings.Repeat("x", 60)}, {"team-000", "team-000-"},
	{"serviceAccount: client", "serviceAccount: \"\""}, {"t001", "\"\""}, {"\"1000\"", "1000"},
	{"\"/api/*\"", "/api/*"}, {"revision: \"1-21\"", "revision: 1-21x"}, {"pods: 10", "pods: 1.5"},
	{"selector: {app: api-000}", "selector: {app: 5}"}, {"methods: [GET, POST]", "methods: []"},
	{"          - serviceAccount: web-001\n", ""}, {"mtls: PERMISSIVE\n", "mtls: PERMISSIVE\n    bogus: x\n"},
}

// TestShapeEqualsCUE requires the shape path to decide exactly as CUE
// does, on generated entries and on mutations of them: whatever it
// accepts, unifying the entry whole accepts with the same name and value,
// and whatever CUE refuses, it refuses.
func TestShapeEqualsCUE(t *testing.T) {
	sch, err := newSchema(cuecontext.New())
	if err != nil {
		t.Fatal(err)
	}
	s := newShapes()
	entries := shapeEntries(t)
	decided, refused := 0, 0
	check := func(text []byte) {
		t.Helper()
		want, wantDoc := checkEntry(sch, "f.yaml", text)
		name, doc, ok := shapeVerdict(t, s, sch, text)
		if !ok {
			return
		}
		if !want.ok {
			t.Fatalf("the shape path accepts an entry CUE refuses:\n%s", text)
		}
		if name != want.name || !reflect.DeepEqual(doc, want.doc) {
			t.Fatalf("the shape path reads another value than CUE:\nshape: %s %+v\ncue:   %s %s\n%s", name, doc, want.name, wantDoc, text)
		}
		decided++
	}
	for _, e := range entries {
		check(e)
	}
	if decided < len(entries)*9/10 {
		t.Errorf("the shape path decided %d of %d valid entries; want nearly all", decided, len(entries))
	}
	for _, e := range entries {
		for _, m := range mutations {
			if !strings.Contains(string(e), m[0]) {
				continue
			}
			mutated := []byte(strings.Replace(string(e), m[0], m[1], 1))
			before := decided
			check(mutated)
			if decided == before {
				refused++
			}
		}
	}
	if refused == 0 {
		t.Errorf("no mutation was refused: the mutations test nothing")
	}
}

// FuzzShapeEqualsCUE is TestShapeEqualsCUE on the fuzzer's mutations, with
// the shapes of the generated entries already learnt, so that a mutated
// scalar in a known shape is decided by the scalar checks alone.
func FuzzShapeEqualsCUE(f *testing.F) {
	sch, err := newSchema(cuecontext.New())
	if err != nil {
		f.Fatal(err)
	}
	s := newShapes()
	for _, e := range shapeEntries(f) {
		s.decide(sch, "f.yaml", e)
		f.Add(e)
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		name, doc, ok := shapeVerdict(t, s, sch, text)
		if !ok {
			return
		}
		want, wantDoc := checkEntry(sch, "f.yaml", text)
		if !want.ok {
			t.Fatalf("the shape path accepts an entry CUE refuses:\n%q", text)
		}
		if name != want.name || !reflect.DeepEqual(doc, want.doc) {
			t.Fatalf("the shape path reads another value than CUE:\nshape: %s %+v\ncue:   %s %s\n%q", name, doc, want.name, wantDoc, text)
		}
	})
}

// shapeVerdict decides an entry by its shape, and requires decodeNamespace
// to read its value as json.Unmarshal reads its JSON.
func shapeVerdict(t *testing.T, s *shapes, sch *schema, text []byte) (string, namespaceDoc, bool) {
	t.Helper()
	name, v, tm, ok := s.decide(sch, "f.yaml", text)
	if !ok {
		return "", namespaceDoc{}, false
	}
	js := render(nil, v, tm)
	var viaJSON namespaceDoc
	if err := json.Unmarshal(js, &viaJSON); err != nil {
		t.Fatalf("the shape path's value does not decode: %v\n%s", err, js)
	}
	direct, ok := decodeNamespace(v, tm)
	if !ok {
		t.Fatalf("decodeNamespace does not read a decided entry:\n%s", text)
	}
	if !reflect.DeepEqual(direct, viaJSON) {
		t.Fatalf("decodeNamespace reads another value than json.Unmarshal:\ndirect: %+v\njson:   %+v\n%s", direct, viaJSON, js)
	}
	return name, direct, true
}

// BenchmarkEntriesByShape decides distinct entries (the unique mesh's) by
// shape, the shapes and scalars already learnt: the per-entry cost of a
// fleet of distinct tenants.
func BenchmarkEntriesByShape(b *testing.B) {
	dir := b.TempDir()
	if err := bench.GenerateWith(dir, 40, 50, bench.Options{Unique: true}); err != nil {
		b.Fatal(err)
	}
	in, _ := load.DirParsing(dir, load.Lazy)
	var texts [][]byte
	for _, f := range in.Clusters {
		_, entries, _ := load.SplitNamespaces(f.Data)
		for _, e := range entries {
			texts = append(texts, e.Text)
		}
	}
	sch, err := newSchema(cuecontext.New())
	if err != nil {
		b.Fatal(err)
	}
	m := newEntryMemo(nil)
	for _, t := range texts {
		m.decide(sch, "f.yaml", t)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run := newEntryMemo(nil)
		run.shapes = m.shapes // a fresh memo of texts, the shapes kept
		for _, t := range texts {
			if v := run.get(sch, "f.yaml", t); !v.ok {
				b.Fatal("not valid")
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(texts)), "ns/entry")
}
