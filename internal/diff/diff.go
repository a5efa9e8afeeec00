// Package diff compares what every cluster receives at a git revision (the
// base) and in the working tree: objects added, removed and changed, a
// unified diff of each changed one, and the risks internal/review flags.
//
// Both sides go through the same pure path as a build (load, validate,
// compile, render), the base read from git's objects through
// internal/source. Nothing is written anywhere and the build cache is not
// consulted: a review must not depend on what an earlier build left.
package diff

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/golemtrust/meshc/internal/compile"
	"github.com/golemtrust/meshc/internal/diag"
	"github.com/golemtrust/meshc/internal/engine/engines"
	"github.com/golemtrust/meshc/internal/load"
	"github.com/golemtrust/meshc/internal/mesh"
	"github.com/golemtrust/meshc/internal/overlay"
	"github.com/golemtrust/meshc/internal/render"
	"github.com/golemtrust/meshc/internal/review"
	"github.com/golemtrust/meshc/internal/source"
	"github.com/golemtrust/meshc/internal/validate"
)

// Options select the two sides.
type Options struct {
	// ClustersDir is the clusters folder in the working tree; the base's is
	// the same path in the revision.
	ClustersDir string
	// Base is a git revision; "" picks the merge base with the default
	// branch (source.Git.DefaultBase).
	Base string
	// Clusters limits the comparison to these clusters; empty means all.
	Clusters []string
	// Parallelism bounds concurrent work; 0 means GOMAXPROCS.
	Parallelism int
}

// Change says how a cluster or object differs.
type Change string

// Changes.
const (
	Added   Change = "added"
	Removed Change = "removed"
	Changed Change = "changed"
)

// Object is one object that differs.
type Object struct {
	review.Key
	Change Change
	// Diff is the unified diff of a changed object's YAML, without file
	// headers; "" for an added or removed one.
	Diff string
}

// Cluster is one cluster that differs.
type Cluster struct {
	Name    string
	Change  Change
	Objects []Object // sorted by kind, namespace, name
}

// Count returns how many objects were added, removed and changed.
func (c *Cluster) Count() (added, removed, changed int) {
	for _, o := range c.Objects {
		switch o.Change {
		case Added:
			added++
		case Removed:
			removed++
		default:
			changed++
		}
	}
	return added, removed, changed
}

// Result is the comparison.
type Result struct {
	// Base is how the base was named ("main", "merge-base(HEAD, origin/HEAD)")
	// and Commit its commit.
	Base, Commit string
	// BaseProblems are the errors in the base's mesh; when there are any,
	// the base side is empty ("compared with nothing").
	BaseProblems diag.List
	// BaseMissing is set when the base has no clusters folder at all.
	BaseMissing bool
	Clusters    []Cluster
	Risks       []review.Risk
}

// Empty reports whether nothing differs.
func (r *Result) Empty() bool { return len(r.Clusters) == 0 }

// UsageError is a problem with the command line (an unknown --base or
// --cluster), as opposed to the input.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }

// Run compares the base with the working tree. Problems in the working
// tree's mesh come back as diagnostics (and a nil Result); problems in the
// base's, in Result.BaseProblems. The error is for everything else: no git,
// not a repository, an unknown revision (a *UsageError).
func Run(opts Options) (*Result, diag.List, error) {
	dir := opts.ClustersDir
	in, diags := load.DirParsing(dir, load.Lazy)
	var now *mesh.Mesh
	if in != nil {
		var more diag.List
		now, more = validate.Mesh(in, validate.Options{Parallelism: opts.Parallelism})
		diags.Append(more)
	}
	diags = diags.Sorted()
	if diags.Failed(false) || now == nil {
		return nil, diags, nil
	}

	git := source.Git{Dir: dir}
	res := &Result{Base: opts.Base}
	var err error
	if opts.Base == "" {
		res.Base, res.Commit, err = git.DefaultBase()
	} else {
		res.Commit, err = git.Resolve(opts.Base)
		if errors.Is(err, source.ErrNoRevision) {
			err = &UsageError{fmt.Errorf("--base %s: no such revision in this repository", opts.Base)}
		}
	}
	if err != nil {
		return nil, diags, err
	}
	rel, err := inRepository(git, dir)
	if err != nil {
		return nil, diags, err
	}
	rev, err := git.Open(res.Commit, rel)
	if err != nil {
		return nil, diags, err
	}
	defer rev.Close()

	base, err := loadBase(rev, dir, in, now, opts, res)
	if err != nil {
		return nil, diags, err
	}
	if bad := selectClusters(opts.Clusters, dir, in, base.in); len(bad) > 0 {
		return nil, append(diags, bad...), nil
	}
	sides := compareInputs(in, now, base, opts.Clusters)
	if err := sides.compile(opts.Parallelism); err != nil {
		return nil, diags, err
	}
	res.Clusters, res.Risks = sides.compare()
	return res, diags, nil
}

