// Command diskprobe times what a cold meshc build asks most of the disk:
// creating files atomically (a temporary file, then a rename), n of them
// in folders of a dozen. bench/compare.sh runs it before each step that
// writes and waits while the disk is slow, so that a step is not charged
// for what an earlier one left the file system doing (on ext4 mounted
// with online discard, deleting a large tree slows file creation several
// times over for minutes).
//
//	diskprobe -dir DIR [-files N] [-under SECONDS] [-wait SECONDS]
//
// It prints the last probe's seconds and exits 0 once a probe takes less
// than -under, or after -wait seconds of probing (then it says so). The
// files stay in DIR (deleting them now would slow the very step the
// probe waits for); compare.sh's work folder holds DIR and goes with it.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

func main() {
	dir := flag.String("dir", "", "a scratch folder (created; the probes' files stay in it)")
	files := flag.Int("files", 2000, "files to create per probe")
	under := flag.Float64("under", 0.3, "a probe faster than this many seconds ends the wait")
	wait := flag.Float64("wait", 120, "stop probing after this many seconds")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "diskprobe: -dir is required")
		os.Exit(2)
	}
	deadline := time.Now().Add(time.Duration(*wait * float64(time.Second)))
	for {
		took, err := probe(*dir, *files)
		if err != nil {
			fmt.Fprintln(os.Stderr, "diskprobe:", err)
			os.Exit(1)
		}
		if took.Seconds() < *under {
			fmt.Printf("%.3f\n", took.Seconds())
			return
		}
		if time.Now().After(deadline) {
			fmt.Printf("%.3f (still slow after %.0f s)\n", took.Seconds(), *wait)
			return
		}
		time.Sleep(5 * time.Second)
	}
}

// probe creates n files atomically in a new folder under dir; it returns
// how long the creating took.
func probe(dir string, n int) (time.Duration, error) {
	root := filepath.Join(dir, fmt.Sprintf("probe-%d-%d", os.Getpid(), time.Now().UnixNano()))
	for i := 0; i < n; i += 12 {
		if err := os.MkdirAll(filepath.Join(root, fmt.Sprint(i/12)), 0o755); err != nil {
			return 0, err
		}
	}
	data := make([]byte, 8<<10) // a typical overlay file
	start := time.Now()
	for i := 0; i < n; i++ {
		sub := filepath.Join(root, fmt.Sprint(i/12))
		tmp := filepath.Join(sub, fmt.Sprintf(".tmp-%d", i))
		if err := os.WriteFile(tmp, data, 0o644); err != nil {
			return 0, err
		}
		if err := os.Rename(tmp, filepath.Join(sub, fmt.Sprintf("f-%d.yaml", i))); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}
