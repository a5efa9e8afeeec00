package yamlenc_test

import (
	"testing"

	yaml "go.yaml.in/yaml/v2"

	"github.com/golemtrust/meshc/internal/bench"
	"github.com/golemtrust/meshc/internal/build"
	"github.com/golemtrust/meshc/internal/compile"
	"github.com/golemtrust/meshc/internal/engine/engines"
	"github.com/golemtrust/meshc/internal/yamlenc"
)

// clusterObjects returns the overlay objects of the first cluster of a
// generated 2 x 50 mesh: what internal/render prints for one cluster.
func clusterObjects(b *testing.B) []compile.Doc {
	b.Helper()
	dir := b.TempDir()
	if err := bench.Generate(dir, 2, 50); err != nil {
		b.Fatal(err)
	}
	m, diags := build.Validate(build.Options{ClustersDir: dir})
	if m == nil || len(diags) != 0 {
		b.Fatalf("the generated mesh does not validate cleanly:\n%s", diags)
	}
	return engines.Compile(m, m.Clusters[0]).Objects()
}

// BenchmarkAppend and BenchmarkYAMLv2 write the same objects, one cluster
// per op; compare them in one run with
//
//	go test -run='^$' -bench=. -benchmem ./internal/yamlenc/
func BenchmarkAppend(b *testing.B) {
	objs := clusterObjects(b)
	var buf []byte
	size := 0
	b.ReportAllocs()
	for b.Loop() {
		size = 0
		for _, o := range objs {
			buf = yamlenc.Append(buf[:0], o)
			size += len(buf)
		}
	}
	b.SetBytes(int64(size))
	b.ReportMetric(float64(len(objs)), "objects/op")
}

func BenchmarkYAMLv2(b *testing.B) {
	objs := clusterObjects(b)
	size := 0
	b.ReportAllocs()
	for b.Loop() {
		size = 0
		for _, o := range objs {
			y, err := yaml.Marshal(o)
			if err != nil {
				b.Fatal(err)
			}
			size += len(y)
		}
	}
	b.SetBytes(int64(size))
	b.ReportMetric(float64(len(objs)), "objects/op")
}
