// Command meshgen writes a synthetic mesh (mesh.yaml and one file per
// cluster) for meshc's benchmarks:
//
//	go run ./internal/bench/cmd/meshgen -clusters 100 -namespaces 10 -out /tmp/mesh
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/golemtrust/meshc/internal/bench"
)

func main() {
	clusters := flag.Int("clusters", 10, "number of clusters")
	namespaces := flag.Int("namespaces", 10, "namespaces per cluster")
	unique := flag.Bool("unique", false, "make every namespace entry differ from every other cluster's (nothing repeats: the worst case for meshc's memo)")
	engine := flag.String("engine", "", "the mesh's gitops.engine: flux (the default) or argocd")
	out := flag.String("out", "", "folder to write mesh.yaml and the cluster files into (required; use an empty folder)")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: meshgen -clusters N -namespaces K [-unique] [-engine argocd] -out DIR")
		os.Exit(2)
	}
	if err := bench.GenerateWith(*out, *clusters, *namespaces, bench.Options{Unique: *unique, Engine: *engine}); err != nil {
		fmt.Fprintln(os.Stderr, "meshgen:", err)
		os.Exit(1)
	}
}
