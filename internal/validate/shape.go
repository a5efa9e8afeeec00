package validate

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"cuelang.org/go/cue"

	"github.com/golemtrust/meshc/internal/load"
)

// A namespace entry is decided in two parts, both by CUE, each once per
// run: its shape (its keys, list lengths and the kind of each scalar) and
// each of its scalar values at its place in #Namespace.
//
// Why that is the same check as unifying the entry with #Namespace: in
// #Namespace, which fields exist, which are required, which take a default
// and how long a list must be depend on keys and lengths alone, and each
// scalar's constraint (#Name, #Quantity, an enum, int & >=1, a pattern)
// depends on nothing but the scalar: no field refers to another. So an
// entry is valid exactly when an entry of the same shape was (the shape's
// representative, unified whole with #Namespace) and each of its scalars
// unifies with the schema's constraint at its path, and its value with the
// schema's defaults is the representative's with the scalars replaced.
// TestShapeEqualsCUE and FuzzShapeEqualsCUE compare the two on generated
// and mutated entries; a shape whose representative's scalars do not each
// pass on their own, or whose value is not the entry's own scalars plus
// defaults, is never used, and its entries are unified whole.
//
// It pays because shapes and scalar values repeat across a fleet even when
// whole entries do not (distinct tenants): a 1,000-cluster mesh of 50,000
// distinct entries has a few dozen shapes and a few thousand distinct
// scalars, and reading an entry in ParsePlainEntry's subset costs
// microseconds where parsing and unifying it costs most of a millisecond.
//
// Like the rest of the fast path it only ever accepts: an entry outside
// the subset, of a new shape, or with a scalar CUE refuses goes to
// checkEntry, and a file with an entry that fails there goes down the full
// path, which reports every problem at its position.
//
// A cluster file's head (every field but namespaces, with the mesh's
// defaults merged in) is decided the same way against #Cluster, whose
// fields refer to no other field either: a fleet's heads differ in their
// names and networks, and share a handful of shapes.
//
// A shape is learnt from its second value, not its first: the first is
// unified whole anyway (it is the representative), and learning a shape
// costs a CUE check of each of its scalars on top, which pays only when
// another value of the shape comes. A rebuild that validates one edited
// entry, whose shape this run has not seen, so unifies it once.
type shapes struct {
	root   func(*schema) cue.Value // the definition values are decided against
	mu     sync.Mutex
	shapes map[string]*shape    // by shape key
	firsts map[string]*sighting // shapes seen once, not learnt yet
	leaves map[string]bool      // by leaf key: path, kind and text
}

// sighting is the first value of a shape, which CUE accepted whole, and
// its decoded value as JSON: the shape's representative when a second
// value comes.
type sighting struct {
	v   *load.Plain
	doc []byte
}

// newShapes returns an empty memo of shapes of values of root's
// definition: #Namespace for namespace entries (namespaceRoot), #Cluster
// for cluster heads (clusterRoot).
func newShapes(root func(*schema) cue.Value) *shapes {
	return &shapes{root: root, shapes: map[string]*shape{}, firsts: map[string]*sighting{}, leaves: map[string]bool{}}
}

func namespaceRoot(sch *schema) cue.Value { return sch.namespace }
func clusterRoot(sch *schema) cue.Value   { return sch.cluster }

// shape is what CUE said of a shape's representative.
type shape struct {
	usable bool // false: unify every entry of this shape whole
	tmpl   *tmpl
}

// tmpl is the decoded value of a shape's representative, laid out like
// the entry: Vals[i] belongs to the entry's i-th key or item; extra are the
// fields the schema's defaults add to a map, as JSON `"key":value`.
type tmpl struct {
	vals   []*tmpl
	extra  []string
	extraK []string      // the same fields' keys
	extraV []*load.Plain // and values, for decodeNamespace; nil when one is not a Plain
}

type pathElem struct {
	key   string
	index int // for a list item; key is then ""
}

