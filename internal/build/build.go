// Package build is meshc's front door: it chains the stages (load,
// validate, compile, overlay, render, apicheck) into the trees emit writes
// or checks. The CLI calls only this package and emit.
//
// The chain is one pure function, Run (pipeline.go): the mesh file and
// cluster files, the selected clusters and the mesh's set of networks in,
// each cluster's files, the mesh-wide files and the diagnostics out; no
// file, file status, clock or cache is read. Validate and Compile are the
// front doors over its two halves. Plan (incremental.go) is the one
// incremental layer: the build cache around the pipeline, one memo keyed
// per cluster by everything its output depends on, checked in one place.
package build

import (
	"crypto/sha256"
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"slices"

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
	"github.com/golemtrust/meshc/internal/state"
	"github.com/golemtrust/meshc/internal/validate"
	"github.com/golemtrust/meshc/internal/warm"
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
	// State is where meshc keeps its own state for these output folders
	// (internal/state.For): the build cache Plan reads and SaveCache
	// writes, the build lock Check waits for, the writing markers. The
	// zero value: no cache, no lock, no markers.
	State state.Paths
	// SchemaDir, when set, adds the editors' JSON Schema files
	// (internal/jsonschema) to the output: build writes them, check fails
	// when the committed ones are stale. Empty leaves them out.
	SchemaDir string
	// Warm, when set, is the cache read and its outputs verified ahead of
	// Plan (internal/warm, started while the program initialised). Plan
	// takes it only when it read State's cache for these folders, and
	// otherwise reads the cache itself.
	Warm *warm.Run
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
		diags.Append(unknownClusters(opts, clusterNamesInOrder(m)))
		diags.Append(caFolders(opts.ClustersDir, m, ClusterNames(m)))
	}
	diags = diags.Sorted()
	if diags.Failed(false) {
		return nil, diags
	}
	return m, diags
}

