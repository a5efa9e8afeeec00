package emit

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// snap lists every entry under dir (files with a hash of their content,
// symlinks with their target, folders), to prove that nothing changed.
func snap(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			require.NoError(t, err)
			fmt.Fprintf(&b, "link %s -> %s\n", rel, target)
		case d.IsDir():
			fmt.Fprintf(&b, "dir  %s\n", rel)
		default:
			data, err := os.ReadFile(p)
			require.NoError(t, err)
			fmt.Fprintf(&b, "file %s %x\n", rel, sha256.Sum256(data))
		}
		return nil
	})
	require.NoError(t, err)
	return b.String()
}

func write(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

func read(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(data)
}

// markerOf and lockOf name a test tree's marker and lock: beside the
// folder, outside it, as meshc's state folder is.
func markerOf(dir string) string { return dir + ".writing" }
func lockOf(dir string) string   { return dir + ".lock" }

func tree(dir string, files ...string) *Tree {
	t := &Tree{Dir: dir, Files: map[string][]byte{}, Marker: markerOf(dir), Lock: lockOf(dir)}
	for _, f := range files {
		t.Files[f] = []byte("content of " + f + "\n")
	}
	return t
}

func TestWriteCreatesFilesAndIndex(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	require.NoError(t, Write(tree(dir, "b/x.yaml", "a.yaml")))
	assert.Equal(t, "content of b/x.yaml\n", read(t, filepath.Join(dir, "b/x.yaml")))
	assert.Equal(t, "# Files meshc wrote in this folder; it deletes or overwrites only these.\na.yaml\nb/x.yaml\n",
		read(t, filepath.Join(dir, IndexName)))
	d, err := Check(tree(dir, "b/x.yaml", "a.yaml"))
	require.NoError(t, err)
	assert.Empty(t, d)
	assert.NotContains(t, snap(t, dir), tmpPrefix, "no temporary file is left behind")
}

// An up-to-date tree is not touched at all, not even its index: a build
// that changes nothing changes no file's timestamp either.
func TestWriteUpToDateTouchesNothing(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, Write(tree(dir, "a.yaml")))
	past := time.Now().Add(-time.Hour).Truncate(time.Second)
	for _, f := range []string{"a.yaml", IndexName} {
		require.NoError(t, os.Chtimes(filepath.Join(dir, f), past, past))
	}
	require.NoError(t, Write(tree(dir, "a.yaml")))
	for _, f := range []string{"a.yaml", IndexName} {
		fi, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err)
		assert.Equal(t, past, fi.ModTime(), f)
	}
}

func TestStaleFilesAreDeletedWithTheirFolders(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, Write(tree(dir, "keep.yaml", "gone/deep/x.yaml", "half/y.yaml", "half/z.yaml")))
	write(t, filepath.Join(dir, "half/user.md"), "mine")

	d, err := Check(tree(dir, "keep.yaml", "half/z.yaml"))
	require.NoError(t, err)
	assert.Contains(t, d, "--- a/"+filepath.ToSlash(dir)+"/gone/deep/x.yaml\n+++ /dev/null\n")

	require.NoError(t, Write(tree(dir, "keep.yaml", "half/z.yaml")))
	assert.NoDirExists(t, filepath.Join(dir, "gone"), "a folder left empty goes too")
	assert.NoFileExists(t, filepath.Join(dir, "half/y.yaml"))
	assert.FileExists(t, filepath.Join(dir, "half/user.md"), "a user's file is never deleted")
	assert.Equal(t, "# Files meshc wrote in this folder; it deletes or overwrites only these.\nhalf/z.yaml\nkeep.yaml\n",
		read(t, filepath.Join(dir, IndexName)))
}