// walk writes an entry's shape key into key and its scalars' leaf keys
// into leaves. Walks are pooled (walks): every namespace entry of a run
// takes one, and its buffers are what the fast path would otherwise
// allocate afresh per entry.
type walk struct {
	key    []byte
	path   []byte     // the current path as text, for leaf keys
	elems  []pathElem // the current path
	all    []pathElem // every leaf's path, one after the other
	keys   []byte     // every leaf's key, one after the other
	leaves []leafRef
}

type leafRef struct {
	kstart, kend int // its key in walk.keys: path, NUL, kind, text
	start, end   int // its path in walk.all
	v            *load.Plain
}

// leafKey is l's key, valid until the walk is reset.
func (w *walk) leafKey(l leafRef) []byte { return w.keys[l.kstart:l.kend] }

// reset empties w for the next entry, keeping its buffers.
func (w *walk) reset() {
	clear(w.leaves) // drop the entry's values for the collector
	w.key, w.path, w.elems, w.all, w.keys, w.leaves = w.key[:0], w.path[:0], w.elems[:0], w.all[:0], w.keys[:0], w.leaves[:0]
}

var walks = sync.Pool{New: func() any { return new(walk) }}

func (w *walk) value(v *load.Plain) {
	switch v.Kind {
	case load.PlainMap:
		w.key = append(w.key, '{')
		for i, k := range v.Keys {
			w.key = append(w.key, k...)
			w.key = append(w.key, 0)
			n := len(w.path)
			w.path = append(append(w.path, '.'), k...)
			w.elems = append(w.elems, pathElem{key: k})
			w.value(v.Vals[i])
			w.path, w.elems = w.path[:n], w.elems[:len(w.elems)-1]
		}
		w.key = append(w.key, '}')
	case load.PlainList:
		w.key = append(w.key, '[')
		for i, x := range v.Vals {
			n := len(w.path)
			w.path = strconv.AppendInt(append(w.path, '#'), int64(i), 10)
			w.elems = append(w.elems, pathElem{index: i})
			w.value(x)
			w.path, w.elems = w.path[:n], w.elems[:len(w.elems)-1]
		}
		w.key = append(w.key, ']')
	default:
		w.key = append(w.key, byte(v.Kind))
		n := len(w.path)
		w.path = append(append(w.path, 0, byte(v.Kind)), v.Text...)
		start, kstart := len(w.all), len(w.keys)
		w.all = append(w.all, w.elems...)
		w.keys = append(w.keys, w.path...)
		w.leaves = append(w.leaves, leafRef{kstart: kstart, kend: len(w.keys), start: start, end: len(w.all), v: v})
		w.path = w.path[:n]
	}
}

// decide returns an entry's name, its value and either the template of
// its shape (render and decodeNamespace give its decoded value with
// defaults) or, for the first entry of a shape, its decoded value as JSON
// (doc), unified whole; ok false when the entry must be unified whole.
func (s *shapes) decide(sch *schema, path string, text []byte) (name string, v *load.Plain, t *tmpl, doc []byte, ok bool) {
	name, v, ok = load.ParsePlainEntry(text)
	if !ok {
		return "", nil, nil, nil, false
	}
	t, doc, ok = s.decideValue(sch, v, func() ([]byte, bool) {
		verdict, doc := checkEntry(sch, path, text)
		return doc, verdict.ok
	})
	return name, v, t, doc, ok
}

