// Package emit writes file sets to disk, or compares them with what is on
// disk. It owns the guarantees about output:
//
//   - a file is written to a temporary file next to it and renamed into
//     place, so a reader, or a run killed at any moment, sees the old file or
//     the new one, never half of one;
//   - meshc keeps an index of the files it wrote in each output folder
//     (IndexName) and deletes or overwrites only those, so a user's own files
//     there are safe;
//   - nothing is written outside the folder: paths are checked, and symlinks
//     inside the folder are never followed;
//   - every tree is planned before anything is written, so a refusal changes
//     nothing.
//
// Names under an output folder whose last element starts with ".meshc" are
// meshc's bookkeeping (the index, temporary files); no output file may use
// them. Everything else meshc keeps for itself (the build lock, the marker
// of a run that is writing) lives outside the output folders, in files the
// caller names (Tree.Lock, Tree.Marker).
package emit

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/pmezard/go-difflib/difflib"
)

// IndexName is the file, in each output folder, that lists the files meshc
// wrote there.
const IndexName = ".meshc-index"

// tmpPrefix starts the name of the temporary file that atomicWrite renames
// onto its target. The name is derived from the target's (tmpPath), not
// random: a run killed between creating and renaming it leaves it behind,
// and the next run finds it from the index entry of its target and removes
// it, without ever guessing which stray files are its own.
const tmpPrefix = ".meshc-tmp-"

// reservedPrefix starts every bookkeeping name: IndexName and temporary
// files.
const reservedPrefix = ".meshc"

// Tree is one output folder and what meshc wants in it.
type Tree struct {
	Dir string
	// Kept lists files the caller has verified are on disk exactly as they
	// should be (the build cache does, by file status or hash): emit
	// neither reads nor rewrites them, and they stay in the index. A path
	// is in Files or in Kept, never both.
	Kept map[string]bool
	// Files maps slash-separated paths relative to Dir to contents.
	Files map[string][]byte
	// Owns reports whether a path is within this run's scope: with
	// --cluster, only the named clusters' files are. nil means everything.
	Owns func(rel string) bool
	// Marker is the file, outside Dir, that exists while a run writes
	// Dir: a run stopped half-way leaves it, and the next one then looks
	// for the temporary files it may have left. Empty: no marker, and
	// every run looks (a status call per file).
	Marker string
	// Lock is the build lock (see Lock) that Check waits for; empty: none.
	Lock string
}

func (t *Tree) owns(rel string) bool { return t.Owns == nil || t.Owns(rel) }

// Change is one difference between the planned tree and the disk.
type Change struct {
	Path string // relative to the tree's folder
	Kind string // "create", "update", "delete"
	Old  []byte
	New  []byte
}

// treePlan is what bringing one tree up to date takes.
type treePlan struct {
	tree    *Tree
	changes []Change // sorted by path
	// interrupted reports that a previous run was stopped while writing
	// (its marker is there).
	interrupted bool
	// oldIndex is the index on disk; index is the one to write when done.
	oldIndex, index []string
	// leftover marks the deletions that are temporary files of a stopped
	// run rather than output.
	leftover map[string]bool
}

