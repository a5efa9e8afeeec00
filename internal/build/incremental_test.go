package build_test

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/golemtrust/meshc/internal/build"
	"github.com/golemtrust/meshc/internal/emit"
	"github.com/golemtrust/meshc/internal/jsonschema"
	"github.com/golemtrust/meshc/internal/load"
	"github.com/golemtrust/meshc/internal/state"
	"github.com/golemtrust/meshc/internal/warm"
)

// TestIncrementalIsThePipeline: after every edit in a sequence (a cluster
// file, a new cluster, a removed one, networks that change the mesh's set
// of networks and whether it has more than one, hand-edited and deleted
// output files, a --cluster build, the mesh file), what Plan hands to emit
// (its files, and the files it keeps, as they are on disk) is byte for
// byte the pure pipeline's output for the same input, and after the write
// the disk holds exactly that. Each step also says how many clusters the
// cache must reuse, so the equality is not the trivial one of a cache
// that never hits.
//
// It runs twice: with Plan reading the cache itself, and with the cache
// read and every entry's outputs verified ahead of it, from the command
// line, as internal/warm does while meshc initialises; that run must be
// the one Plan takes.
func TestIncrementalIsThePipeline(t *testing.T) {
	t.Run("read by Plan", func(t *testing.T) { testIncrementalIsThePipeline(t, false) })
	t.Run("prefetched", func(t *testing.T) { testIncrementalIsThePipeline(t, true) })
}

func testIncrementalIsThePipeline(t *testing.T, prefetch bool) {
	tmp := t.TempDir()
	t.Setenv(state.EnvVar, filepath.Join(tmp, "state"))
	opts := build.Options{
		ClustersDir: filepath.Join(tmp, "clusters"), OutDir: filepath.Join(tmp, "overlays"),
		GoldenDir: filepath.Join(tmp, "golden"), SchemaDir: filepath.Join(tmp, "schema"),
	}
	opts.State = state.For(opts.OutDir, opts.GoldenDir)
	// c000 net-0 (YAML), c001 net-1 (JSON), c002 net-0 (CUE), c003 net-1,
	// c004 net-0 (YAML).
	writeMesh(t, opts.ClustersDir, genMesh([]int{0, 1, 2, 3, 4}, 3, 0, false), nil)
	in := func(name string) string { return filepath.Join(opts.ClustersDir, name) }
	edit := func(path, from, to string) {
		t.Helper()
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		edited := strings.Replace(string(data), from, to, 1)
		require.NotEqual(t, string(data), edited, "%s has no %q", path, from)
		require.NoError(t, os.WriteFile(path, []byte(edited), 0o644))
	}
	remove := func(path string) { t.Helper(); require.NoError(t, os.Remove(path)) }
	golden := func(name string) string {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(opts.GoldenDir, name+".yaml"))
		require.NoError(t, err)
		return string(data)
	}
	var twoNetworks string

	steps := []struct {
		name   string
		change func()
		only   []string // --cluster
		reused int
	}{
		{"cold", func() {}, nil, 0},
		{"nothing changed", func() {}, nil, 5},
		{"a cluster file edited", func() { edit(in("c000.yaml"), "pods: 20", "pods: 21") }, nil, 4},
		{"a cluster added", func() { writeMesh(t, opts.ClustersDir, onlyClusters(genMesh([]int{5}, 3, 0, false)), nil) }, nil, 5},
		{"a cluster removed", func() { remove(in("c002.cue")) }, nil, 5},
		{"a new network", func() { edit(in("c001.json"), "net-1", "net-9") }, nil, 0},
		{"a network gone", func() { remove(in("c003.yaml")); remove(in("c005.json")) }, nil, 0},
		{"one network left", func() {
			twoNetworks = golden("c000")
			edit(in("c001.json"), "net-9", "net-0")
		}, nil, 0},
		{"a golden file hand-edited", func() {
			require.NotEqual(t, twoNetworks, golden("c000"), "one network or two: the output differs")
			require.NoError(t, os.WriteFile(filepath.Join(opts.GoldenDir, "c000.yaml"), []byte(golden("c000")+"# mine\n"), 0o644))
		}, nil, 2},
		{"an overlay file deleted", func() { remove(filepath.Join(opts.OutDir, "c004", "policy", "resources.yaml")) }, nil, 2},
		{"a --cluster build", func() {
			edit(in("c000.yaml"), "pods: 21", "pods: 22")
			edit(in("c001.json"), `"pods": 20`, `"pods": 23`)
		}, []string{"c000"}, 0},
		{"then the whole mesh", func() {}, nil, 2},
		{"the mesh file edited", func() { edit(in("mesh.yaml"), "max: 5", "max: 6") }, nil, 0},
	}
	for _, s := range steps {
		// Past the racy margin, so that status alone proves some files
		// unchanged and the hash proves the others.
		time.Sleep(150 * time.Millisecond)
		s.change()
		opts.Clusters = s.only
		opts.Warm = nil
		if prefetch {
			args := []string{"build", "--clusters", opts.ClustersDir, "--out", opts.OutDir, "--golden", opts.GoldenDir, "--schema", opts.SchemaDir}
			for _, c := range s.only {
				args = append(args, "--cluster", c)
			}
			opts.Warm = warm.Start(args)
			require.NotNil(t, opts.Warm, s.name)
		}
		out, diags, err := build.Plan(opts)
		if prefetch {
			require.True(t, opts.Warm.Taken(), "%s: Plan did not take the prefetch", s.name)
		}
		require.NoError(t, err, s.name)
		require.Empty(t, diags, s.name)
		require.NotNil(t, out, s.name)
		require.Equal(t, s.reused, out.Reused, "%s: clusters reused", s.name)

		want := pureOutput(t, opts)
		got := map[string]map[string]string{}
		for i, tree := range out.Trees() {
			got[treeNames[i]] = resolved(t, s.name, tree)
		}
		requireSameTrees(t, s.name+": planned", want, got)

		if prefetch { // as the CLI builds: the cache encoded while the output is written
			out.EncodeCacheAhead()
		}
		require.NoError(t, emit.Write(out.Trees()...), s.name)
		require.NoError(t, out.SaveCache(), s.name)
		if out.Cache != nil { // what was saved, drafted or not, is the cache encoded whole
			saved, err := os.ReadFile(opts.State.Cache())
			require.NoError(t, err, s.name)
			require.Equal(t, out.Cache.Encode(), saved, "%s: the saved cache", s.name)
		}
		if s.only == nil {
			disk := map[string]map[string]string{}
			for i, dir := range []string{opts.OutDir, opts.GoldenDir, opts.SchemaDir} {
				disk[treeNames[i]] = tree(t, dir)
				delete(disk[treeNames[i]], emit.IndexName)
			}
			requireSameTrees(t, s.name+": on disk", want, disk)
		}
	}
}

