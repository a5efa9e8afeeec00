package build

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golemtrust/meshc/internal/apicheck"
	"github.com/golemtrust/meshc/internal/cache"
	"github.com/golemtrust/meshc/internal/diag"
	"github.com/golemtrust/meshc/internal/emit"
	"github.com/golemtrust/meshc/internal/load"
	"github.com/golemtrust/meshc/internal/mesh"
	"github.com/golemtrust/meshc/internal/validate"
)

// Plan is Validate then Compile, reusing the cache for every cluster whose
// meshc binary, mesh file and cluster file are unchanged since the build
// that recorded it and whose recorded output is still on disk, byte for
// byte. Such a cluster was fully validated and compiled by that build;
// skipping it cannot hide a stale or hand-edited file, because its output
// is verified by hash. A build with no usable cache (a cold build) runs
// every rule on every cluster.
func Plan(opts Options) (*Output, diag.List, error) {
	old := cache.Load(opts.State.Cache())
	roots := map[string]string{treeOverlays: opts.OutDir, treeGolden: opts.GoldenDir}
	if opts.SchemaDir != "" {
		roots[treeSchema] = opts.SchemaDir
	}
	seen := time.Now().UnixNano() // before any input file's status is taken
	meshKey, meshKnown := meshFileKey(opts.ClustersDir)
	if meshKnown && old.Mesh != meshKey {
		old.Clusters = map[string]cache.Entry{} // built with another mesh file
	}
	verified := verifyAll(old, roots, opts.Parallelism)
	keys := map[string]string{}
	hits := map[string]map[string]cache.FileState{}
	cacheChanged := false // whether the next cache differs from the old one
	for _, v := range verified {
		cacheChanged = cacheChanged || v.changed
	}
	// A cluster whose inputs and recorded outputs are unchanged is not
	// even parsed; when its file's status proves it unchanged, not even
	// read.
	in, diags := load.DirWith(opts.ClustersDir, load.DirOptions{
		Reuse: func(path, stem string, fi fs.FileInfo) bool {
			e, ok := old.Clusters[stem]
			v := verified[stem]
			if !meshKnown || !ok || v.files == nil || !e.Input.Holds(fi) {
				return false
			}
			keys[stem], hits[stem] = e.Key, v.files
			return true
		},
		Skip: func(path, stem string, meshData, data []byte) bool {
			keys[stem] = cache.Key(meshData, data)
			e, ok := old.Clusters[stem]
			v := verified[stem]
			if !ok || e.Key != keys[stem] || v.files == nil {
				return load.Lazy(path, stem, meshData, data)
			}
			hits[stem] = v.files
			cacheChanged = true // its input's status is recorded anew
			return true
		},
	})
	if diags.Failed(false) || in == nil || in.Mesh == nil {
		_, all := Validate(opts) // report every error of the run
		return nil, all, nil
	}
	if !meshKnown {
		meshKey = cache.MeshKey(in.Mesh.Data)
	}
	// Objects an earlier run of this binary found valid need no check.
	verdicts := apicheck.NewVerdicts(old.Valid)
	var fresh []*load.File
	for _, f := range in.Clusters {
		if _, hit := hits[f.Stem]; !hit {
			fresh = append(fresh, f)
		}
	}

	entries := newEntryStore(old)
	vopts := validate.Options{Parallelism: opts.Parallelism, Entries: entries}
	m, more := validate.Mesh(&load.Input{Dir: in.Dir, Mesh: in.Mesh, Clusters: fresh}, vopts)
	diags.Append(more)
	if m == nil {
		return nil, diags.Sorted(), nil
	}
	// The mesh's set of networks shapes every cluster's output (an
	// east-west gateway when it has more than one) and is part of each
	// entry's key: the networks of the clusters validated now and, as
	// recorded, of those reused (a reused cluster's file is the one its
	// entry was built from, so its network is the recorded one). A reused
	// cluster built with another set is compiled again.
	networks := mesh.NetworksOf(m.Clusters)
	for name := range hits {
		networks = append(networks, old.Clusters[name].Network)
	}
	slices.Sort(networks)
	networks = slices.Compact(networks)
	networksKey := strings.Join(networks, ",")
	var redo []*load.File
	for _, f := range in.Clusters {
		if _, hit := hits[f.Stem]; hit && old.Clusters[f.Stem].Networks != networksKey {
			delete(hits, f.Stem)
			if f.Data == nil { // reused unread: read it now
				data, rd := load.Read(f.Path)
				if data == nil {
					return nil, append(diags, rd...).Sorted(), nil
				}
				f = &load.File{Path: f.Path, Stem: f.Stem, Data: data}
			}
			redo = append(redo, f) // unparsed: validate parses it
		}
	}
	if len(redo) > 0 {
		m2, more := validate.Mesh(&load.Input{Dir: in.Dir, Mesh: in.Mesh, Clusters: append(fresh, redo...)}, vopts)
		diags = append(diag.List(nil), more...)
		if m2 == nil {
			return nil, diags.Sorted(), nil
		}
		m = m2
	}
	m.NetworkSet = networks

	var names []string
	for _, f := range in.Clusters {
		names = append(names, f.Stem)
	}
	diags.Append(unknownClusters(opts, names))
	diags.Append(caFolders(opts.ClustersDir, m, names))
	diags = diags.Sorted()
	if diags.Failed(false) {
		return nil, diags, nil
	}
	// The schema files depend only on cue/, which is in the binary: when
	// this binary wrote them and they are on disk as it did, they are
	// kept, not generated again.
	compileOpts := opts
	compileOpts.SchemaDir = ""
	compileOpts.Verdicts = verdicts
	out, err := Compile(m, compileOpts)
	if err != nil {
		return nil, diags, err
	}
	var schemaEntry *cache.Entry
	if opts.SchemaDir != "" {
		if out.Schema, schemaEntry, err = schemaOutput(opts, old, verified[schemaEntryName]); err != nil {
			return nil, diags, err
		}
	}
	selected := func(name string) bool { return out.Overlays.Owns == nil || out.Overlays.Owns(name+"/") }
	// A reused cluster's files are on disk as they should be: emit keeps
	// them without reading or rewriting them.
	out.Overlays.Kept, out.Golden.Kept = map[string]bool{}, map[string]bool{}
	for name, files := range hits {
		if !selected(name) {
			continue
		}
		for key := range files {
			tree, rel, _ := strings.Cut(key, "/")
			if tree == treeOverlays {
				out.Overlays.Kept[rel] = true
			} else {
				out.Golden.Kept[rel] = true
			}
		}
		out.Reused++
	}

	// What the next run may reuse: clusters reused now keep their entry
	// (with refreshed file states); clusters compiled now get one, unless
	// the run had diagnostics (a reused cluster must print its warnings
	// again, so it is not cached). Compiled clusters' file states are
	// taken once the files are written (SaveCache).
	next := &cache.Cache{Clusters: map[string]cache.Entry{}}
	inputs := map[string]fs.FileInfo{}
	paths := map[string]string{}
	for _, f := range in.Clusters {
		if f.Info != nil {
			inputs[f.Stem] = f.Info
		}
		paths[f.Stem] = f.Path
	}
	for name, files := range hits {
		e := old.Clusters[name]
		e.Files = files
		if fi, read := inputs[name]; read {
			e.Input = cache.StateOf(fi, seen)
		}
		next.Clusters[name] = e
	}
	var compiled []string // entries whose file states SaveCache takes
	if len(diags) == 0 {
		for _, c := range m.Clusters {
			if !selected(c.Name) {
				continue
			}
			e := cache.Entry{Key: keys[c.Name], Network: c.Network, Networks: networksKey, Files: map[string]cache.FileState{}}
			if fi := inputs[c.Name]; fi != nil {
				e.Input = cache.StateOf(fi, seen)
			}
			e.Entries = entries.usedBy(paths[c.Name])
			for _, rel := range out.clusterFiles[c.Name] {
				e.Files[treeOverlays+"/"+rel] = cache.FileState{Sum: cache.SumOf(out.Overlays.Files[rel])}
			}
			e.Files[treeGolden+"/"+c.Name+".yaml"] = cache.FileState{Sum: cache.SumOf(out.Golden.Files[c.Name+".yaml"])}
			next.Clusters[c.Name] = e
			compiled = append(compiled, c.Name)
		}
	}
	if schemaEntry != nil && len(diags) == 0 {
		next.Clusters[schemaEntryName] = *schemaEntry
		if out.Schema.Files != nil {
			compiled = append(compiled, schemaEntryName)
		}
	}
	next.Docs = entries.docsFor(next)
	next.Mesh = meshKey
	next.Valid = verdicts.Sorted()
	if !cacheChanged && len(compiled) == 0 && len(next.Clusters) == len(old.Clusters) && next.Mesh == old.Mesh {
		next = nil // nothing to record: the cache stays as it is
	}
	out.Cache = next
	out.unstated = compiled
	out.roots = roots
	out.cacheFile = opts.State.Cache()
	return out, diags, nil
}

