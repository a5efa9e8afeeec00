package validate

import (
	"crypto/sha256"
	"encoding/json"
	"path/filepath"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"

	"github.com/golemtrust/meshc/internal/load"
	"github.com/golemtrust/meshc/internal/mesh"
)

// The fast path validates a YAML cluster file in pieces: its head (every
// field but namespaces) against #Cluster, and each namespace entry against
// #Namespace, once per distinct entry text in the whole run. That is the
// same check as unifying the whole file with #Cluster, whose namespaces are
// a pattern ([string]: #Namespace) applied to each entry on its own, and
// no schema rule reaches across entries (rules across fields and files are
// Go, in rules.go, and run on every cluster). It pays off because CUE's
// cost grows with the size of what is unified, and because fleets repeat
// the same tenant namespaces on many clusters.
//
// The fast path only ever accepts: any problem at all (a parse error, a
// schema error, a Go rule's error or warning, a layout it does not know)
// sends the file down the full path (clusterFile), which reports every
// problem at its exact position. So a valid file is proven valid by the
// same CUE definitions and the same Go rules, and an invalid one gets the
// same messages it always did.

// worker is one validating goroutine's CUE state. A cue.Context is not safe
// for concurrent use, and one context for the whole mesh keeps every
// value alive, so each worker has its own and renews it now and then.
type worker struct {
	info     *meshInfo
	memo     *entryMemo
	sch      *schema
	defaults cue.Value // the mesh file's defaults, built in sch.ctx
	uses     int
}

// renewAfter bounds how many cluster heads one context evaluates before it
// is replaced: interned labels and evaluation caches live as long as it.
const renewAfter = 64

func (w *worker) schema() (*schema, bool) {
	if w.sch == nil || w.uses >= renewAfter {
		sch, err := newSchema(cuecontext.New())
		if err != nil {
			return nil, false
		}
		w.adopt(sch)
	}
	w.uses++
	return w.sch, true
}

// adopt makes sch, in a context no other goroutine uses any more, the
// worker's.
func (w *worker) adopt(sch *schema) {
	w.sch, w.uses, w.defaults = sch, 0, cue.Value{}
	if w.info.file != nil && w.info.file.AST != nil {
		w.defaults = w.info.defaults(sch.ctx)
	}
}

// entryMemo remembers what validating a namespace entry's text gave, for
// the whole run. The text determines the result: the entry's name and
// decoded value with the schema's defaults, or that it is not valid.
type entryMemo struct {
	mu     sync.Mutex
	m      map[string]*entryVerdict
	shapes *shapes    // of namespace entries
	heads  *shapes    // of cluster heads (fastHead)
	store  EntryStore // nil: nothing from or for other runs
}

type entryVerdict struct {
	name string
	doc  namespaceDoc // shared by every cluster with this text: read only
	ok   bool
	key  [32]byte // sha256 of the text
	// fresh: decided in this run, not taken from the store; uses counts
	// the cluster files that have it (under entryMemo.mu).
	fresh bool
	uses  int
}

// EntryStore keeps namespace entry verdicts across runs of the same meshc
// binary (the build cache does): the result of unifying an entry's text
// with #Namespace depends on nothing else. Only valid entries are kept.
// Methods are called from several goroutines.
type EntryStore interface {
	// Lookup returns a verdict an earlier run recorded for the entry
	// text with this hash, as its name and decoded value in JSON.
	Lookup(key [32]byte) (name string, doc []byte, ok bool)
	// Record keeps a valid entry's verdict. It is called for entries
	// that more than one cluster file has: a verdict saves work only
	// where it is used again, and a fleet of distinct tenants has tens
	// of thousands that are not.
	Record(key [32]byte, name string, doc []byte)
	// Use says the cluster file at path has the entry with this hash.
	Use(path string, key [32]byte)
}

func newEntryMemo(store EntryStore) *entryMemo {
	return &entryMemo{m: map[string]*entryVerdict{}, shapes: newShapes(namespaceRoot), heads: newShapes(clusterRoot), store: store}
}

func (m *entryMemo) get(sch *schema, path string, text []byte) *entryVerdict {
	m.mu.Lock()
	v, ok := m.m[string(text)]
	m.mu.Unlock()
	if !ok {
		v = m.verdict(sch, path, text)
		m.mu.Lock()
		if first, raced := m.m[string(text)]; raced {
			v = first // another worker decided it meanwhile: one verdict per text
		} else {
			m.m[string(text)] = v
		}
		m.mu.Unlock()
	}
	if v.ok && m.store != nil {
		m.store.Use(path, v.key)
		m.mu.Lock()
		v.uses++
		again := v.fresh && v.uses == 2
		m.mu.Unlock()
		if again {
			// As JSON of the decoded value: Lookup's json.Unmarshal
			// gives it back as it is (TestEntryDocRoundTrip).
			if doc, err := json.Marshal(v.doc); err == nil {
				m.store.Record(v.key, v.name, doc)
			}
		}
	}
	return v
}

func (m *entryMemo) verdict(sch *schema, path string, text []byte) *entryVerdict {
	key := sha256.Sum256(text)
	if m.store != nil {
		if name, doc, ok := m.store.Lookup(key); ok {
			v := &entryVerdict{name: name, ok: true, key: key}
			if json.Unmarshal(doc, &v.doc) == nil {
				return v
			}
		}
	}
	v := m.decide(sch, path, text)
	v.key, v.fresh = key, true
	return v
}

