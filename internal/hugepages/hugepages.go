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
	"syscall"

	_ "github.com/golemtrust/meshc/internal/ballast" // first: the ballast lies below the reserve, outside its huge pages
)

func init() {
	if godebug, _ := syscall.Getenv("GODEBUG"); thpDisabled(godebug) || ^uint(0)>>63 == 0 {
		close(freed)
		return // asked not to, or a 32-bit platform (small arenas, little heap)
	}
	hugePages()
}

// freed is closed once the advised pages are free for the heap to hand
// out (hugePages closes it).
var freed = make(chan struct{})

// Wait returns once the advised pages are free for the heap to hand out:
// an allocation before may get pages as the runtime maps them. The
// collection that frees them runs on its own goroutine, on the idle
// second core, while the rest of the program initialises; internal/warm
// waits for it before it reads the cache, internal/tune before main.
func Wait() { <-freed }

// thpDisabled reports whether GODEBUG turns huge pages off for the heap
// (disablethp=1, the runtime's own switch).
func thpDisabled(godebug string) bool {
	// By hand, not with package strings: it sorts after most libraries,
	// and importing it would make this package initialise a hundred
	// packages later (see the package doc).
	for godebug != "" {
		kv := godebug
		godebug = ""
		for i := 0; i < len(kv); i++ {
			if kv[i] == ',' {
				kv, godebug = kv[:i], kv[i+1:]
				break
			}
		}
		for len(kv) > 0 && kv[0] == ' ' {
			kv = kv[1:]
		}
		for len(kv) > 0 && kv[len(kv)-1] == ' ' {
			kv = kv[:len(kv)-1]
		}
		if kv == "disablethp=1" {
			return true
		}
	}
	return false
}
