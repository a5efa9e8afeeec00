package cache

import (
	"bytes"
	"encoding/binary"
	"maps"
	"slices"
)

// The cache's file format: a rebuild of a large mesh reads and writes it on
// every run, and encoding/gob spends tens of milliseconds on its maps. So:
// the magic, then uvarints and length-prefixed strings, fixed-size sums and
// states, clusters and files in sorted order (the same cache, the same
// bytes). Anything that does not parse is no cache at all.
const magic = "meshc-cache\x00"

func (c *Cache) encode() []byte { return c.encodeDraft(nil).data }

// encodeDraft is encode, recording where the states of the pending
// records' files are: pending names clusters, "" the schema files.
func (c *Cache) encodeDraft(pending map[string]bool) *Draft {
	d := &Draft{}
	b := make([]byte, 0, c.encodedSize()) // sized once: megabytes, written on every run
	b = append(b, magic...)
	b = binary.AppendUvarint(b, uint64(c.Version))
	b = appendString(b, c.Tool)
	b = binary.AppendUvarint(b, uint64(len(c.Valid)))
	for _, v := range c.Valid {
		b = append(b, v[:]...)
	}
	// A cluster names its entries by their number in this table: fifty
	// 32-byte hashes per cluster would make the cache several times
	// larger, and it is read and written on every run.
	b = binary.AppendUvarint(b, uint64(len(c.Docs)))
	docKeys := slices.SortedFunc(maps.Keys(c.Docs), func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	number := make(map[[32]byte]int, len(docKeys))
	for i, k := range docKeys {
		d := c.Docs[k]
		b = append(b, k[:]...)
		b = appendString(b, d.Name)
		b = binary.AppendUvarint(b, uint64(len(d.JSON)))
		b = append(b, d.JSON...)
		number[k] = i
	}
	var files []string // reused: a thousand clusters, a dozen files each
	b, files = d.appendFiles(b, pending[""], "", c.Schema, files)
	b = binary.AppendUvarint(b, uint64(len(c.Clusters)))
	var known []int
	for _, name := range slices.Sorted(maps.Keys(c.Clusters)) {
		e := c.Clusters[name]
		b = appendString(b, name)
		b = append(b, e.Key[:]...)
		b = appendString(b, e.Network)
		b = appendState(b, e.Input)
		known = known[:0]
		for _, k := range e.Entries {
			if i, ok := number[k]; ok { // an entry without a verdict is not worth naming
				known = append(known, i)
			}
		}
		b = binary.AppendUvarint(b, uint64(len(known)))
		for _, i := range known {
			b = binary.AppendUvarint(b, uint64(i))
		}
		b, files = d.appendFiles(b, pending[name], name, e.Files, files)
	}
	d.data = b
	return d
}

// encodedSize estimates encode's length, from counts alone (iterating a
// thousand clusters' file maps costs as much as the encoding): a file name
// is taken at 64 bytes, an entry number at 2. Close enough that the buffer
// is usually allocated once; when not, append grows it.
func (c *Cache) encodedSize() int {
	const name, number = 64, 2
	size := 64 + len(c.Tool) + len(c.Valid)*32 + len(c.Schema)*(name+stateSize)
	for _, d := range c.Docs {
		size += 48 + len(d.Name) + len(d.JSON)
	}
	for _, e := range c.Clusters {
		size += 2*name + len(e.Key) + stateSize + 16 + len(e.Entries)*number + len(e.Files)*(name+1+stateSize)
	}
	return size
}

// appendFiles appends files in name order, sorting them in buf; for a
// pending record (of cluster; "" the schema) it records where each file's
// state is.
func (d *Draft) appendFiles(b []byte, pending bool, cluster string, fs Files, buf []string) ([]byte, []string) {
	b = binary.AppendUvarint(b, uint64(len(fs)))
	buf = buf[:0]
	for f := range fs {
		buf = append(buf, f)
	}
	slices.Sort(buf)
	for _, f := range buf {
		b = appendString(b, f)
		if pending {
			if d.slots == nil {
				d.slots = map[slot]int{}
			}
			d.slots[slot{cluster, f}] = len(b)
		}
		b = appendState(b, fs[f])
	}
	return b, buf
}

// decode reads a cache from the file's text, held as a string (Load reads
// it into one): every name is a substring of it, not an allocation of its
// own (ten thousand file names per 1,000 clusters), and nothing is copied
// twice (on a rebuild the file's fresh memory is a measurable part of the
// time).
func decode(data string) (*Cache, bool) {
	r := reader{s: data}
	if r.take(len(magic)) != magic {
		return nil, false
	}
	c := &Cache{Version: int(r.uvarint()), Clusters: map[string]Entry{}}
	if c.Version != version {
		return nil, false
	}
	c.Tool = r.string()
	n := r.count(32)
	c.Valid = make([][32]byte, 0, n)
	for i := 0; i < n && !r.bad; i++ {
		var v [32]byte
		copy(v[:], r.take(32))
		c.Valid = append(c.Valid, v)
	}
	docs := r.count(32 + 2)
	if docs > 0 {
		c.Docs = make(map[[32]byte]Doc, docs)
	}
	docKeys := make([][32]byte, 0, docs)
	for i := 0; i < docs && !r.bad; i++ {
		var k [32]byte
		copy(k[:], r.take(32))
		docKeys = append(docKeys, k)
		name := r.string()
		c.Docs[k] = Doc{Name: name, JSON: []byte(r.string())} // only entries shared by several clusters: few

	}
	if schema := r.files(); len(schema) > 0 {
		c.Schema = schema
	}
	clusters := r.count(1)
	for i := 0; i < clusters && !r.bad; i++ {
		name := r.string()
		e := Entry{}
		copy(e.Key[:], r.take(len(e.Key)))
		e.Network = r.string()
		e.Input = r.state()
		entries := r.count(1)
		if entries > 0 {
			e.Entries = make([][32]byte, 0, entries)
		}
		for j := 0; j < entries && !r.bad; j++ {
			if i := r.uvarint(); i < uint64(len(docKeys)) {
				e.Entries = append(e.Entries, docKeys[i])
			} else {
				r.fail()
			}
		}
		e.Files = r.files()
		c.Clusters[name] = e
	}
	if r.bad || len(r.s) != 0 {
		return nil, false
	}
	return c, true
}

// stateSize is a FileState's encoded size: the sum and six 8-byte numbers.
const stateSize = 32 + 6*8

func appendState(b []byte, s FileState) []byte {
	b = append(b, s.Sum[:]...)
	for _, v := range []uint64{uint64(s.Size), uint64(s.Mtime), uint64(s.Ctime), s.Ino, s.Dev, uint64(s.Seen)} {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// reader decodes the rest of a cache's text, s; after the first problem
// bad is set and every read returns zero values.
type reader struct {
	s   string
	bad bool
}

func (r *reader) fail() { r.bad, r.s = true, "" }

func (r *reader) take(n int) string {
	if r.bad || n < 0 || n > len(r.s) {
		r.fail()
		return ""
	}
	out := r.s[:n]
	r.s = r.s[n:]
	return out
}

// uvarint is binary.Uvarint over the string.
func (r *reader) uvarint() uint64 {
	var v uint64
	for i := 0; i < len(r.s) && i < binary.MaxVarintLen64; i++ {
		b := r.s[i]
		if b < 0x80 {
			if i == binary.MaxVarintLen64-1 && b > 1 {
				break // overflows 64 bits
			}
			r.s = r.s[i+1:]
			return v | uint64(b)<<(7*i)
		}
		v |= uint64(b&0x7f) << (7 * i)
	}
	r.fail()
	return 0
}

// count reads a count of items of at least min bytes each, refusing one
// the rest of the data cannot hold.
func (r *reader) count(min int) int {
	v := r.uvarint()
	if r.bad || v > uint64(len(r.s)/min) {
		r.fail()
		return 0
	}
	return int(v)
}

func (r *reader) string() string { return r.take(r.count(1)) }

// files reads what appendFiles wrote.
func (r *reader) files() Files {
	n := r.count(stateSize)
	fs := make(Files, n)
	for j := 0; j < n && !r.bad; j++ {
		f := r.string()
		fs[f] = r.state()
	}
	return fs
}

func (r *reader) state() FileState {
	var s FileState
	b := r.take(stateSize)
	if len(b) < stateSize {
		return s
	}
	copy(s.Sum[:], b)
	v := func(i int) uint64 {
		o := 32 + 8*i
		return uint64(b[o]) | uint64(b[o+1])<<8 | uint64(b[o+2])<<16 | uint64(b[o+3])<<24 |
			uint64(b[o+4])<<32 | uint64(b[o+5])<<40 | uint64(b[o+6])<<48 | uint64(b[o+7])<<56
	}
	s.Size, s.Mtime, s.Ctime = int64(v(0)), int64(v(1)), int64(v(2))
	s.Ino, s.Dev, s.Seen = v(3), v(4), int64(v(5))
	return s
}