// The trees a cache entry names files in.
const (
	treeOverlays = "overlays"
	treeGolden   = "golden"
	treeSchema   = "schema"
)

// schemaEntryName is the cache entry of the JSON Schema files; cluster
// names are DNS-1123 labels, which never start with '_'.
const schemaEntryName = "_schema"

// meshFileKey hashes the mesh file before the folder is read, so that
// clusters can be reused without reading their files; false when there is
// not exactly one mesh file (load then reports why).
func meshFileKey(dir string) (string, bool) {
	var found []byte
	n := 0
	for _, ext := range []string{".yaml", ".cue"} {
		if data, err := os.ReadFile(filepath.Join(dir, load.MeshStem+ext)); err == nil {
			found, n = data, n+1
		}
	}
	if n != 1 {
		return "", false
	}
	return cache.MeshKey(found), true
}

// verified is what checking one cache entry's output files gave: their
// states when all are as recorded (files nil otherwise).
type verified struct {
	files   map[string]cache.FileState
	changed bool
}

// verifyAll checks every entry's output files, a few clusters at a time:
// the cost is one status call per file.
func verifyAll(old *cache.Cache, roots map[string]string, workers int) map[string]verified {
	names := make([]string, 0, len(old.Clusters))
	for name := range old.Clusters {
		names = append(names, name)
	}
	results := make([]verified, len(names))
	parallel(len(names), workers, func(i int) {
		files, changed, ok := old.Clusters[names[i]].Verify(roots)
		if ok {
			results[i] = verified{files: files, changed: changed}
		}
	})
	out := make(map[string]verified, len(names))
	for i, name := range names {
		out[name] = results[i]
	}
	return out
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
// its clusters use, so verdicts of entries nobody has any more go.
func (s *entryStore) docsFor(next *cache.Cache) map[[32]byte]cache.Doc {
	out := map[[32]byte]cache.Doc{}
	for _, e := range next.Clusters {
		for _, k := range e.Entries {
			if _, done := out[k]; done {
				continue // fleets share entries: most keys come again
			}
			if d, ok := s.new[k]; ok {
				out[k] = d
			} else if d, ok := s.old[k]; ok {
				out[k] = d
			}
		}
	}
	return out
}

// schemaOutput is the schema tree for dir: kept as it is on disk when this
// binary wrote it there and it is as written (v, from verifyAll), generated
// otherwise; with the cache entry that records it.
func schemaOutput(opts Options, old *cache.Cache, v verified) (*emit.Tree, *cache.Entry, error) {
	key := cache.Key(nil, nil) // the binary alone
	if e, ok := old.Clusters[schemaEntryName]; ok && e.Key == key && v.files != nil {
		t := opts.tree(treeSchema, opts.SchemaDir, nil)
		t.Kept = map[string]bool{}
		for name := range v.files {
			t.Kept[strings.TrimPrefix(name, treeSchema+"/")] = true
		}
		e.Files = v.files
		return t, &e, nil
	}
	t, err := schemaTree(opts)
	if err != nil {
		return nil, nil, err
	}
	e := cache.Entry{Key: key, Files: map[string]cache.FileState{}}
	for name, data := range t.Files {
		e.Files[treeSchema+"/"+name] = cache.FileState{Sum: cache.SumOf(data)}
	}
	return t, &e, nil
}