// With Owns (meshc build --cluster), files out of scope are neither
// written nor deleted, and stay in the index.
func TestOwnsLimitsDeletion(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, Write(tree(dir, "a/1.yaml", "b/1.yaml")))
	only := tree(dir, "a/2.yaml")
	only.Owns = func(rel string) bool { return strings.HasPrefix(rel, "a/") }
	require.NoError(t, Write(only))
	assert.NoFileExists(t, filepath.Join(dir, "a/1.yaml"))
	assert.FileExists(t, filepath.Join(dir, "b/1.yaml"))
	assert.Contains(t, read(t, filepath.Join(dir, IndexName)), "\na/2.yaml\nb/1.yaml\n")
}

// A user's file is never overwritten: a planned file in its place fails
// the whole write, before anything in any tree changes.
func TestUserFileInTheWayWritesNothing(t *testing.T) {
	root := t.TempDir()
	out, golden := filepath.Join(root, "out"), filepath.Join(root, "golden")
	require.NoError(t, Write(tree(out, "a.yaml"), tree(golden, "a.yaml")))
	write(t, filepath.Join(golden, "b.yaml"), "the user's own b\n")
	before := snap(t, root)

	err := Write(tree(out, "a.yaml", "new.yaml"), tree(golden, "a.yaml", "b.yaml"))
	require.Error(t, err)
	assert.Equal(t, filepath.Join(golden, "b.yaml")+": meshc did not write this file and will not overwrite it; move it away and run again", err.Error())
	assert.Equal(t, before, snap(t, root), "nothing changed in either tree")

	_, err = Check(tree(out, "a.yaml"), tree(golden, "a.yaml", "b.yaml"))
	assert.Error(t, err, "check reports the conflict too")
}

// A file whose content is what meshc would write is adopted (as after a
// clone that lost the index); from then on meshc owns it.
func TestIdenticalFileIsAdopted(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.yaml"), "content of a.yaml\n")
	require.NoError(t, Write(tree(dir, "a.yaml")))
	assert.Contains(t, read(t, filepath.Join(dir, IndexName)), "\na.yaml\n")
}

func TestNotAFileIsRefused(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "a.yaml"), 0o755))
	write(t, filepath.Join(dir, "b"), "a file where meshc wants a folder")
	before := snap(t, dir)
	err := Write(tree(dir, "a.yaml", "b/c.yaml"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), filepath.Join(dir, "a.yaml")+" is not a regular file")
	assert.Contains(t, err.Error(), filepath.Join(dir, "b/c.yaml")+": a part of this path is a file, not a folder")
	assert.Equal(t, before, snap(t, dir))
}

// Symlinks inside the output folder are never followed, whether a folder
// or the file itself is the link, and whatever they point at is untouched.
func TestSymlinksAreNeverFollowed(t *testing.T) {
	for _, tc := range []struct{ name, link, target, file string }{
		{"folder", "c", "outside", "c/x.yaml"},
		{"file", "x.yaml", "outside/victim.yaml", "x.yaml"},
		{"index", IndexName, "outside/victim.yaml", "x.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "out")
			write(t, filepath.Join(root, "outside/victim.yaml"), "x.yaml\nnot meshc's\n")
			require.NoError(t, os.MkdirAll(dir, 0o755))
			require.NoError(t, os.Symlink(filepath.Join(root, tc.target), filepath.Join(dir, tc.link)))
			before := snap(t, root)

			err := Write(tree(dir, tc.file))
			require.Error(t, err)
			assert.Equal(t, filepath.Join(dir, tc.link)+" is a symlink; meshc never writes through symlinks in its output folders: remove it and run again", err.Error())
			assert.Equal(t, before, snap(t, root))
			_, err = Check(tree(dir, tc.file))
			assert.Error(t, err)
		})
	}
}