// inRepository returns dir's path in its work tree, slash-separated.
func inRepository(git source.Git, dir string) (string, error) {
	top, err := git.Toplevel()
	if err != nil {
		return "", err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	if real, err := filepath.EvalSymlinks(top); err == nil {
		top = real
	}
	rel, err := filepath.Rel(top, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%s is not inside the git work tree %s", dir, top)
	}
	return filepath.ToSlash(rel), nil
}

// baseSide is what the base gives: its files, and the model of the
// clusters whose inputs differ (all of them when the mesh file does).
type baseSide struct {
	in       *load.Input
	m        *mesh.Mesh
	meshSame bool
	// same names the clusters whose file is byte-identical on both sides.
	same map[string]bool
}

// loadBase reads the base's clusters folder and validates what must be:
// with the mesh file unchanged, a cluster whose file is unchanged is the
// working tree's (validation depends only on the mesh file and the cluster
// file), so only the others are validated.
func loadBase(rev fs.FS, dir string, now *load.Input, nowMesh *mesh.Mesh, opts Options, res *Result) (*baseSide, error) {
	b := &baseSide{same: map[string]bool{}}
	if _, err := fs.Stat(rev, "."); errors.Is(err, fs.ErrNotExist) {
		res.BaseMissing = true
		return b, nil
	}
	in, diags := load.DirWith(dir, load.DirOptions{FS: rev, Unparsed: func(string) bool { return true }})
	if diags.Failed(false) || in == nil || in.Mesh == nil {
		res.BaseProblems = errorsOnly(diags, res.Commit)
		return b, nil
	}
	b.in = in
	b.meshSame = in.Mesh.Path == now.Mesh.Path && bytes.Equal(in.Mesh.Data, now.Mesh.Data)
	nowFiles := map[string]*load.File{}
	for _, f := range now.Clusters {
		nowFiles[f.Stem] = f
	}
	var todo []*load.File
	for _, f := range in.Clusters {
		n, ok := nowFiles[f.Stem]
		if b.meshSame && ok && n.Path == f.Path && bytes.Equal(n.Data, f.Data) {
			b.same[f.Stem] = true
			continue
		}
		todo = append(todo, f)
	}
	m, more := validate.Mesh(&load.Input{Dir: in.Dir, Mesh: in.Mesh, Clusters: todo}, validate.Options{Parallelism: opts.Parallelism})
	if m == nil || more.Failed(false) {
		res.BaseProblems = errorsOnly(more, res.Commit)
		return &baseSide{same: map[string]bool{}}, nil // nothing on that side
	}
	// The base's network set covers its unchanged clusters too, which
	// were not validated again: every cluster's output depends on it.
	all := slices.Clone(m.Clusters)
	for _, c := range nowMesh.Clusters {
		if b.same[c.Name] {
			all = append(all, c)
		}
	}
	m.NetworkSet = mesh.NetworksOf(all)
	b.m = m
	return b, nil
}

// errorsOnly keeps a base's errors, each file named as git names a file
// of a revision (commit:path), so no one looks for it in the working tree.
func errorsOnly(l diag.List, commit string) diag.List {
	if len(commit) > 12 {
		commit = commit[:12]
	}
	var out diag.List
	for _, d := range l.Sorted() {
		if d.Severity == diag.Error {
			d.Pos.File = commit + ":" + filepath.ToSlash(d.Pos.File)
			out = append(out, d)
		}
	}
	return out
}

// selectClusters checks --cluster names: each must be a cluster on one
// side at least (a removed cluster can be asked about).
func selectClusters(names []string, dir string, now, base *load.Input) diag.List {
	known := map[string]bool{}
	for _, in := range []*load.Input{now, base} {
		if in != nil {
			for _, f := range in.Clusters {
				known[f.Stem] = true
			}
		}
	}
	all := slices.Sorted(func(yield func(string) bool) {
		for k := range known {
			if !yield(k) {
				return
			}
		}
	})
	var diags diag.List
	for _, n := range names {
		if !known[n] {
			diags.Errorf(diag.Pos{File: dir}, "--cluster %s: no such cluster; the mesh has %s", n, strings.Join(all, ", "))
		}
	}
	return diags
}

// pair is one cluster to compare: its model and file on each side.
type pair struct {
	name            string
	before, after   *mesh.Cluster
	bFile, aFile    *load.File
	bObjs, aObjs    []object
	bEntry, aEntry  []review.Key
	beforeM, afterM *mesh.Mesh
}

// object is one object a cluster receives, with its YAML.
type object struct {
	key  review.Key
	doc  compile.Doc
	yaml []byte
}

type sides struct {
	pairs   []*pair
	nowMesh *load.File
}

// compareInputs picks the clusters whose inputs differ. The mesh file is
// an input of every cluster; so is whether the mesh spans networks (an
// east-west gateway each), which any cluster's network can change.
func compareInputs(now *load.Input, nowMesh *mesh.Mesh, b *baseSide, only []string) *sides {
	s := &sides{nowMesh: now.Mesh}
	selected := func(n string) bool { return len(only) == 0 || slices.Contains(only, n) }
	files := map[string]*load.File{}
	for _, f := range now.Clusters {
		files[f.Stem] = f
	}
	all := b.m == nil || !b.meshSame || b.m.MultiNetwork() != nowMesh.MultiNetwork()
	byName := map[string]*pair{}
	get := func(n string) *pair {
		if byName[n] == nil {
			byName[n] = &pair{name: n}
			s.pairs = append(s.pairs, byName[n])
		}
		return byName[n]
	}
	for _, c := range nowMesh.Clusters {
		if !selected(c.Name) || (!all && b.same[c.Name]) {
			continue
		}
		p := get(c.Name)
		p.after, p.afterM, p.aFile = c, nowMesh, files[c.Name]
		if b.same[c.Name] { // unchanged, compiled again for the networks' sake
			p.before, p.beforeM, p.bFile = c, b.m, files[c.Name]
		}
	}
	if b.m != nil {
		bfiles := map[string]*load.File{}
		for _, f := range b.in.Clusters {
			bfiles[f.Stem] = f
		}
		for _, c := range b.m.Clusters {
			if selected(c.Name) {
				p := get(c.Name)
				p.before, p.beforeM, p.bFile = c, b.m, bfiles[c.Name]
			}
		}
	}
	slices.SortFunc(s.pairs, func(a, b *pair) int { return strings.Compare(a.name, b.name) })
	return s
}

// compile compiles both sides of every pair, in parallel.
func (s *sides) compile(workers int) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	errs := make([]error, len(s.pairs))
	var wg sync.WaitGroup
	jobs := make(chan int)
	for w := 0; w < min(workers, len(s.pairs)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				p := s.pairs[i]
				var err1, err2 error
				if p.before != nil {
					p.bObjs, p.bEntry, err1 = objects(p.beforeM, p.before)
				}
				if p.after != nil {
					p.aObjs, p.aEntry, err2 = objects(p.afterM, p.after)
				}
				errs[i] = errors.Join(err1, err2)
			}
		}()
	}
	for i := range s.pairs {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return errors.Join(errs...)
}

