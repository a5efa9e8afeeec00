package jsonschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"cuelang.org/go/cue"
)

const defsRef = "#/$defs/"

// partialSuffix names the variant of a definition in which nothing is
// required, when a file needs both variants.
const partialSuffix = "Partial"

// walker post-processes a generated schema, walking it together with the
// CUE values it was generated from.
type walker struct {
	g *generator
	// partialAt is for the root only: see fileSpec.partialAt.
	partialAt func(field string) bool
}

// walk fixes node n, the schema of v. In a partial schema nothing is
// required.
func (w *walker) walk(n node, v vals, partial bool) error {
	partialAt := w.partialAt
	w.partialAt = nil // the root's fields only
	if ref, ok := n["$ref"].(string); ok {
		if partialAt != nil {
			return fmt.Errorf("the root is a reference (%s): meshc cannot tell what the mesh's defaults provide", ref)
		}
		name, ok := strings.CutPrefix(ref, defsRef)
		if !ok {
			return fmt.Errorf("unexpected reference %s", ref)
		}
		out, err := w.g.def(name, partial)
		if err != nil {
			return err
		}
		n["$ref"] = defsRef + out
	}
	if props, ok := n["properties"].(node); ok {
		for _, name := range sortedKeys(props) {
			child, ok := props[name].(node)
			if !ok {
				continue
			}
			cv := v.field(name)
			if !cv.orig.Exists() {
				return fmt.Errorf("property %s: not in the CUE schema", name)
			}
			if err := w.prune(child, cv); err != nil {
				return err
			}
			if err := w.walk(child, cv, partial || partialAt != nil && partialAt(name)); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			annotate(child, cv.orig)
		}
		required(n, v.orig, partial, partialAt)
	}
	if err := w.patternKeys(n, v); err != nil {
		return err
	}
	if pn, ok := n["propertyNames"].(node); ok {
		if err := w.walk(pn, vals{}, partial); err != nil {
			return err
		}
	}
	if ap, ok := n["additionalProperties"].(node); ok {
		if err := w.walk(ap, v.anyString(), partial); err != nil {
			return err
		}
	}
	if pp, ok := n["patternProperties"].(node); ok {
		for _, k := range sortedKeys(pp) {
			if err := w.walk(pp[k].(node), v.anyString(), partial); err != nil {
				return err
			}
		}
	}
	if items, ok := n["items"].(node); ok {
		if err := w.walk(items, v.anyIndex(), partial); err != nil {
			return err
		}
	}
	if prefix, ok := n["prefixItems"].([]any); ok {
		for i, it := range prefix {
			if err := w.walk(it.(node), v.index(i), partial); err != nil {
				return err
			}
		}
	}
	for _, k := range []string{"allOf", "anyOf", "oneOf"} {
		arms, _ := n[k].([]any)
		for _, a := range arms {
			if err := w.walk(a.(node), v, partial); err != nil {
				return err
			}
		}
	}
	if not, ok := n["not"].(node); ok {
		return w.walk(not, v, partial)
	}
	return nil
}

// required sets the required fields of a struct's schema from the CUE
// schema as written: a field is required when it is required (name!) or
// regular without a default, and not in a partial schema or a field the
// mesh's defaults can provide. (The generator ran without defaults, so its
// list names every regular field.)
func required(n node, v cue.Value, partial bool, partialAt func(string) bool) {
	delete(n, "required")
	if partial {
		return
	}
	props, _ := n["properties"].(node)
	it, err := v.Fields(cue.Optional(true))
	if err != nil {
		return
	}
	var req []any
	for it.Next() {
		sel := it.Selector()
		name := sel.Unquoted()
		if _, ok := props[name]; !ok || partialAt != nil && partialAt(name) {
			continue
		}
		switch sel.ConstraintType() {
		case cue.RequiredConstraint:
		case cue.OptionalConstraint:
			continue
		default:
			if it.Value().Validate(cue.Concrete(true)) == nil {
				continue // concrete or defaulted: may be left out
			}
		}
		req = append(req, name)
	}
	sort.Slice(req, func(i, j int) bool { return req[i].(string) < req[j].(string) })
	if len(req) > 0 {
		n["required"] = req
	}
}

