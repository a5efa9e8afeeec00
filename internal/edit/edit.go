// Package edit changes fields of a YAML or JSON file in place, keeping
// every other byte: comments, key order, quoting, indentation and the
// layout of untouched lines.
//
// kyaml (sigs.k8s.io/kustomize/kyaml) finds the fields: its nodes carry the
// line and column of every key and value. Printing the edited node tree
// back would reformat the file (kyaml re-indents sequences, drops quotes
// and prints JSON as flow YAML), so each change is spliced into the
// original bytes at those positions instead. The result is then checked
// against kyaml's own edit (SetField or Clear through Pipe) of the same
// tree: both must parse to the same data, or Apply fails and nothing is
// written.
package edit

import (
	"bytes"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Change sets one scalar field, or removes it (Value nil).
type Change struct {
	// Path is the field's path from the top of the file.
	Path  []string
	Value *string
	// After lists the siblings a new field goes after, the first present
	// winning; with none present it becomes its mapping's first field.
	After []string
}

func (c Change) String() string {
	if c.Value == nil {
		return "remove " + strings.Join(c.Path, ".")
	}
	return fmt.Sprintf("set %s: %q", strings.Join(c.Path, "."), *c.Value)
}

// Apply returns data with the changes made. json says the file is JSON: new
// keys are quoted and the file stays JSON.
func Apply(data []byte, json bool, changes []Change) ([]byte, error) {
	out := data
	for _, c := range changes {
		if len(c.Path) == 0 {
			return nil, fmt.Errorf("an edit needs a field path")
		}
		var err error
		// Parsed again for each change, so positions are those of the
		// bytes being changed.
		if out, err = applyOne(out, json, c); err != nil {
			return nil, fmt.Errorf("%s: %w", c, err)
		}
	}
	if err := verify(data, out, changes); err != nil {
		return nil, err
	}
	return out, nil
}

// verify checks the spliced bytes against kyaml's edit of the parsed tree.
func verify(before, after []byte, changes []Change) error {
	want, err := yaml.Parse(string(before))
	if err != nil {
		return err
	}
	for _, c := range changes {
		parent, key := c.Path[:len(c.Path)-1], c.Path[len(c.Path)-1]
		if c.Value == nil {
			_, err = want.Pipe(yaml.Lookup(parent...), yaml.Clear(key))
		} else {
			_, err = want.Pipe(yaml.LookupCreate(yaml.MappingNode, parent...), yaml.SetField(key, yaml.NewStringRNode(*c.Value)))
		}
		if err != nil {
			return err
		}
	}
	got, err := yaml.Parse(string(after))
	if err != nil {
		return fmt.Errorf("the edited file does not parse: %w", err)
	}
	wm, err1 := want.Map()
	gm, err2 := got.Map()
	if err1 != nil || err2 != nil || !reflect.DeepEqual(wm, gm) {
		return fmt.Errorf("the edited file does not hold the intended change; edit it by hand")
	}
	return nil
}

// file is the bytes being edited with their line starts.
type file struct {
	data  []byte
	lines []int // byte offset of each line's start; lines[0] is line 1
	json  bool
}

func newFile(data []byte, json bool) *file {
	f := &file{data: data, lines: []int{0}, json: json}
	for i, b := range data {
		if b == '\n' {
			f.lines = append(f.lines, i+1)
		}
	}
	return f
}

// offset converts a node's 1-based line and (rune) column to a byte offset.
func (f *file) offset(line, col int) (int, error) {
	if line < 1 || line > len(f.lines) {
		return 0, fmt.Errorf("no line %d", line)
	}
	off := f.lines[line-1]
	for c := 1; c < col; c++ {
		if off >= len(f.data) || f.data[off] == '\n' {
			return 0, fmt.Errorf("no column %d on line %d", col, line)
		}
		_, size := utf8.DecodeRune(f.data[off:])
		off += size
	}
	return off, nil
}

func (f *file) lineEnd(off int) int {
	if i := bytes.IndexByte(f.data[off:], '\n'); i >= 0 {
		return off + i + 1
	}
	return len(f.data)
}

func (f *file) splice(start, end int, text string) []byte {
	out := make([]byte, 0, len(f.data)-(end-start)+len(text))
	out = append(out, f.data[:start]...)
	out = append(out, text...)
	return append(out, f.data[end:]...)
}

// start is where a node's text begins.
func (f *file) start(n *yaml.Node) (int, error) { return f.offset(n.Line, n.Column) }

// end is where a scalar's or flow collection's text ends.
func (f *file) end(n *yaml.Node) (int, error) {
	s, err := f.start(n)
	if err != nil {
		return 0, err
	}
	switch {
	case n.Kind == yaml.ScalarNode && n.Style&yaml.DoubleQuotedStyle != 0:
		for i := s + 1; i < len(f.data); i++ {
			switch f.data[i] {
			case '\\':
				i++
			case '"':
				return i + 1, nil
			}
		}
	case n.Kind == yaml.ScalarNode && n.Style&yaml.SingleQuotedStyle != 0:
		for i := s + 1; i < len(f.data); i++ {
			if f.data[i] == '\'' {
				if i+1 < len(f.data) && f.data[i+1] == '\'' {
					i++
					continue
				}
				return i + 1, nil
			}
		}
	case n.Kind == yaml.ScalarNode && n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) == 0:
		if bytes.HasPrefix(f.data[s:], []byte(n.Value)) {
			return s + len(n.Value), nil
		}
	case (n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) && n.Style&yaml.FlowStyle != 0:
		return f.closing(s)
	}
	return 0, fmt.Errorf("line %d: a value meshc cannot edit in place (a multi-line or block value)", n.Line)
}

