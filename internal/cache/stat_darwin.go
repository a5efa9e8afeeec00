package cache

import "syscall"

// The times of Stat_t in nanoseconds. macOS names them Mtimespec and Ctimespec (Linux: Mtim and Ctim, stat_linux.go);
// the rest is stat_unix.go.
func mtimeOf(st *syscall.Stat_t) int64 { return st.Mtimespec.Nano() }
func ctimeOf(st *syscall.Stat_t) int64 { return st.Ctimespec.Nano() }