// prune drops the default's own arm from a field's anyOf when the other
// arms accept the default anyway: *"STRICT" | #MTLSMode is #MTLSMode with
// a default, not "STRICT" or #MTLSMode.
func (w *walker) prune(n node, v vals) error {
	arms, ok := n["anyOf"].([]any)
	if !ok {
		return nil
	}
	d, ok := defaultOf(v.orig)
	if !ok || !v.rest.Exists() || v.rest.Unify(d).Validate(cue.Concrete(true)) != nil {
		return nil
	}
	dj, err := d.MarshalJSON()
	if err != nil {
		return err
	}
	var keep []any
	for _, a := range arms {
		an := a.(node)
		if c, ok := an["const"]; ok && len(an) == 1 {
			cj, err := json.Marshal(c)
			if err != nil {
				return err
			}
			if jsonEqual(cj, dj) {
				continue
			}
		}
		keep = append(keep, a)
	}
	if len(keep) == len(arms) {
		return nil
	}
	n["anyOf"] = keep
	return nil
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return bytes.Equal(ja, jb)
}

// defaultOf returns a field's default, when it has one and it is a plain
// value (not a struct or list).
func defaultOf(v cue.Value) (cue.Value, bool) {
	d, ok := v.Default()
	if !ok || !d.IsConcrete() {
		return cue.Value{}, false
	}
	switch d.Kind() {
	case cue.StringKind, cue.IntKind, cue.FloatKind, cue.NumberKind, cue.BoolKind, cue.NullKind:
		return d, true
	}
	return cue.Value{}, false
}

// annotate sets a field's description (its doc comment and its @allowed
// attribute) and its default.
func annotate(n node, v cue.Value) {
	if desc := describe(v); desc != "" {
		n["description"] = desc
	}
	if d, ok := defaultOf(v); ok {
		if data, err := d.MarshalJSON(); err == nil {
			if x, err := decodeAny(data); err == nil {
				n["default"] = x
			}
		}
	}
}

// describe is a value's doc comment and @allowed attribute, in words.
func describe(v cue.Value) string {
	var parts []string
	for _, d := range v.Doc() {
		if t := unwrap(d.Text()); t != "" {
			parts = append(parts, t)
		}
	}
	if a := v.Attribute("allowed"); a.Err() == nil {
		if s, err := a.String(0); err == nil && s != "" {
			parts = append(parts, "Allowed: "+s+".")
		}
	}
	return strings.Join(parts, "\n\n")
}

// unwrap joins a comment's lines into paragraphs: an editor wraps them.
func unwrap(text string) string {
	var paras []string
	for _, p := range strings.Split(strings.TrimSpace(text), "\n\n") {
		paras = append(paras, strings.Join(strings.Fields(p), " "))
	}
	return strings.Join(paras, "\n\n")
}

func decodeAny(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var x any
	err := dec.Decode(&x)
	return x, err
}

// patternKeys gives a map whose keys the CUE schema constrains with
// something other than a regular expression ([#Name]: #Version) the
// propertyNames and additionalProperties the generator leaves out (it
// writes additionalProperties: true).
func (w *walker) patternKeys(n node, v vals) error {
	if n["additionalProperties"] != true || n["patternProperties"] != nil || n["propertyNames"] != nil {
		return nil
	}
	it, err := v.star.Fields(cue.Optional(true), cue.Patterns(true))
	if err != nil {
		return nil
	}
	var key, val []cue.Value
	for it.Next() {
		if it.Selector().ConstraintType() == cue.PatternConstraint {
			key = append(key, it.Selector().Pattern())
			val = append(val, it.Value())
		}
	}
	if len(key) != 1 {
		return nil // none, or more than JSON Schema can say: left open
	}
	ks, err := w.g.gen(key[0])
	if err != nil {
		return err
	}
	delete(ks, "description")
	vs, err := w.g.gen(val[0])
	if err != nil {
		return err
	}
	n["propertyNames"] = ks
	n["additionalProperties"] = vs
	return nil
}