// closing finds the end of the flow collection that opens at s.
func (f *file) closing(s int) (int, error) {
	depth := 0
	for i := s; i < len(f.data); i++ {
		switch f.data[i] {
		case '"':
			for i++; i < len(f.data) && f.data[i] != '"'; i++ {
				if f.data[i] == '\\' {
					i++
				}
			}
		case '\'':
			for i++; i < len(f.data) && f.data[i] != '\''; i++ {
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return i + 1, nil
			}
		}
	}
	return 0, fmt.Errorf("an unclosed flow collection")
}

func (f *file) key(k string) string {
	if f.json || !plainKey(k) {
		return strconv.Quote(k)
	}
	return k
}

func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// lookup walks mapping keys from the document's top; it returns the key
// and value nodes of the last one (key nil for the top).
func lookup(root *yaml.Node, path []string) (key, value *yaml.Node, err error) {
	value = root
	for i, p := range path {
		if value.Kind != yaml.MappingNode {
			return nil, nil, fmt.Errorf("%s is not a map", strings.Join(path[:i], "."))
		}
		k, v := pair(value, p)
		if v == nil {
			return nil, nil, nil
		}
		key, value = k, v
	}
	return key, value, nil
}

// pair finds a key in a mapping node.
func pair(m *yaml.Node, key string) (k, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

func index(m *yaml.Node, key string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return i
		}
	}
	return -1
}

func applyOne(data []byte, json bool, c Change) ([]byte, error) {
	rn, err := yaml.Parse(string(data))
	if err != nil {
		return nil, err
	}
	f := newFile(data, json)
	parentPath, name := c.Path[:len(c.Path)-1], c.Path[len(c.Path)-1]
	pkey, m, err := lookup(rn.YNode(), parentPath)
	if err != nil {
		return nil, err
	}
	if m == nil {
		if c.Value == nil {
			return data, nil // nothing to remove
		}
		return nil, fmt.Errorf("%s is not in the file", strings.Join(parentPath, "."))
	}
	if m.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s is not a map", strings.Join(parentPath, "."))
	}
	i := index(m, name)
	flow := m.Style&yaml.FlowStyle != 0
	switch {
	case i >= 0 && c.Value != nil:
		v := m.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d: not a single value", v.Line)
		}
		s, err := f.start(v)
		if err != nil {
			return nil, err
		}
		e, err := f.end(v)
		if err != nil {
			return nil, err
		}
		return f.splice(s, e, strconv.Quote(*c.Value)), nil
	case i < 0 && c.Value == nil:
		return data, nil
	case c.Value == nil && flow:
		return f.removeFlow(m, i)
	case c.Value == nil:
		return f.removeBlock(pkey, m, i)
	case flow:
		return f.insertFlow(m, name, *c.Value, c.After)
	}
	return f.insertBlock(m, name, *c.Value, c.After)
}

// anchor is the sibling a new field goes after, or -1.
func anchor(m *yaml.Node, after []string) int {
	for _, a := range after {
		if i := index(m, a); i >= 0 {
			return i
		}
	}
	return -1
}

func (f *file) insertBlock(m *yaml.Node, name, value string, after []string) ([]byte, error) {
	if len(m.Content) == 0 {
		return nil, fmt.Errorf("line %d: an empty block map", m.Line)
	}
	entry := f.key(name) + ": " + strconv.Quote(value)
	if a := anchor(m, after); a >= 0 && m.Content[a+1].Kind == yaml.ScalarNode {
		k, v := m.Content[a], m.Content[a+1]
		e, err := f.end(v)
		if err == nil && v.Line == k.Line && !bytes.ContainsRune(f.data[f.lines[k.Line-1]:e], '\n') {
			at := f.lineEnd(e)
			text := strings.Repeat(" ", k.Column-1) + entry + "\n"
			if at == len(f.data) && (at == 0 || f.data[at-1] != '\n') {
				text = "\n" + text[:len(text)-1]
			}
			return f.splice(at, at, text), nil
		}
	}
	first := m.Content[0]
	s, err := f.start(first)
	if err != nil {
		return nil, err
	}
	ls := f.lines[first.Line-1]
	if strings.TrimLeft(string(f.data[ls:s]), " ") != "" {
		return nil, fmt.Errorf("line %d: a map that does not start on a line of its own", first.Line)
	}
	return f.splice(ls, ls, string(f.data[ls:s])+entry+"\n"), nil
}

