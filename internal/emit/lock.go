package emit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Lock takes the build lock, the file lockFile in meshc's state folder
// (outside every output folder), for a build writing dir: two builds at
// once cannot interleave their writes, and the second fails at once
// rather than wait, since it would only redo the first one's work. The
// lock is an OS lock (flock on Unix, LockFileEx on Windows), released by
// the returned function or by the OS when the process dies: a file left
// by a killed build is opened and locked again, never in the way. The
// returned function also removes the file, so nothing stays behind.
func Lock(lockFile, dir string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(lockFile), 0o755); err != nil {
		return nil, err
	}
	for {
		f, err := openLock(lockFile, true)
		if err != nil {
			return nil, err
		}
		ok, err := tryLock(f, true)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", lockFile, err)
		}
		if !ok {
			f.Close()
			return nil, fmt.Errorf("another meshc build is writing %s (lock %s held); wait for it to finish and run again", dir, lockFile)
		}
		// The build before this one removes the file as it lets go: if
		// it did between the open and the lock, this lock is on a file
		// nobody else will open. Take the one at the name instead.
		if atName(f, lockFile) {
			return func() { release(f, lockFile) }, nil
		}
		unlock(f)
		f.Close()
	}
}

// atName reports whether the open file f is still the file at name.
func atName(f *os.File, name string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Lstat(name)
	return err == nil && os.SameFile(a, b)
}

// lockWait bounds how long Check waits for a build to finish.
var lockWait = 2 * time.Minute

// rlock takes a shared lock on lockFile when there is one, waiting while a
// build of dir holds it: a check that ran beside a build would compare a
// tree half way through being written, and report a difference that the
// build is about to remove. Checks do not exclude each other. It creates
// nothing: without a lock file no build is running.
func rlock(lockFile, dir string) (func(), error) {
	deadline := time.Now().Add(lockWait)
	for {
		f, err := openLock(lockFile, false)
		if errors.Is(err, fs.ErrNotExist) {
			return func() {}, nil
		}
		if err != nil {
			return nil, err
		}
		for {
			ok, err := tryLock(f, false)
			if err != nil {
				f.Close()
				return nil, fmt.Errorf("lock %s: %w", lockFile, err)
			}
			if ok {
				break
			}
			if time.Now().After(deadline) {
				f.Close()
				return nil, fmt.Errorf("a meshc build is still writing %s after %s (lock %s held); run check again when it is done", dir, lockWait, lockFile)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if atName(f, lockFile) {
			return func() {
				unlock(f)
				f.Close()
			}, nil
		}
		// The build finished and removed its file (or another has
		// started since, with a file of its own): look again.
		unlock(f)
		f.Close()
	}
}
