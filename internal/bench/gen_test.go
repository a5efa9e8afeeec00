package bench

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golemtrust/meshc/internal/build"
)

// TestGeneratedMeshIsClean: a generated mesh validates with no errors and
// no warnings, so the benchmarks measure the full pipeline, not an early
// exit.
func TestGeneratedMeshIsClean(t *testing.T) {
	for _, opts := range []Options{{}, {Unique: true}} {
		dir := filepath.Join(t.TempDir(), "clusters")
		if err := GenerateWith(dir, 5, 5, opts); err != nil {
			t.Fatal(err)
		}
		m, diags := build.Validate(build.Options{ClustersDir: dir})
		if len(diags) != 0 {
			t.Fatalf("generated mesh (%+v) has diagnostics:\n%s", opts, diags)
		}
		if m == nil || len(m.Clusters) != 5 {
			t.Fatalf("want a valid mesh of 5 clusters, got %v", m)
		}
	}
	// Unique really repeats nothing: no namespace entry's text is shared.
	a, b := string(ClusterWith(1, 3, Options{Unique: true})), string(ClusterWith(2, 3, Options{Unique: true}))
	if strings.Contains(b, "cost-center: \"1000\", cluster: c00001") || !strings.Contains(a, "cluster: c00001") {
		t.Fatalf("unique entries repeat across clusters:\n%s\n%s", a, b)
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	if !bytes.Equal(Cluster(10, 7), Cluster(10, 7)) {
		t.Fatal("Cluster is not a pure function of its arguments")
	}
	if err := Generate(t.TempDir(), 0, 1); err == nil {
		t.Fatal("Generate accepted 0 clusters")
	}
}
