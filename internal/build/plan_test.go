package build_test

import (
	"bytes"
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/golemtrust/meshc/internal/bench"
	"github.com/golemtrust/meshc/internal/build"
	"github.com/golemtrust/meshc/internal/cache"
	"github.com/golemtrust/meshc/internal/emit"
	"github.com/golemtrust/meshc/internal/load"
	"github.com/golemtrust/meshc/internal/state"
)

// stateIn is a state folder under tmp, outside the output folders.
func stateIn(tmp string) state.Paths {
	dir := filepath.Join(tmp, "state")
	return state.Paths{Dir: dir, Lock: filepath.Join(dir, "lock")}
}

// planAndWrite runs what `meshc build` runs and returns the output.
func planAndWrite(t *testing.T, opts build.Options) *build.Output {
	t.Helper()
	out, diags, err := build.Plan(opts)
	require.NoError(t, err)
	require.Empty(t, diags)
	require.NotNil(t, out)
	require.NoError(t, emit.Write(out.Trees()...))
	require.NoError(t, out.SaveCache())
	return out
}

// TestReuseIsNeverFooledByStatus: a cluster file or an output file edited
// in place to the same size, with its modification time put back, is
// still seen as changed (its change time moved), so the cluster is
// compiled again and the output repaired.
func TestReuseIsNeverFooledByStatus(t *testing.T) {
	tmp := t.TempDir()
	opts := build.Options{ClustersDir: filepath.Join(tmp, "clusters"), OutDir: filepath.Join(tmp, "overlays"), GoldenDir: filepath.Join(tmp, "golden"), State: stateIn(tmp)}
	require.NoError(t, bench.Generate(opts.ClustersDir, 4, 3))
	planAndWrite(t, opts)
	time.Sleep(300 * time.Millisecond) // past the racy margin: status alone is trusted now

	out := planAndWrite(t, opts)
	require.Equal(t, 4, out.Reused, "nothing changed: every cluster is reused")

	// Same size edit of a cluster file, mtime restored.
	file := filepath.Join(opts.ClustersDir, bench.ClusterName(2)+".yaml")
	sameSizeEdit(t, file, `cost-center: "1000"`, `cost-center: "1009"`)
	out = planAndWrite(t, opts)
	require.Equal(t, 3, out.Reused, "the edited cluster is compiled again")
	golden, err := os.ReadFile(filepath.Join(opts.GoldenDir, bench.ClusterName(2)+".yaml"))
	require.NoError(t, err)
	require.Contains(t, string(golden), `cost-center: "1009"`)
	time.Sleep(300 * time.Millisecond)

	// Same size edit of a golden file, mtime restored: repaired.
	gfile := filepath.Join(opts.GoldenDir, bench.ClusterName(1)+".yaml")
	want, err := os.ReadFile(gfile)
	require.NoError(t, err)
	sameSizeEdit(t, gfile, "kind: Namespace", "kind: Namespacf")
	out = planAndWrite(t, opts)
	require.Equal(t, 3, out.Reused)
	got, err := os.ReadFile(gfile)
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got), "the hand-edited golden file is rewritten")
}

func sameSizeEdit(t *testing.T, path, from, to string) {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	edited := bytes.Replace(data, []byte(from), []byte(to), 1)
	require.NotEqual(t, data, edited)
	require.Equal(t, len(data), len(edited))
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, os.WriteFile(path, edited, 0o644))
	require.NoError(t, os.Chtimes(path, fi.ModTime(), fi.ModTime()))
}

// TestRebuildWithStoredVerdicts: a rebuild takes unchanged namespace
// entries' verdicts from the cache (those of entries more than one
// cluster file has; an entry of one file alone is not kept), yet an
// edited entry is validated afresh: a valid edit reaches the output, an
// invalid one is reported exactly as a cold run reports it.
func TestRebuildWithStoredVerdicts(t *testing.T) {
	tmp := t.TempDir()
	opts := build.Options{ClustersDir: filepath.Join(tmp, "clusters"), OutDir: filepath.Join(tmp, "overlays"), GoldenDir: filepath.Join(tmp, "golden"), State: stateIn(tmp)}
	require.NoError(t, bench.Generate(opts.ClustersDir, 3, 4))
	planAndWrite(t, opts)
	c := cache.Load(opts.State.Cache())
	files := map[[32]byte]int{} // entry text hash -> cluster files that have it
	texts := map[string][][32]byte{}
	for i := 0; i < 3; i++ {
		data, err := os.ReadFile(filepath.Join(opts.ClustersDir, bench.ClusterName(i)+".yaml"))
		require.NoError(t, err)
		_, entries, ok := load.SplitNamespaces(data)
		require.True(t, ok)
		for _, e := range entries {
			k := sha256.Sum256(e.Text)
			files[k]++
			texts[bench.ClusterName(i)] = append(texts[bench.ClusterName(i)], k)
		}
	}
	shared, alone := 0, 0
	for i := 0; i < 3; i++ {
		e := c.Clusters[bench.ClusterName(i)]
		for _, k := range texts[bench.ClusterName(i)] {
			if files[k] > 1 {
				require.Contains(t, e.Entries, k, "an entry other clusters have too is recorded")
				require.Contains(t, c.Docs, k)
				shared++
			} else {
				require.NotContains(t, c.Docs, k, "an entry of one cluster file alone is not kept")
				alone++
			}
		}
	}
	require.Positive(t, shared)
	require.Positive(t, alone)
	file := filepath.Join(opts.ClustersDir, bench.ClusterName(1)+".yaml")
	data, err := os.ReadFile(file)
	require.NoError(t, err)

	require.NoError(t, os.WriteFile(file, bytes.Replace(data, []byte("pods: 20"), []byte("pods: 21"), 1), 0o644))
	out := planAndWrite(t, opts)
	require.Equal(t, 2, out.Reused)
	golden, err := os.ReadFile(filepath.Join(opts.GoldenDir, bench.ClusterName(1)+".yaml"))
	require.NoError(t, err)
	require.Contains(t, string(golden), `pods: "21"`)

	require.NoError(t, os.WriteFile(file, bytes.Replace(data, []byte("pods: 20"), []byte("pods: lots"), 1), 0o644))
	_, diags, err := build.Plan(opts)
	require.NoError(t, err)
	_, cold := build.Validate(opts)
	require.NotEmpty(t, cold)
	require.Equal(t, cold.String(), diags.String())
	require.Contains(t, diags.String(), bench.ClusterName(1)+".yaml:")
}
