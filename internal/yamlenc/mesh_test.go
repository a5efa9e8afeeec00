// The tests on meshc's own objects are an external test package because
// internal/build reaches internal/render, which is where yamlenc is for.
package yamlenc_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sort"
	"testing"

	yaml "go.yaml.in/yaml/v2"

	"github.com/golemtrust/meshc/internal/bench"
	"github.com/golemtrust/meshc/internal/build"
	"github.com/golemtrust/meshc/internal/compile"
	"github.com/golemtrust/meshc/internal/engine"
	"github.com/golemtrust/meshc/internal/engine/engines"
	"github.com/golemtrust/meshc/internal/mesh"
	"github.com/golemtrust/meshc/internal/yamlenc"
)

// meshDocs returns every document meshc compiles from a mesh, named: each
// cluster's overlay objects (whole, and the shared part of those that have
// one), its IstioOperators and GitOps entry point, and the base
// components.
func meshDocs(m *mesh.Mesh) (names []string, docs []compile.Doc) {
	add := func(name string, d compile.Doc) {
		names = append(names, name)
		docs = append(docs, d)
	}
	for _, c := range engines.Mesh(m) {
		for i, o := range append(append([]*compile.Object{}, c.ControlPlane...), c.Policy...) {
			add(fmt.Sprintf("%s object %d", c.Name, i), o.Doc)
			if o.Shared != nil {
				add(fmt.Sprintf("%s shared part of object %d", c.Name, i), o.Shared)
			}
		}
		files := make([]string, 0, len(c.IstioOperators))
		for f := range c.IstioOperators {
			files = append(files, f)
		}
		sort.Strings(files)
		for _, f := range files {
			add(c.Name+" "+f, c.IstioOperators[f])
		}
		for i, d := range c.Entry.Docs {
			add(fmt.Sprintf("%s entry point %d", c.Name, i), d)
		}
	}
	base := engine.Base(engines.For(m), m)
	components := make([]string, 0, len(base))
	for comp := range base {
		components = append(components, comp)
	}
	sort.Strings(components)
	for _, comp := range components {
		for i, d := range base[comp] {
			add(fmt.Sprintf("base %s %d", comp, i), d)
		}
	}
	return names, docs
}

func requireSameOnMesh(t *testing.T, m *mesh.Mesh) {
	t.Helper()
	names, docs := meshDocs(m)
	if len(docs) == 0 {
		t.Fatal("the mesh compiled to no documents")
	}
	var buf []byte
	for i, d := range docs {
		want, err := yaml.Marshal(d)
		if err != nil {
			t.Fatalf("%s: %v", names[i], err)
		}
		// The speed Append is for needs meshc's values to be of the
		// types it ports, not handed to yaml.v2.
		if !yamlenc.Ported(d) {
			t.Errorf("%s: has a value of a type Append does not port", names[i])
		}
		buf = yamlenc.Append(buf[:0], d)
		if !bytes.Equal(buf, want) {
			t.Errorf("%s: Append differs from yaml.v2 Marshal\nyaml.v2:\n%s\nyamlenc:\n%s", names[i], want, buf)
		}
	}
	t.Logf("%d documents, all identical", len(docs))
}

func TestExampleMesh(t *testing.T) {
	m, diags := build.Validate(build.Options{ClustersDir: filepath.Join("..", "..", "clusters")})
	if m == nil {
		t.Fatalf("the example mesh does not validate:\n%s", diags)
	}
	requireSameOnMesh(t, m)
}

func TestGeneratedMesh(t *testing.T) {
	dir := t.TempDir()
	if err := bench.Generate(dir, 12, 6); err != nil {
		t.Fatal(err)
	}
	m, diags := build.Validate(build.Options{ClustersDir: dir})
	if m == nil {
		t.Fatalf("the generated mesh does not validate:\n%s", diags)
	}
	requireSameOnMesh(t, m)
}
