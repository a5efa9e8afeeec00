//go:build unix

package emit

import (
	"errors"
	"os"
	"syscall"
)

// openLock opens the lock file, creating it when create is set. O_NOFOLLOW:
// a symlink at the name could make O_CREATE create a file anywhere.
func openLock(name string, create bool) (*os.File, error) {
	if create {
		return os.OpenFile(name, os.O_CREATE|os.O_RDWR|syscall.O_NOFOLLOW, 0o644)
	}
	return os.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
}

// tryLock takes an exclusive or shared flock without waiting; false when
// another process holds one that excludes it.
func tryLock(f *os.File, exclusive bool) (bool, error) {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}

func unlock(f *os.File) { syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }

// release removes the lock file, then lets go of it: whoever opens the
// name after the removal gets a new file, and whoever had opened the old
// one sees that it is no longer at the name (atName) and opens again.
func release(f *os.File, name string) {
	os.Remove(name)
	unlock(f)
	f.Close()
}
