//go:build !linux && !darwin

package cache

import (
	"io/fs"
	"os"
)

// statusProves is false where meshc does not read a change time and an
// inode from the file status (Windows among others): a program can set
// a file's modification time back, so size and mtime cannot prove a file
// unwritten, and every recorded file is compared by hash. The cache still
// saves the compiling; it no longer saves the reading.
const statusProves = false

func stateOf(fi fs.FileInfo) FileState {
	return FileState{Size: fi.Size(), Mtime: fi.ModTime().UnixNano()}
}

// statBuf is unused here: os.Lstat allocates its own.
type statBuf struct{}

func lstatRegular(full string, _ *statBuf) (FileState, bool) {
	fi, err := os.Lstat(full)
	if err != nil || !fi.Mode().IsRegular() {
		return FileState{}, false
	}
	return stateOf(fi), true
}