// A stale index entry that now leads through a symlink is not deleted.
func TestStaleEntryThroughSymlinkIsKept(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "out")
	require.NoError(t, Write(tree(dir, "c/x.yaml", "a.yaml")))
	require.NoError(t, os.RemoveAll(filepath.Join(dir, "c")))
	write(t, filepath.Join(root, "outside/x.yaml"), "precious")
	require.NoError(t, os.Symlink(filepath.Join(root, "outside"), filepath.Join(dir, "c")))
	require.NoError(t, Write(tree(dir, "a.yaml")))
	assert.Equal(t, "precious", read(t, filepath.Join(root, "outside/x.yaml")))
	assert.NotContains(t, read(t, filepath.Join(dir, IndexName)), "c/x.yaml")
}

// Output names cannot leave the folder or take meshc's bookkeeping names.
func TestPathsCannotEscape(t *testing.T) {
	for _, p := range []string{"", ".", "..", "../x.yaml", "a/../../x.yaml", "/etc/x.yaml", "a//b.yaml", "a/./b.yaml",
		`a\..\x.yaml`, "a/\x00", IndexName, "a/" + tmpPrefix + "b.yaml"} {
		t.Run(fmt.Sprintf("%q", p), func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "out", "inner")
			before := snap(t, root)
			err := Write(&Tree{Dir: dir, Files: map[string][]byte{"ok.yaml": []byte("ok"), p: []byte("evil")}})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "meshc bug: output path")
			assert.Equal(t, before, snap(t, root))
		})
	}
}

// The index is data on disk, as a pull request may change it: entries that
// lead outside the folder are ignored, never deleted.
func TestHostileIndexEntriesAreIgnored(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "out")
	write(t, filepath.Join(root, "victim.yaml"), "precious")
	write(t, filepath.Join(dir, IndexName), "../victim.yaml\n"+filepath.Join(root, "victim.yaml")+"\nx/../../victim.yaml\n")
	require.NoError(t, Write(tree(dir, "a.yaml")))
	assert.Equal(t, "precious", read(t, filepath.Join(root, "victim.yaml")))
	assert.Equal(t, "# Files meshc wrote in this folder; it deletes or overwrites only these.\na.yaml\n", read(t, filepath.Join(dir, IndexName)))
}

// A run killed between creating a temporary file and renaming it leaves
// the temporary file behind; check reports it, and the next write removes
// it. A file that merely looks like one, but belongs to no indexed name,
// is not meshc's.
func TestLeftoverTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, Write(tree(dir, "a/old.yaml", "a/kept.yaml")))
	// What a run killed on the way to {a/kept.yaml, b/new.yaml} can leave.
	for _, f := range []string{"a/" + tmpPrefix + "old.yaml", "a/" + tmpPrefix + "kept.yaml", "b/" + tmpPrefix + "new.yaml", tmpPrefix + IndexName} {
		write(t, filepath.Join(dir, f), "half a fi")
	}
	write(t, filepath.Join(dir, "a/"+tmpPrefix+"users.yaml"), "not meshc's")
	// Such a run also leaves its marker: without one, nobody looks.
	write(t, markerOf(dir), "")
	next := tree(dir, "a/kept.yaml", "b/new.yaml")

	d, err := Check(next)
	require.NoError(t, err)
	for _, f := range []string{"a/" + tmpPrefix + "old.yaml", "a/" + tmpPrefix + "kept.yaml", "b/" + tmpPrefix + "new.yaml", tmpPrefix + IndexName} {
		assert.Contains(t, d, "--- a/"+filepath.ToSlash(filepath.Join(dir, f))+"\n+++ /dev/null\n")
	}
	assert.NotContains(t, d, "users.yaml")

	require.NoError(t, Write(next))
	d, err = Check(next)
	require.NoError(t, err)
	assert.Empty(t, d)
	assert.Equal(t, []string{"a/.meshc-tmp-users.yaml", "a/kept.yaml", "b/new.yaml"}, files(t, dir))
	assert.NoFileExists(t, markerOf(dir))
}

