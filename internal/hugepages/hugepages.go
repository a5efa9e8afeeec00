// Package hugepages backs the first 64 MiB of the heap with transparent
// huge pages on Linux (hugepages_linux.go says why and how), before any
// package that allocates much initialises.
//
// It is its own package, apart from internal/tune's collector settings,
// for when it runs: Go initialises packages in import-path order, each as
// soon as its imports are (cmd/link's inittask.go), so a package runs as
// early as its latest-sorting import lets it. This one imports only
// packages that everything needs first (runtime, reflect, strings,
// syscall) and runs before the build cache is read ahead (internal/warm),
// about a hundred packages into meshc's initialisation;
// runtime/debug, which the collector settings need, sorts after most of
// the libraries and initialises three hundred packages later.
// TestStartUpPackagesInitialiseEarly in cmd/meshc checks both orders.
package hugepages

import (
	"strings"
	"syscall"
)

func init() {
	if godebug, _ := syscall.Getenv("GODEBUG"); thpDisabled(godebug) || ^uint(0)>>63 == 0 {
		return // asked not to, or a 32-bit platform (small arenas, little heap)
	}
	hugePages()
}

// thpDisabled reports whether GODEBUG turns huge pages off for the heap
// (disablethp=1, the runtime's own switch).
func thpDisabled(godebug string) bool {
	for kv := range strings.SplitSeq(godebug, ",") {
		if strings.TrimSpace(kv) == "disablethp=1" {
			return true
		}
	}
	return false
}
