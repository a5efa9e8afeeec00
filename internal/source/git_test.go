package source

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

// repo makes a git repository with one commit of files and returns its
// folder and the commit.
func repo(t *testing.T, files map[string]string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	git := func(args ...string) string {
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		return string(out)
	}
	git("init", "-q", "-b", "main")
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	git("add", "-A")
	git("commit", "-q", "-m", "one")
	return dir, git("rev-parse", "HEAD")[:40]
}

func TestRevisionIsAnFS(t *testing.T) {
	dir, commit := repo(t, map[string]string{
		"clusters/mesh.yaml":     "meshID: m\n",
		"clusters/a.yaml":        "name: a\n",
		"clusters/sub/deep.yaml": "x: 1\n",
		"clusters-other/b.yaml":  "name: b\n",
		"README.md":              "hello\n",
		"clusters/empty.yaml":    "",
	})
	g := Git{Dir: dir}
	r, err := g.Open(commit, "clusters")
	require.NoError(t, err)
	defer r.Close()
	require.NoError(t, fstest.TestFS(r, "mesh.yaml", "a.yaml", "sub/deep.yaml", "empty.yaml"))
	data, err := fs.ReadFile(r, "a.yaml")
	require.NoError(t, err)
	require.Equal(t, "name: a\n", string(data))
	_, err = fs.Stat(r, "b.yaml") // clusters-other is not under clusters
	require.True(t, errors.Is(err, fs.ErrNotExist))

	root, err := g.Open(commit, "")
	require.NoError(t, err)
	defer root.Close()
	require.NoError(t, fstest.TestFS(root, "README.md", "clusters/a.yaml", "clusters-other/b.yaml"))
}

func TestMissingFolder(t *testing.T) {
	dir, commit := repo(t, map[string]string{"a.yaml": "x\n"})
	r, err := Git{Dir: dir}.Open(commit, "clusters")
	require.NoError(t, err)
	_, err = fs.ReadDir(r, ".")
	require.True(t, errors.Is(err, fs.ErrNotExist))
}

func TestResolveAndDefaultBase(t *testing.T) {
	dir, commit := repo(t, map[string]string{"a.yaml": "x\n"})
	g := Git{Dir: dir}
	got, err := g.Resolve("main")
	require.NoError(t, err)
	require.Equal(t, commit, got)
	_, err = g.Resolve("nope")
	require.ErrorIs(t, err, ErrNoRevision)
	name, base, err := g.DefaultBase()
	require.NoError(t, err)
	require.Equal(t, "merge-base(HEAD, main)", name)
	require.Equal(t, commit, base)
}