// TestMarkerOnlyWhileWriting: the marker exists while files are written
// and is gone after; a tree with no marker is not searched for temporary
// files (they can only come from a stopped run, which leaves the marker).
func TestMarkerOnlyWhileWriting(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, Write(tree(dir, "a/x.yaml")))
	assert.NoFileExists(t, markerOf(dir))
	write(t, filepath.Join(dir, "a/"+tmpPrefix+"x.yaml"), "half")
	d, err := Check(tree(dir, "a/x.yaml"))
	require.NoError(t, err)
	assert.Empty(t, d, "without a marker, a stray temporary file is not meshc's business")
	write(t, markerOf(dir), "")
	d, err = Check(tree(dir, "a/x.yaml"))
	require.NoError(t, err)
	assert.Contains(t, d, tmpPrefix+"x.yaml")
	require.NoError(t, Write(tree(dir, "a/x.yaml")))
	assert.NoFileExists(t, markerOf(dir))
	assert.NoFileExists(t, filepath.Join(dir, "a/"+tmpPrefix+"x.yaml"))
}

// files lists the files under dir other than the index.
func files(t *testing.T, dir string) []string {
	var out []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() != IndexName {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return err
	}))
	return out
}

// A leftover symlink at a temporary name is replaced, not written through.
func TestTemporaryNameIsNotFollowed(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "out")
	write(t, filepath.Join(root, "victim.yaml"), "precious")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.Symlink(filepath.Join(root, "victim.yaml"), filepath.Join(dir, tmpPrefix+"a.yaml")))
	require.NoError(t, Write(tree(dir, "a.yaml")))
	assert.Equal(t, "precious", read(t, filepath.Join(root, "victim.yaml")))
	assert.Equal(t, "content of a.yaml\n", read(t, filepath.Join(dir, "a.yaml")))
}

func TestLockIsExclusive(t *testing.T) {
	dir := t.TempDir()
	unlock, err := Lock(lockOf(dir), dir)
	require.NoError(t, err)
	_, err = Lock(lockOf(dir), dir)
	require.Error(t, err)
	assert.Equal(t, fmt.Sprintf("another meshc build is writing %s (lock %s held); wait for it to finish and run again", dir, lockOf(dir)), err.Error())
	unlock()
	unlock, err = Lock(lockOf(dir), dir)
	require.NoError(t, err)
	unlock()
}

func TestLockDoesNotFollowSymlinks(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "out")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.Symlink(filepath.Join(root, "created-outside"), lockOf(dir)))
	_, err := Lock(lockOf(dir), dir)
	assert.Error(t, err)
	assert.NoFileExists(t, filepath.Join(root, "created-outside"))
}

// Check waits while a build holds the lock, so it never compares a tree
// that is half way through being written; it gives up after lockWait.
func TestCheckWaitsForBuild(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, Write(tree(dir, "a.yaml")))
	unlock, err := Lock(lockOf(dir), dir)
	require.NoError(t, err)

	done := make(chan string)
	go func() {
		d, err := Check(tree(dir, "a.yaml", "b.yaml"))
		assert.NoError(t, err)
		done <- d
	}()
	select {
	case <-done:
		t.Fatal("check ran while a build held the lock")
	case <-time.After(300 * time.Millisecond):
	}
	// The "build" finishes its work, then lets go.
	require.NoError(t, Write(tree(dir, "a.yaml", "b.yaml")))
	unlock()
	select {
	case d := <-done:
		assert.Empty(t, d, "check saw the finished tree")
	case <-time.After(10 * time.Second):
		t.Fatal("check did not resume after the build")
	}

	unlock, err = Lock(lockOf(dir), dir)
	require.NoError(t, err)
	defer unlock()
	defer func(w time.Duration) { lockWait = w }(lockWait)
	lockWait = 100 * time.Millisecond
	_, err = Check(tree(dir, "a.yaml"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "a meshc build is still writing "+dir)
}