// plan compares a tree with the disk. It fails, before anything is
// written, when a planned file would replace a file meshc did not write,
// go through a symlink, or lead outside the folder.
func plan(t *Tree) (*treePlan, error) {
	var problems []string
	if err := noSymlinks(t.Dir, IndexName); err != nil {
		return nil, err // a symlinked index could name files that are not ours
	}
	old, err := readIndex(t.Dir)
	if err != nil {
		return nil, err
	}
	p := &treePlan{tree: t, oldIndex: old}
	for f := range t.Files {
		if err := safePath(f); err != nil {
			return nil, err
		}
		if t.Kept[f] {
			return nil, fmt.Errorf("meshc bug: %s is both kept and written", f)
		}
	}
	// The planned files are usually exactly the old index (a rebuild
	// plans every file of the mesh, keeps nearly all and adds none): then
	// each is a file meshc wrote, safe (readIndex checked the index), and
	// none is stale, and the index's order is theirs. Otherwise (files
	// added or gone, an index lost) the general case below.
	same := len(t.Files)+len(t.Kept) == len(old) && allPlanned(old, t)
	paths := old
	owned := func(string) bool { return true }
	if !same {
		in := make(map[string]bool, len(old))
		for _, f := range old {
			in[f] = true
		}
		owned = func(f string) bool { return in[f] }
		paths = make([]string, 0, len(t.Files)+len(t.Kept))
		for f := range t.Files {
			paths = append(paths, f)
		}
		for f := range t.Kept {
			if err := safePath(f); err != nil {
				return nil, err
			}
			paths = append(paths, f)
		}
		slices.Sort(paths)
	}
	for _, f := range slices.Sorted(maps.Keys(t.Files)) {
		full := filepath.Join(t.Dir, filepath.FromSlash(f))
		if err := noSymlinks(t.Dir, f); err != nil {
			problems = append(problems, err.Error())
			continue
		}
		cur, err := readRegular(full)
		switch {
		case errors.Is(err, syscall.ENOTDIR):
			problems = append(problems, fmt.Sprintf("%s: a part of this path is a file, not a folder; move it away and run again", full))
		case errors.Is(err, fs.ErrNotExist):
			p.changes = append(p.changes, Change{Path: f, Kind: "create", New: t.Files[f]})
		case err != nil:
			problems = append(problems, err.Error())
		case !owned(f) && !bytes.Equal(cur, t.Files[f]):
			// Equal content is adopted: it is exactly what meshc would
			// write, as after a clone whose index was lost.
			problems = append(problems, fmt.Sprintf("%s: meshc did not write this file and will not overwrite it; move it away and run again", full))
		case !bytes.Equal(cur, t.Files[f]):
			p.changes = append(p.changes, Change{Path: f, Kind: "update", Old: cur, New: t.Files[f]})
		}
	}
	if len(problems) > 0 {
		// One symlinked folder is in the way of every file below it:
		// say so once.
		return nil, errors.New(strings.Join(slices.Compact(problems), "\n"))
	}
	// Files meshc wrote before that are in scope and no longer planned are
	// stale: a cluster was removed, or an object moved. Out of scope, they
	// are another cluster's and stay, listed, as they are.
	for _, f := range old {
		if same {
			break // every one is planned
		}
		if _, planned := t.Files[f]; planned || t.Kept[f] {
			continue
		}
		if !t.owns(f) {
			p.index = append(p.index, f)
			continue
		}
		if noSymlinks(t.Dir, f) != nil {
			continue // whatever is there now is not the file meshc wrote
		}
		cur, err := readRegular(filepath.Join(t.Dir, filepath.FromSlash(f)))
		if err == nil {
			p.changes = append(p.changes, Change{Path: f, Kind: "delete", Old: cur})
		}
		// Gone, or replaced by a folder: nothing of meshc's is left there.
	}
	// Temporary files of a killed run: one may exist beside any file meshc
	// wrote or was about to write, and beside the index.
	// Temporary files are left behind only by a run that was stopped
	// while writing, and such a run leaves its marker: without one there is
	// nothing to look for (looking costs a stat per file).
	if !t.interrupted() {
		slices.SortFunc(p.changes, func(a, b Change) int { return strings.Compare(a.Path, b.Path) })
		p.index = mergeSorted(p.index, paths)
		return p, nil
	}
	p.interrupted = true
	leftovers := append(append([]string{IndexName}, old...), paths...)
	slices.Sort(leftovers)
	for _, f := range slices.Compact(leftovers) {
		if f != IndexName && !t.owns(f) {
			continue
		}
		tmp := tmpPath(f)
		if noSymlinks(t.Dir, tmp) != nil {
			continue
		}
		if cur, err := readRegular(filepath.Join(t.Dir, filepath.FromSlash(tmp))); err == nil {
			p.changes = append(p.changes, Change{Path: tmp, Kind: "delete", Old: cur})
			if p.leftover == nil {
				p.leftover = map[string]bool{}
			}
			p.leftover[tmp] = true
		}
	}
	slices.SortFunc(p.changes, func(a, b Change) int { return strings.Compare(a.Path, b.Path) })
	p.index = mergeSorted(p.index, paths)
	return p, nil
}

// allPlanned reports whether every file of the index is planned, written
// or kept.
func allPlanned(index []string, t *Tree) bool {
	for _, f := range index {
		if _, written := t.Files[f]; !written && !t.Kept[f] {
			return false
		}
	}
	return true
}

// interrupted reports whether a run stopped while writing the tree may
// have left temporary files: its marker is there, or the tree has none.
func (t *Tree) interrupted() bool {
	if t.Marker == "" {
		return true
	}
	_, err := os.Lstat(t.Marker)
	return err == nil
}

