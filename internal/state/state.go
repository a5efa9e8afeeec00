// Package state says where meshc keeps its own state for one pair of
// output folders: the build cache, the build lock and the markers of runs
// that are writing. None of it is output, so none of it lives in a folder
// that is committed: it goes to the user's cache folder
// (os.UserCacheDir()/meshc, e.g. ~/.cache/meshc on Linux and
// ~/Library/Caches/meshc on macOS), or under $MESHC_CACHE_DIR when set,
// in a folder named after the output folders' absolute paths.
package state

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
)

// EnvVar, when set, is the folder meshc keeps its state under instead of
// the user's cache folder (tests, CI runners with a cache volume).
const EnvVar = "MESHC_CACHE_DIR"

// Paths are the files of one output's state.
type Paths struct {
	// Dir holds the build cache and the writing markers; "" when there is
	// no cache folder (no $HOME, say): builds then run without a cache,
	// and look for a stopped run's temporary files on every run.
	Dir string
	// Lock is the build lock: in Dir, or without one in the system's
	// temporary folder, so two builds still never interleave.
	Lock string
}

// Cache is the build cache file, or "" without a state folder.
func (p Paths) Cache() string { return p.file("cache") }

// Marker is the writing marker of the output tree named tree.
func (p Paths) Marker(tree string) string { return p.file("writing-" + tree) }

func (p Paths) file(name string) string {
	if p.Dir == "" {
		return ""
	}
	return join(p.Dir, name)
}

// For returns the state paths of a build writing out and golden. Two
// spellings of the same folders (relative, absolute, with "..") share
// them; other folders never do.
func For(out, golden string) Paths {
	key := Key(out, golden)
	root := os.Getenv(EnvVar)
	if root == "" {
		if dir, err := os.UserCacheDir(); err == nil {
			root = join(dir, "meshc")
		}
	}
	if root == "" {
		return Paths{Lock: join(os.TempDir(), "meshc-"+key+".lock")}
	}
	dir := join(root, key)
	return Paths{Dir: dir, Lock: join(dir, "lock")}
}

// Key names the state folder of out and golden: the folder that holds
// out (readable, to find it by hand) and a hash of both absolute, cleaned
// paths.
func Key(out, golden string) string {
	a, b := absolute(out), absolute(golden)
	sum := sha256.Sum256([]byte(a + "\x00" + b))
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, base(dir(a)))
	return name + "-" + hex.EncodeToString(sum[:8])
}

func absolute(p string) string {
	if p == "" {
		return ""
	}
	if abs, err := abs(p); err == nil {
		return abs
	}
	return clean(p)
}
