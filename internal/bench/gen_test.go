package bench

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/golemtrust/meshc/internal/build"
)

// TestGeneratedMeshIsClean: a generated mesh validates with no errors and
// no warnings, so the benchmarks measure the full pipeline, not an early
// exit.
func TestGeneratedMeshIsClean(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "clusters")
	if err := Generate(dir, 5, 5); err != nil {
		t.Fatal(err)
	}
	m, diags := build.Validate(build.Options{ClustersDir: dir})
	if len(diags) != 0 {
		t.Fatalf("generated mesh has diagnostics:\n%s", diags)
	}
	if m == nil || len(m.Clusters) != 5 {
		t.Fatalf("want a valid mesh of 5 clusters, got %v", m)
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