// Check compares trees with the disk and returns a unified diff of every
// difference, or "" when the disk is up to date. A build writing the same
// folders is waited for (see rlock), so Check never compares a tree that
// is half way through being written.
func Check(trees ...*Tree) (string, error) {
	if err := distinct(trees); err != nil {
		return "", err
	}
	locked := map[string]bool{}
	for _, t := range trees {
		if t.Lock == "" || locked[t.Lock] {
			continue
		}
		locked[t.Lock] = true
		unlock, err := rlock(t.Lock, t.Dir)
		if err != nil {
			return "", err
		}
		defer unlock()
	}
	plans, err := planAll(trees)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for i, t := range trees {
		p := plans[i]
		changes := p.changes
		// The index is output too: a build would rewrite a missing or
		// stale one (as after a clone that lost it), so check says so.
		if !slices.Equal(p.index, p.oldIndex) {
			old, err := os.ReadFile(filepath.Join(t.Dir, IndexName))
			kind := "update"
			if errors.Is(err, fs.ErrNotExist) {
				kind = "create"
			} else if err != nil {
				return "", err
			}
			changes = append([]Change{{Path: IndexName, Kind: kind, Old: old, New: indexText(p.index)}}, changes...)
		}
		for _, c := range changes {
			name := filepath.ToSlash(filepath.Join(t.Dir, filepath.FromSlash(c.Path)))
			from, to := "a/"+name, "b/"+name
			switch c.Kind {
			case "create":
				from = "/dev/null"
			case "delete":
				to = "/dev/null"
			}
			d, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
				A: lines(c.Old), B: lines(c.New),
				FromFile: from, ToFile: to, Context: 3,
			})
			if err != nil {
				return "", err
			}
			b.WriteString(d)
		}
	}
	return b.String(), nil
}

// lines splits a file for difflib. (difflib.SplitLines turns "" into one
// empty line and adds one to every file that ends in a newline, so a new
// file's diff would start "@@ -1 +1,N @@" with a blank line of context.)
func lines(data []byte) []string {
	out := strings.SplitAfter(string(data), "\n")
	if out[len(out)-1] == "" {
		out = out[:len(out)-1]
	} else {
		out[len(out)-1] += "\n" // no newline at the end: the diff shows one
	}
	return out
}

// Write brings every tree on disk up to date. It plans every tree before
// writing any, so a refusal leaves all of them untouched. The caller holds
// the build lock (Lock).
func Write(trees ...*Tree) error {
	_, err := Apply(trees...)
	return err
}

// Summary counts what Apply did to the output files of its trees (each
// tree's index included; temporary files of a stopped run are not output
// and not counted).
type Summary struct {
	// Written files were created or rewritten; Unchanged ones were
	// already what meshc wants (kept or equal); Removed ones were meshc's
	// and are no longer wanted.
	Written, Unchanged, Removed int
}

// Apply is Write that also says what it did.
func Apply(trees ...*Tree) (Summary, error) {
	var sum Summary
	if err := distinct(trees); err != nil {
		return sum, err
	}
	plans, err := planAll(trees)
	if err != nil {
		return sum, err
	}
	for _, p := range plans {
		if err := p.write(); err != nil {
			return sum, err
		}
		p.count(&sum)
	}
	return sum, nil
}

