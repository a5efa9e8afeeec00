package emit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// LockName is the lock file meshc holds in the overlays folder while it writes.
const LockName = ".meshc.lock"

// Lock takes an exclusive lock on dir for the duration of a build, so two
// builds at once cannot interleave their writes: the second fails at once
// rather than wait, since it would only redo the first one's work. The lock
// is released by the returned function, or by the kernel when the process
// dies, so a killed build never leaves it held.
func Lock(dir string) (func(), error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	// O_NOFOLLOW: a symlink at the name could make O_CREATE create a file
	// anywhere.
	f, err := os.OpenFile(filepath.Join(dir, LockName), os.O_CREATE|os.O_RDWR|syscall.O_NOFOLLOW, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("another meshc build is writing %s (lock %s held); wait for it to finish and run again", dir, f.Name())
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// lockWait bounds how long Check waits for a build to finish.
var lockWait = 2 * time.Minute

// rlock takes a shared lock on dir when it has a lock file, waiting while a
// build holds it: a check that ran beside a build would compare a tree half
// way through being written, and report a difference that the build is
// about to remove. Checks do not exclude each other. It creates nothing:
// without a lock file no build has written dir yet.
func rlock(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, LockName), os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return func() {}, nil
	}
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(lockWait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("a meshc build is still writing %s after %s (lock %s held); run check again when it is done", dir, lockWait, f.Name())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
