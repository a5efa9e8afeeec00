// Package cache remembers, per cluster, which inputs produced which output
// files, so `build` and `check` can skip validating and compiling a
// cluster whose inputs and outputs are exactly as a previous build left
// them. It never trusts output it cannot verify: an entry is used only when
// the meshc binary, the mesh file and the cluster file hash as recorded AND
// every recorded output file is still the file meshc wrote, so a
// hand-edited overlay is still caught.
//
// Output files are verified the way git verifies its work tree: by the
// file's status (size, modification and change times, inode), which any
// write changes, and by content whenever the status cannot prove it. The
// change time (ctime) cannot be set by a user program, so an edit always
// moves it, except within the file system's timestamp granularity of the
// moment meshc looked at the file; such "racy" entries are verified by
// hashing their bytes, as git does with racily clean index entries.
package cache

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"io"
	"io/fs"
	"maps"
	"os"
	"strings"
	"sync"
	"time"
)

// version changes whenever the cache's layout or meaning does: an older or
// newer cache is then simply not used.
const version = 4

// Sum is the sha256 of a file's bytes.
type Sum [sha256.Size]byte

// SumOf hashes one output file.
func SumOf(data []byte) Sum { return sha256.Sum256(data) }

// FileState is what a build knew of one output file.
type FileState struct {
	Sum Sum
	// The file's status when meshc last saw it, and when that was (Seen,
	// Unix nanoseconds, taken before the stat).
	Size         int64
	Mtime, Ctime int64
	Ino, Dev     uint64
	Seen         int64
}

// Files maps "<tree>/<path>" (tree: overlays, golden or schema) to what
// a build knew of the file.
type Files map[string]FileState

// The trees a record names files in.
const (
	TreeOverlays = "overlays"
	TreeGolden   = "golden"
	TreeSchema   = "schema"
)

// Roots maps the tree names to the folders of one build: its overlays,
// golden and schema folders (schema "": none), as Files.Verify takes them.
func Roots(overlays, golden, schema string) map[string]string {
	roots := map[string]string{TreeOverlays: overlays, TreeGolden: golden}
	if schema != "" {
		roots[TreeSchema] = schema
	}
	return roots
}

// Entry is what one cluster's last build recorded.
type Entry struct {
	// Key is Key of everything the cluster's output was built from.
	Key Sum
	// Network is the cluster's network: the mesh's set of networks, an
	// input of every cluster's output, counts it while the cluster file
	// is the one recorded (Input).
	Network string
	// Files are the cluster's output files.
	Files Files
	// Input is the cluster file's state when it was read for Key (Sum:
	// its bytes' hash): while its status holds, the file is not even
	// read again.
	Input FileState
	// Entries are the hashes of the cluster file's namespace entries
	// whose verdicts are in Cache.Docs.
	Entries [][32]byte
}

// Doc is a namespace entry's verdict: its name and its value, decoded
// with the schema's defaults, in JSON.
type Doc struct {
	Name string
	JSON []byte
}

// Cache is every cluster's entry, and what the meshc binary that wrote it
// (Tool) knew independently of any cluster.
type Cache struct {
	Version  int
	Clusters map[string]Entry
	// Tool names the binary; what follows is kept only while it is the
	// same, since it depends on the binary alone.
	Tool string
	// Valid holds the content hashes of objects the API check passed.
	Valid [][32]byte
	// Docs are namespace entry verdicts by the hash of the entry's text.
	Docs map[[32]byte]Doc
	// Schema are the JSON Schema files as the binary wrote them (they
	// depend on nothing else); nil when it wrote none.
	Schema Files
}

// Load reads the cache file (in meshc's state folder, internal/state); a
// missing, unreadable or foreign cache, or none (file ""), is empty.
func Load(file string) *Cache {
	empty := &Cache{Version: version, Clusters: map[string]Entry{}}
	if file == "" {
		return empty
	}
	data, err := readString(file)
	if err != nil {
		return empty
	}
	c, ok := decode(data)
	if !ok {
		return empty
	}
	if c.Tool != toolID() {
		c.Valid, c.Docs, c.Schema = nil, nil, nil
	}
	return c
}

// readString reads a file into a string, with no second copy of it.
func readString(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var b strings.Builder
	if fi, err := f.Stat(); err == nil && fi.Size() > 0 {
		b.Grow(int(fi.Size()) + 1) // + 1: io.Copy's last Read sees the end
	}
	if _, err := io.Copy(&b, f); err != nil {
		return "", err
	}
	return b.String(), nil
}

// Encode returns the cache as its file holds it, recorded as written by
// this binary. The caller writes it (emit.WriteState, atomically): cache
// reads no more than it must of the file system's packages, because
// internal/warm reads a cache during package initialisation.
func (c *Cache) Encode() []byte { return c.EncodeDraft(nil).Bytes() }

