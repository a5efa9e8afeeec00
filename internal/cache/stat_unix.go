//go:build linux || darwin

package cache

import (
	"io/fs"
	"syscall"
)

// statusProves says that on this platform a file's status (size, times,
// inode, device; ctime, which no program can set back) proves it
// unwritten since it was recorded, outside the racy margin.
const statusProves = true

func stateOf(fi fs.FileInfo) FileState {
	st := FileState{Size: fi.Size(), Mtime: fi.ModTime().UnixNano()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.Ctime = ctimeOf(sys)
		st.Ino, st.Dev = sys.Ino, uint64(sys.Dev)
	}
	return st
}

// statBuf is lstatRegular's reusable buffer.
type statBuf = syscall.Stat_t

// lstatRegular is the state of the file at full (not following a
// symlink), and whether it is a regular file.
func lstatRegular(full string, st *statBuf) (FileState, bool) {
	if err := syscall.Lstat(full, st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return FileState{}, false
	}
	return FileState{Size: st.Size, Mtime: mtimeOf(st), Ctime: ctimeOf(st), Ino: st.Ino, Dev: uint64(st.Dev)}, true
}