// decide decides an entry by its shape and scalars when it can, else
// unifies it whole.
func (m *entryMemo) decide(sch *schema, path string, text []byte) *entryVerdict {
	if name, pv, t, whole, ok := m.shapes.decide(sch, path, text); ok {
		v := &entryVerdict{name: name, ok: true}
		if whole == nil { // decided by its shape, not unified whole as the first of it
			if v.doc, ok = decodeNamespace(pv, t); ok {
				return v
			}
			whole = render(nil, pv, t)
		}
		v.doc = namespaceDoc{}
		if json.Unmarshal(whole, &v.doc) == nil {
			return v
		}
	}
	v, _ := checkEntry(sch, path, text)
	return v
}

// checkEntry parses one namespace entry on its own and unifies its value
// with #Namespace.
func checkEntry(sch *schema, path string, text []byte) (*entryVerdict, []byte) {
	bad := &entryVerdict{}
	f, diags := load.Parse(path, text)
	if f == nil || len(diags) > 0 {
		return bad, nil
	}
	raw := sch.ctx.BuildFile(f.AST)
	if raw.Err() != nil {
		return bad, nil
	}
	it, err := raw.Fields(cue.Optional(true), cue.Definitions(true), cue.Hidden(true))
	if err != nil || !it.Next() {
		return bad, nil
	}
	sel, value := it.Selector(), it.Value()
	if it.Next() || sel.LabelType() != cue.StringLabel || sel.IsConstraint() {
		return bad, nil
	}
	u := sch.namespace.Unify(value)
	if u.Err() != nil || u.Validate(cue.Concrete(true)) != nil {
		return bad, nil
	}
	doc, err := u.MarshalJSON()
	if err != nil {
		return bad, nil
	}
	v := &entryVerdict{name: sel.Unquoted(), ok: true}
	if json.Unmarshal(doc, &v.doc) != nil {
		return bad, nil
	}
	return v, doc
}

// headByCUE unifies a cluster file's head (the file without namespaces)
// with #Cluster, the mesh's defaults filled in, and returns its value as
// JSON; false when it is not valid.
func headByCUE(w *worker, sch *schema, path string, head []byte) ([]byte, bool) {
	hf, diags := load.Parse(path, head)
	if hf == nil || len(diags) > 0 {
		return nil, false
	}
	raw := sch.ctx.BuildFile(hf.AST)
	if raw.Err() != nil || kindOf(raw) != cue.StructKind || raw.LookupPath(cue.ParsePath("namespaces")).Exists() {
		return nil, false
	}
	if w.defaults.Exists() && kindOf(w.defaults) == cue.StructKind {
		patch := sch.ctx.CompileString("{}")
		withDefaults(raw, w.defaults, sch.defaults, nil, &patch)
		raw = raw.Unify(patch)
	}
	u := sch.cluster.Unify(raw)
	if u.Err() != nil || u.Validate(cue.Concrete(true)) != nil {
		return nil, false
	}
	js, err := u.MarshalJSON()
	return js, err == nil
}

// fastHead decides a cluster file's head by its shape and scalars (see
// shapes) when it is in load.ParsePlainMap's subset, and decodes it into
// doc as headByCUE's JSON would be; false when it cannot, and the head is
// then unified whole. The mesh's defaults are merged in first, as
// withDefaults does: the value decided is the one CUE would unify.
func fastHead(w *worker, sch *schema, path string, head []byte, doc *clusterDoc) bool {
	if !w.info.headsByShape {
		return false
	}
	pv, ok := load.ParsePlainMap(head)
	if !ok || pv.Has("namespaces") {
		return false
	}
	v := mergeDefaults(pv, w.info.headDefaults)
	t, whole, ok := w.memo.heads.decideValue(sch, v, func() ([]byte, bool) { return headByCUE(w, sch, path, head) })
	if !ok {
		return false
	}
	if whole == nil { // decided by its shape
		whole = render(nil, v, t)
	}
	var d clusterDoc // not doc: a failed decode must leave it as it was
	if json.Unmarshal(whole, &d) != nil {
		return false
	}
	*doc = d
	return true
}

// fastCluster validates a cluster file on the fast path. ok is false when
// the file must take the full path instead; the result is then unset.
func fastCluster(w *worker, f *load.File) (c *mesh.Cluster, ok bool) {
	if ext := filepath.Ext(f.Path); ext != ".yaml" && ext != ".yml" || w.info.file == nil {
		return nil, false
	}
	head, entries, ok := load.SplitNamespaces(f.Data)
	if !ok || len(entries) > load.MaxEntries {
		return nil, false
	}
	sch, ok := w.schema()
	if !ok {
		return nil, false
	}
	var doc clusterDoc
	if !fastHead(w, sch, f.Path, head, &doc) {
		js, ok := headByCUE(w, sch, f.Path, head)
		if !ok || json.Unmarshal(js, &doc) != nil {
			return nil, false
		}
	}
	doc.Namespaces = make(map[string]namespaceDoc, len(entries))
	for _, e := range entries {
		v := w.memo.get(sch, f.Path, e.Text)
		if !v.ok {
			return nil, false
		}
		if _, dup := doc.Namespaces[v.name]; dup {
			return nil, false
		}
		doc.Namespaces[v.name] = v.doc
	}
	// Positions are needed only for diagnostics; any diagnostic at all
	// sends the file down the full path, which has them.
	r := &rules{info: w.info, file: f.Path, stem: f.Stem, name: allowed(sch.name)}
	c = r.cluster(&doc)
	if len(r.diags) > 0 {
		return nil, false
	}
	return c, true
}
