package validate

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	cueerrors "cuelang.org/go/cue/errors"

	"github.com/golemtrust/meshc/internal/diag"
)

// checker validates a data value against the schema one field at a time,
// so that every problem in a file is reported, each at its own position:
// CUE's own Validate stops at the first error in a struct and leaves out
// missing fields and unknown fields once some other error is found. It runs
// only when the fast path (one unification of the whole file) has failed.
//
// Along the way it builds the file's data without the invalid parts, with
// the schema's defaults filled in, so that the Go rules can still check
// what is valid and every error in the file is reported in one run.
type checker struct {
	sch  *schema
	file string    // the file being checked
	raw  cue.Value // the file's data, for positions
	// sub returns a different schema for a path (the mesh's defaults are
	// checked against #Defaults) and whether its required fields may be
	// left out.
	sub func(p []cue.Selector) (cue.Value, bool, bool)
	// mayOmit reports whether a required field may be missing (its value
	// may come from somewhere meshc cannot see).
	mayOmit func(p []cue.Selector) bool
	diags   diag.List
	// bad lists the paths with errors; the Go rules skip them.
	bad [][]cue.Selector
}

func (c *checker) errorf(pos diag.Pos, p []cue.Selector, format string, args ...any) {
	c.bad = append(c.bad, clonePath(p))
	c.diags.Errorf(pos, "%s: %s", dotted(p), fmt.Sprintf(format, args...))
}

// check walks the data value v at path p against the schema def. It
// returns the clean value (JSON-ready) and false when v is invalid.
func (c *checker) check(def, v cue.Value, p []cue.Selector, partial bool) (any, bool) {
	if s, part, ok := c.sub(p); ok {
		def, partial = s, part
	}
	kind := kindOf(v)
	if kind == cue.BottomKind {
		c.cueError(v.Err(), p)
		return nil, false
	}
	switch kind {
	case cue.StructKind:
		if def.IncompleteKind()&cue.StructKind == 0 {
			c.errorf(c.pos(p), p, "a map is not allowed; use %s", describe(def))
			return nil, false
		}
		return c.checkStruct(def, v, p, partial), true
	case cue.ListKind:
		if def.IncompleteKind()&cue.ListKind == 0 {
			c.errorf(c.pos(p), p, "a list is not allowed; use %s", describe(def))
			return nil, false
		}
		return c.checkList(def, v, p, partial)
	}
	if !v.IsConcrete() {
		c.errorf(c.valuePos(p), p, "%v is not a concrete value; use %s", v, describe(def))
		return nil, false
	}
	u := def.Unify(v)
	if err := u.Validate(cue.Concrete(true)); err != nil {
		c.errorf(c.valuePos(p), p, "%s is not allowed; use %s%s", show(v), describe(def), c.quoteHint(def, v))
		return nil, false
	}
	b, err := v.MarshalJSON()
	if err != nil {
		c.errorf(c.valuePos(p), p, "%s cannot be represented: %v", show(v), err)
		return nil, false
	}
	return json.RawMessage(b), true
}

func (c *checker) checkStruct(def, v cue.Value, p []cue.Selector, partial bool) map[string]any {
	out := map[string]any{}
	it, err := v.Fields()
	if err != nil {
		c.cueError(err, p)
		return out
	}
	present := map[string]bool{}
	for it.Next() {
		sel := it.Selector()
		name := sel.Unquoted()
		present[name] = true
		fp := appendPath(p, cue.Str(name))
		if !def.Allows(cue.Str(name)) {
			if s := c.unknown(def, fp, name, partial); s != "" {
				// "pod: did you mean pods?" says it all: no need to
				// add that pods is missing.
				present[s] = true
			}
			continue
		}
		if x, ok := c.check(childDef(def, cue.Str(name)), it.Value(), fp, partial); ok {
			out[name] = x
		}
	}
	if partial {
		return out
	}
	// Fields the data leaves out: the schema's default, or an error when
	// the field is required and has none.
	dit, err := def.Fields()
	if err != nil {
		return out
	}
	for dit.Next() {
		name := dit.Selector().Unquoted()
		if present[name] {
			continue
		}
		fp := appendPath(p, cue.Str(name))
		x, missing := defaultOf(dit.Value())
		if len(missing) == 0 {
			out[name] = x
			continue
		}
		if c.mayOmit != nil && c.mayOmit(fp) {
			continue
		}
		d := dit.Value()
		switch {
		case d.IncompleteKind() == cue.StructKind:
			c.errorf(c.posIn(p), fp, "missing required field; add it with %s", orAnd(missing, "and"))
		default:
			c.errorf(c.posIn(p), fp, "missing required field; set it to %s", describe(d))
		}
	}
	return out
}