// objects compiles one cluster: its golden manifests and its engine entry
// point, each object with the bytes a build writes for it.
func objects(m *mesh.Mesh, c *mesh.Cluster) ([]object, []review.Key, error) {
	cc := engines.Compile(m, c)
	_, rendered, err := render.ObjectsEach(cc.Objects())
	if err != nil {
		return nil, nil, err
	}
	out := make([]object, 0, len(rendered)+len(cc.Entry.Docs))
	for _, r := range rendered {
		out = append(out, object{keyOf(r.Doc), r.Doc, r.Bytes})
	}
	var entry []review.Key
	for _, d := range cc.Entry.Docs {
		k := keyOf(d)
		entry = append(entry, k)
		out = append(out, object{k, d, overlay.Encode(d)})
	}
	return out, entry, nil
}

func keyOf(d compile.Doc) review.Key {
	md, _ := d["metadata"].(compile.Doc)
	kind, _ := d["kind"].(string)
	ns, _ := md["namespace"].(string)
	name, _ := md["name"].(string)
	return review.Key{Kind: kind, Namespace: ns, Name: name}
}

// compare lists what differs and runs the risk rules.
func (s *sides) compare() ([]Cluster, []review.Risk) {
	var out []Cluster
	var rc []*review.Cluster
	for _, p := range s.pairs {
		c := Cluster{Name: p.name, Change: Changed}
		switch {
		case p.before == nil:
			c.Change = Added
		case p.after == nil:
			c.Change = Removed
		}
		before, after := index(p.bObjs), index(p.aObjs)
		for _, o := range p.aObjs {
			b, ok := before[o.key]
			switch {
			case !ok:
				c.Objects = append(c.Objects, Object{Key: o.key, Change: Added})
			case !bytes.Equal(b.yaml, o.yaml):
				c.Objects = append(c.Objects, Object{Key: o.key, Change: Changed, Diff: unified(b.yaml, o.yaml)})
			}
		}
		for _, o := range p.bObjs {
			if _, ok := after[o.key]; !ok {
				c.Objects = append(c.Objects, Object{Key: o.key, Change: Removed})
			}
		}
		slices.SortFunc(c.Objects, func(a, b Object) int { return compareKeys(a.Key, b.Key) })
		if len(c.Objects) > 0 {
			out = append(out, c)
		}
		rc = append(rc, s.reviewCluster(p, before, after))
	}
	return out, review.Check(rc)
}