// decideValue decides v: valid by its shape and scalars (the shape's
// template), or, for the first value of a shape, valid unified whole (its
// decoded value as JSON, doc); ok false when it must be unified whole.
// whole unifies v whole: its decoded value as JSON, or false when CUE
// refuses it.
func (s *shapes) decideValue(sch *schema, v *load.Plain, whole func() ([]byte, bool)) (t *tmpl, doc []byte, ok bool) {
	w := walks.Get().(*walk)
	defer func() { w.reset(); walks.Put(w) }()
	w.value(v)
	s.mu.Lock()
	sh, first := s.shapes[string(w.key)], s.firsts[string(w.key)]
	s.mu.Unlock()
	if sh == nil && first == nil {
		if doc, ok = whole(); !ok {
			return nil, nil, false // not valid; the next value of the shape is a first again
		}
		s.mu.Lock()
		s.firsts[string(w.key)] = &sighting{v: v, doc: doc}
		s.mu.Unlock()
		return nil, doc, true
	}
	if sh == nil {
		sh = s.learn(sch, first, string(w.key))
	}
	if !sh.usable || !s.leavesOK(sch, w) {
		return nil, nil, false
	}
	return sh.tmpl, nil, true
}

// learn makes a shape of its first value, which CUE accepted whole, and
// remembers it.
func (s *shapes) learn(sch *schema, first *sighting, key string) *shape {
	v, doc := first.v, first.doc
	w := walks.Get().(*walk)
	defer func() { w.reset(); walks.Put(w) }()
	w.value(v)
	sh := &shape{}
	var decoded any
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if dec.Decode(&decoded) == nil {
		sh.tmpl, sh.usable = align(v, decoded)
	}
	// The representative's scalars must each pass on their own, as the
	// schema's separability promises; if one does not, the shape is
	// never used.
	if sh.usable && !s.leavesOK(sch, w) {
		sh.usable = false
	}
	s.mu.Lock()
	s.shapes[key] = sh
	delete(s.firsts, key)
	s.mu.Unlock()
	return sh
}

// align lays out CUE's decoded value of the representative v like v, and
// reports whether it is v's own scalars plus default fields.
func align(v *load.Plain, d any) (*tmpl, bool) {
	switch v.Kind {
	case load.PlainMap:
		m, ok := d.(map[string]any)
		if !ok {
			return nil, false
		}
		t := &tmpl{vals: make([]*tmpl, len(v.Keys))}
		for i, k := range v.Keys {
			x, ok := m[k]
			if !ok {
				return nil, false
			}
			if t.vals[i], ok = align(v.Vals[i], x); !ok {
				return nil, false
			}
		}
		var extra []string
		for k, x := range m {
			if !v.Has(k) {
				kb, _ := json.Marshal(k)
				xb, err := json.Marshal(x)
				if err != nil {
					return nil, false
				}
				extra = append(extra, string(kb)+":"+string(xb))
			}
		}
		sort.Strings(extra)
		t.extra = extra
		for _, e := range extra {
			var k string
			var x any
			dec := json.NewDecoder(strings.NewReader("{" + e + "}"))
			dec.UseNumber()
			var one map[string]any
			if dec.Decode(&one) != nil || len(one) != 1 {
				return nil, false
			}
			for k, x = range one {
			}
			pv, ok := plainOf(x, false)
			if !ok {
				t.extraV = nil
				break
			}
			t.extraK = append(t.extraK, k)
			t.extraV = append(t.extraV, pv)
		}
		return t, true
	case load.PlainList:
		l, ok := d.([]any)
		if !ok || len(l) != len(v.Vals) {
			return nil, false
		}
		t := &tmpl{vals: make([]*tmpl, len(v.Vals))}
		for i, x := range v.Vals {
			if t.vals[i], ok = align(x, l[i]); !ok {
				return nil, false
			}
		}
		return t, true
	case load.PlainString:
		s, ok := d.(string)
		return nil, ok && s == v.Text
	case load.PlainInt, load.PlainFloat:
		n, ok := d.(json.Number)
		return nil, ok && n.String() == v.Text
	}
	return nil, false
}