// EncodeDraft is Encode before the states of some records' files are
// known: those of the clusters pending names ("" the schema files). Each
// is filled in later with Draft.Set, in place (a state's encoding has a
// fixed size), so a build can encode its next cache while it writes the
// files whose states the cache records.
func (c *Cache) EncodeDraft(pending map[string]bool) *Draft {
	c.Version, c.Tool = version, toolID()
	return c.encodeDraft(pending)
}

// Draft is an encoded cache whose pending states are set in place.
type Draft struct {
	data  []byte
	slots map[slot]int // where a pending file's state is in data
}

// slot names a pending file's state: the cluster ("" the schema) and the
// file's record key.
type slot struct{ cluster, file string }

// Set sets the state of a pending file of cluster ("" the schema); false
// when the draft has no such file (the caller encodes anew).
func (d *Draft) Set(cluster, file string, st FileState) bool {
	at, ok := d.slots[slot{cluster, file}]
	if ok {
		appendState(d.data[:at], st) // overwrites the stateSize bytes there
	}
	return ok
}

// Bytes returns the encoded cache.
func (d *Draft) Bytes() []byte { return d.data }

// Key is a cluster's cache key: the hash of everything its output
// depends on, the running binary, the mesh file, the cluster file (by
// their bytes' hashes) and the mesh's set of networks (sorted, distinct:
// a multi-network mesh gives every cluster an east-west gateway).
func Key(meshFile, clusterFile Sum, networks []string) Sum {
	h := sha256.New()
	h.Write([]byte(toolID()))
	h.Write([]byte{0})
	h.Write(meshFile[:])
	h.Write(clusterFile[:])
	for _, n := range networks {
		// Network names are DNS labels: no NUL in them.
		h.Write([]byte(n))
		h.Write([]byte{0})
	}
	var k Sum
	h.Sum(k[:0])
	return k
}

var toolIDOnce = sync.OnceValue(func() string {
	exe, err := os.Executable()
	if err != nil {
		return "unknown" // never matches a recorded key from a known binary
	}
	return toolIDOf(exe)
})

// toolIDOf names the meshc binary at exe: a different meshc may compile
// differently, so its entries never match. The Go toolchain stamps every
// binary with a build ID derived from its inputs, near the start of the
// file: in an ELF note (Linux), in the first page of the text (Mach-O on
// macOS, PE on Windows: cmd/internal/buildid writes it there, and
// TestToolIDOnEveryPlatform checks it against 'go tool buildid' on
// binaries cross-compiled for each). Reading it costs microseconds where
// hashing the whole 60 MB binary costs a noticeable part of an
// incremental build. Without one, the binary's bytes.
func toolIDOf(exe string) string {
	f, err := os.Open(exe)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	if id, ok := elfBuildID(f); ok {
		return "go-build-id:" + id
	}
	head := make([]byte, 64<<10)
	n, _ := f.ReadAt(head, 0)
	if id, ok := goBuildID(head[:n]); ok {
		return "go-build-id:" + id
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "unknown"
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "unknown"
	}
	return hex.EncodeToString(h.Sum(nil))
}

// elfBuildID reads the Go build ID note of an ELF binary (Linux), which
// debug/elf finds from the headers without reading the rest.
func elfBuildID(r io.ReaderAt) (string, bool) {
	ef, err := elf.NewFile(r)
	if err != nil {
		return "", false
	}
	sec := ef.Section(".note.go.buildid")
	if sec == nil {
		return "", false
	}
	note, err := sec.Data()
	// namesz, descsz, type (4 bytes each), "Go\x00\x00", then the ID.
	if err != nil || len(note) < 16 || string(note[12:16]) != "Go\x00\x00" {
		return "", false
	}
	descsz := int(ef.ByteOrder.Uint32(note[4:8]))
	if len(note) < 16+descsz || descsz == 0 {
		return "", false
	}
	return string(note[16 : 16+descsz]), true
}

// goBuildID finds the Go build ID the linker writes into a binary's first
// page (cmd/internal/buildid: `\xff Go build ID: "..."\n \xff`).
func goBuildID(head []byte) (string, bool) {
	const prefix, suffix = "\xff Go build ID: \"", "\"\n \xff"
	i := bytes.Index(head, []byte(prefix))
	if i < 0 {
		return "", false
	}
	rest := head[i+len(prefix):]
	j := bytes.Index(rest, []byte(suffix))
	if j <= 0 {
		return "", false
	}
	return string(rest[:j]), true
}

func toolID() string { return toolIDOnce() }

