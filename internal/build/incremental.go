package build

import (
	"bytes"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golemtrust/meshc/internal/apicheck"
	"github.com/golemtrust/meshc/internal/cache"
	"github.com/golemtrust/meshc/internal/diag"
	"github.com/golemtrust/meshc/internal/load"
	"github.com/golemtrust/meshc/internal/mesh"
	"github.com/golemtrust/meshc/internal/validate"
	"github.com/golemtrust/meshc/internal/warm"
)

// This file is the one incremental layer: the build cache around the pure
// pipeline (pipeline.go). One memo, cache.Cache, keyed per cluster by
// cache.Key over everything the cluster's output depends on (the meshc
// binary, the mesh file, the cluster file, the mesh's set of networks),
// and one check of it, holds. Nothing below this file knows a cache
// exists, except through the pipeline's two explicit memos (namespace
// entry verdicts, apicheck.Verdicts).

// The trees a cache record names files in.
const (
	treeOverlays = cache.TreeOverlays
	treeGolden   = cache.TreeGolden
	treeSchema   = cache.TreeSchema
)

// Plan is Validate then Compile, reusing the cache for every cluster whose
// entry holds: its key is the key of its inputs now and its recorded
// output is on disk, byte for byte. Such a cluster was fully validated and
// compiled by the build that recorded it; skipping it cannot hide a stale
// or hand-edited file, because its output is verified. A build with no
// usable cache (a cold build) runs every rule on every cluster.
//
// Its steps: list the folder (load.Scan: statuses, no cluster file read);
// decide per cluster whether its entry holds (holds); read and validate
// the others, the misses (the first of them, the edited files, while the
// others' outputs are verified: prevalidate); with their networks and the recorded networks
// of the hits, the mesh's set of networks is known, and a hit built with
// another set is a miss too (the same check, in the same loop); generate
// the misses' files and keep the hits' (emit neither reads nor rewrites
// them).
func Plan(opts Options) (*Output, diag.List, error) {
	seen := time.Now().UnixNano() // before any input file's status is taken
	// The cache is read while the folder is listed: both are a rebuild's
	// fixed cost, and neither needs the other.
	file, roots := opts.State.Cache(), cache.Roots(opts.OutDir, opts.GoldenDir, opts.SchemaDir)
	pre := opts.Warm.Take(file, roots)
	loaded := make(chan *cache.Cache, 1)
	go func() {
		if pre != nil {
			loaded <- pre.Cache()
		} else {
			loaded <- cache.Load(file)
		}
	}()
	ls, diags := load.Scan(opts.ClustersDir, nil)
	old := <-loaded
	if diags.Failed(false) || ls == nil || ls.Mesh == nil {
		_, all := Validate(opts) // report every error of the run
		return nil, all, nil
	}
	p := newPlan(opts, old, ls, roots, pre)

	// The loop ends: misses only grow, and the set a pass computes
	// depends only on which clusters are misses. A pass that finds no
	// new miss either confirms the set it checked with, or checks once
	// more with the set it computed, which the next pass confirms.
	networks := p.networks(nil) // as if no cluster file had changed
	first, m, vd, ok := p.prevalidate(networks)
	if !ok {
		_, all := Validate(opts) // a file that cannot be read: report every error
		return nil, all, nil
	}
	validated := len(first)
	for {
		misses := p.demote(networks)
		if len(misses) != validated { // misses only grow: the same count is the same set
			files, ok := p.read(misses)
			if !ok {
				_, all := Validate(opts) // a file that cannot be read: report every error
				return nil, all, nil
			}
			m, vd = validate.Mesh(&load.Input{Dir: ls.Dir, Mesh: ls.Mesh, Clusters: files}, validate.Options{Parallelism: opts.Parallelism, Entries: p.entries})
			validated = len(misses)
		}
		if m == nil {
			return nil, append(diags, vd...).Sorted(), nil
		}
		now := p.networks(m)
		if slices.Equal(now, networks) {
			break
		}
		networks = now
	}
	m.NetworkSet = networks
	diags.Append(vd)

	names := make([]string, len(p.clusters))
	for i, c := range p.clusters {
		names[i] = c.listed.Stem
	}
	diags.Append(unknownClusters(opts, names))
	diags.Append(caFolders(opts.ClustersDir, m, names))
	diags = diags.Sorted()
	if diags.Failed(false) {
		return nil, diags, nil
	}
	// What the cache keeps needs nothing generated: it is gathered while
	// the misses are generated (a rebuild's bookkeeping of every other
	// cluster's files, on the core generate leaves idle).
	keeping := make(chan *kept, 1)
	go func() { keeping <- p.keep(seen) }()
	r, err := generate(m, opts.Clusters, opts.Parallelism, p.verdicts)
	k := <-keeping
	if err != nil {
		return nil, diags, err
	}
	out := opts.output(r)
	out.roots, out.cacheFile = p.roots, opts.State.Cache()
	if err := p.finish(out, r, k, networks, seen, len(diags) == 0); err != nil {
		return nil, diags, err
	}
	return out, diags, nil
}