// plainOf turns a decoded JSON value into a Plain, when it is one.
func plainOf(x any, floats bool) (*load.Plain, bool) {
	switch x := x.(type) {
	case string:
		return &load.Plain{Kind: load.PlainString, Text: x}, true
	case json.Number:
		if _, err := strconv.ParseInt(x.String(), 10, 64); err == nil {
			return &load.Plain{Kind: load.PlainInt, Text: x.String()}, true
		}
		if _, err := strconv.ParseFloat(x.String(), 64); err == nil && floats {
			return &load.Plain{Kind: load.PlainFloat, Text: x.String()}, true
		}
		return nil, false
	case map[string]any:
		p := &load.Plain{Kind: load.PlainMap}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			v, ok := plainOf(x[k], floats)
			if !ok {
				return nil, false
			}
			p.Keys, p.Vals = append(p.Keys, k), append(p.Vals, v)
		}
		return p, true
	case []any:
		p := &load.Plain{Kind: load.PlainList}
		for _, e := range x {
			v, ok := plainOf(e, floats)
			if !ok {
				return nil, false
			}
			p.Vals = append(p.Vals, v)
		}
		return p, true
	}
	return nil, false
}

// render writes v with the shape's defaults as JSON. v's strings need no
// escaping: ParsePlainEntry takes only printable ASCII without quotes or
// backslashes.
func render(b []byte, v *load.Plain, t *tmpl) []byte {
	switch v.Kind {
	case load.PlainMap:
		b = append(b, '{')
		for i, k := range v.Keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(append(append(b, '"'), k...), '"', ':')
			b = render(b, v.Vals[i], t.vals[i])
		}
		for i, e := range t.extra {
			if i > 0 || len(v.Keys) > 0 {
				b = append(b, ',')
			}
			b = append(b, e...)
		}
		return append(b, '}')
	case load.PlainList:
		b = append(b, '[')
		for i, x := range v.Vals {
			if i > 0 {
				b = append(b, ',')
			}
			b = render(b, x, t.vals[i])
		}
		return append(b, ']')
	case load.PlainString:
		return append(append(append(b, '"'), v.Text...), '"')
	}
	return append(b, v.Text...)
}

// leavesOK reports whether every scalar unifies with the schema's
// constraint at its path, asking CUE once per run for each distinct one.
func (s *shapes) leavesOK(sch *schema, w *walk) bool {
	var unknown []leafRef
	s.mu.Lock()
	for _, l := range w.leaves {
		ok, known := s.leaves[string(w.leafKey(l))]
		if !known {
			unknown = append(unknown, l)
		} else if !ok {
			s.mu.Unlock()
			return false
		}
	}
	s.mu.Unlock()
	for _, l := range unknown {
		ok := leafOK(sch, s.root(sch), w.all[l.start:l.end], l.v)
		s.mu.Lock()
		s.leaves[string(w.leafKey(l))] = ok
		s.mu.Unlock()
		if !ok {
			return false
		}
	}
	return true
}

// leafOK unifies one scalar with root's constraint at its path.
func leafOK(sch *schema, root cue.Value, elems []pathElem, v *load.Plain) bool {
	sels := make([]cue.Selector, len(elems))
	for i, e := range elems {
		if e.key != "" {
			sels[i] = cue.Str(e.key)
		} else {
			sels[i] = cue.Index(e.index)
		}
	}
	def := at(root, sels)
	if !def.Exists() {
		return false
	}
	var x cue.Value
	switch v.Kind {
	case load.PlainString:
		x = sch.ctx.Encode(v.Text)
	case load.PlainInt:
		n, err := strconv.ParseInt(v.Text, 10, 64)
		if err != nil {
			return false
		}
		x = sch.ctx.Encode(n)
	case load.PlainFloat:
		// As CUE reads the number in the file: a float literal.
		x = sch.ctx.CompileString(v.Text)
		if x.Err() != nil || x.Kind() != cue.FloatKind {
			return false
		}
	default:
		return false
	}
	u := def.Unify(x)
	return u.Err() == nil && u.Validate(cue.Concrete(true)) == nil
}