// planAll plans every tree, each on its own goroutine (a tree's plan reads
// its index and goes over every file of the tree: a rebuild's fixed
// cost); the first tree's error in order is returned.
func planAll(trees []*Tree) ([]*treePlan, error) {
	plans := make([]*treePlan, len(trees))
	errs := make([]error, len(trees))
	var wg sync.WaitGroup
	for i, t := range trees {
		wg.Add(1)
		go func() {
			defer wg.Done()
			plans[i], errs[i] = plan(t)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return plans, nil
}

// count adds what a written plan did to sum.
func (p *treePlan) count(sum *Summary) {
	changed := 0
	for _, c := range p.changes {
		switch {
		case c.Kind == "delete" && !p.leftover[c.Path]:
			sum.Removed++
		case c.Kind != "delete":
			changed++
		}
	}
	sum.Written += changed
	sum.Unchanged += len(p.tree.Files) + len(p.tree.Kept) - changed
	switch {
	case !slices.Equal(p.index, p.oldIndex):
		sum.Written++
	case p.oldIndex != nil:
		sum.Unchanged++
	}
}

func (p *treePlan) write() error {
	dir := p.tree.Dir
	if len(p.changes) == 0 && slices.Equal(p.index, p.oldIndex) {
		if p.interrupted {
			return p.tree.unmark() // it left nothing behind
		}
		return nil // up to date: not even the index is rewritten
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// The index is written first with the union of the old and new files,
	// so a run killed part-way still lists every file it may have written
	// and the next run can finish the job; the final index comes last.
	// The marker first: from here until it is removed, a stopped run
	// may leave temporary files behind.
	if err := p.tree.mark(); err != nil {
		return err
	}
	both := mergeSorted(p.oldIndex, p.index)
	if !slices.Equal(both, p.oldIndex) {
		if err := writeIndex(dir, both); err != nil {
			return err
		}
	}
	// Deletions (stale files, temporary files of a killed run), then
	// writes; in any order, every file stays whole.
	for _, c := range p.changes {
		if c.Kind != "delete" {
			continue
		}
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(c.Path))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		removeEmptyDirs(dir, path.Dir(c.Path))
	}
	if err := writeAll(dir, p.changes); err != nil {
		return err
	}
	if !slices.Equal(p.index, both) {
		if err := writeIndex(dir, p.index); err != nil {
			return err
		}
	}
	return p.tree.unmark()
}

// mark creates the tree's marker before it writes (see Tree.Marker).
func (t *Tree) mark() error {
	if t.Marker == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(t.Marker), 0o755); err != nil {
		return err
	}
	return os.WriteFile(t.Marker, nil, 0o644)
}

// unmark removes the marker once the tree is written.
func (t *Tree) unmark() error {
	if t.Marker == "" {
		return nil
	}
	if err := os.Remove(t.Marker); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// writeAll writes every created or updated file, a few at a time: the cost
// is the file system's, per file, and it overlaps. Folders are made once
// each, before any file. The first error in path order is returned.
func writeAll(dir string, changes []Change) error {
	var writes []Change
	dirs := map[string]bool{}
	for _, c := range changes {
		if c.Kind != "delete" {
			writes = append(writes, c)
			dirs[path.Dir(c.Path)] = true
		}
	}
	for _, d := range slices.Sorted(maps.Keys(dirs)) {
		if err := os.MkdirAll(filepath.Join(dir, filepath.FromSlash(d)), 0o755); err != nil {
			return err
		}
	}
	errs := make([]error, len(writes))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(writers, len(writes)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errs[i] = atomicWriteIn(dir, writes[i].Path, writes[i].New)
			}
		}()
	}
	for i := range writes {
		next <- i
	}
	close(next)
	wg.Wait()
	return errors.Join(slices.DeleteFunc(errs, func(e error) bool { return e == nil })...)
}

// writers bounds concurrent file writes.
const writers = 4

// distinct refuses two trees in one folder: each keeps its own index
// there, and each would delete the other's files as stale.
func distinct(trees []*Tree) error {
	seen := map[string]bool{}
	for _, t := range trees {
		abs, err := filepath.Abs(t.Dir)
		if err != nil {
			return err
		}
		if seen[abs] {
			return fmt.Errorf("%s is given as two output folders; overlays and golden files each need their own", t.Dir)
		}
		seen[abs] = true
	}
	return nil
}

// tmpPath is the temporary file atomicWrite uses for rel: beside it, so the
// rename never crosses a file system, and named after it.
func tmpPath(rel string) string {
	dir, base := path.Split(rel)
	return dir + tmpPrefix + base
}

// atomicWrite writes data to a temporary file beside rel and renames it
// into place: readers, and a run killed at any moment, see the old file or
// the new one, never a half-written one. It does not fsync: the guarantee
// is about killed runs, whose written data the kernel keeps, not about
// power loss, and syncing thousands of small files would cost more than
// the build.
func atomicWrite(dir, rel string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, filepath.FromSlash(rel))), 0o755); err != nil {
		return err
	}
	return atomicWriteIn(dir, rel, data)
}

// atomicWriteIn is atomicWrite into a folder that exists (writeAll makes
// them first): four system calls per file, which is what a large build
// pays ten thousand times.
func atomicWriteIn(dir, rel string, data []byte) error {
	full := filepath.Join(dir, filepath.FromSlash(rel))
	tmp := filepath.Join(dir, filepath.FromSlash(tmpPath(rel)))
	// O_EXCL: never write through whatever already has the name (a
	// symlink, say). A leftover of a killed run is removed first: plan
	// schedules those, and this catches any other in the way.
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		f, err = os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	}
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, full)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// safePath rejects paths that could lead outside the output folder or
// collide with meshc's bookkeeping files. Planned paths come from meshc
// itself, so a rejection is a meshc bug; index entries come from disk, and
// readIndex drops the ones rejected here.
func safePath(p string) error {
	if p == "" || fastUnclean(p) && (p == "." || path.IsAbs(p) || strings.ContainsAny(p, "\\\x00") || path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../")) {
		return fmt.Errorf("meshc bug: output path %q leads outside the output folder", p)
	}
	if strings.HasPrefix(path.Base(p), reservedPrefix) {
		return fmt.Errorf("meshc bug: output path %q uses a name meshc keeps for its own bookkeeping", p)
	}
	return nil
}