// unknownClusters reports --cluster names that are not among names (the
// mesh's cluster names, in mesh order).
func unknownClusters(opts Options, names []string) diag.List {
	var diags diag.List
	known := map[string]bool{}
	for _, n := range names {
		known[n] = true
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

	// unstated are the records in Cache whose file states are still to
	// be taken from disk, roots maps cache tree names to folders, and
	// cacheFile is where SaveCache writes Cache.
	unstated  []unstated
	roots     map[string]string
	cacheFile string
	// draft, once EncodeCacheAhead is called, delivers Cache encoded
	// with the unstated records' states left to set.
	draft chan *cache.Draft
}

// unstated is one record of output files (a cluster's, the schema's)
// whose states SaveCache takes once they are written; drop removes the
// record from the cache when a file is not there as written.
type unstated struct {
	cluster string // "": the schema's
	files   cache.Files
	drop    func()
	dropped bool
}

// EncodeCacheAhead starts encoding the next cache, to be done by the
// time SaveCache needs it: called before the output is written, the
// encoding (megabytes at a thousand clusters) runs while emit writes,
// and SaveCache only sets the written files' states in it.
func (o *Output) EncodeCacheAhead() {
	if o.Cache == nil || o.cacheFile == "" || o.draft != nil {
		return
	}
	pending := map[string]bool{}
	for _, rec := range o.unstated {
		pending[rec.cluster] = true
	}
	o.draft = make(chan *cache.Draft, 1)
	go func() { o.draft <- o.Cache.EncodeDraft(pending) }()
}

// SaveCache records what the next run may reuse, in the state folder;
// call it after the output is written, so the recorded file states are
// those of the written files.
func (o *Output) SaveCache() error {
	if o.Cache == nil {
		return nil
	}
	var draft *cache.Draft
	if o.draft != nil {
		draft = <-o.draft // before the states below change the cache it encodes
	}
	recs := o.unstated
	type racyFile struct {
		rec       *unstated
		key, full string
	}
	var racy []racyFile
	var until time.Time
	for i := range o.unstated {
		rec := &o.unstated[i]
		for key, st := range rec.files {
			tree, rel, _ := strings.Cut(key, "/")
			full := filepath.Join(o.roots[tree], filepath.FromSlash(rel))
			now, ok := cache.Stat(full, st.Sum)
			if !ok {
				rec.drop() // not there as written: do not trust it next time
				rec.dropped = true
				break
			}
			rec.files[key] = now
			if r, end := now.Racy(); r {
				racy = append(racy, racyFile{rec, key, full})
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
			if f.rec.dropped {
				continue
			}
			if st, ok := cache.Settle(f.full, f.rec.files[f.key]); ok {
				f.rec.files[f.key] = st
			} else {
				f.rec.drop()
				f.rec.dropped = true
			}
		}
	}
	if o.cacheFile == "" {
		return nil // no state folder: nowhere to keep it
	}
	return emit.WriteState(o.cacheFile, finishDraft(draft, recs, o.Cache))
}

// finishDraft sets the states taken into the draft, or, when there is no
// draft or a record was dropped since it was encoded, encodes the cache
// anew.
func finishDraft(draft *cache.Draft, recs []unstated, c *cache.Cache) []byte {
	if draft == nil {
		return c.Encode()
	}
	for _, rec := range recs {
		if rec.dropped {
			return c.Encode()
		}
		for key, st := range rec.files {
			if !draft.Set(rec.cluster, key, st) {
				return c.Encode()
			}
		}
	}
	return draft.Bytes()
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

// Built counts the clusters this run compiled (not reused from the cache).
func (o *Output) Built() int { return len(o.Golden.Files) }

// Trees returns the trees, for emit.
func (o *Output) Trees() []*emit.Tree {
	if o.Schema != nil {
		return []*emit.Tree{o.Overlays, o.Golden, o.Schema}
	}
	return []*emit.Tree{o.Overlays, o.Golden}
}

// Compile builds the output for a validated mesh: the pipeline's second
// half (generate), its files laid out as emit's trees.
func Compile(m *mesh.Mesh, opts Options) (*Output, error) {
	r, err := generate(m, opts.Clusters, opts.Parallelism, nil)
	if err != nil {
		return nil, err
	}
	o := opts.output(r)
	if opts.SchemaDir != "" {
		if o.Schema, err = schemaTree(opts); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// output lays the pipeline's files out as the overlays and golden trees;
// with --cluster, each tree owns only the selected clusters' files.
func (opts Options) output(r *Result) *Output {
	overlays := overlay.Files{}
	for p, d := range r.Shared {
		overlays[p] = d
	}
	golden := map[string][]byte{}
	for _, c := range r.Clusters {
		for p, d := range c.Overlays {
			overlays[p] = d
		}
		golden[c.Name+".yaml"] = c.Golden
	}
	o := &Output{
		Overlays: opts.tree(treeOverlays, opts.OutDir, overlays),
		Golden:   opts.tree(treeGolden, opts.GoldenDir, golden),
	}
	if len(opts.Clusters) > 0 {
		selected := map[string]bool{}
		for _, n := range opts.Clusters {
			selected[n] = true
		}
		o.Overlays.Owns = func(rel string) bool { return selected[clusterOfOverlay(rel)] }
		o.Golden.Owns = func(rel string) bool { return selected[strings.TrimSuffix(rel, ".yaml")] }
	}
	return o
}

// tree is an output tree with the state files that go with it.
func (opts Options) tree(name, dir string, files map[string][]byte) *emit.Tree {
	return &emit.Tree{Dir: dir, Files: files, Marker: opts.State.Marker(name), Lock: opts.State.Lock}
}

// schemaTree generates the editors' JSON Schema files. They depend only on
// cue/, not on the mesh: the same with or without --cluster.
func schemaTree(opts Options) (*emit.Tree, error) {
	files, err := jsonschema.Files()
	if err != nil {
		return nil, fmt.Errorf("meshc bug: JSON Schema: %w", err)
	}
	return opts.tree(treeSchema, opts.SchemaDir, files), nil
}

// clusterOutput is what one cluster contributes to the output.
type clusterOutput struct {
	files  overlay.Files
	golden []byte
	err    error
}

// compileCluster compiles, lays out, renders and checks one cluster. It
// shares nothing mutable with other clusters, so clusters run in parallel.
func compileCluster(m *mesh.Mesh, c *mesh.Cluster, verdicts *apicheck.Verdicts) clusterOutput {
	cc := engines.Compile(m, c)
	// The golden file is printed straight from meshc's own objects, byte
	// for byte what a krusty build of the overlay prints (the render tests
	// prove it), without paying for that build here.
	out, objs, err := render.ObjectsEach(cc.Objects())
	if err != nil {
		return clusterOutput{err: fmt.Errorf("meshc bug: %w", err)}
	}
	// An overlay part's own objects are golden objects, printed the same
	// way: reuse their bytes, found by the object's identity (unique in a
	// cluster's stream: render refuses two objects with one id). Patches,
	// the other objects of a part, are never looked up.
	byID := make(map[string][]byte, len(objs))
	for _, o := range objs {
		byID[objectID(o.Doc)] = o.Bytes
	}
	files, err := overlay.Cluster(cc, func(d compile.Doc) ([]byte, bool) {
		y, ok := byID[objectID(d)]
		return y, ok
	})
	if err != nil {
		return clusterOutput{err: err}
	}
	if err := checkAPIs(c.Name, objs, cc, files, verdicts); err != nil {
		return clusterOutput{err: err}
	}
	return clusterOutput{files: files, golden: out}
}

// objectID is an object's identity in a cluster's stream: apiVersion,
// kind, namespace and name.
func objectID(d compile.Doc) string {
	md, _ := d["metadata"].(compile.Doc)
	apiVersion, _ := d["apiVersion"].(string)
	kind, _ := d["kind"].(string)
	ns, _ := md["namespace"].(string)
	name, _ := md["name"].(string)
	return apiVersion + "\x00" + kind + "\x00" + ns + "\x00" + name
}

// workerCount is a Parallelism option's number of workers: 0 means
// GOMAXPROCS.
func workerCount(parallelism int) int {
	if parallelism <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return parallelism
}

// parallel runs work(0..n-1) on up to workers goroutines (GOMAXPROCS when
// workers <= 0). Callers write results by index, so output never depends
// on scheduling.
func parallel(n, workers int, work func(i int)) {
	workers = workerCount(workers)
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
func checkAPIs(cluster string, golden []render.Rendered, cc *engine.Cluster, files overlay.Files, verdicts *apicheck.Verdicts) error {
	var errs []string
	check := func(source string, key [32]byte, doc compile.Doc) {
		for _, e := range verdicts.Object(source, key, doc) {
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

// checkRoot validates the engine's mesh-wide objects (Argo CD's
// ApplicationSet) as checkAPIs does a cluster's.
func checkRoot(e engine.Engine, m *mesh.Mesh, verdicts *apicheck.Verdicts) error {
	var errs []string
	root := e.Root(m)
	for _, name := range slices.Sorted(maps.Keys(root)) {
		for _, d := range root[name] {
			for _, err := range verdicts.Object(path.Join("overlays", e.Dir(), name), sha256.Sum256(overlay.Encode(d)), d) {
				errs = append(errs, err.Error())
			}
		}
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

// clusterNamesInOrder lists the mesh's cluster names in mesh order.
func clusterNamesInOrder(m *mesh.Mesh) []string {
	out := make([]string, len(m.Clusters))
	for i, c := range m.Clusters {
		out[i] = c.Name
	}
	return out
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
