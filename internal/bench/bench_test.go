package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golemtrust/meshc/internal/build"
	"github.com/golemtrust/meshc/internal/emit"
	"github.com/golemtrust/meshc/internal/load"
	"github.com/golemtrust/meshc/internal/state"
)

// The stage benchmarks run on a 20 x 20 mesh; BenchmarkBuildSizes shows
// growth. Run them with make bench (see BENCHMARKS.md). In go test they
// run only as a smoke test (TestBenchmarkSmoke), on a 3 x 3 mesh, untimed.
const stageClusters, stageNamespaces = 20, 20

// fixture is a generated mesh and the options to build it into a
// per-fixture temporary folder.
type fixture struct {
	tmp  string
	opts build.Options
}

func newFixture(tb testing.TB, clusters, namespaces int) *fixture {
	tb.Helper()
	tmp := tb.TempDir()
	f := &fixture{tmp: tmp, opts: build.Options{
		ClustersDir: filepath.Join(tmp, "clusters"),
		OutDir:      filepath.Join(tmp, "overlays"),
		GoldenDir:   filepath.Join(tmp, "golden"),
		State:       state.Paths{Dir: filepath.Join(tmp, "state"), Lock: filepath.Join(tmp, "state", "lock")},
	}}
	if err := Generate(f.opts.ClustersDir, clusters, namespaces); err != nil {
		tb.Fatal(err)
	}
	return f
}

