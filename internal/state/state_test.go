package state

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestForIsOutsideTheOutputAndKeyedByIt(t *testing.T) {
	root := t.TempDir()
	t.Setenv(EnvVar, root)
	repo := filepath.Join(t.TempDir(), "mesh-repo")
	t.Chdir(repo[:len(repo)-len("/mesh-repo")])
	p := For(filepath.Join(repo, "overlays"), filepath.Join(repo, "golden"))
	assert.Equal(t, root, filepath.Dir(p.Dir))
	assert.Regexp(t, `^mesh-repo-[0-9a-f]{16}$`, filepath.Base(p.Dir))
	assert.Equal(t, filepath.Join(p.Dir, "lock"), p.Lock)
	assert.Equal(t, filepath.Join(p.Dir, "cache"), p.Cache())
	assert.Equal(t, filepath.Join(p.Dir, "writing-golden"), p.Marker("golden"))

	// The same folders spelled otherwise share the state; others do not.
	assert.Equal(t, p, For("mesh-repo/overlays", "mesh-repo/x/../golden"))
	assert.NotEqual(t, p.Dir, For(filepath.Join(repo, "overlays"), filepath.Join(repo, "rendered")).Dir)
}

func TestWithoutACacheFolder(t *testing.T) {
	t.Setenv(EnvVar, "")
	t.Setenv("HOME", "")
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("LocalAppData", "")
	p := For("overlays", "golden")
	assert.Empty(t, p.Dir)
	assert.Empty(t, p.Cache())
	assert.Empty(t, p.Marker("overlays"))
	assert.NotEmpty(t, p.Lock, "builds still lock")
}

// TestPathsAreFilepaths checks that the path helpers state uses instead of
// path/filepath (path_other.go) compute what path/filepath does here.
func TestPathsAreFilepaths(t *testing.T) {
	wd := t.TempDir()
	t.Chdir(wd)
	for _, p := range []string{
		"", ".", "..", "/", "//", "a", "a/", "a//b", "./a", "../a", "a/../..", "/a/./b/../c", "overlays",
		"mesh-repo/x/../golden", "/tmp/a b/c", "a/b/c/", "...", "a/.../b", `a\b`, "C:/x",
	} {
		assert.Equal(t, filepath.Clean(p), clean(p), "Clean(%q)", p)
		assert.Equal(t, filepath.Base(p), base(p), "Base(%q)", p)
		assert.Equal(t, filepath.Dir(p), dir(p), "Dir(%q)", p)
		assert.Equal(t, filepath.Join(p, "x", p), join(p, "x", p), "Join(%q, x, %q)", p, p)
		wantAbs, wantErr := filepath.Abs(p)
		gotAbs, gotErr := abs(p)
		assert.Equal(t, wantAbs, gotAbs, "Abs(%q)", p)
		assert.Equal(t, wantErr, gotErr, "Abs(%q)", p)
	}
}
