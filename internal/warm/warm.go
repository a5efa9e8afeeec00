// Package warm starts a rebuild's fixed cost while the program is still
// initialising.
//
// Before main runs, Go initialises every package the binary links, one
// after the other on one core: for meshc about 50 ms, most of it the
// validators the build needs (CUE, the API server's, Helm's JSON Schema)
// building tables and compiling regular expressions. A rebuild's largest
// cost is fixed as well: reading the build cache and taking the status of
// every output file it records (13,115 files at 1,000 clusters, one lstat
// each). Neither needs the other, so for `build` and `check` this
// package's init starts that work on a goroutine, and the second core,
// idle during the rest of the initialisation, does it.
//
// How early that is depends on what this package imports. Go initialises
// packages in import-path order, each as soon as its imports are
// (cmd/link's inittask.go), so a package that imports one sorting late,
// however small, waits for every library that sorts before it. Nothing
// warm imports may: not path/filepath (internal/state and internal/cache
// use package path on Unix, where it is the same), not pflag, which
// imports net (the command line is read with the standard library's flag
// package instead), not runtime/debug (internal/tune's collector
// settings; the heap's huge pages, which must come first, are
// internal/hugepages'). So warm starts about 24 ms into the process
// instead of 39, a quarter of the way into the initialisation
// (TestWarmImportsNothingLate, and TestStartUpPackagesInitialiseEarly in
// cmd/meshc).
//
// It reads the command line with the CLI's own flag definitions
// (internal/flags) on a flag.FlagSet, which accepts every spelling pflag
// does for these flags (TestWarmAgreesWithPflag in internal/cli) and a
// few more, such as -out for --out, that the CLI then refuses before any
// build. And the build takes nothing on trust: a Run is used
// only when its cache file and output folders are exactly the ones the
// build would read itself (Take), and only once. Its verdicts are the
// build's own check (cache.Files.Verify), made a few milliseconds
// earlier: a file edited after it was looked at is an edit after the
// build, which the next build sees by its status, as always.
package warm

import (
	"flag"
	"io"
	"maps"
	"os"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/golemtrust/meshc/internal/cache"
	"github.com/golemtrust/meshc/internal/flags"
	"github.com/golemtrust/meshc/internal/hugepages"
	"github.com/golemtrust/meshc/internal/state"
)

// started is the Run this process's command line started, or nil.
var started *Run

func init() { started = Start(os.Args[1:]) }

// Started returns the Run started for this process's command line, nil
// when it is not a build or a check (see Start).
func Started() *Run { return started }

// Run is one prefetch: the build cache read from file, and the output
// files of every entry verified under roots.
type Run struct {
	file   string
	roots  map[string]string
	taken  atomic.Bool
	loaded chan struct{} // closed once cache, stems and verdicts are set
	cache  *cache.Cache
	stems  []string  // the entries, sorted
	found  []Verdict // found[i] is stems[i]'s
	next   atomic.Int64
	work   sync.WaitGroup
}

// Verdict is an entry's output files as they are now (cache.Files.Verify):
// Files are their states when every one of them is the file meshc wrote,
// nil otherwise; Moved says whether a state differs from the record.
type Verdict struct {
	Files cache.Files
	Moved bool
}

// Start starts the prefetch for a command line (the arguments after the
// program name) when it is a `build` or a `check` with a state folder;
// nil otherwise, or when the CLI would refuse it.
func Start(args []string) *Run {
	if len(args) == 0 || args[0] != "build" && args[0] != "check" {
		return nil
	}
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var in flags.Input
	var out flags.Output
	in.Bind(fs) // both commands take the input flags; only out's matter here
	out.Bind(fs, true)
	if fs.Parse(args[1:]) != nil || fs.NArg() > 0 {
		return nil // the CLI refuses it
	}
	file := state.For(out.Out, out.Golden).Cache()
	if file == "" {
		return nil
	}
	r := &Run{file: file, roots: cache.Roots(out.Out, out.Golden, out.Schema), loaded: make(chan struct{})}
	r.work.Add(1)
	go func() {
		hugepages.Wait() // the cache read into huge pages
		r.load()
		r.verify()
	}()
	return r
}

func (r *Run) load() {
	defer close(r.loaded)
	r.cache = cache.Load(r.file)
	r.stems = slices.Sorted(maps.Keys(r.cache.Clusters))
	r.found = make([]Verdict, len(r.stems))
}

// verify verifies entries until none is left; any number of goroutines
// share the work.
func (r *Run) verify() {
	defer r.work.Done()
	for {
		i := int(r.next.Add(1)) - 1
		if i >= len(r.stems) {
			return
		}
		files, moved, _ := r.cache.Clusters[r.stems[i]].Files.Verify(r.roots) // files nil unless ok
		r.found[i] = Verdict{Files: files, Moved: moved}
	}
}

// Take hands the Run to the build that reads the cache file with roots,
// once: nil (and r unused) when r is nil, was taken, or prefetched
// another cache or other folders.
func (r *Run) Take(file string, roots map[string]string) *Run {
	if r == nil || r.file != file || !maps.Equal(r.roots, roots) || !r.taken.CompareAndSwap(false, true) {
		return nil
	}
	return r
}

// Taken reports whether a build took r.
func (r *Run) Taken() bool { return r.taken.Load() }

// Cache returns the cache read, once it is.
func (r *Run) Cache() *cache.Cache {
	<-r.loaded
	return r.cache
}

// Verdicts finishes the verification, with helpers more goroutines
// joining the one started, and returns every entry's verdict by cluster
// name.
func (r *Run) Verdicts(helpers int) map[string]Verdict {
	<-r.loaded
	for range helpers {
		r.work.Add(1)
		go r.verify()
	}
	r.work.Wait()
	out := make(map[string]Verdict, len(r.stems))
	for i, stem := range r.stems {
		out[stem] = r.found[i]
	}
	return out
}
