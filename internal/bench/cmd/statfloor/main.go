// Command statfloor times the one thing a rebuild cannot skip on disk:
// a status call (lstat) for every output file, which is how the build
// cache proves a reused cluster's files are still the ones meshc wrote.
// bench/compare.sh reports it beside the rebuild, with the process start
// of `meshc version`, as the rebuild's floor on the machine it runs on.
//
//	statfloor [-start BIN] DIR...
//
// It lists every regular file under the folders (not timed), then takes
// each one's status on GOMAXPROCS goroutines, three times, and prints the
// fastest pass in seconds. With -start it then runs `BIN version` five
// times and prints the median wall time of one run too (the process
// start, package initialisation included: what every meshc run pays
// before main).
package main

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"
)

func main() {
	bin := flag.String("start", "", "also time `BIN version`, the process start")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: statfloor [-start BIN] DIR...")
		os.Exit(2)
	}
	var files []string
	for _, dir := range flag.Args() {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				files = append(files, p)
			}
			return err
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "statfloor:", err)
			os.Exit(1)
		}
	}
	best := time.Duration(1<<63 - 1)
	for range 3 {
		best = min(best, pass(files, runtime.GOMAXPROCS(0)))
	}
	fmt.Printf("%.4f", best.Seconds())
	if *bin != "" {
		var runs []time.Duration
		for range 5 {
			start := time.Now()
			if err := exec.Command(*bin, "version").Run(); err != nil {
				fmt.Fprintln(os.Stderr, "statfloor:", err)
				os.Exit(1)
			}
			runs = append(runs, time.Since(start))
		}
		slices.Sort(runs)
		fmt.Printf(" %.4f", runs[2].Seconds())
	}
	fmt.Println()
}

// pass takes every file's status once, on workers goroutines.
func pass(files []string, workers int) time.Duration {
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(files); i += workers {
				if _, err := os.Lstat(files[i]); err != nil {
					fmt.Fprintln(os.Stderr, "statfloor:", err)
					os.Exit(1)
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}
