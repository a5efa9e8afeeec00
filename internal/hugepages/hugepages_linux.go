//go:build linux

package hugepages

import (
	"reflect"
	"runtime"
	"syscall"
)

// A short process pays for every page of heap it touches: thousands of
// page faults for a rebuild's 50 MB, and on a virtual machine a fault
// costs about 10 µs (measured here: a fresh 4 KiB anonymous page 10.4 µs,
// the same page in a huge-page region 0.44 µs), so the faults were a
// third of a rebuild. The runtime maps its heap without MADV_HUGEPAGE
// (tuned for long-running servers, where huge pages keep freed memory
// resident), so under the common kernel setting "madvise"
// (/sys/kernel/mm/transparent_hugepage/enabled) the heap gets 4 KiB pages
// unless the program asks. Under "always" this changes nothing; under
// "never" the kernel ignores it. GODEBUG=disablethp=1, the runtime's own
// switch for turning huge pages off for the heap, turns it off.
//
// The runtime maps the heap a few megabytes at a time as it grows, each
// time with a fresh mapping that an earlier madvise does not cover. So
// the heap is grown here, once, by one allocation of reserveBytes that is
// never touched (fresh mappings need no zeroing, so nothing is faulted
// in); the mapping is advised; the allocation is freed by a collection
// (the allocation starts one of its own too, at the runtime's default
// settings, which internal/tune only sets later); and the runtime hands
// those pages out again, first, before it maps any more.

// reserveBytes is how much of the heap gets huge pages: all of a
// rebuild's or a check's (about 50 MB at 1,000 clusters). A cold build's
// heap grows beyond it with the runtime's usual pages.
const reserveBytes = 64 << 20

// hugePageBytes is the x86-64 and arm64 (4 KiB granule) huge page, the
// alignment the advice is given at.
const hugePageBytes = 2 << 20

// madvHugepage is MADV_HUGEPAGE, 14 on every Linux architecture.
const madvHugepage = 14

// advised records whether the kernel took the advice (for the tests).
var advised bool

func hugePages() {
	reserve := make([]byte, reserveBytes)
	start := reflect.ValueOf(reserve).Pointer()
	// From the start of the huge page the allocation begins in (madvise
	// wants page-aligned ranges; a huge page is only used when all of it
	// is advised), so the heap just below it is advised too.
	base := start &^ (hugePageBytes - 1)
	_, _, errno := syscall.Syscall(syscall.SYS_MADVISE, base, start+reserveBytes-base, madvHugepage)
	advised = errno == 0
	reserve = nil
	// The collection that frees it runs on a goroutine (see Wait): this
	// early the second core is idle, and it takes 3.5-7 ms (its first
	// cycle faults in the collector's own structures), which the
	// initialisation would otherwise wait for.
	go func() {
		runtime.GC()
		close(freed)
	}()
}
