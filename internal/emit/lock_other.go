//go:build !unix && !windows

package emit

import "os"

// Elsewhere (wasm, plan9) meshc takes no OS lock: it is not a platform
// meshc ships for.
func openLock(name string, create bool) (*os.File, error) {
	if create {
		return os.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o644)
	}
	return os.OpenFile(name, os.O_RDONLY, 0)
}

func tryLock(*os.File, bool) (bool, error) { return true, nil }

func unlock(*os.File) {}

func release(f *os.File, name string) {
	f.Close()
	os.Remove(name)
}