// Two checks at once do not exclude each other.
func TestChecksShareTheLock(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, Write(tree(dir, "a.yaml")))
	unlock, err := Lock(lockOf(dir), dir)
	require.NoError(t, err)
	unlock()
	r1, err := rlock(lockOf(dir), dir)
	require.NoError(t, err)
	defer r1()
	d, err := Check(tree(dir, "a.yaml"))
	require.NoError(t, err)
	assert.Empty(t, d)
}

// Two trees in one folder would each delete the other's files as stale.
func TestTreesNeedTheirOwnFolders(t *testing.T) {
	dir := t.TempDir()
	err := Write(tree(dir, "a.yaml"), tree(dir+"/.", "b.yaml"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is given as two output folders")
	assert.Empty(t, files(t, dir))
	_, err = Check(tree(dir, "a.yaml"), tree(dir, "b.yaml"))
	assert.Error(t, err)
}

// The index is output as well: check reports one that a build would
// rewrite, and accepts one that differs only in form.
func TestCheckReportsTheIndex(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, Write(tree(dir, "a.yaml", "b.yaml")))
	require.NoError(t, os.Remove(filepath.Join(dir, IndexName)))
	d, err := Check(tree(dir, "a.yaml", "b.yaml"))
	require.NoError(t, err)
	assert.Equal(t, "--- /dev/null\n+++ b/"+filepath.ToSlash(dir)+"/"+IndexName+"\n@@ -0,0 +1,3 @@\n"+
		"+# Files meshc wrote in this folder; it deletes or overwrites only these.\n+a.yaml\n+b.yaml\n", d)

	write(t, filepath.Join(dir, IndexName), "b.yaml\n# reordered by hand\na.yaml\n")
	d, err = Check(tree(dir, "a.yaml", "b.yaml"))
	require.NoError(t, err)
	assert.Empty(t, d)
	require.NoError(t, Write(tree(dir, "a.yaml", "b.yaml")))
	assert.Equal(t, "b.yaml\n# reordered by hand\na.yaml\n", read(t, filepath.Join(dir, IndexName)), "same entries: left as it is")
}

func TestCheckDiff(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, Write(&Tree{Dir: dir, Files: map[string][]byte{"a.yaml": []byte("one\ntwo\n"), "gone.yaml": []byte("x\n")}}))
	d, err := Check(&Tree{Dir: dir, Files: map[string][]byte{"a.yaml": []byte("one\nthree\n"), "new.yaml": []byte("y\n")}})
	require.NoError(t, err)
	name := filepath.ToSlash(dir)
	assert.Equal(t, "--- a/"+name+"/"+IndexName+"\n+++ b/"+name+"/"+IndexName+"\n@@ -1,3 +1,3 @@\n"+
		" # Files meshc wrote in this folder; it deletes or overwrites only these.\n a.yaml\n-gone.yaml\n+new.yaml\n"+
		"--- a/"+name+"/a.yaml\n+++ b/"+name+"/a.yaml\n@@ -1,2 +1,2 @@\n one\n-two\n+three\n"+
		"--- a/"+name+"/gone.yaml\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n"+
		"--- /dev/null\n+++ b/"+name+"/new.yaml\n@@ -0,0 +1 @@\n+y\n", d)
}

func TestSafePath(t *testing.T) {
	for _, p := range []string{"a.yaml", "a/b.yaml", "_flux/c/sync.yaml", "a/.b", "a-b/c_d/e.f.yaml"} {
		assert.NoError(t, safePath(p), p)
	}
	for _, p := range []string{"", ".", "..", "../x", "a/../../x", "/etc/passwd", "a//b", "a/./b", "a/", "./a", "a\\b", "a\x00b", "a/..", "x/.meshc-index"} {
		assert.Error(t, safePath(p), "%q", p)
	}
}

func TestMergeSorted(t *testing.T) {
	assert.Equal(t, []string{"a", "b", "c", "d"}, mergeSorted([]string{"a", "c"}, []string{"b", "c", "d"}))
	assert.Equal(t, []string{"a"}, mergeSorted([]string{"a", "a"}, nil))
	assert.Equal(t, []string{}, mergeSorted(nil, nil))
	assert.Equal(t, []string{"x", "y"}, mergeSorted(nil, []string{"x", "y", "y"}))
}

