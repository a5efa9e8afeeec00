//go:build windows

package emit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/windows"
)

// openLock opens the lock file, creating it when create is set. Windows
// has no O_NOFOLLOW: the name is looked at first, and a symlink refused,
// so O_CREATE never creates a file where a link points.
func openLock(name string, create bool) (*os.File, error) {
	if fi, err := os.Lstat(name); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return nil, fmt.Errorf("%s is a symlink; meshc never locks through one: remove it and run again", name)
	}
	if create {
		return os.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o644)
	}
	return os.OpenFile(name, os.O_RDONLY, 0)
}

// tryLock takes an exclusive or shared LockFileEx lock on the file's first
// byte without waiting; false when another process holds one that
// excludes it.
func tryLock(f *os.File, exclusive bool) (bool, error) {
	flags := uint32(windows.LOCKFILE_FAIL_IMMEDIATELY)
	if exclusive {
		flags |= windows.LOCKFILE_EXCLUSIVE_LOCK
	}
	err := windows.LockFileEx(windows.Handle(f.Fd()), flags, 0, 1, 0, new(windows.Overlapped))
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return false, nil
	}
	return err == nil, err
}

func unlock(f *os.File) {
	windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, new(windows.Overlapped))
}

// release lets go of the lock file, then removes it: Windows refuses to
// remove a file another process has open, so a build or check that has
// just opened it keeps it (and a removal that fails is harmless: a lock
// file left behind is opened and locked again).
func release(f *os.File, name string) {
	unlock(f)
	f.Close()
	os.Remove(name)
}