var treeNames = []string{"overlays", "golden", "schema"}

// onlyClusters drops the mesh file from genMesh's files.
func onlyClusters(files map[string]string) map[string]string {
	delete(files, "mesh.yaml")
	return files
}

// pureOutput is build.Run's output for the clusters folder as it is, as
// trees of file contents.
func pureOutput(t *testing.T, opts build.Options) map[string]map[string]string {
	t.Helper()
	in, diags := load.Dir(opts.ClustersDir)
	require.Empty(t, diags)
	r, err := build.Run(build.Inputs{In: in, Clusters: opts.Clusters})
	require.NoError(t, err)
	require.Empty(t, r.Diags)
	require.NotNil(t, r.Mesh)
	want := map[string]map[string]string{"overlays": {}, "golden": {}, "schema": {}}
	for p, d := range r.Shared {
		want["overlays"][p] = string(d)
	}
	for _, c := range r.Clusters {
		for p, d := range c.Overlays {
			want["overlays"][p] = string(d)
		}
		want["golden"][c.Name+".yaml"] = string(c.Golden)
	}
	schema, err := jsonschema.Files()
	require.NoError(t, err)
	for p, d := range schema {
		want["schema"][p] = string(d)
	}
	return want
}

// resolved is what a planned tree stands for: its files, and the files it
// keeps as they are on disk (never both for one path).
func resolved(t *testing.T, step string, tree *emit.Tree) map[string]string {
	t.Helper()
	out := map[string]string{}
	for p, d := range tree.Files {
		out[p] = string(d)
	}
	for p := range tree.Kept {
		require.NotContains(t, tree.Files, p, "%s: %s is both written and kept", step, p)
		data, err := os.ReadFile(filepath.Join(tree.Dir, filepath.FromSlash(p)))
		require.NoError(t, err, "%s: a kept file", step)
		out[p] = string(data)
	}
	return out
}

func requireSameTrees(t *testing.T, what string, want, got map[string]map[string]string) {
	t.Helper()
	for _, name := range treeNames {
		w, g := want[name], got[name]
		for _, p := range slices.Sorted(maps.Keys(w)) {
			gd, ok := g[p]
			require.True(t, ok, "%s: %s/%s is missing", what, name, p)
			require.True(t, gd == w[p], "%s: %s/%s differs from the pipeline's:\n%s\nwant:\n%s", what, name, p, gd, w[p])
		}
		for _, p := range slices.Sorted(maps.Keys(g)) {
			_, ok := w[p]
			require.True(t, ok, "%s: %s/%s is not the pipeline's", what, name, p)
		}
	}
}
