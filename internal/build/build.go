// Package build is meshc's front door: it chains the stages (load,
// validate, compile, overlay, render) into the trees emit writes or
// checks. The CLI calls only this package and emit.
package build

import (
	"crypto/sha256"
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"unsafe"

	"github.com/golemtrust/meshc/internal/apicheck"
	"github.com/golemtrust/meshc/internal/cache"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/golemtrust/meshc/internal/compile"
	"github.com/golemtrust/meshc/internal/diag"
	"github.com/golemtrust/meshc/internal/emit"
	"github.com/golemtrust/meshc/internal/engine"
	"github.com/golemtrust/meshc/internal/engine/engines"
	"github.com/golemtrust/meshc/internal/jsonschema"
	"github.com/golemtrust/meshc/internal/load"
	"github.com/golemtrust/meshc/internal/mesh"
	"github.com/golemtrust/meshc/internal/overlay"
	"github.com/golemtrust/meshc/internal/render"
	"github.com/golemtrust/meshc/internal/validate"
)

// Options select the input, the output folders and the clusters.
type Options struct {
	ClustersDir string
	OutDir      string
	GoldenDir   string
	// Clusters limits output to these clusters; empty means all. The
	// whole mesh is validated either way.
	Clusters []string
	// Parallelism bounds concurrent work; 0 means GOMAXPROCS.
	Parallelism int
	// SchemaDir, when set, adds the editors' JSON Schema files
	// (internal/jsonschema) to the output: build writes them, check fails
	// when the committed ones are stale. Empty leaves them out.
	SchemaDir string
}

// Validate loads and validates the mesh. The mesh is nil when there are
// errors; diagnostics are sorted.
func Validate(opts Options) (*mesh.Mesh, diag.List) {
	in, diags := load.DirParsing(opts.ClustersDir, load.Lazy)
	if diags.Failed(false) {
		// Still validate what parsed, so one run reports every error.
		_, more := validate.Mesh(in, validate.Options{Parallelism: opts.Parallelism})
		diags.Append(more)
		return nil, diags.Sorted()
	}
	m, more := validate.Mesh(in, validate.Options{Parallelism: opts.Parallelism})
	diags.Append(more)
	if m != nil {
		diags.Append(unknownClusters(opts, m))
	}
	diags = diags.Sorted()
	if diags.Failed(false) {
		return nil, diags
	}
	return m, diags
}

func unknownClusters(opts Options, m *mesh.Mesh) diag.List {
	var diags diag.List
	known := map[string]bool{}
	var names []string
	for _, c := range m.Clusters {
		known[c.Name] = true
		names = append(names, c.Name)
	}
	for _, n := range opts.Clusters {
		if !known[n] {
			diags.Errorf(diag.Pos{File: opts.ClustersDir}, "--cluster %s: no such cluster; the mesh has %s", n, strings.Join(names, ", "))
		}
	}
	return diags
}

// Output is everything a build writes: the overlays tree and the golden
// tree.
type Output struct {
	Overlays *emit.Tree
	Golden   *emit.Tree
	Schema   *emit.Tree // the JSON Schema files; nil without Options.SchemaDir
	// Reused counts the clusters whose output came from the cache
	// (Plan), and Cache is what the next run may reuse once this output
	// is written.
	Reused int
	Cache  *cache.Cache

	// clusterFiles lists each compiled cluster's overlay files.
	clusterFiles map[string][]string
	// unstated names the clusters in Cache whose file states are still to
	// be taken from disk, and roots maps cache tree names to folders.
	unstated []string
	roots    map[string]string
}