// checkList checks each item; a list with an invalid item is left out of
// the clean data as a whole, so that the items after it keep their indices
// (and the Go rules their positions).
func (c *checker) checkList(def, v cue.Value, p []cue.Selector, partial bool) (any, bool) {
	it, err := v.List()
	if err != nil {
		c.cueError(err, p)
		return nil, false
	}
	out := []any{}
	ok := true
	for i := 0; it.Next(); i++ {
		fp := appendPath(p, cue.Index(i))
		d := childDef(def, cue.Index(i))
		if !d.Exists() {
			c.errorf(c.pos(fp), fp, "too many items; use %s", describe(def))
			ok = false
			continue
		}
		x, good := c.check(d, it.Value(), fp, partial)
		ok = ok && good
		out = append(out, x)
	}
	if !ok {
		c.bad = append(c.bad, clonePath(p))
		return nil, false
	}
	if err := def.Unify(anyList(v.Context(), len(out))).Err(); err != nil {
		// The items are fine on their own: the list's length is not.
		what := "this list"
		if len(out) == 0 {
			what = "an empty list"
		}
		c.errorf(c.pos(p), p, "%s is not allowed; use %s", what, describe(def))
		return nil, false
	}
	return out, true
}

// kindOf is a value's kind; a struct or list with an error somewhere inside
// counts as a struct or list (CUE reports it as an error as a whole).
func kindOf(v cue.Value) cue.Kind {
	k := v.IncompleteKind()
	if k != cue.BottomKind {
		return k
	}
	if _, err := v.Fields(); err == nil {
		return cue.StructKind
	}
	if _, err := v.List(); err == nil {
		return cue.ListKind
	}
	return k
}

// anyList is a list of n values of any kind, to check a list's length.
func anyList(ctx *cue.Context, n int) cue.Value {
	l := &ast.ListLit{}
	for range n {
		l.Elts = append(l.Elts, ast.NewIdent("_"))
	}
	return ctx.BuildExpr(l)
}

// unknown reports a field the schema does not allow, with the closest
// allowed name as a suggestion, which it returns.
func (c *checker) unknown(def cue.Value, p []cue.Selector, name string, partial bool) string {
	names := fieldNames(def)
	pos := c.pos(p)
	if len(names) == 0 {
		// A map whose keys follow a pattern, such as the mesh's revisions.
		c.errorf(pos, p, "%q is not allowed as a name here; use %s", name, describe(c.sch.name))
		return ""
	}
	if partial && len(p) == 2 && c.sch.cluster.Allows(cue.Str(name)) {
		c.errorf(pos, p, "cannot be set in defaults: name, network, server and namespaces are each cluster's own; set %s in the cluster files", name)
		return ""
	}
	if s := suggest(name, names); s != "" {
		c.errorf(pos, p, "unknown field %q; did you mean %q?", name, s)
		return s
	}
	c.errorf(pos, p, "unknown field %q; allowed fields: %s", name, strings.Join(names, ", "))
	return ""
}

// cueError reports an error CUE found in the data itself (two conflicting
// values in a CUE file, a reference to nothing, ...).
func (c *checker) cueError(err error, p []cue.Selector) {
	for _, e := range cueerrors.Errors(err) {
		format, args := e.Msg()
		pos := c.valuePos(p)
		for _, ip := range e.InputPositions() {
			if dp := diag.FromToken(ip); dp.File == c.file && dp.Line > 0 {
				pos = dp
				break
			}
		}
		c.errorf(pos, p, "%s", fmt.Sprintf(format, args...))
	}
}

// quoteHint suggests quotes when YAML read a number or boolean where the
// schema wants a string that the same text would satisfy (revision: 120).
func (c *checker) quoteHint(def, v cue.Value) string {
	k := v.IncompleteKind()
	if k&(cue.NumberKind|cue.BoolKind) == 0 || def.IncompleteKind()&cue.StringKind == 0 {
		return ""
	}
	text := literalText(v)
	if text == "" {
		return ""
	}
	if def.Unify(v.Context().Encode(text)).Validate(cue.Concrete(true)) != nil {
		return ""
	}
	return fmt.Sprintf("; YAML reads %s as a %s: write it in quotes, %q", text, kindWord(k), text)
}