// Stat records the state of a file meshc has just written or verified,
// whose bytes hash to sum. ok is false when the file is not a regular file
// any more.
func Stat(full string, sum Sum) (FileState, bool) {
	seen := time.Now().UnixNano()
	fi, err := os.Lstat(full)
	if err != nil || !fi.Mode().IsRegular() {
		return FileState{}, false
	}
	st := stateOf(fi)
	st.Sum, st.Seen = sum, seen
	return st, true
}

// StateOf is the state of a file whose status fi was taken no earlier
// than seen (Unix nanoseconds).
func StateOf(fi fs.FileInfo, seen int64) FileState {
	st := stateOf(fi)
	st.Seen = seen
	return st
}

// Holds reports whether a file's status now proves it is the file whose
// state was recorded: same size, times and inode, and not racy.
func (s FileState) Holds(fi fs.FileInfo) bool {
	return statusProves && s.Seen != 0 && sameStatus(stateOf(fi), s) && !s.racy()
}

// sameStatus reports whether two states describe the same file, unwritten
// since: same inode, size and times (sums and when they were seen aside).
func sameStatus(a, b FileState) bool {
	return a.Size == b.Size && a.Mtime == b.Mtime && a.Ctime == b.Ctime && a.Ino == b.Ino && a.Dev == b.Dev
}

// racy reports whether a recorded state cannot prove the file unchanged:
// an edit within the file system's timestamp granularity of the moment it
// was recorded could leave size and times as they were. File systems with
// whole-second timestamps get a wider margin.
func (s FileState) racy() bool { return s.Ctime+s.margin() > s.Seen }

func (s FileState) margin() int64 {
	if s.Ctime%int64(time.Second) == 0 || s.Ctime == 0 {
		return int64(2 * time.Second)
	}
	return int64(100 * time.Millisecond)
}

// Racy reports whether the state cannot prove its file unchanged on the
// next run (it will be compared by hash), and until when that lasts.
func (s FileState) Racy() (bool, time.Time) {
	return s.racy(), time.Unix(0, s.Ctime+s.margin())
}

// Settle looks at a racy file again once its margin has passed: when its
// status is still the recorded one, the record is renewed and no longer
// racy; ok is false when the status moved (the file is not known to hold
// what meshc wrote).
func Settle(full string, rec FileState) (FileState, bool) {
	seen := time.Now().UnixNano()
	fi, err := os.Lstat(full)
	if err != nil || !fi.Mode().IsRegular() {
		return FileState{}, false
	}
	if !sameStatus(stateOf(fi), rec) {
		return FileState{}, false
	}
	rec.Seen = seen
	return rec, true
}

// Verify checks every file recorded, under roots (tree names mapped to
// their folders). It returns the files' states as they
// are now when every one of them is the file meshc wrote, and whether any
// state differs from the recorded one (a file with the same bytes whose
// status moved, as after a copy or touch, or a racy record that the bytes
// confirmed and that is not racy any more); ok is false otherwise.
func (files Files) Verify(roots map[string]string) (now Files, changed, ok bool) {
	// Called for every output file of the mesh on every run: one lstat
	// per file into a reused buffer, and a new map only when a state
	// moved.
	var buf statBuf
	for name, rec := range files {
		tree, rel, found := cut(name)
		root, known := roots[tree]
		if !found || !known {
			return nil, false, false
		}
		full := root + string(os.PathSeparator) + fromSlash(rel)
		seen := time.Now().UnixNano()
		cur, regular := lstatRegular(full, &buf)
		if !regular || cur.Size != rec.Size {
			return nil, false, false
		}
		same := sameStatus(cur, rec)
		if same && statusProves && !rec.racy() {
			continue
		}
		// The status cannot prove it: compare the bytes.
		data, err := os.ReadFile(full)
		if err != nil || SumOf(data) != rec.Sum {
			return nil, false, false
		}
		next := rec
		if same {
			if !statusProves {
				continue // the hash is the only proof here, every time
			}
			// Racy when recorded; if it is not any more, record that, so
			// the next run need not read it.
			next.Seen = seen
			if next.racy() {
				continue
			}
		} else {
			cur.Sum, cur.Seen = rec.Sum, seen
			next = cur
		}
		if now == nil {
			now = maps.Clone(files)
		}
		now[name] = next
		changed = true
	}
	if now == nil {
		now = files
	}
	return now, changed, true
}

func cut(name string) (tree, rel string, ok bool) {
	for i := 0; i < len(name); i++ {
		if name[i] == '/' {
			return name[:i], name[i+1:], true
		}
	}
	return "", "", false
}

// fromSlash is filepath.FromSlash (see Encode for why not filepath).
func fromSlash(rel string) string {
	if os.PathSeparator == '/' {
		return rel
	}
	return strings.ReplaceAll(rel, "/", string(os.PathSeparator))
}
