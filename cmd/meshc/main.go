// Command meshc compiles a multi-cluster Istio mesh, one file per cluster,
// into kustomize overlays and rendered manifests for GitOps.
package main

import (
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/golemtrust/meshc/internal/cli"
	_ "github.com/golemtrust/meshc/internal/tune" // the runtime set up before the libraries initialise
)

func main() {
	// MESHC_CPUPROFILE=file writes a CPU profile of the run, for
	// `go tool pprof` (see BENCHMARKS.md).
	if p := os.Getenv("MESHC_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "meshc: MESHC_CPUPROFILE: %v\n", err)
			os.Exit(cli.ExitUsage)
		}
		code := run()
		pprof.StopCPUProfile()
		f.Close()
		os.Exit(code)
	}
	os.Exit(run())
}

// run is the command line, and with MESHC_MEMPROFILE=file a heap profile
// of the run written at its end (`go tool pprof -sample_index=alloc_space`
// shows what allocated, which is what the collector's work follows).
func run() int {
	code := cli.Main(os.Args[1:], os.Stdout, os.Stderr)
	if p := os.Getenv("MESHC_MEMPROFILE"); p != "" {
		f, err := os.Create(p)
		if err == nil {
			err = pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "meshc: MESHC_MEMPROFILE: %v\n", err)
			return cli.ExitUsage
		}
	}
	return code
}