func compareKeys(a, b review.Key) int {
	if c := strings.Compare(a.Kind, b.Kind); c != 0 {
		return c
	}
	if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

func index(objs []object) map[review.Key]object {
	if objs == nil {
		return nil
	}
	out := make(map[review.Key]object, len(objs))
	for _, o := range objs {
		out[o.key] = o
	}
	return out
}

func (s *sides) reviewCluster(p *pair, before, after map[review.Key]object) *review.Cluster {
	docs := func(m map[review.Key]object) map[review.Key]review.Doc {
		if m == nil {
			return nil
		}
		out := make(map[review.Key]review.Doc, len(m))
		for k, o := range m {
			out[k] = o.doc
		}
		return out
	}
	rc := &review.Cluster{Name: p.name, Before: docs(before), After: docs(after), EntryPoint: p.bEntry, Model: p.after}
	switch {
	case p.aFile != nil:
		rc.File = p.aFile.Path
		rc.Where = locator(p.aFile, s.nowMesh)
	case p.bFile != nil:
		rc.File = p.bFile.Path
	}
	return rc
}

// unified is the diff of two objects' YAML, hunks only.
func unified(a, b []byte) string {
	d, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{A: lines(a), B: lines(b), FromFile: "a", ToFile: "b", Context: 3})
	if err != nil {
		return err.Error()
	}
	// The identity is printed with the object; drop the file header.
	for range 2 {
		if _, rest, ok := strings.Cut(d, "\n"); ok {
			d = rest
		}
	}
	return d
}

// lines splits text for difflib, each line with its newline.
func lines(data []byte) []string {
	out := strings.SplitAfter(string(data), "\n")
	if out[len(out)-1] == "" {
		out = out[:len(out)-1]
	} else {
		out[len(out)-1] += "\n"
	}
	return out
}
