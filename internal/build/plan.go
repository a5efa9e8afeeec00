package build

import (
	"sort"
	"strings"

	"github.com/golemtrust/meshc/internal/cache"
	"github.com/golemtrust/meshc/internal/diag"
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
	old := cache.Load(opts.OutDir)
	roots := map[string]string{treeOverlays: opts.OutDir, treeGolden: opts.GoldenDir}
	keys := map[string]string{}
	hits := map[string]map[string]cache.FileState{}
	cacheChanged := false // whether the next cache differs from the old one
	// A cluster whose inputs and recorded outputs are unchanged is not
	// even parsed.
	in, diags := load.DirParsing(opts.ClustersDir, func(path, stem string, meshData, data []byte) bool {
		keys[stem] = cache.Key(meshData, data)
		e, ok := old.Clusters[stem]
		if !ok || e.Key != keys[stem] {
			return load.Lazy(path, stem, meshData, data)
		}
		files, changed, ok := e.Verify(roots)
		if ok {
			hits[stem] = files
			cacheChanged = cacheChanged || changed
		}
		return ok || load.Lazy(path, stem, meshData, data)
	})
	if diags.Failed(false) || in == nil || in.Mesh == nil {
		_, all := Validate(opts) // report every error of the run
		return nil, all, nil
	}
	var fresh []*load.File
	for _, f := range in.Clusters {
		if _, hit := hits[f.Stem]; !hit {
			fresh = append(fresh, f)
		}
	}

	m, more := validate.Mesh(&load.Input{Dir: in.Dir, Mesh: in.Mesh, Clusters: fresh}, validate.Options{Parallelism: opts.Parallelism})
	diags.Append(more)
	if m == nil {
		return nil, diags.Sorted(), nil
	}
	// Whether the mesh spans networks shapes every cluster's output: a
	// reused cluster built under the other answer is compiled again.
	for name := range hits {
		m.OtherNetworks = append(m.OtherNetworks, old.Clusters[name].Network)
	}
	sort.Strings(m.OtherNetworks)
	var redo []*load.File
	for _, f := range in.Clusters {
		if _, hit := hits[f.Stem]; hit && old.Clusters[f.Stem].MultiNetwork != m.MultiNetwork() {
			delete(hits, f.Stem)
			redo = append(redo, f) // unparsed: validate parses it
		}
	}
	if len(redo) > 0 {
		m2, more := validate.Mesh(&load.Input{Dir: in.Dir, Mesh: in.Mesh, Clusters: append(fresh, redo...)}, validate.Options{Parallelism: opts.Parallelism})
		diags = append(diag.List(nil), more...)
		if m2 == nil {
			return nil, diags.Sorted(), nil
		}
		m2.OtherNetworks = nil
		for name := range hits {
			m2.OtherNetworks = append(m2.OtherNetworks, old.Clusters[name].Network)
		}
		sort.Strings(m2.OtherNetworks)
		m = m2
	}

	var names []string
	for _, f := range in.Clusters {
		names = append(names, f.Stem)
	}
	diags.Append(unknownNames(opts, names))
	diags = diags.Sorted()
	if diags.Failed(false) {
		return nil, diags, nil
	}
	out, err := Compile(m, opts)
	if err != nil {
		return nil, diags, err
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
	for name, files := range hits {
		e := old.Clusters[name]
		e.Files = files
		next.Clusters[name] = e
	}
	var fresh2 []string
	if len(diags) == 0 {
		for _, c := range m.Clusters {
			if !selected(c.Name) {
				continue
			}
			e := cache.Entry{Key: keys[c.Name], Network: c.Network, MultiNetwork: m.MultiNetwork(), Files: map[string]cache.FileState{}}
			for _, rel := range out.clusterFiles[c.Name] {
				e.Files[treeOverlays+"/"+rel] = cache.FileState{Sum: cache.SumOf(out.Overlays.Files[rel])}
			}
			e.Files[treeGolden+"/"+c.Name+".yaml"] = cache.FileState{Sum: cache.SumOf(out.Golden.Files[c.Name+".yaml"])}
			next.Clusters[c.Name] = e
			fresh2 = append(fresh2, c.Name)
		}
	}
	if !cacheChanged && len(fresh2) == 0 && len(next.Clusters) == len(old.Clusters) {
		next = nil // nothing to record: the cache stays as it is
	}
	out.Cache = next
	out.unstated = fresh2
	out.roots = roots
	return out, diags, nil
}

// The trees a cache entry names files in.
const (
	treeOverlays = "overlays"
	treeGolden   = "golden"
)

// unknownNames reports --cluster names that are not clusters of the mesh.
func unknownNames(opts Options, names []string) diag.List {
	m := &mesh.Mesh{}
	for _, n := range names {
		m.Clusters = append(m.Clusters, &mesh.Cluster{Name: n})
	}
	return unknownClusters(opts, m)
}
