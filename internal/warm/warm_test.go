package warm

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/golemtrust/meshc/internal/cache"
	"github.com/golemtrust/meshc/internal/emit"
	"github.com/golemtrust/meshc/internal/state"
)

// TestVerdictsAreVerify: a prefetch's verdicts are the cache's own check
// of every entry (cache.Files.Verify) against the folders of its command
// line: an untouched entry holds, with its states; an entry whose file
// was edited, or is gone, does not. And a Run goes to one build only,
// the one reading its cache file with its folders.
func TestVerdictsAreVerify(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv(state.EnvVar, filepath.Join(tmp, "state"))
	out, golden := filepath.Join(tmp, "o"), filepath.Join(tmp, "g")
	c := &cache.Cache{Clusters: map[string]cache.Entry{}}
	for _, name := range []string{"kept", "edited", "gone"} {
		files := cache.Files{}
		for tree, dir := range map[string]string{cache.TreeOverlays: filepath.Join(out, name), cache.TreeGolden: golden} {
			full := filepath.Join(dir, name+".yaml")
			data := []byte("kind: " + name + "\n")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(full, data, 0o644); err != nil {
				t.Fatal(err)
			}
			st, ok := cache.Stat(full, cache.SumOf(data))
			if !ok {
				t.Fatal(full)
			}
			rel := name + ".yaml"
			if tree == cache.TreeOverlays {
				rel = name + "/" + rel
			}
			files[tree+"/"+rel] = st
		}
		c.Clusters[name] = cache.Entry{Files: files}
	}
	file := state.For(out, golden).Cache()
	if err := emit.WriteState(file, c.Encode()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond) // past the racy margin: statuses prove files unchanged
	if err := os.WriteFile(filepath.Join(golden, "edited.yaml"), []byte("kind: mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(out, "gone", "gone.yaml")); err != nil {
		t.Fatal(err)
	}

	r := Start([]string{"build", "--out", out, "--golden", golden, "--schema="})
	roots := cache.Roots(out, golden, "")
	if r.Take(file, cache.Roots(out, golden, filepath.Join(tmp, "s"))) != nil || r.Take(file+"x", roots) != nil {
		t.Fatal("taken for other folders or another cache")
	}
	if r.Take(file, roots) != r || r.Take(file, roots) != nil || !r.Taken() {
		t.Fatal("the matching build must take it, once")
	}
	got := r.Verdicts(1)
	if len(got) != 3 {
		t.Fatalf("verdicts for %d entries, want 3", len(got))
	}
	for name, v := range got {
		files, moved, ok := r.Cache().Clusters[name].Files.Verify(roots)
		if (v.Files != nil) != ok || v.Moved != moved || len(v.Files) != len(files) {
			t.Errorf("%s: prefetched verdict %v, Verify says ok %v moved %v", name, v, ok, moved)
		}
		if want := name == "kept"; ok != want {
			t.Errorf("%s: verified %v, want %v", name, ok, want)
		}
	}
}