// def returns the name under which the processed definition is in g.out:
// the definition itself, or its partial variant when the definition
// requires something and the reference is from a partial schema.
func (g *generator) def(name string, partial bool) (string, error) {
	if err := g.process(name, name, false); err != nil {
		return "", err
	}
	if !partial || !g.requires(name, map[string]bool{}) {
		return name, nil
	}
	out := name + partialSuffix
	if _, ok := g.raw[out]; ok {
		return "", fmt.Errorf("definition %s clashes with the partial variant of %s", out, name)
	}
	return out, g.process(name, out, true)
}

// process post-processes definition name into g.out[out].
func (g *generator) process(name, out string, partial bool) error {
	if _, ok := g.out[out]; ok || g.busy[out] {
		return nil
	}
	raw, ok := g.raw[name]
	if !ok {
		return fmt.Errorf("no definition %s", name)
	}
	g.busy[out] = true
	defer delete(g.busy, out)
	n := clone(raw).(node)
	p := g.paths[name]
	v := g.roots.lookup(func(x cue.Value) cue.Value { return x.LookupPath(p) })
	w := &walker{g: g}
	if err := w.walk(n, v, partial); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if desc := describe(v.orig); desc != "" {
		n["description"] = desc
	}
	g.out[out] = n
	return nil
}

// requires reports whether the processed definition requires a field,
// itself or through the definitions it refers to.
func (g *generator) requires(name string, seen map[string]bool) bool {
	if seen[name] {
		return false
	}
	seen[name] = true
	found := false
	visit(g.out[name], func(n node) {
		if _, ok := n["required"]; ok {
			found = true
		}
		if ref, ok := n["$ref"].(string); ok && g.requires(strings.TrimPrefix(ref, defsRef), seen) {
			found = true
		}
	})
	return found
}

// reachable returns the processed definitions root refers to. A partial
// variant whose definition is not itself used takes the definition's name.
func (g *generator) reachable(root node) node {
	used := map[string]bool{}
	var mark func(n node)
	mark = func(n node) {
		visit(n, func(x node) {
			if ref, ok := x["$ref"].(string); ok {
				name := strings.TrimPrefix(ref, defsRef)
				if !used[name] {
					used[name] = true
					mark(g.out[name])
				}
			}
		})
	}
	mark(root)
	rename := map[string]string{}
	for name := range used {
		if base, ok := strings.CutSuffix(name, partialSuffix); ok && g.raw[base] != nil && !used[base] {
			rename[name] = base
		}
	}
	defs := node{}
	for name := range used {
		out := name
		if r, ok := rename[name]; ok {
			out = r
		}
		defs[out] = g.out[name]
	}
	if len(rename) > 0 {
		fix := func(x node) {
			if ref, ok := x["$ref"].(string); ok {
				if r, ok := rename[strings.TrimPrefix(ref, defsRef)]; ok {
					x["$ref"] = defsRef + r
				}
			}
		}
		visit(root, fix)
		for _, d := range defs {
			visit(d.(node), fix)
		}
	}
	return defs
}

// visit calls f on n and every schema object inside it.
func visit(n node, f func(node)) {
	if n == nil {
		return
	}
	f(n)
	for _, k := range sortedKeys(n) {
		switch x := n[k].(type) {
		case node:
			if k == "properties" || k == "patternProperties" || k == "$defs" || k == "definitions" {
				for _, kk := range sortedKeys(x) {
					if c, ok := x[kk].(node); ok {
						visit(c, f)
					}
				}
				continue
			}
			if k == "const" || k == "default" {
				continue
			}
			visit(x, f)
		case []any:
			if k == "enum" || k == "required" {
				continue
			}
			for _, e := range x {
				if c, ok := e.(node); ok {
					visit(c, f)
				}
			}
		}
	}
}

func clone(x any) any {
	switch x := x.(type) {
	case node:
		c := make(node, len(x))
		for k, v := range x {
			c[k] = clone(v)
		}
		return c
	case []any:
		c := make([]any, len(x))
		for i, v := range x {
			c[i] = clone(v)
		}
		return c
	}
	return x
}

func sortedKeys(n node) []string {
	keys := make([]string, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
