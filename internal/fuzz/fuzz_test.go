package fuzz

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/golemtrust/meshc/internal/diag"
	"github.com/golemtrust/meshc/internal/engine/engines"
	"github.com/golemtrust/meshc/internal/load"
	"github.com/golemtrust/meshc/internal/overlay"
	"github.com/golemtrust/meshc/internal/render"
	"github.com/golemtrust/meshc/internal/validate"
)

// FuzzCompile feeds a mesh file and one cluster file through every stage.
// Each input must give either errors, every one positioned in one of the
// two files (never in meshc's schema), or a mesh whose overlays kustomize
// builds.
func FuzzCompile(f *testing.F) {
	example := filepath.Join("..", "..", "clusters")
	meshData, err := os.ReadFile(filepath.Join(example, "mesh.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	entries, err := os.ReadDir(example)
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		stem := strings.TrimSuffix(e.Name(), ext)
		if stem == load.MeshStem {
			continue
		}
		data, err := os.ReadFile(filepath.Join(example, e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(meshData, data, stem, ext)
	}
	f.Fuzz(func(t *testing.T, meshData, clusterData []byte, stem, ext string) {
		switch ext {
		case ".yaml", ".yml", ".json", ".cue":
		default:
			ext = ".yaml"
		}
		if len(validation.IsDNS1123Label(stem)) > 0 || stem == load.MeshStem {
			stem = "genua"
		}
		run(t, meshData, clusterData, stem, ext)
	})
}

func run(t *testing.T, meshData, clusterData []byte, stem, ext string) {
	meshPath := "clusters/mesh.yaml"
	clusterPath := "clusters/" + stem + ext
	in := &load.Input{Dir: "clusters"}
	var diags diag.List
	mf, d := load.Parse(meshPath, meshData)
	diags.Append(d)
	in.Mesh = mf
	cf, d := load.Parse(clusterPath, clusterData)
	diags.Append(d)
	if cf != nil {
		in.Clusters = []*load.File{cf}
	}
	loadFailed := diags.Failed(false)
	m, vd := validate.Mesh(in, validate.Options{Parallelism: 1})
	diags.Append(vd)

	lines := map[string]int{
		meshPath:    strings.Count(string(meshData), "\n") + 1,
		clusterPath: strings.Count(string(clusterData), "\n") + 1,
	}
	for _, d := range diags {
		n, ok := lines[d.Pos.File]
		if !ok {
			t.Errorf("diagnostic outside the user's files: %v", d)
			continue
		}
		if d.Pos.Line > n+1 || (d.Pos.Line > 0 && d.Pos.Col < 1) {
			t.Errorf("diagnostic at an impossible position (%d lines): %v", n, d)
		}
	}
	switch {
	case m == nil && !diags.Failed(false):
		t.Fatalf("no mesh and no error\nmesh:\n%s\ncluster:\n%s", meshData, clusterData)
	case m != nil && vd.Failed(false):
		t.Fatalf("a mesh and errors: %v", vd)
	case m == nil || loadFailed:
		// A file that does not load is left out of the Input, and the
		// rest may validate; the load error fails the run (build.Validate).
		return
	}
	base := overlay.Base(engines.For(m), m)
	for _, c := range m.Clusters {
		files, err := overlay.Cluster(engines.Compile(m, c), nil)
		if err != nil {
			t.Fatalf("valid input, but the overlay fails: %v\nmesh:\n%s\ncluster:\n%s", err, meshData, clusterData)
		}
		for p, data := range base {
			files[p] = data
		}
		if _, err := render.Overlay(files, c.Name); err != nil {
			t.Fatalf("valid input, but kustomize cannot build the overlay: %v\nmesh:\n%s\ncluster:\n%s", err, meshData, clusterData)
		}
	}
}
