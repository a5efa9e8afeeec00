// Package cache remembers, per cluster, which inputs produced which output
// files, so `build` and `check` can skip validating and compiling a
// cluster whose inputs and outputs are exactly as a previous build left
// them. It never trusts output it cannot verify: an entry is used only when
// the meshc binary, the mesh file and the cluster file hash as recorded AND
// every recorded output file on disk still hashes as recorded, so a
// hand-edited overlay is still caught.
package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/golemtrust/meshc/internal/emit"
)

// FileName is the cache file, kept in the overlays folder (git-ignored).
const FileName = ".meshc-cache"

// Entry is what one cluster's last build recorded.
type Entry struct {
	// Key hashes the meshc binary, the mesh file and the cluster file.
	Key string `json:"key"`
	// Network and MultiNetwork are inputs of other clusters' output: a
	// cluster gets an east-west gateway when the mesh spans networks.
	Network      string `json:"network"`
	MultiNetwork bool   `json:"multiNetwork"`
	// Files maps "<tree>/<path>" (tree: overlays or golden) to the sha256
	// of the file's bytes.
	Files map[string]string `json:"files"`
}

// Cache is every cluster's entry.
type Cache struct {
	Clusters map[string]Entry `json:"clusters"`
}

// Load reads the cache in dir; a missing or unreadable cache is empty.
func Load(dir string) *Cache {
	c := &Cache{Clusters: map[string]Entry{}}
	data, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		return c
	}
	if json.Unmarshal(data, c) != nil || c.Clusters == nil {
		return &Cache{Clusters: map[string]Entry{}}
	}
	return c
}

// Save writes the cache atomically into dir.
func (c *Cache) Save(dir string) error {
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return emit.WriteFile(dir, FileName, data)
}

// Key hashes a cluster's inputs together with the running binary.
func Key(meshFile, clusterFile []byte) string {
	h := sha256.New()
	h.Write([]byte(toolID()))
	for _, b := range [][]byte{meshFile, clusterFile} {
		var n [8]byte
		for i, l := 0, uint64(len(b)); i < 8; i++ {
			n[i] = byte(l >> (8 * i))
		}
		h.Write(n[:])
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Sum hashes one output file.
func Sum(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

var toolIDOnce = sync.OnceValue(func() string {
	// The binary's own bytes: a different meshc may compile differently,
	// so its entries never match. Go builds are reproducible, so the
	// same sources give the same ID.
	exe, err := os.Executable()
	if err == nil {
		if f, err := os.Open(exe); err == nil {
			defer f.Close()
			h := sha256.New()
			if _, err := io.Copy(h, f); err == nil {
				return hex.EncodeToString(h.Sum(nil))
			}
		}
	}
	return "unknown" // never matches a recorded key from a known binary
})

func toolID() string { return toolIDOnce() }

// Verify reads every file an entry recorded, under roots ("overlays" and
// "golden" mapped to their folders), and returns their bytes by recorded
// name when all of them hash as recorded; ok is false otherwise.
func (e Entry) Verify(roots map[string]string) (files map[string][]byte, ok bool) {
	files = make(map[string][]byte, len(e.Files))
	for name, sum := range e.Files {
		tree, rel, found := cut(name)
		root, known := roots[tree]
		if !found || !known {
			return nil, false
		}
		full := filepath.Join(root, filepath.FromSlash(rel))
		fi, err := os.Lstat(full)
		if err != nil || !fi.Mode().IsRegular() {
			return nil, false
		}
		data, err := os.ReadFile(full)
		if errors.Is(err, fs.ErrNotExist) || err != nil || Sum(data) != sum {
			return nil, false
		}
		files[name] = data
	}
	return files, true
}

func cut(name string) (tree, rel string, ok bool) {
	for i := 0; i < len(name); i++ {
		if name[i] == '/' {
			return name[:i], name[i+1:], true
		}
	}
	return "", "", false
}
