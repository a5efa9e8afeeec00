package cache

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// entryFor writes content under root/golden/c.yaml and records it as a build
// would, pretending the record was taken well after the write (not racy).
func entryFor(t *testing.T, root, content string) (Entry, map[string]string) {
	t.Helper()
	roots := map[string]string{"golden": filepath.Join(root, "golden")}
	full := filepath.Join(root, "golden", "c.yaml")
	require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
	require.NoError(t, os.WriteFile(full, []byte(content), 0o644))
	st, ok := Stat(full, SumOf([]byte(content)))
	require.True(t, ok)
	st.Seen = st.Ctime + int64(5*time.Second)
	return Entry{Files: map[string]FileState{"golden/c.yaml": st}}, roots
}

func TestVerify(t *testing.T) {
	t.Run("unchanged", func(t *testing.T) {
		root := t.TempDir()
		e, roots := entryFor(t, root, "kind: A\n")
		now, changed, ok := e.Files.Verify(roots)
		assert.True(t, ok)
		assert.False(t, changed)
		assert.Equal(t, e.Files, now)
	})
	t.Run("same size edit with the old mtime put back", func(t *testing.T) {
		// The change time cannot be set back: the edit is caught by status.
		root := t.TempDir()
		e, roots := entryFor(t, root, "kind: A\n")
		full := filepath.Join(root, "golden", "c.yaml")
		fi, err := os.Stat(full)
		require.NoError(t, err)
		time.Sleep(20 * time.Millisecond)
		require.NoError(t, os.WriteFile(full, []byte("kind: B\n"), 0o644))
		require.NoError(t, os.Chtimes(full, fi.ModTime(), fi.ModTime()))
		_, _, ok := e.Files.Verify(roots)
		assert.False(t, ok)
	})
	t.Run("touched but the same bytes", func(t *testing.T) {
		root := t.TempDir()
		e, roots := entryFor(t, root, "kind: A\n")
		full := filepath.Join(root, "golden", "c.yaml")
		later := time.Now().Add(time.Hour)
		require.NoError(t, os.Chtimes(full, later, later))
		now, changed, ok := e.Files.Verify(roots)
		assert.True(t, ok, "the bytes are meshc's")
		assert.True(t, changed, "the new status is recorded")
		assert.Equal(t, later.UnixNano(), now["golden/c.yaml"].Mtime)
	})
	t.Run("racy record is checked by content", func(t *testing.T) {
		root := t.TempDir()
		e, roots := entryFor(t, root, "kind: A\n")
		st := e.Files["golden/c.yaml"]
		st.Seen = st.Ctime // recorded within the timestamp granularity
		st.Sum = SumOf([]byte("kind: Z\n"))
		e.Files["golden/c.yaml"] = st
		_, _, ok := e.Files.Verify(roots)
		assert.False(t, ok, "a racy record must not be trusted on status alone")
	})
	t.Run("missing, replaced by a symlink, resized", func(t *testing.T) {
		root := t.TempDir()
		e, roots := entryFor(t, root, "kind: A\n")
		full := filepath.Join(root, "golden", "c.yaml")
		require.NoError(t, os.WriteFile(full, []byte("kind: AA\n"), 0o644))
		_, _, ok := e.Files.Verify(roots)
		assert.False(t, ok)
		require.NoError(t, os.Remove(full))
		_, _, ok = e.Files.Verify(roots)
		assert.False(t, ok)
		other := filepath.Join(root, "other.yaml")
		require.NoError(t, os.WriteFile(other, []byte("kind: A\n"), 0o644))
		require.NoError(t, os.Symlink(other, full))
		_, _, ok = e.Files.Verify(roots)
		assert.False(t, ok)
	})
}

func TestEncodeLoad(t *testing.T) {
	dir := t.TempDir()
	e, _ := entryFor(t, dir, "x\n")
	e.Key, e.Network = Key(SumOf([]byte("mesh")), SumOf([]byte("x")), []string{"net-a", "net-b"}), "net-a"
	schema := Files{"schema/cluster.json": {Sum: SumOf([]byte("{}")), Size: 2}}
	c := &Cache{Clusters: map[string]Entry{"c": e}, Schema: schema}
	file := filepath.Join(dir, "cache")
	require.NoError(t, os.WriteFile(file, c.Encode(), 0o644))
	got := Load(file)
	assert.Equal(t, c.Clusters, got.Clusters)
	assert.Equal(t, schema, got.Schema)
	require.NoError(t, os.WriteFile(file, append([]byte(magic), 3), 0o644))
	assert.Empty(t, Load(file).Clusters, "an older cache format is no cache")
	require.NoError(t, os.WriteFile(file, []byte("{not gob"), 0o644))
	assert.Empty(t, Load(file).Clusters, "a broken cache is an empty one")
	assert.Empty(t, Load("").Clusters, "no state folder, no cache")
}

