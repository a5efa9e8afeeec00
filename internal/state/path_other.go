//go:build !windows

package state

import (
	"os"
	"path"
)

// On every platform but Windows a file path is slash-separated and has no
// volume, so package path computes exactly what path/filepath does. State
// uses it there because internal/warm finds the build cache (For) during
// package initialisation, which must not wait for path/filepath: Go
// initialises it late in meshc's binary (see internal/warm).
// TestPathsAreFilepaths checks the equality.
var (
	join  = path.Join
	clean = path.Clean
	base  = path.Base
	dir   = path.Dir
)

// abs is filepath.Abs.
func abs(p string) (string, error) {
	if path.IsAbs(p) {
		return path.Clean(p), nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	return path.Join(wd, p), nil
}