func (f *file) insertFlow(m *yaml.Node, name, value string, after []string) ([]byte, error) {
	entry := f.key(name) + ": " + strconv.Quote(value)
	if a := anchor(m, after); a >= 0 {
		e, err := f.end(m.Content[a+1])
		if err != nil {
			return nil, err
		}
		if indent, own := f.ownLine(m.Content[a]); own {
			// A map written one entry per line gets a line of its own.
			return f.splice(e, e, ",\n"+indent+entry), nil
		}
		return f.splice(e, e, ", "+entry), nil
	}
	if len(m.Content) > 0 {
		s, err := f.start(m.Content[0])
		if err != nil {
			return nil, err
		}
		if indent, own := f.ownLine(m.Content[0]); own {
			return f.splice(s, s, entry+",\n"+indent), nil
		}
		return f.splice(s, s, entry+", "), nil
	}
	s, err := f.start(m)
	if err != nil || s >= len(f.data) || f.data[s] != '{' {
		return nil, fmt.Errorf("line %d: cannot find the map's opening brace", m.Line)
	}
	return f.splice(s+1, s+1, entry), nil
}

// ownLine reports whether a key starts its line, and the indentation
// before it.
func (f *file) ownLine(k *yaml.Node) (string, bool) {
	s, err := f.start(k)
	if err != nil {
		return "", false
	}
	indent := string(f.data[f.lines[k.Line-1]:s])
	return indent, strings.TrimLeft(indent, " \t") == ""
}

func (f *file) removeFlow(m *yaml.Node, i int) ([]byte, error) {
	ks, err := f.start(m.Content[i])
	if err != nil {
		return nil, err
	}
	ve, err := f.end(m.Content[i+1])
	if err != nil {
		return nil, err
	}
	switch {
	case i+2 < len(m.Content): // up to the next key
		ns, err := f.start(m.Content[i+2])
		if err != nil {
			return nil, err
		}
		return f.splice(ks, ns, ""), nil
	case i > 0: // from the end of the previous value
		pe, err := f.end(m.Content[i-1])
		if err != nil {
			return nil, err
		}
		return f.splice(pe, ve, ""), nil
	}
	// The only entry: leave {}.
	s, err := f.start(m)
	if err != nil || s >= len(f.data) || f.data[s] != '{' {
		return nil, fmt.Errorf("line %d: cannot find the map's opening brace", m.Line)
	}
	e, err := f.closing(s)
	if err != nil {
		return nil, err
	}
	return f.splice(s+1, e-1, ""), nil
}

// removeBlock deletes a field's line. A comment at its end stays, on a
// line of its own; a map left empty becomes {}.
func (f *file) removeBlock(pkey, m *yaml.Node, i int) ([]byte, error) {
	k, v := m.Content[i], m.Content[i+1]
	if v.Kind != yaml.ScalarNode {
		return nil, fmt.Errorf("line %d: only a single value can be removed", v.Line)
	}
	ve, err := f.end(v)
	if err != nil {
		return nil, err
	}
	ks, err := f.start(k)
	if err != nil {
		return nil, err
	}
	ls := f.lines[k.Line-1]
	if strings.TrimLeft(string(f.data[ls:ks]), " ") != "" {
		return nil, fmt.Errorf("line %d: a field that does not start its line", k.Line)
	}
	le := f.lineEnd(ve)
	keep := ""
	if rest := strings.TrimSpace(string(f.data[ve:le])); strings.HasPrefix(rest, "#") {
		keep = string(f.data[ls:ks]) + rest + "\n"
	} else if rest != "" {
		return nil, fmt.Errorf("line %d: more than the field on its line", k.Line)
	}
	out := f.splice(ls, le, keep)
	if len(m.Content) > 2 || pkey == nil {
		return out, nil
	}
	// The map is now empty: give its key the value {} (a key with no
	// value is null, which a map field does not accept).
	g := newFile(out, f.json)
	ke, err := g.end(pkey)
	if err != nil {
		return nil, err
	}
	colon := bytes.IndexByte(g.data[ke:], ':')
	if colon < 0 {
		return nil, fmt.Errorf("line %d: no colon after the key", pkey.Line)
	}
	at := ke + colon + 1
	return g.splice(at, at, " {}"), nil
}
