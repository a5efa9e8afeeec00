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

// TestShapeLearntFromItsSecondValue: the first entry of a shape is
// unified whole and nothing more is asked of CUE (no shape, no scalar
// checks: a rebuild that validates one edited entry pays one unification);
// the second makes the shape, and is decided by it, with the value CUE
// gives it whole.
func TestShapeLearntFromItsSecondValue(t *testing.T) {
	sch, err := newSchema(cuecontext.New())
	if err != nil {
		t.Fatal(err)
	}
	s := newShapes(namespaceRoot)
	// Two distinct generated entries of one shape.
	var first, second []byte
	seen := map[string][]byte{}
	for _, e := range shapeEntries(t) {
		_, v, ok := load.ParsePlainEntry(e)
		if !ok {
			continue
		}
		var w walk
		w.value(v)
		if f, ok := seen[string(w.key)]; ok && string(f) != string(e) {
			first, second = f, e
			break
		}
		seen[string(w.key)] = e
	}
	if first == nil {
		t.Fatal("no two entries of one shape")
	}
	if _, _, tm, whole, ok := s.decide(sch, "f.yaml", first); !ok || tm != nil || whole == nil {
		t.Fatalf("first of its shape: template %v, whole %q, ok %v; want decided whole", tm, whole, ok)
	}
	if len(s.shapes) != 0 || len(s.leaves) != 0 || len(s.firsts) != 1 {
		t.Fatalf("after one entry: %d shapes, %d scalars checked, %d seen once; want 0, 0, 1", len(s.shapes), len(s.leaves), len(s.firsts))
	}
	name, doc, byShape, ok := shapeVerdict(t, s, sch, second)
	want, _ := checkEntry(sch, "f.yaml", second)
	if !ok || !byShape || name != want.name || !reflect.DeepEqual(doc, want.doc) {
		t.Fatalf("second of its shape: %s %+v by shape %v ok %v; CUE: %s %+v", name, doc, byShape, ok, want.name, want.doc)
	}
	if len(s.shapes) != 1 || len(s.firsts) != 0 {
		t.Fatalf("after two entries: %d shapes, %d seen once; want 1, 0", len(s.shapes), len(s.firsts))
	}
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
	s := newShapes(namespaceRoot)
	entries := shapeEntries(t)
	decided, byShapes, refused := 0, 0, 0
	check := func(text []byte) {
		t.Helper()
		want, wantDoc := checkEntry(sch, "f.yaml", text)
		name, doc, byShape, ok := shapeVerdict(t, s, sch, text)
		if !ok {
			return
		}
		if byShape {
			byShapes++
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
	if decided < len(entries)*9/10 || byShapes < len(entries)*8/10 {
		t.Errorf("the shape path decided %d of %d valid entries, %d by their shape; want nearly all", decided, len(entries), byShapes)
	}
	for _, e := range entries {
		eachMutation(e, mutations, func(mutated []byte) {
			before := decided
			check(mutated)
			if decided == before {
				refused++
			}
		})
	}
	if refused == 0 {
		t.Errorf("no mutation was refused: the mutations test nothing")
	}
}

// eachMutation calls f with text changed by each mutation that applies to
// it (its first occurrence of the "from" text replaced).
func eachMutation(text []byte, mutations [][2]string, f func([]byte)) {
	for _, m := range mutations {
		if strings.Contains(string(text), m[0]) {
			f([]byte(strings.Replace(string(text), m[0], m[1], 1)))
		}
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
	s := newShapes(namespaceRoot)
	for _, e := range shapeEntries(f) {
		s.decide(sch, "f.yaml", e)
		s.decide(sch, "f.yaml", e) // a shape is learnt from its second value
		f.Add(e)
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		name, doc, _, ok := shapeVerdict(t, s, sch, text)
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
// to read its value as json.Unmarshal reads its JSON. byShape is false for
// the first entry of a shape, which is unified whole.
func shapeVerdict(t *testing.T, s *shapes, sch *schema, text []byte) (name string, _ namespaceDoc, byShape, ok bool) {
	t.Helper()
	name, v, tm, whole, ok := s.decide(sch, "f.yaml", text)
	if !ok {
		return "", namespaceDoc{}, false, false
	}
	if whole != nil {
		var doc namespaceDoc
		if err := json.Unmarshal(whole, &doc); err != nil {
			t.Fatalf("the whole value does not decode: %v\n%s", err, whole)
		}
		return name, doc, false, true
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
	return name, direct, true, true
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

// headCase is a cluster file's head and the worker (mesh file, defaults)
// it is validated with.
type headCase struct {
	w    *worker
	path string
	head []byte
}

// shapeHeads returns the heads of the cluster files of generated meshes
// and of every example mesh, each with a worker for its mesh file, all
// sharing one schema and one memo.
func shapeHeads(t testing.TB, sch *schema) []headCase {
	dirs := []string{"../../clusters"}
	ex, _ := filepath.Glob("../../examples/*/clusters")
	dirs = append(dirs, ex...)
	for _, opts := range []bench.Options{{}, {Unique: true}} {
		dir := t.TempDir()
		if err := bench.GenerateWith(dir, 12, 3, opts); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	memo := newEntryMemo(nil)
	var out []headCase
	for _, dir := range dirs {
		in, diags := load.DirParsing(dir, load.Lazy)
		if in == nil || in.Mesh == nil || diags.Failed(false) {
			t.Fatalf("%s: %v", dir, diags)
		}
		info, md := meshFile(sch, in.Mesh)
		if md.Failed(false) {
			t.Fatalf("%s: %v", dir, md)
		}
		w := &worker{info: info, memo: memo}
		w.adopt(sch)
		for _, f := range in.Clusters {
			if head, _, ok := load.SplitNamespaces(f.Data); ok {
				out = append(out, headCase{w, f.Path, head})
			}
		}
	}
	return out
}

// headMutations turn a valid head into near neighbours, valid or not.
var headMutations = [][2]string{
	{"name: cluster-0001", "name: Cluster_0001"}, {"name: cluster-0002", "name: cluster-0002-"},
	{"network: network-a", "network: \"\""}, {"network: network-b", "network: net.b"},
	{"environment: production", "environment: prod"}, {"environment: staging", "environment: development"},
	{"revision: \"1-21\"", "revision: 1-21x"}, {"revision: \"1-20\"", "revision: \"1-22\""},
	{"canary: \"1-21\"", "canary: \"\""}, {"min: 2", "min: 0"}, {"min: 2", "min: 1"}, {"max: 5", "max: -5"},
	{"LoadBalancer", "loadbalancer"}, {"NodePort", "ClusterIP"}, {"controlPlane:\n", "controlPlane:\n  bogus: x\n"},
	{"environment: production\n", "environment: production\nmtls: PERMISSIVE\n"}, {"environment: staging\n", "environment: staging\nmtls: OFF\n"},
	{"environment: development\n", "environment: development\nsidecar:\n  requests: {cpu: 50m, memory: 64Mi}\n"},
	{"environment: production\n", "environment: production\nsidecar:\n  requests: {cpu: 5Gx}\n"},
	{"controlPlane:\n", "controlPlane:\n  profile: minimal\n"}, {"controlPlane:\n", "controlPlane:\n  profile: tiny\n"},
}

// TestHeadShapeEqualsCUE requires fastHead to decide cluster heads exactly
// as unifying them whole with #Cluster (the mesh's defaults merged in)
// does, on every example and generated head and on mutations of them:
// whatever it accepts, CUE accepts with the same value.
func TestHeadShapeEqualsCUE(t *testing.T) {
	sch, err := newSchema(cuecontext.New())
	if err != nil {
		t.Fatal(err)
	}
	heads := shapeHeads(t, sch)
	decided, refused := 0, 0
	check := func(h headCase, head []byte) bool { return headAgrees(t, h.w, sch, h.path, head) }
	for _, h := range heads {
		if check(h, h.head) {
			decided++
		}
	}
	if decided < len(heads)*8/10 {
		t.Errorf("fastHead decided %d of %d heads; want nearly all", decided, len(heads))
	}
	for _, h := range heads {
		eachMutation(h.head, headMutations, func(mutated []byte) {
			if !check(h, mutated) {
				refused++
			}
		})
	}
	if refused == 0 {
		t.Errorf("no mutation was refused: the mutations test nothing")
	}
}

// FuzzHeadShapeEqualsCUE is TestHeadShapeEqualsCUE on the fuzzer's
// mutations of the heads, with their shapes already learnt.
func FuzzHeadShapeEqualsCUE(f *testing.F) {
	sch, err := newSchema(cuecontext.New())
	if err != nil {
		f.Fatal(err)
	}
	heads := shapeHeads(f, sch)
	var doc clusterDoc
	for _, h := range heads {
		fastHead(h.w, sch, h.path, h.head, &doc)
		fastHead(h.w, sch, h.path, h.head, &doc) // a shape is learnt from its second value
		f.Add(h.head)
	}
	w := heads[len(heads)-1].w // a generated mesh's: defaults, and shapes learnt
	f.Fuzz(func(t *testing.T, head []byte) { headAgrees(t, w, sch, "f.yaml", head) })
}

// headAgrees reports whether fastHead decides head, and fails t unless
// unifying it whole with CUE accepts it with the same value.
func headAgrees(t *testing.T, w *worker, sch *schema, path string, head []byte) bool {
	t.Helper()
	var doc clusterDoc
	if !fastHead(w, sch, path, head, &doc) {
		return false
	}
	js, ok := headByCUE(w, sch, path, head)
	if !ok {
		t.Fatalf("fastHead accepts a head CUE refuses:\n%q", head)
	}
	var want clusterDoc
	if err := json.Unmarshal(js, &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(doc, want) {
		t.Fatalf("fastHead reads another value than CUE:\nshape: %+v\ncue:   %s\n%q", doc, js, head)
	}
	return true
}

// TestEntryDocRoundTrip: the store keeps an entry's decoded value as its
// JSON (json.Marshal) and Lookup reads it back with json.Unmarshal; that
// must give the value back as it was, for every generated and example
// entry, decided by its shape or unified whole.
func TestEntryDocRoundTrip(t *testing.T) {
	sch, err := newSchema(cuecontext.New())
	if err != nil {
		t.Fatal(err)
	}
	m := newEntryMemo(nil)
	n := 0
	for _, text := range shapeEntries(t) {
		for _, v := range []*entryVerdict{m.decide(sch, "f.yaml", text), func() *entryVerdict { v, _ := checkEntry(sch, "f.yaml", text); return v }()} {
			if !v.ok {
				continue
			}
			js, err := json.Marshal(v.doc)
			if err != nil {
				t.Fatal(err)
			}
			var back namespaceDoc
			if err := json.Unmarshal(js, &back); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, v.doc) {
				t.Fatalf("the stored value reads back otherwise:\nwas:  %+v\nread: %+v\n%s", v.doc, back, text)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no entry decided")
	}
}