// noSymlinks refuses to go through a symlink inside the output folder,
// which could point anywhere. The folder itself may be a symlink: the user
// chose where it lives.
func noSymlinks(dir, rel string) error {
	cur := dir
	for _, part := range strings.Split(rel, "/") {
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s is a symlink; meshc never writes through symlinks in its output folders: remove it and run again", cur)
		}
		if !fi.IsDir() {
			return nil // nothing lies beyond a file; readRegular reports it
		}
	}
	return nil
}

// readRegular reads a regular file; a folder or a device at the name is an
// error, reported as one of meshc's refusals.
func readRegular(full string) ([]byte, error) {
	fi, err := os.Lstat(full)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file; meshc writes only regular files there: move it away and run again", full)
	}
	return os.ReadFile(full)
}

// removeEmptyDirs removes folders left empty by a deletion, up to the
// output folder itself; a folder holding anything else stays.
func removeEmptyDirs(root, rel string) {
	for rel != "." && rel != "/" && rel != "" {
		if err := os.Remove(filepath.Join(root, filepath.FromSlash(rel))); err != nil {
			return
		}
		rel = path.Dir(rel)
	}
}

// readIndex reads the index of dir. Entries that are not safe relative
// paths are dropped: meshc never acts on them.
func readIndex(dir string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(dir, IndexName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	// One string for the whole file, each entry a substring of it: an
	// index lists every file of the tree, and it is read on every run.
	text := string(data)
	out := make([]string, 0, strings.Count(text, "\n")+1)
	sorted := true
	for line := range strings.SplitSeq(text, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") && safePath(line) == nil {
			sorted = sorted && (len(out) == 0 || out[len(out)-1] < line)
			out = append(out, line)
		}
	}
	if !sorted { // meshc writes it sorted; a hand-edited one may not be
		slices.Sort(out)
		out = slices.Compact(out)
	}
	return out, nil
}

func writeIndex(dir string, paths []string) error {
	return atomicWrite(dir, IndexName, indexText(paths))
}

func indexText(paths []string) []byte {
	var b strings.Builder
	b.WriteString("# Files meshc wrote in this folder; it deletes or overwrites only these.\n")
	for _, p := range paths {
		b.WriteString(p)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// WriteState writes one file of meshc's own state (such as the build
// cache, in its state folder) atomically, with the same temporary name
// scheme as every other file: a run killed part-way leaves at most a
// temporary file, which the next write of the same file replaces.
func WriteState(file string, data []byte) error {
	return atomicWrite(filepath.Dir(file), filepath.Base(file), data)
}

// fastUnclean reports whether p might be absolute, unclean or otherwise
// unsafe, cheaply: a path without '.' next to a '/', "//", '\\' or NUL,
// and not starting or ending with '/' or '.', is clean, so path.Clean
// need not be asked for each of tens of thousands of paths.
func fastUnclean(p string) bool {
	if p[0] == '/' || p[0] == '.' || p[len(p)-1] == '/' || p[len(p)-1] == '.' {
		return true
	}
	// One pass for "/.", "./", "//", '\\' and NUL (four searches took
	// 58 ns a path, and every index line is checked on every run); p[i+1]
	// exists after a '/' or a '.', since p ends with neither.
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\', 0:
			return true
		case '/':
			if n := p[i+1]; n == '/' || n == '.' {
				return true
			}
		case '.':
			if p[i+1] == '/' {
				return true
			}
		}
	}
	return false
}

// mergeSorted returns the sorted union of two sorted lists, each name once:
// index lists hold every file of a large mesh, and sorting them again on
// every run showed in incremental builds.
func mergeSorted(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		var next string
		switch {
		case j == len(b) || i < len(a) && a[i] < b[j]:
			next, i = a[i], i+1
		case i == len(a) || b[j] < a[i]:
			next, j = b[j], j+1
		default:
			next, i, j = a[i], i+1, j+1
		}
		if len(out) == 0 || out[len(out)-1] != next {
			out = append(out, next)
		}
	}
	return out
}
