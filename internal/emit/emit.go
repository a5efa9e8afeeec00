// Package emit writes file sets to disk, or compares them with what is on
// disk. It owns the guarantees about output: a file is written to a
// temporary file in its folder and renamed into place, so it is never seen
// half-written; meshc keeps an index of the files it wrote in each output
// folder and deletes or overwrites only those; nothing is written outside
// the folder, and symlinks are not followed.
package emit

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
)

// IndexName is the file, in each output folder, that lists the files meshc
// wrote there.
const IndexName = ".meshc-index"

// Tree is one output folder and what meshc wants in it.
type Tree struct {
	Dir string
	// Files maps slash-separated paths relative to Dir to contents.
	Files map[string][]byte
	// Owns reports whether a path is within this run's scope: with
	// --cluster, only the named clusters' files are. nil means everything.
	Owns func(rel string) bool
}

func (t *Tree) owns(rel string) bool { return t.Owns == nil || t.Owns(rel) }

// Change is one difference between the planned tree and the disk.
type Change struct {
	Path string // relative to the tree's folder
	Kind string // "create", "update", "delete"
	Old  []byte
	New  []byte
}

// plan compares a tree with the disk. It fails, before anything is
// written, when a planned file would replace a file meshc did not write or
// lead outside the folder.
func plan(t *Tree) (changes []Change, index []string, err error) {
	old, err := readIndex(t.Dir)
	if err != nil {
		return nil, nil, err
	}
	owned := map[string]bool{}
	for _, p := range old {
		owned[p] = true
	}
	paths := make([]string, 0, len(t.Files))
	for p := range t.Files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var problems []string
	for _, p := range paths {
		if err := safePath(p); err != nil {
			return nil, nil, err
		}
		full := filepath.Join(t.Dir, filepath.FromSlash(p))
		if err := noSymlinks(t.Dir, p); err != nil {
			problems = append(problems, err.Error())
			continue
		}
		cur, err := os.ReadFile(full)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			changes = append(changes, Change{Path: p, Kind: "create", New: t.Files[p]})
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s: %v", full, err))
		case !owned[p]:
			if !bytes.Equal(cur, t.Files[p]) {
				problems = append(problems, fmt.Sprintf("%s: meshc did not write this file and will not overwrite it; move it away and run again", full))
			}
		case !bytes.Equal(cur, t.Files[p]):
			changes = append(changes, Change{Path: p, Kind: "update", Old: cur, New: t.Files[p]})
		}
	}
	if len(problems) > 0 {
		return nil, nil, errors.New(strings.Join(problems, "\n"))
	}
	// Files meshc wrote before that are in scope and no longer planned
	// are stale: a cluster was removed, or an object moved.
	for _, p := range old {
		if _, planned := t.Files[p]; planned {
			continue
		}
		if !t.owns(p) {
			index = append(index, p) // another cluster's file: kept as is
			continue
		}
		full := filepath.Join(t.Dir, filepath.FromSlash(p))
		cur, err := os.ReadFile(full)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if safePath(p) != nil || noSymlinks(t.Dir, p) != nil {
			continue // a corrupt index entry: never act on it
		}
		changes = append(changes, Change{Path: p, Kind: "delete", Old: cur})
	}
	index = append(index, paths...)
	sort.Strings(index)
	return changes, index, err
}

// Check compares trees with the disk and returns a unified diff of every
// difference, or "" when the disk is up to date.
func Check(trees ...*Tree) (string, error) {
	var b strings.Builder
	for _, t := range trees {
		changes, _, err := plan(t)
		if err != nil {
			return "", err
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
				A: difflib.SplitLines(string(c.Old)), B: difflib.SplitLines(string(c.New)),
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

// Write brings every tree on disk up to date. It plans every tree before
// writing any, so a refusal leaves all of them untouched.
func Write(trees ...*Tree) error {
	type planned struct {
		t       *Tree
		changes []Change
		index   []string
	}
	var all []planned
	for _, t := range trees {
		changes, index, err := plan(t)
		if err != nil {
			return err
		}
		all = append(all, planned{t, changes, index})
	}
	for _, p := range all {
		if err := os.MkdirAll(p.t.Dir, 0o755); err != nil {
			return err
		}
		// The index is written first with the union of old and new
		// files, so a run killed part-way still knows every file it may
		// have written; then the files; then the final index.
		old, err := readIndex(p.t.Dir)
		if err != nil {
			return err
		}
		if err := writeIndex(p.t.Dir, union(old, p.index)); err != nil {
			return err
		}
		for _, c := range p.changes {
			full := filepath.Join(p.t.Dir, filepath.FromSlash(c.Path))
			if c.Kind == "delete" {
				if err := os.Remove(full); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return err
				}
				removeEmptyDirs(p.t.Dir, path.Dir(c.Path))
				continue
			}
			if err := atomicWrite(full, c.New); err != nil {
				return err
			}
		}
		if err := writeIndex(p.t.Dir, p.index); err != nil {
			return err
		}
	}
	return nil
}

func union(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range append(append([]string(nil), a...), b...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// atomicWrite writes data to a temporary file in the target's folder and
// renames it into place: readers, and a run killed at any moment, see the
// old file or the new one, never a half-written one.
func atomicWrite(full string, data []byte) error {
	dir := filepath.Dir(full)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".meshc-tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), full)
}

// safePath rejects paths that could lead outside the output folder.
func safePath(p string) error {
	if p == "" || path.IsAbs(p) || strings.Contains(p, `\`) || path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../") {
		return fmt.Errorf("meshc bug: output path %q leads outside the output folder", p)
	}
	return nil
}

// noSymlinks refuses to write through a symlink inside the output folder,
// which could point anywhere.
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
			return fmt.Errorf("%s is a symlink; meshc does not write through symlinks in its output folders: remove it and run again", cur)
		}
	}
	return nil
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

func readIndex(dir string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(dir, IndexName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out, nil
}

func writeIndex(dir string, paths []string) error {
	var b strings.Builder
	b.WriteString("# Files meshc wrote in this folder; it deletes or overwrites only these.\n")
	for _, p := range paths {
		b.WriteString(p)
		b.WriteByte('\n')
	}
	return atomicWrite(filepath.Join(dir, IndexName), []byte(b.String()))
}