// SaveCache records what the next run may reuse; call it after the output
// is written, so the recorded file states are those of the written files.
func (o *Output) SaveCache(dir string) error {
	if o.Cache == nil {
		return nil
	}
	type racyFile struct{ cluster, key, full string }
	var racy []racyFile
	var until time.Time
	for _, name := range o.unstated {
		e := o.Cache.Clusters[name]
		for key, st := range e.Files {
			tree, rel, _ := strings.Cut(key, "/")
			full := filepath.Join(o.roots[tree], filepath.FromSlash(rel))
			now, ok := cache.Stat(full, st.Sum)
			if !ok {
				delete(o.Cache.Clusters, name) // not there as written: do not trust it next time
				break
			}
			e.Files[key] = now
			if r, end := now.Racy(); r {
				racy = append(racy, racyFile{name, key, full})
				until = maxTime(until, end)
			}
		}
	}
	o.unstated = nil
	// Files written just now are racy: the next run would read and hash
	// them. A handful cost nothing; after a large build, wait out the
	// margin (at most 100 ms on file systems with fine timestamps) and
	// look again, so the next check or rebuild trusts their status.
	if len(racy) > settleAbove {
		time.Sleep(time.Until(until) + time.Millisecond)
		for _, f := range racy {
			e, ok := o.Cache.Clusters[f.cluster]
			if !ok {
				continue
			}
			if st, ok := cache.Settle(f.full, e.Files[f.key]); ok {
				e.Files[f.key] = st
			} else {
				delete(o.Cache.Clusters, f.cluster)
			}
		}
	}
	return o.Cache.Save(dir)
}

// settleAbove is how many racy files a build leaves for the next run to
// hash before it waits them out instead.
const settleAbove = 100

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Counts returns how many overlay and golden files the output holds,
// reused ones included.
func (o *Output) Counts() (overlays, golden int) {
	return len(o.Overlays.Files) + len(o.Overlays.Kept), len(o.Golden.Files) + len(o.Golden.Kept)
}

// Trees returns the trees, for emit.
func (o *Output) Trees() []*emit.Tree {
	if o.Schema != nil {
		return []*emit.Tree{o.Overlays, o.Golden, o.Schema}
	}
	return []*emit.Tree{o.Overlays, o.Golden}
}

