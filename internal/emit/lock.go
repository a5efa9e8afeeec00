package emit

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// LockName is the lock file meshc holds in the overlays folder while it writes.
const LockName = ".meshc.lock"

// Lock takes an exclusive lock on dir for the duration of a build, so two
// builds at once cannot interleave their writes. The lock is released by
// the returned function, or by the kernel when the process dies.
func Lock(dir string) (func(), error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, LockName), os.O_CREATE|os.O_RDWR, 0o644)
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
