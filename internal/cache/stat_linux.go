package cache

import "syscall"

// The times of Stat_t in nanoseconds. Linux names them Mtim and Ctim (macOS: Mtimespec and Ctimespec, stat_darwin.go);
// the rest is stat_unix.go.
func mtimeOf(st *syscall.Stat_t) int64 { return st.Mtim.Nano() }
func ctimeOf(st *syscall.Stat_t) int64 { return st.Ctim.Nano() }