// Compile builds the output for a validated mesh.
func Compile(m *mesh.Mesh, opts Options) (*Output, error) {
	selected := map[string]bool{}
	for _, n := range opts.Clusters {
		selected[n] = true
	}
	all := len(selected) == 0
	base := overlay.Base(engines.For(m), m)
	overlays := overlay.Files{}
	for p, d := range base {
		overlays[p] = d
	}
	var todo []*mesh.Cluster
	for _, c := range m.Clusters {
		if all || selected[c.Name] {
			todo = append(todo, c)
		}
	}
	results := make([]clusterOutput, len(todo))
	parallel(len(todo), opts.Parallelism, func(i int) {
		results[i] = compileCluster(m, todo[i])
	})
	golden := map[string][]byte{}
	clusterFiles := map[string][]string{}
	for i, r := range results {
		if r.err != nil {
			return nil, r.err // the first failing cluster in mesh order: stable
		}
		for p, d := range r.files {
			overlays[p] = d
			clusterFiles[todo[i].Name] = append(clusterFiles[todo[i].Name], p)
		}
		golden[todo[i].Name+".yaml"] = r.golden
	}
	if !all {
		// The base depends only on the mesh file and is written by full
		// builds; a --cluster build leaves every other file as it is.
		for p := range base {
			delete(overlays, p)
		}
	}
	o := &Output{
		Overlays: &emit.Tree{Dir: opts.OutDir, Files: overlays},
		Golden:   &emit.Tree{Dir: opts.GoldenDir, Files: golden},

		clusterFiles: clusterFiles,
	}
	if !all {
		o.Overlays.Owns = func(rel string) bool { return selected[clusterOfOverlay(rel)] }
		o.Golden.Owns = func(rel string) bool { return selected[strings.TrimSuffix(rel, ".yaml")] }
	}
	if opts.SchemaDir != "" {
		var err error
		if o.Schema, err = schemaTree(opts.SchemaDir); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// schemaTree generates the editors' JSON Schema files. They depend only on
// cue/, not on the mesh: the same with or without --cluster.
func schemaTree(dir string) (*emit.Tree, error) {
	files, err := jsonschema.Files()
	if err != nil {
		return nil, fmt.Errorf("meshc bug: JSON Schema: %w", err)
	}
	return &emit.Tree{Dir: dir, Files: files}, nil
}

// clusterOutput is what one cluster contributes to the output.
type clusterOutput struct {
	files  overlay.Files
	golden []byte
	err    error
}

// compileCluster compiles, lays out, renders and checks one cluster. It
// shares nothing mutable with other clusters, so clusters run in parallel.
func compileCluster(m *mesh.Mesh, c *mesh.Cluster) clusterOutput {
	cc := engines.Compile(m, c)
	// The golden file is printed straight from meshc's own objects, byte
	// for byte what a krusty build of the overlay prints (the render tests
	// prove it), without paying for that build here.
	out, objs, err := render.ObjectsEach(cc.Objects())
	if err != nil {
		return clusterOutput{err: fmt.Errorf("meshc bug: %w", err)}
	}
	// The overlay's own objects are the same maps, printed the same way:
	// reuse their bytes (looked up by map identity, valid while cc lives).
	byMap := make(map[unsafe.Pointer][]byte, len(objs))
	for _, o := range objs {
		byMap[reflect.ValueOf(o.Doc).UnsafePointer()] = o.Bytes
	}
	files, err := overlay.Cluster(cc, func(d compile.Doc) ([]byte, bool) {
		y, ok := byMap[reflect.ValueOf(d).UnsafePointer()]
		return y, ok
	})
	if err != nil {
		return clusterOutput{err: err}
	}
	if err := checkAPIs(c.Name, objs, cc, files); err != nil {
		return clusterOutput{err: err}
	}
	return clusterOutput{files: files, golden: out}
}

// parallel runs work(0..n-1) on up to workers goroutines (GOMAXPROCS when
// workers <= 0). Callers write results by index, so output never depends
// on scheduling.
func parallel(n, workers int, work func(i int)) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(workers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				work(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
}

// checkAPIs validates every object meshc emits for a cluster against the
// real API definitions of its kind (Kubernetes, Istio, Flux, Helm chart
// values). A failure is a meshc bug: it must never reach a cluster.
func checkAPIs(cluster string, golden []render.Rendered, cc *engine.Cluster, files overlay.Files) error {
	var errs []string
	check := func(source string, key [32]byte, doc compile.Doc) {
		for _, e := range apicheck.Object(source, key, doc) {
			errs = append(errs, e.Error())
		}
	}
	// Objects are checked as the maps they were printed from, keyed by
	// their printed bytes: no YAML is parsed again, and an object that
	// many clusters share is checked once.
	for _, o := range golden {
		check("golden/"+cluster+".yaml", sha256.Sum256(o.Bytes), o.Doc)
	}
	for _, d := range cc.Entry.Docs {
		check(path.Join("overlays", cc.Dir, cc.Entry.File), sha256.Sum256(overlay.Encode(d)), d)
	}
	for _, name := range slices.Sorted(maps.Keys(cc.IstioOperators)) {
		rel := path.Join(overlay.IstioctlDir, cluster, name) // one document: the file's bytes are its own
		check(path.Join("overlays", rel), sha256.Sum256(files[rel]), cc.IstioOperators[name])
	}
	if len(errs) > 0 {
		return fmt.Errorf("meshc bug: emitted objects fail their API definitions:\n  %s", strings.Join(errs, "\n  "))
	}
	return nil
}

// clusterOfOverlay names the cluster an overlays/ path belongs to, or "".
func clusterOfOverlay(rel string) string {
	parts := strings.Split(rel, "/")
	switch {
	case len(parts) >= 3 && strings.HasPrefix(parts[0], "_") && parts[0] != overlay.BaseDir:
		// An engine's entry point or the IstioOperator files:
		// _<dir>/<cluster>/<file>; files directly in _<dir> are mesh-wide.
		return parts[1]
	case len(parts) >= 2 && !strings.HasPrefix(parts[0], "_"):
		return parts[0]
	}
	return ""
}

// ClusterNames lists the mesh's cluster names, sorted.
func ClusterNames(m *mesh.Mesh) []string {
	var out []string
	for _, c := range m.Clusters {
		out = append(out, c.Name)
	}
	sort.Strings(out)
	return out
}