func kindWord(k cue.Kind) string {
	if k&cue.BoolKind != 0 {
		return "boolean"
	}
	return "number"
}

// childDef returns the schema for a field or item of def.
func childDef(def cue.Value, sel cue.Selector) cue.Value {
	if sel.Type() == cue.IndexLabel {
		if d := def.LookupPath(cue.MakePath(sel)); d.Exists() {
			return d
		}
		return def.LookupPath(cue.MakePath(cue.AnyIndex))
	}
	for _, p := range []cue.Path{cue.MakePath(sel), cue.MakePath(sel).Optional(), cue.MakePath(cue.AnyString)} {
		if d := def.LookupPath(p); d.Exists() {
			return d
		}
	}
	// A pattern constraint other than [string]: the field takes its
	// constraint once it exists.
	return def.FillPath(cue.MakePath(sel), def.Context().CompileString("_")).LookupPath(cue.MakePath(sel))
}

// defaultOf returns the value a left-out field takes: the schema's default,
// for a struct the defaults of its fields. missing lists the fields that
// have none (the field itself when it is not a struct).
func defaultOf(d cue.Value) (any, []string) {
	if d.IncompleteKind() == cue.StructKind {
		out := map[string]any{}
		var missing []string
		it, err := d.Fields()
		if err != nil {
			return nil, []string{"?"}
		}
		for it.Next() {
			x, m := defaultOf(it.Value())
			if len(m) > 0 {
				missing = append(missing, it.Selector().Unquoted())
				continue
			}
			out[it.Selector().Unquoted()] = x
		}
		return out, missing
	}
	v, _ := d.Default()
	if !v.IsConcrete() || v.Validate(cue.Concrete(true)) != nil {
		return nil, []string{""}
	}
	b, err := v.MarshalJSON()
	if err != nil {
		return nil, []string{""}
	}
	return json.RawMessage(b), nil
}

// describe says in words what a schema constraint accepts.
func describe(def cue.Value) string {
	if s := allowed(def); s != "" {
		return s
	}
	switch k := def.IncompleteKind(); {
	case k == cue.StructKind:
		if names := fieldNames(def); len(names) > 0 {
			return "a map with the fields " + orAnd(names, "and")
		}
		return "a map"
	case k == cue.ListKind:
		return "a list"
	case k == cue.StringKind:
		return "a string"
	case k == cue.IntKind:
		return "a whole number"
	case k&cue.NumberKind != 0 && k&^cue.NumberKind == 0:
		return "a number"
	case k == cue.BoolKind:
		return "true or false"
	}
	return "a value of the right kind"
}

func orAnd(items []string, word string) string {
	items = append([]string(nil), items...)
	sort.Strings(items)
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " " + word + " " + items[len(items)-1]
}

func (c *checker) pos(p []cue.Selector) diag.Pos      { return posOf(c.raw, c.file, p...) }
func (c *checker) valuePos(p []cue.Selector) diag.Pos { return valuePosOf(c.raw, c.file, p...) }

// posIn is the position of the map at p in the checked file itself: a
// missing field is reported at the map that lacks it, and when that map
// comes from the mesh's defaults, at the nearest one in the file.
func (c *checker) posIn(p []cue.Selector) diag.Pos {
	for n := len(p); n > 0; n-- {
		v := c.raw.LookupPath(cue.MakePath(p[:n]...))
		if pos := diag.FromToken(v.Pos()); pos.Line > 0 && pos.File == c.file {
			return pos
		}
	}
	return diag.Pos{File: c.file, Line: 1, Col: 1}
}

// isBad reports whether p is at or under a path with a schema error.
func isBad(bad [][]cue.Selector, p []cue.Selector) bool {
	for _, b := range bad {
		if len(b) <= len(p) && equalPath(b, p[:len(b)]) {
			return true
		}
	}
	return false
}

func equalPath(a, b []cue.Selector) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].String() != b[i].String() {
			return false
		}
	}
	return true
}

func appendPath(p []cue.Selector, s ...cue.Selector) []cue.Selector {
	return append(p[:len(p):len(p)], s...)
}

func clonePath(p []cue.Selector) []cue.Selector { return append([]cue.Selector(nil), p...) }
