// Command meshc compiles a multi-cluster Istio mesh, one file per cluster,
// into kustomize overlays and rendered manifests for GitOps.
package main

import (
	"os"

	"github.com/golemtrust/meshc/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr)) }