// TestApplySaysWhatItDid: the counts build prints are what happened to the
// files, the index included, in every case.
func TestApplySaysWhatItDid(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	sum, err := Apply(tree(dir, "a.yaml", "b.yaml", "c/d.yaml"))
	require.NoError(t, err)
	assert.Equal(t, Summary{Written: 4}, sum, "three files and the index, all new")

	sum, err = Apply(tree(dir, "a.yaml", "b.yaml", "c/d.yaml"))
	require.NoError(t, err)
	assert.Equal(t, Summary{Unchanged: 4}, sum, "a no-op writes nothing")

	changed := tree(dir, "a.yaml", "b.yaml")
	changed.Files["a.yaml"] = []byte("new\n")
	sum, err = Apply(changed)
	require.NoError(t, err)
	assert.Equal(t, Summary{Written: 2, Unchanged: 1, Removed: 1}, sum, "a.yaml and the index written, b.yaml kept, c/d.yaml removed")

	kept := &Tree{Dir: dir, Kept: map[string]bool{"a.yaml": true}, Files: map[string][]byte{"b.yaml": []byte("content of b.yaml\n")}, Marker: markerOf(dir)}
	sum, err = Apply(kept)
	require.NoError(t, err)
	assert.Equal(t, Summary{Unchanged: 3}, sum, "kept, equal and the index")

	// A stopped run's temporary file is cleaned up but is not output.
	write(t, filepath.Join(dir, tmpPrefix+"b.yaml"), "half")
	write(t, markerOf(dir), "")
	sum, err = Apply(kept)
	require.NoError(t, err)
	assert.Equal(t, Summary{Unchanged: 3}, sum)
	assert.NoFileExists(t, filepath.Join(dir, tmpPrefix+"b.yaml"))
}

// The lock leaves nothing behind, and a lock file left by a killed build
// (there, but held by no process) never blocks the next build or check.
func TestLockLeavesNothingAndStaleFilesDoNotBlock(t *testing.T) {
	dir := t.TempDir()
	unlock, err := Lock(lockOf(dir), dir)
	require.NoError(t, err)
	assert.FileExists(t, lockOf(dir))
	unlock()
	assert.NoFileExists(t, lockOf(dir))

	write(t, lockOf(dir), "") // what a killed build leaves
	r, err := rlock(lockOf(dir), dir)
	require.NoError(t, err, "check does not wait for a dead build")
	r()
	unlock, err = Lock(lockOf(dir), dir)
	require.NoError(t, err, "the next build takes the lock")
	unlock()
	assert.NoFileExists(t, lockOf(dir))
}

// Without a marker file (no state folder), every run looks for a stopped
// run's temporary files.
func TestNoMarkerLooksEveryTime(t *testing.T) {
	dir := t.TempDir()
	noMarker := func() *Tree { tr := tree(dir, "a/x.yaml"); tr.Marker = ""; return tr }
	require.NoError(t, Write(noMarker()))
	write(t, filepath.Join(dir, "a/"+tmpPrefix+"x.yaml"), "half")
	d, err := Check(noMarker())
	require.NoError(t, err)
	assert.Contains(t, d, tmpPrefix+"x.yaml")
	require.NoError(t, Write(noMarker()))
	assert.NoFileExists(t, filepath.Join(dir, "a/"+tmpPrefix+"x.yaml"))
}

