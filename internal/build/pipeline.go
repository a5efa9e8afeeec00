package build

import (
	"github.com/golemtrust/meshc/internal/apicheck"
	"github.com/golemtrust/meshc/internal/diag"
	"github.com/golemtrust/meshc/internal/engine/engines"
	"github.com/golemtrust/meshc/internal/load"
	"github.com/golemtrust/meshc/internal/mesh"
	"github.com/golemtrust/meshc/internal/overlay"
	"github.com/golemtrust/meshc/internal/validate"
)

// Inputs are everything a build's output depends on. Run reads nothing
// else: no file, no file status, no clock, no cache.
type Inputs struct {
	// In is the mesh file and the cluster files to build: every cluster of
	// the mesh, or some of them (Networks then says what the others add).
	// Cluster files may be unparsed (AST nil): the validator parses them.
	In *load.Input
	// Clusters limits the output to these clusters (--cluster); empty
	// means every cluster of In, and the mesh-wide files.
	Clusters []string
	// Networks is the whole mesh's set of networks, sorted and distinct,
	// when In holds only some of its clusters; nil means the networks of
	// In's clusters. Every cluster's output depends on it.
	Networks []string
	// Parallelism bounds concurrent work; 0 means GOMAXPROCS. The output
	// never depends on it.
	Parallelism int
	// Entries keeps namespace entry verdicts across runs (the build cache
	// does); nil: none. Verdicts remembers the objects the API check
	// passed; nil: a memo for this run alone. Neither changes the output,
	// only how much of it is computed again.
	Entries  validate.EntryStore
	Verdicts *apicheck.Verdicts
}

// Result is what the pipeline produced.
type Result struct {
	// Mesh is the validated mesh, its Clusters In's; nil when there are
	// errors (then Diags says which, and nothing else is set).
	Mesh  *mesh.Mesh
	Diags diag.List // sorted
	// Clusters are the built clusters' files, in mesh order.
	Clusters []ClusterFiles
	// Shared are the mesh-wide overlay files (the base components, the
	// engine's root); nil when Inputs.Clusters selects some clusters.
	Shared overlay.Files
}

// ClusterFiles are one cluster's output files.
type ClusterFiles struct {
	Name string
	// Overlays are its files under overlays/, by slash-separated path.
	Overlays overlay.Files
	// Golden is golden/<Name>.yaml.
	Golden []byte
}

// Run is the whole pipeline, a pure function of its inputs: validate
// (load.Input -> mesh model), then generate (model -> files). The build
// cache (Plan) runs the two halves itself, because the mesh's set of
// networks, part of every cluster's cache key, is known only once the
// clusters it compiles again are validated. An error is a meshc bug.
func Run(in Inputs) (*Result, error) {
	m, diags := validate.Mesh(in.In, validate.Options{Parallelism: in.Parallelism, Entries: in.Entries})
	if m == nil {
		return &Result{Diags: diags}, nil
	}
	m.NetworkSet = in.Networks
	r, err := generate(m, in.Clusters, in.Parallelism, in.Verdicts)
	if err != nil {
		return nil, err
	}
	r.Diags = diags
	return r, nil
}

// generate compiles, lays out, renders and checks the selected clusters of
// a validated mesh (all of them when selected is empty, and then the
// mesh-wide files too). verdicts nil: a memo for this call alone.
func generate(m *mesh.Mesh, selected []string, parallelism int, verdicts *apicheck.Verdicts) (*Result, error) {
	want := map[string]bool{}
	for _, n := range selected {
		want[n] = true
	}
	all := len(want) == 0
	if verdicts == nil {
		verdicts = apicheck.NewVerdicts(nil)
	}
	eng := engines.For(m)
	if err := checkRoot(eng, m, verdicts); err != nil {
		return nil, err
	}
	r := &Result{Mesh: m}
	if all {
		// The base depends only on the mesh file and is written by full
		// builds; a --cluster build leaves every other file as it is.
		r.Shared = overlay.Base(eng, m)
	}
	var todo []*mesh.Cluster
	for _, c := range m.Clusters {
		if all || want[c.Name] {
			todo = append(todo, c)
		}
	}
	results := make([]clusterOutput, len(todo))
	parallel(len(todo), parallelism, func(i int) {
		results[i] = compileCluster(m, todo[i], verdicts)
	})
	for i, res := range results {
		if res.err != nil {
			return nil, res.err // the first failing cluster in mesh order: stable
		}
		r.Clusters = append(r.Clusters, ClusterFiles{Name: todo[i].Name, Overlays: res.files, Golden: res.golden})
	}
	return r, nil
}
