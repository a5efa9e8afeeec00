// Package tune sets the Go runtime up for what meshc is: a short batch
// job that touches tens to hundreds of megabytes once and exits. It runs
// before the libraries whose initialisation allocates megabytes (the JSON
// Schema validator's meta-schemas, the API server's validators), though
// not before all of them: Go initialises packages in import-path order as
// their imports allow (internal/hugepages), and runtime/debug sorts after
// most. TestStartUpPackagesInitialiseEarly in cmd/meshc checks the order that
// matters.
//
// The collector runs at a quarter of its default frequency, under a soft
// limit that keeps a large mesh's cold build below 1 GiB (it collects
// harder near the limit): the heap is mostly output waiting to be
// written. Set here rather than in main, so the libraries'
// initialisation does not run collections of its own at the runtime's
// 4 MB starting goal. GOGC and GOMEMLIMIT, when set, win. Measured on a
// rebuild of a 1,000-cluster mesh (see BENCHMARKS.md). The heap's huge
// pages, which must come before anything allocates much, are
// internal/hugepages', which this imports so that every command gets
// them.
package tune

import (
	"runtime/debug"
	"syscall"

	"github.com/golemtrust/meshc/internal/hugepages"
)

// gcPercent and memoryLimit are the collector's settings when GOGC and
// GOMEMLIMIT are not set.
const (
	gcPercent   = 400
	memoryLimit = 768 << 20
)

func init() {
	hugepages.Wait() // the huge pages free to hand out before main allocates
	if _, set := syscall.Getenv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(memoryLimit)
	}
	if _, set := syscall.Getenv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
}