// TestKeptFilesAgainstTheIndex covers both ways a tree with kept files is
// planned: its files exactly the index's (a rebuild: nothing is read but
// the written files, the index stays), and otherwise (a kept file the
// index lost is listed again, a file no longer planned is removed, a kept
// path that is not safe is refused).
func TestKeptFilesAgainstTheIndex(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, Write(tree(dir, "a/x.yaml", "a/y.yaml", "b/z.yaml")))
	index := read(t, filepath.Join(dir, IndexName))
	indexInfo, err := os.Stat(filepath.Join(dir, IndexName))
	require.NoError(t, err)

	same := &Tree{Dir: dir, Kept: map[string]bool{"a/x.yaml": true, "b/z.yaml": true}, Files: map[string][]byte{"a/y.yaml": []byte("new y\n")}, Marker: markerOf(dir)}
	sum, err := Apply(same)
	require.NoError(t, err)
	assert.Equal(t, Summary{Written: 1, Unchanged: 3}, sum, "y written; x, z and the index unchanged")
	assert.Equal(t, "new y\n", read(t, filepath.Join(dir, "a/y.yaml")))
	assert.Equal(t, index, read(t, filepath.Join(dir, IndexName)))
	after, err := os.Stat(filepath.Join(dir, IndexName))
	require.NoError(t, err)
	assert.Equal(t, indexInfo.ModTime(), after.ModTime(), "the index is not rewritten")

	// The index lost b/z.yaml (say, edited by hand): kept, it is listed again.
	write(t, filepath.Join(dir, IndexName), "a/x.yaml\na/y.yaml\n")
	sum, err = Apply(same)
	require.NoError(t, err)
	assert.Equal(t, Summary{Written: 1, Unchanged: 3}, sum, "the index written")
	assert.Equal(t, index, read(t, filepath.Join(dir, IndexName)))

	// b/z.yaml no longer planned: removed, the index without it.
	gone := &Tree{Dir: dir, Kept: map[string]bool{"a/x.yaml": true}, Files: map[string][]byte{"a/y.yaml": []byte("new y\n")}, Marker: markerOf(dir)}
	sum, err = Apply(gone)
	require.NoError(t, err)
	assert.Equal(t, Summary{Written: 1, Unchanged: 2, Removed: 1}, sum)
	assert.NoFileExists(t, filepath.Join(dir, "b/z.yaml"))
	assert.NotContains(t, read(t, filepath.Join(dir, IndexName)), "b/z.yaml")

	// A kept path outside the folder is a meshc bug, refused before writing.
	bad := &Tree{Dir: dir, Kept: map[string]bool{"a/x.yaml": true, "../out.yaml": true}, Files: map[string][]byte{"a/y.yaml": []byte("newer y\n")}, Marker: markerOf(dir)}
	_, err = Apply(bad)
	require.ErrorContains(t, err, `output path "../out.yaml" leads outside the output folder`)
	assert.Equal(t, "new y\n", read(t, filepath.Join(dir, "a/y.yaml")), "nothing written")

	// Kept and written at once is a meshc bug too.
	both := &Tree{Dir: dir, Kept: map[string]bool{"a/x.yaml": true, "a/y.yaml": true}, Files: map[string][]byte{"a/y.yaml": []byte("newer y\n")}, Marker: markerOf(dir)}
	_, err = Apply(both)
	require.ErrorContains(t, err, "meshc bug: a/y.yaml is both kept and written")
}

// TestFastUncleanIsItsSearches: fastUnclean's one pass finds what the
// four searches it replaced did, on generated paths.
func TestFastUncleanIsItsSearches(t *testing.T) {
	searches := func(p string) bool {
		if p[0] == '/' || p[0] == '.' || p[len(p)-1] == '/' || p[len(p)-1] == '.' {
			return true
		}
		return strings.Contains(p, "/.") || strings.Contains(p, "./") || strings.Contains(p, "//") || strings.ContainsAny(p, "\\\x00")
	}
	alphabet := []byte("ab/._\\\x00-")
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200000 {
		b := make([]byte, 1+rng.IntN(8))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		if p := string(b); fastUnclean(p) != searches(p) {
			t.Fatalf("fastUnclean(%q) = %v, the searches say %v", p, fastUnclean(p), searches(p))
		}
	}
}
