// Package tune sets the Go runtime up for what meshc is: a short batch
// job that touches tens to hundreds of megabytes once and exits. main
// imports it first and it imports nothing that initialises late, so it
// runs before the large libraries' own initialisation allocates (the CUE
// evaluator's decimals, the JSON Schema validator's meta-schemas, the
// API server's validators: megabytes before main starts);
// TestTuneInitialisesFirst in cmd/meshc checks the order.
//
// Two things, both measured on a rebuild of a 1,000-cluster mesh (see
// BENCHMARKS.md):
//
//   - The collector runs at a quarter of its default frequency, under a
//     soft limit that keeps a large mesh's cold build below 1 GiB (it
//     collects harder near the limit): the heap is mostly output waiting
//     to be written. Set here rather than in main, so the libraries'
//     initialisation does not run three collections of its own at the
//     runtime's 4 MB starting goal. GOGC and GOMEMLIMIT, when set, win.
//   - On Linux, the first 64 MiB of the heap are backed by transparent
//     huge pages (hugepages_linux.go).
package tune

import (
	"runtime/debug"
	"strings"
	"syscall"
)

// gcPercent and memoryLimit are the collector's settings when GOGC and
// GOMEMLIMIT are not set.
const (
	gcPercent   = 400
	memoryLimit = 768 << 20
)

func init() {
	_, gogc := syscall.Getenv("GOGC")
	if _, set := syscall.Getenv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(memoryLimit)
	}
	// Off while the heap is grown for huge pages: the allocation that
	// grows it would otherwise start a collection of its own.
	old := debug.SetGCPercent(-1)
	hugePages()
	if gogc {
		debug.SetGCPercent(old)
	} else {
		debug.SetGCPercent(gcPercent)
	}
}

// thpDisabled reports whether GODEBUG turns huge pages for the heap off.
func thpDisabled(godebug string) bool {
	for kv := range strings.SplitSeq(godebug, ",") {
		if strings.TrimSpace(kv) == "disablethp=1" {
			return true
		}
	}
	return false
}