// plan is one incremental build's state.
type plan struct {
	opts     Options
	old      *cache.Cache
	roots    map[string]string // cache tree name -> folder
	ls       *load.Listing
	meshSum  cache.Sum
	clusters []*cluster // as listed: sorted by stem
	entries  *entryStore
	verdicts *apicheck.Verdicts
	// warm, when set, verified the old cache's entries ahead of the plan.
	warm *warm.Run
}

// cluster is one listed cluster file and what the cache knows of it. Each
// is touched by one goroutine at a time.
type cluster struct {
	listed load.Listed
	entry  cache.Entry
	cached bool // entry is the cache's
	// miss: its entry does not hold; it is read, validated and compiled.
	miss bool
	// sum is the file's hash once summed: the recorded one when its
	// status proves it unchanged, else that of its bytes (file).
	sum    cache.Sum
	summed bool
	file   *load.File // read in this run; nil otherwise
	tried  bool       // reading it was tried (file nil: it failed)
	// verified: files are the entry's output files as they are now, nil
	// when one is not as written; moved: some state differs from the
	// recorded one (the next cache records it).
	verified bool
	files    cache.Files
	moved    bool
}

func newPlan(opts Options, old *cache.Cache, ls *load.Listing, roots map[string]string, pre *warm.Run) *plan {
	p := &plan{
		opts:     opts,
		old:      old,
		roots:    roots,
		warm:     pre,
		ls:       ls,
		meshSum:  cache.SumOf(ls.Mesh.Data),
		entries:  newEntryStore(old),
		verdicts: apicheck.NewVerdicts(old.Valid), // objects an earlier run of this binary found valid need no check
	}
	for _, l := range ls.Clusters {
		e, ok := old.Clusters[l.Stem]
		p.clusters = append(p.clusters, &cluster{listed: l, entry: e, cached: ok})
	}
	return p
}

// holds is the cache check, the only one: whether c's entry stands for its
// output under the mesh's set of networks. Its key must be the key of c's
// inputs now (the binary, the mesh file, the cluster file, networks), and
// every output file it recorded must be on disk as written. The cluster
// file is read only when its status cannot prove it unchanged, and the
// output is verified once (a file's status, or its hash when racy).
func (p *plan) holds(c *cluster, networks []string) bool {
	if !p.keyHolds(c, networks) {
		return false
	}
	p.verify(c)
	return c.files != nil
}

// keyHolds is holds' first half: whether c's entry has the key of c's
// inputs now.
func (p *plan) keyHolds(c *cluster, networks []string) bool {
	if !c.cached {
		return false
	}
	if !c.summed {
		if c.entry.Input.Holds(c.listed.Info) {
			c.sum, c.summed = c.entry.Input.Sum, true
		} else if !p.readOne(c) {
			return false
		}
	}
	return cache.Key(p.meshSum, c.sum, networks) == c.entry.Key
}

// verify is holds' second half, done once: c's recorded output files as
// they are on disk now.
func (p *plan) verify(c *cluster) {
	if !c.verified {
		c.files, c.moved, _ = c.entry.Files.Verify(p.roots)
		c.verified = true
	}
}

// prevalidate starts the first pass early: it reads and validates the
// clusters whose keys do not hold (an edited file) while the output files
// of the others are verified (the costliest part of a rebuild: a status
// call per output file), and returns the misses so far and the result.
// A cluster whose outputs then fail to verify joins the misses in Plan's
// loop, which validates the misses again.
func (p *plan) prevalidate(networks []string) (misses []*cluster, m *mesh.Mesh, vd diag.List, ok bool) {
	parallel(len(p.clusters), p.opts.Parallelism, func(i int) {
		if c := p.clusters[i]; !p.keyHolds(c, networks) {
			c.miss = true
		}
	})
	var hits []*cluster
	for _, c := range p.clusters {
		if c.miss {
			misses = append(misses, c)
		} else {
			hits = append(hits, c)
		}
	}
	verified := make(chan struct{})
	go func() {
		defer close(verified)
		if p.warm != nil {
			found := p.warm.Verdicts(workerCount(p.opts.Parallelism) - 1)
			for _, c := range hits {
				if v, ok := found[c.listed.Stem]; ok {
					c.files, c.moved, c.verified = v.Files, v.Moved, true // Files nil: not as written
				}
			}
		}
		parallel(len(hits), p.opts.Parallelism, func(i int) { p.verify(hits[i]) }) // any the warm-up did not
	}()
	defer func() { <-verified }() // the hits are Plan's again once this returns
	files, ok := p.read(misses)
	if !ok {
		return nil, nil, nil, false
	}
	m, vd = validate.Mesh(&load.Input{Dir: p.ls.Dir, Mesh: p.ls.Mesh, Clusters: files}, validate.Options{Parallelism: p.opts.Parallelism, Entries: p.entries})
	return misses, m, vd, true
}