func TestBuildID(t *testing.T) {
	id, ok := goBuildID([]byte("junk\xff Go build ID: \"abc/def\"\n \xffmore"))
	assert.True(t, ok)
	assert.Equal(t, "abc/def", id)
	_, ok = goBuildID([]byte("no id here"))
	assert.False(t, ok)
	// The test binary itself carries one.
	assert.Contains(t, toolID(), "go-build-id:")
}

// FuzzDecode: no input crashes the decoder, and whatever decodes survives
// an encode and decode unchanged.
func FuzzDecode(f *testing.F) {
	c := &Cache{Version: version, Tool: "t", Valid: [][32]byte{{1}}, Clusters: map[string]Entry{
		"a": {Key: Sum{7}, Network: "n", Files: Files{"golden/a.yaml": {Size: 3, Seen: 9}}},
	}, Schema: Files{"schema/mesh.json": {Size: 2}}}
	f.Add(c.encode())
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, ok := decode(string(data))
		if !ok {
			return
		}
		again, ok := decode(string(got.encode()))
		if !ok || !reflect.DeepEqual(got, again) {
			t.Fatalf("decoded %q, which does not survive a round trip", data)
		}
	})
}

func TestSettle(t *testing.T) {
	root := t.TempDir()
	full := filepath.Join(root, "golden", "c.yaml")
	require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
	require.NoError(t, os.WriteFile(full, []byte("kind: A\n"), 0o644))
	st, ok := Stat(full, SumOf([]byte("kind: A\n")))
	require.True(t, ok)
	racy, until := st.Racy()
	require.True(t, racy, "just written: racy")
	time.Sleep(time.Until(until) + time.Millisecond)
	settled, ok := Settle(full, st)
	require.True(t, ok)
	racy, _ = settled.Racy()
	assert.False(t, racy, "looked at again after the margin: trusted")

	// An edit in between is not settled into trust.
	require.NoError(t, os.WriteFile(full, []byte("kind: B\n"), 0o644))
	_, ok = Settle(full, st)
	assert.False(t, ok)
}

// TestKey: every input of a cluster's output moves its key, and the set
// of networks counts as a set of names (no two sets give one key).
func TestKey(t *testing.T) {
	m, c := SumOf([]byte("mesh")), SumOf([]byte("cluster"))
	base := Key(m, c, []string{"net-a", "net-b"})
	assert.Equal(t, base, Key(m, c, []string{"net-a", "net-b"}), "the same inputs, the same key")
	for what, k := range map[string]Sum{
		"mesh file":     Key(SumOf([]byte("mesh2")), c, []string{"net-a", "net-b"}),
		"cluster file":  Key(m, SumOf([]byte("cluster2")), []string{"net-a", "net-b"}),
		"a network":     Key(m, c, []string{"net-a"}),
		"joined names":  Key(m, c, []string{"net-anet-b"}),
		"no networks":   Key(m, c, nil),
		"mesh, cluster": Key(c, m, []string{"net-a", "net-b"}),
	} {
		assert.NotEqual(t, base, k, what)
	}
}

// TestDraftIsEncodeOnceSet: a cache encoded before some of its files'
// states are known, with those states then set in place, is byte for
// byte the cache encoded with them.
func TestDraftIsEncodeOnceSet(t *testing.T) {
	st := func(i int) FileState {
		return FileState{Sum: SumOf([]byte{byte(i)}), Size: int64(i), Mtime: int64(1000 + i), Ctime: int64(2000 + i), Ino: uint64(i), Dev: 7, Seen: int64(3000 + i)}
	}
	c := &Cache{
		Clusters: map[string]Entry{
			"a": {Key: SumOf([]byte("a")), Network: "n1", Files: Files{"overlays/a/k.yaml": st(1), "golden/a.yaml": st(2)}},
			"b": {Key: SumOf([]byte("b")), Network: "n2", Files: Files{"overlays/b/k.yaml": {Sum: SumOf([]byte("b1"))}, "golden/b.yaml": {Sum: SumOf([]byte("b2"))}}},
		},
		Schema: Files{"schema/cluster.json": {Sum: SumOf([]byte("{}"))}},
	}
	d := c.EncodeDraft(map[string]bool{"b": true, "": true})
	assert.False(t, d.Set("a", "golden/a.yaml", st(9)), "a is not pending")
	assert.False(t, d.Set("b", "golden/nope.yaml", st(9)))
	for i, key := range []string{"overlays/b/k.yaml", "golden/b.yaml"} {
		require.True(t, d.Set("b", key, st(10+i)))
		c.Clusters["b"].Files[key] = st(10 + i)
	}
	require.True(t, d.Set("", "schema/cluster.json", st(20)))
	c.Schema["schema/cluster.json"] = st(20)
	assert.Equal(t, c.Encode(), d.Bytes())
	got, ok := decode(string(d.Bytes()))
	require.True(t, ok)
	assert.Equal(t, c.Clusters, got.Clusters)
}