func (f *fixture) compiled(tb testing.TB) *build.Output {
	tb.Helper()
	m, diags := build.Validate(f.opts)
	if m == nil || len(diags) != 0 {
		tb.Fatalf("generated mesh does not validate cleanly:\n%s", diags)
	}
	out, err := build.Compile(m, f.opts)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// freshTrees points the output's trees at a new, empty folder, so each
// write is a cold one.
func (f *fixture) freshTrees(out *build.Output, i int) []*emit.Tree {
	dir := filepath.Join(f.tmp, fmt.Sprintf("run-%d", i))
	return []*emit.Tree{
		{Dir: filepath.Join(dir, "overlays"), Files: out.Overlays.Files},
		{Dir: filepath.Join(dir, "golden"), Files: out.Golden.Files},
	}
}

// Each stage is a function run n times on a fixture; the benchmarks time
// it and the smoke test runs it once.
type stage struct {
	name string
	run  func(tb testing.TB, f *fixture, n int, reset func())
}

var stages = []stage{
	{"Load", benchLoad},
	{"Validate", benchValidate},
	{"Compile", benchCompile},
	{"EmitWrite", benchEmitWrite},
	{"EmitCheck", benchEmitCheck},
	{"Build", benchBuild},
	{"CheckCached", benchCheckCached},
	{"Rebuild", benchRebuild},
}

// built runs meshc build's steps (Plan, Write, SaveCache) into the
// fixture's folders, failing on any problem.
func (f *fixture) built(tb testing.TB) *build.Output {
	tb.Helper()
	out, diags, err := build.Plan(f.opts)
	if err != nil || out == nil || len(diags) != 0 {
		tb.Fatalf("plan: %v\n%s", err, diags)
	}
	if err := emit.Write(out.Trees()...); err != nil {
		tb.Fatal(err)
	}
	if err := out.SaveCache(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// benchCheckCached is meshc check with nothing changed and the build
// cache in place: every output file verified, nothing compiled.
func benchCheckCached(tb testing.TB, f *fixture, n int, reset func()) {
	f.built(tb)
	reset()
	for i := 0; i < n; i++ {
		out, diags, err := build.Plan(f.opts)
		if err != nil || out == nil || len(diags) != 0 {
			tb.Fatalf("plan: %v\n%s", err, diags)
		}
		if d, err := emit.Check(out.Trees()...); err != nil || d != "" {
			tb.Fatalf("check: %v\n%.2000s", err, d)
		}
	}
}

// benchRebuild is meshc build after editing one cluster file (a label
// value in its first namespace, different each time).
func benchRebuild(tb testing.TB, f *fixture, n int, reset func()) {
	f.built(tb)
	file := filepath.Join(f.opts.ClustersDir, ClusterName(0)+".yaml")
	orig, err := os.ReadFile(file)
	if err != nil {
		tb.Fatal(err)
	}
	reset()
	for i := 0; i < n; i++ {
		edited := strings.Replace(string(orig), `cost-center: "1000"`, fmt.Sprintf(`cost-center: "r%d"`, i), 1)
		if err := os.WriteFile(file, []byte(edited), 0o644); err != nil {
			tb.Fatal(err)
		}
		if out := f.built(tb); out.Reused != len(out.Golden.Kept) || len(out.Golden.Files) != 1 {
			tb.Fatalf("rebuild compiled %d clusters, want the edited one", len(out.Golden.Files))
		}
	}
}

func benchLoad(tb testing.TB, f *fixture, n int, reset func()) {
	reset()
	for i := 0; i < n; i++ {
		in, diags := load.Dir(f.opts.ClustersDir)
		if in == nil || diags.Failed(false) {
			tb.Fatalf("load: %s", diags)
		}
	}
}

func benchValidate(tb testing.TB, f *fixture, n int, reset func()) {
	reset()
	for i := 0; i < n; i++ {
		if m, diags := build.Validate(f.opts); m == nil || len(diags) != 0 {
			tb.Fatalf("validate:\n%s", diags)
		}
	}
}

// benchCompile is compile + overlay + render (build.Compile) of a
// validated mesh.
func benchCompile(tb testing.TB, f *fixture, n int, reset func()) {
	m, diags := build.Validate(f.opts)
	if m == nil {
		tb.Fatalf("validate:\n%s", diags)
	}
	reset()
	for i := 0; i < n; i++ {
		if _, err := build.Compile(m, f.opts); err != nil {
			tb.Fatal(err)
		}
	}
}

// benchEmitWrite writes the whole output into a new, empty folder.
func benchEmitWrite(tb testing.TB, f *fixture, n int, reset func()) {
	out := f.compiled(tb)
	reset()
	for i := 0; i < n; i++ {
		if err := emit.Write(f.freshTrees(out, i)...); err != nil {
			tb.Fatal(err)
		}
	}
}

// benchEmitCheck compares an up-to-date output with the disk.
func benchEmitCheck(tb testing.TB, f *fixture, n int, reset func()) {
	out := f.compiled(tb)
	if err := emit.Write(out.Trees()...); err != nil {
		tb.Fatal(err)
	}
	reset()
	for i := 0; i < n; i++ {
		d, err := emit.Check(out.Trees()...)
		if err != nil {
			tb.Fatal(err)
		}
		if d != "" {
			tb.Fatalf("check of an up-to-date tree found differences:\n%.2000s", d)
		}
	}
}

// benchBuild is what meshc build does, cold: validate, compile, write into
// a new, empty folder.
func benchBuild(tb testing.TB, f *fixture, n int, reset func()) {
	reset()
	for i := 0; i < n; i++ {
		m, diags := build.Validate(f.opts)
		if m == nil {
			tb.Fatalf("validate:\n%s", diags)
		}
		out, err := build.Compile(m, f.opts)
		if err != nil {
			tb.Fatal(err)
		}
		if err := emit.Write(f.freshTrees(out, i)...); err != nil {
			tb.Fatal(err)
		}
	}
}

func runStage(b *testing.B, s stage, clusters, namespaces int) {
	f := newFixture(b, clusters, namespaces)
	b.ReportAllocs()
	s.run(b, f, b.N, b.ResetTimer)
	b.StopTimer()
	// Report per-namespace cost, the unit the performance targets scale with.
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(clusters*namespaces), "ns/namespace")
}

func BenchmarkLoad(b *testing.B)      { runStage(b, stages[0], stageClusters, stageNamespaces) }
func BenchmarkValidate(b *testing.B)  { runStage(b, stages[1], stageClusters, stageNamespaces) }
func BenchmarkCompile(b *testing.B)   { runStage(b, stages[2], stageClusters, stageNamespaces) }
func BenchmarkEmitWrite(b *testing.B) { runStage(b, stages[3], stageClusters, stageNamespaces) }
func BenchmarkEmitCheck(b *testing.B) { runStage(b, stages[4], stageClusters, stageNamespaces) }
func BenchmarkBuild(b *testing.B)     { runStage(b, stages[5], stageClusters, stageNamespaces) }
func BenchmarkCheckCached(b *testing.B) {
	runStage(b, stages[6], stageClusters, stageNamespaces)
}
func BenchmarkRebuild(b *testing.B) { runStage(b, stages[7], stageClusters, stageNamespaces) }

// BenchmarkBuildSizes is the cold build at several sizes: with linear
// growth, ns/namespace stays flat.
func BenchmarkBuildSizes(b *testing.B) {
	for _, size := range []struct{ c, k int }{{10, 10}, {20, 20}, {40, 10}} {
		b.Run(fmt.Sprintf("clusters=%d/namespaces=%d", size.c, size.k), func(b *testing.B) {
			runStage(b, stages[5], size.c, size.k)
		})
	}
}

// TestBenchmarkSmoke runs every benchmark's body once on a 3 x 3 mesh, so
// go test ./... (CI) keeps them working without timing anything.
func TestBenchmarkSmoke(t *testing.T) {
	f := newFixture(t, 3, 3)
	for _, s := range stages {
		t.Run(s.name, func(t *testing.T) {
			s.run(t, f, 1, func() {})
		})
	}
	if _, err := os.Stat(filepath.Join(f.opts.GoldenDir, ClusterName(2)+".yaml")); err != nil {
		t.Fatalf("EmitCheck's setup wrote no golden file: %v", err)
	}
}