// demote makes a miss of every cluster whose entry does not hold under
// networks, a few clusters at a time (the cost is a status call per file),
// and returns the misses in stem order.
func (p *plan) demote(networks []string) []*cluster {
	parallel(len(p.clusters), p.opts.Parallelism, func(i int) {
		if c := p.clusters[i]; !c.miss && !p.holds(c, networks) {
			c.miss = true
		}
	})
	var misses []*cluster
	for _, c := range p.clusters {
		if c.miss {
			misses = append(misses, c)
		}
	}
	return misses
}

// networks is the mesh's set of networks, sorted and distinct: those of
// the misses as validated (m), and as recorded, those of the others (a
// hit's file is the one its entry was built from).
func (p *plan) networks(m *mesh.Mesh) []string {
	var out []string
	if m != nil {
		out = mesh.NetworksOf(m.Clusters)
	}
	for _, c := range p.clusters {
		if c.cached && !c.miss {
			out = append(out, c.entry.Network)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// readOne reads c's file once, and sums it.
func (p *plan) readOne(c *cluster) bool {
	if !c.tried {
		c.tried = true
		c.file, _ = p.ls.Read(c.listed) // what went wrong, Validate says again
		if c.file != nil {
			c.sum, c.summed = cache.SumOf(c.file.Data), true
		}
	}
	return c.file != nil
}

// read reads the misses' files not read yet (unparsed: the validator
// parses them); false when one cannot be read.
func (p *plan) read(misses []*cluster) ([]*load.File, bool) {
	parallel(len(misses), p.opts.Parallelism, func(i int) { p.readOne(misses[i]) })
	files := make([]*load.File, 0, len(misses))
	for _, c := range misses {
		if c.file == nil {
			return nil, false
		}
		files = append(files, c.file)
	}
	return files, true
}

// kept is what the cache keeps of a build (keep): the hits' entries for
// the next cache, with the states their files have now, and their files,
// which emit neither reads nor rewrites.
type kept struct {
	clusters         map[string]cache.Entry
	overlays, golden map[string]bool
	reused           int
	changed          bool // an entry differs from the old cache's
}

// keep gathers what the cache keeps: every hit keeps its entry, with its
// files' states as verified (and its cluster file's status anew when it
// was read to prove it unchanged); the selected ones' files are kept.
func (p *plan) keep(seen int64) *kept {
	selected := map[string]bool{}
	for _, n := range p.opts.Clusters {
		selected[n] = true
	}
	files := 0
	for _, c := range p.clusters {
		if !c.miss {
			files += len(c.files)
		}
	}
	k := &kept{clusters: make(map[string]cache.Entry, len(p.clusters)), overlays: make(map[string]bool, files), golden: make(map[string]bool, len(p.clusters))}
	for _, c := range p.clusters {
		if c.miss {
			continue
		}
		name := c.listed.Stem
		e := c.entry
		e.Files = c.files
		if c.file != nil { // read to prove it unchanged: record its status anew
			e.Input = cache.StateOf(c.listed.Info, seen)
			e.Input.Sum = c.sum
			k.changed = true
		}
		k.changed = k.changed || c.moved
		k.clusters[name] = e
		if len(selected) > 0 && !selected[name] {
			continue
		}
		for key := range e.Files {
			tree, rel, _ := strings.Cut(key, "/")
			if tree == treeOverlays {
				k.overlays[rel] = true
			} else {
				k.golden[rel] = true
			}
		}
		k.reused++
	}
	return k
}

// finish completes the output with what the cache keeps (k, the hits';
// the schema files when this binary wrote them) and sets the next cache:
// hits keep their entry; clusters compiled now get one, unless the run
// had diagnostics (a reused cluster must print its warnings again, so it
// is not cached). Compiled files' states are taken once they are written
// (SaveCache).
func (p *plan) finish(out *Output, r *Result, k *kept, networks []string, seen int64, clean bool) error {
	next := &cache.Cache{Clusters: k.clusters}
	changed := k.changed // whether next differs from the old cache
	out.Overlays.Kept, out.Golden.Kept = k.overlays, k.golden
	out.Reused = k.reused
	built := map[string]ClusterFiles{}
	for _, cf := range r.Clusters {
		built[cf.Name] = cf
	}
	network := map[string]string{}
	for _, c := range r.Mesh.Clusters {
		network[c.Name] = c.Network
	}
	for _, c := range p.clusters {
		if !c.miss {
			continue
		}
		name := c.listed.Stem
		cf, ok := built[name]
		if !ok || !clean {
			continue
		}
		e := cache.Entry{
			Key:     cache.Key(p.meshSum, c.sum, networks),
			Network: network[name],
			Input:   cache.StateOf(c.listed.Info, seen),
			Files:   cache.Files{},
			Entries: p.entries.usedBy(c.listed.Path),
		}
		e.Input.Sum = c.sum
		for rel, data := range cf.Overlays {
			e.Files[treeOverlays+"/"+rel] = cache.FileState{Sum: cache.SumOf(data)}
		}
		e.Files[treeGolden+"/"+name+".yaml"] = cache.FileState{Sum: cache.SumOf(cf.Golden)}
		next.Clusters[name] = e
		out.unstated = append(out.unstated, unstated{cluster: name, files: e.Files, drop: func() { delete(next.Clusters, name) }})
		changed = true
	}
	if p.opts.SchemaDir != "" {
		moved, err := p.schema(out, next, clean)
		if err != nil {
			return err
		}
		changed = changed || moved
	}
	changed = changed || len(next.Clusters) != len(p.old.Clusters) || (next.Schema == nil) != (p.old.Schema == nil)
	next.Docs = p.entries.docsFor(next)
	next.Valid = p.verdicts.Sorted()
	if changed {
		out.Cache = next
	} // else nothing to record: the cache stays as it is
	return nil
}

// schema sets the schema tree: kept as it is on disk when this binary
// wrote it there and it is as written, generated otherwise (and recorded
// when the run is clean). It reports whether the record changed.
func (p *plan) schema(out *Output, next *cache.Cache, clean bool) (bool, error) {
	if p.old.Schema != nil {
		if files, moved, ok := p.old.Schema.Verify(p.roots); ok {
			out.Schema = p.opts.tree(treeSchema, p.opts.SchemaDir, nil)
			out.Schema.Kept = map[string]bool{}
			for key := range files {
				out.Schema.Kept[strings.TrimPrefix(key, treeSchema+"/")] = true
			}
			next.Schema = files
			return moved, nil
		}
	}
	t, err := schemaTree(p.opts)
	if err != nil {
		return false, err
	}
	out.Schema = t
	if !clean {
		return false, nil
	}
	next.Schema = cache.Files{}
	for name, data := range t.Files {
		next.Schema[treeSchema+"/"+name] = cache.FileState{Sum: cache.SumOf(data)}
	}
	out.unstated = append(out.unstated, unstated{files: next.Schema, drop: func() { next.Schema = nil }})
	return true, nil
}

// entryStore is the validator's EntryStore over the cache: verdicts of the
// previous run, those of this one, and which cluster file uses which.
type entryStore struct {
	mu   sync.Mutex
	old  map[[32]byte]cache.Doc
	new  map[[32]byte]cache.Doc
	used map[string][][32]byte // by cluster file path, in order of use
}

func newEntryStore(old *cache.Cache) *entryStore {
	return &entryStore{old: old.Docs, new: map[[32]byte]cache.Doc{}, used: map[string][][32]byte{}}
}

func (s *entryStore) Lookup(key [32]byte) (string, []byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.old[key]
	return d.Name, d.JSON, ok
}

func (s *entryStore) Record(key [32]byte, name string, doc []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.new[key] = cache.Doc{Name: name, JSON: doc}
}

func (s *entryStore) Use(path string, key [32]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.used[path] = append(s.used[path], key)
}

// usedBy lists the entries a cluster file used, sorted and once each.
func (s *entryStore) usedBy(path string) [][32]byte {
	keys := slices.Clone(s.used[path])
	slices.SortFunc(keys, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	return slices.Compact(keys)
}

// docsFor returns the verdicts the next cache needs: those of the entries
// that more than one of its clusters use, so verdicts of entries nobody
// has any more go. An entry only one cluster file has (a distinct
// tenant's) is not kept: its verdict saves nothing until that file
// changes, and then the entry is decided again by its shape, in
// microseconds, while keeping fifty thousand of them made a fleet's cache
// tens of megabytes, read and written on every run.
func (s *entryStore) docsFor(next *cache.Cache) map[[32]byte]cache.Doc {
	uses := map[[32]byte]int{}
	for _, e := range next.Clusters {
		for _, k := range e.Entries {
			uses[k]++
		}
	}
	out := map[[32]byte]cache.Doc{}
	for k, n := range uses {
		if n < 2 {
			continue
		}
		if d, ok := s.new[k]; ok {
			out[k] = d
		} else if d, ok := s.old[k]; ok {
			out[k] = d
		}
	}
	return out
}
