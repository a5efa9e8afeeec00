package load

import "strings"

// Plain is a value of the plain YAML subset that ParsePlainEntry reads:
// a map, a list, a string or a whole number.
type Plain struct {
	Kind PlainKind
	Text string   // a String's value; an Int's decimal digits
	Keys []string // a Map's keys, in the order written
	Vals []*Plain // a Map's values (Keys[i]: Vals[i]) or a List's items
}

// PlainKind is the kind of a Plain value.
type PlainKind byte

const (
	PlainMap    PlainKind = 'm'
	PlainList   PlainKind = 'l'
	PlainString PlainKind = 's'
	PlainInt    PlainKind = 'i'
	// PlainFloat is a number with a fraction or exponent, as JSON writes
	// it. The parsers here never return one (YAML readers disagree on
	// such words); it is for plain data decoded from JSON, such as the
	// mesh's defaults (internal/validate).
	PlainFloat PlainKind = 'f'
)

// ParsePlainEntry reads one namespace entry's text (as SplitNamespaces cut
// it: a key line and the lines under it) when it is written in a small,
// unambiguous subset of YAML: block maps and lists, one-line flow maps and
// lists, plain scalars of a few safe characters, quoted strings without
// escapes, comments. Every scalar it accepts means the same thing to every
// YAML 1.1 and 1.2 reader: words that are booleans or null in either
// (yes, no, on, off, y, n, true, false, null, ~), numbers other than plain
// whole numbers, and anything else that could be read two ways are refused.
//
// It exists for speed: it is a fraction of the cost of a full YAML parser
// and CUE's decoder. ok is false for anything outside the subset, and
// callers must then parse the text with Parse; what it does accept it
// reads as Parse would (FuzzParsePlainEntry compares the two).
func ParsePlainEntry(text []byte) (name string, value *Plain, ok bool) {
	p := plainParser{}
	// One string for the whole text: every key and scalar is a substring
	// of it, not an allocation of its own.
	if !p.lines(string(text)) || len(p.ls) == 0 {
		return "", nil, false
	}
	v, ok := p.block(p.ls[0].indent, 0)
	if !ok || p.i != len(p.ls) || v.Kind != PlainMap || len(v.Keys) != 1 {
		return "", nil, false
	}
	return v.Keys[0], v.Vals[0], true
}

// ParsePlainMap reads a file's top-level map (a cluster file's head, as
// SplitNamespaces cut it) in ParsePlainEntry's subset; ok is false for
// anything outside it.
func ParsePlainMap(text []byte) (value *Plain, ok bool) {
	p := plainParser{}
	if !p.lines(string(text)) || len(p.ls) == 0 || p.ls[0].indent != 0 {
		return nil, false
	}
	v, ok := p.block(0, 0)
	if !ok || p.i != len(p.ls) || v.Kind != PlainMap {
		return nil, false
	}
	return v, true
}

type plainLine struct {
	indent int
	text   string // after the indentation, without the line break
}

type plainParser struct {
	ls    []plainLine
	i     int     // the next line
	nodes []Plain // where new values are taken from, a chunk at a time
}

// node returns a new value. Values are taken from chunks: an entry has a
// few dozen, each its own allocation otherwise, and they live and die
// together.
func (p *plainParser) node(kind PlainKind, text string) *Plain {
	if len(p.nodes) == cap(p.nodes) {
		p.nodes = make([]Plain, 0, 32)
	}
	p.nodes = append(p.nodes, Plain{Kind: kind, Text: text})
	return &p.nodes[len(p.nodes)-1]
}

// lines splits text into its lines that are neither blank nor comments.
func (p *plainParser) lines(text string) bool {
	p.ls = make([]plainLine, 0, strings.Count(text, "\n")+1)
	for _, c := range text {
		if (c < 0x20 || c > 0x7e) && c != '\n' {
			return false // a tab, a control or a non-ASCII character
		}
	}
	for len(text) > 0 {
		line := text
		if eol := strings.IndexByte(text, '\n'); eol >= 0 {
			line, text = text[:eol], text[eol+1:]
		} else {
			text = ""
		}
		n := 0
		for n < len(line) && line[n] == ' ' {
			n++
		}
		rest := line[n:]
		if len(rest) == 0 || rest[0] == '#' {
			continue
		}
		p.ls = append(p.ls, plainLine{indent: n, text: rest})
	}
	return true
}

// block reads the map or list whose first line is the next line, at
// indentation indent.
func (p *plainParser) block(indent, depth int) (*Plain, bool) {
	if depth > MaxDepth || p.i >= len(p.ls) || p.ls[p.i].indent != indent {
		return nil, false
	}
	if isItem(p.ls[p.i].text) {
		return p.list(indent, depth)
	}
	return p.mapping(indent, depth)
}

func isItem(t string) bool { return len(t) >= 2 && t[0] == '-' && t[1] == ' ' }

func (p *plainParser) mapping(indent, depth int) (*Plain, bool) {
	m := p.node(PlainMap, "")
	for p.i < len(p.ls) && p.ls[p.i].indent == indent {
		t := p.ls[p.i].text
		if isItem(t) {
			return nil, false // a list at the map's indentation
		}
		k := plainKeyLen(t)
		if k == 0 || k == len(t) || t[k] != ':' {
			return nil, false
		}
		key := t[:k]
		if classify(t[:k]) != PlainString || m.Has(key) {
			return nil, false
		}
		rest := t[k+1:]
		p.i++
		var v *Plain
		if r := skipSpaces(rest); len(r) == 0 || r[0] == '#' {
			if len(rest) > 0 && rest[0] != ' ' {
				return nil, false // "key:#"
			}
			// The value is the block under the key, more indented.
			if p.i >= len(p.ls) || p.ls[p.i].indent <= indent {
				return nil, false // null
			}
			var ok bool
			if v, ok = p.block(p.ls[p.i].indent, depth+1); !ok {
				return nil, false
			}
		} else {
			if rest[0] != ' ' {
				return nil, false
			}
			var ok bool
			if v, ok = p.inlineValue(r, depth+1); !ok {
				return nil, false
			}
		}
		m.Keys = append(m.Keys, key)
		m.Vals = append(m.Vals, v)
	}
	if p.i < len(p.ls) && p.ls[p.i].indent > indent {
		return nil, false // a continuation line, or a stray indentation
	}
	return m, true
}

func (p *plainParser) list(indent, depth int) (*Plain, bool) {
	l := p.node(PlainList, "")
	for p.i < len(p.ls) && p.ls[p.i].indent == indent && isItem(p.ls[p.i].text) {
		t := p.ls[p.i].text[1:]
		n := 0
		for n < len(t) && t[n] == ' ' {
			n++
		}
		t = t[n:]
		if len(t) == 0 || t[0] == '#' {
			return nil, false // the item is on the lines under "-"
		}
		if k := plainKeyLen(t); k > 0 && k < len(t) && t[k] == ':' {
			// "- key: ..." starts a map at the key's column.
			p.ls[p.i] = plainLine{indent: indent + 1 + n, text: t}
			v, ok := p.mapping(indent+1+n, depth+1)
			if !ok {
				return nil, false
			}
			l.Vals = append(l.Vals, v)
			continue
		}
		v, ok := p.inlineValue(t, depth+1)
		if !ok {
			return nil, false
		}
		p.i++
		l.Vals = append(l.Vals, v)
	}
	if p.i < len(p.ls) && p.ls[p.i].indent > indent {
		return nil, false
	}
	return l, true
}

// Has reports whether a map has the key.
func (m *Plain) Has(key string) bool {
	for _, k := range m.Keys {
		if k == key {
			return true
		}
	}
	return false
}

// inlineValue reads the value that ends a line: a flow map or list, or a
// scalar, then nothing but spaces and a comment.
func (p *plainParser) inlineValue(t string, depth int) (*Plain, bool) {
	v, n, ok := p.flowValue(t, 0, depth, false)
	if !ok {
		return nil, false
	}
	rest := t[n:]
	r := skipSpaces(rest)
	if len(r) > 0 && (r[0] != '#' || len(r) == len(rest)) {
		return nil, false // more on the line, or "value#comment"
	}
	return v, true
}

// flowValue reads one value starting at t[i]; n is the offset after it.
func (p *plainParser) flowValue(t string, i, depth int, inFlow bool) (v *Plain, n int, ok bool) {
	if depth > MaxDepth || i >= len(t) {
		return nil, 0, false
	}
	switch t[i] {
	case '{':
		m := p.node(PlainMap, "")
		i = skipAt(t, i+1)
		if i < len(t) && t[i] == '}' {
			return m, i + 1, true
		}
		for {
			k := plainKeyLen(t[i:])
			if k == 0 || i+k+1 >= len(t) || t[i+k] != ':' || t[i+k+1] != ' ' {
				return nil, 0, false
			}
			key := t[i : i+k]
			if classify(t[i:i+k]) != PlainString || m.Has(key) {
				return nil, 0, false
			}
			val, j, ok := p.flowValue(t, skipAt(t, i+k+1), depth+1, true)
			if !ok {
				return nil, 0, false
			}
			m.Keys = append(m.Keys, key)
			m.Vals = append(m.Vals, val)
			if i = skipAt(t, j); i >= len(t) {
				return nil, 0, false
			}
			if t[i] == '}' {
				return m, i + 1, true
			}
			if t[i] != ',' {
				return nil, 0, false
			}
			if i = skipAt(t, i+1); i < len(t) && t[i] == '}' {
				return nil, 0, false // a trailing comma
			}
		}
	case '[':
		l := p.node(PlainList, "")
		i = skipAt(t, i+1)
		if i < len(t) && t[i] == ']' {
			return l, i + 1, true
		}
		for {
			val, j, ok := p.flowValue(t, i, depth+1, true)
			if !ok {
				return nil, 0, false
			}
			l.Vals = append(l.Vals, val)
			if i = skipAt(t, j); i >= len(t) {
				return nil, 0, false
			}
			if t[i] == ']' {
				return l, i + 1, true
			}
			if t[i] != ',' {
				return nil, 0, false
			}
			if i = skipAt(t, i+1); i < len(t) && t[i] == ']' {
				return nil, 0, false
			}
		}
	case '"', '\'':
		q := t[i]
		end := strings.IndexByte(t[i+1:], q)
		if end < 0 {
			return nil, 0, false
		}
		s := t[i+1 : i+1+end]
		if strings.ContainsAny(s, "\\\"'") {
			return nil, 0, false // escapes
		}
		n = i + 2 + end
		if n < len(t) && t[n] == q {
			return nil, 0, false // '' inside a single-quoted string
		}
		return p.node(PlainString, s), n, true
	}
	j := i
	for j < len(t) && (plainChar(t[j]) || innerColon(t, i, j, inFlow)) {
		j++
	}
	if j == i {
		return nil, 0, false
	}
	if j < len(t) && t[j] != ' ' && !(inFlow && (t[j] == ',' || t[j] == '}' || t[j] == ']')) {
		return nil, 0, false // a character outside the subset
	}
	kind := classify(t[i:j])
	if kind == 0 {
		return nil, 0, false
	}
	return p.node(kind, t[i:j]), j, true
}

// innerColon reports whether t[j] is a ':' inside a block value's plain
// scalar that starts with a letter, as in an API server's URL
// (https://kube.example:6443): every YAML reader takes a ':' that is not
// followed by a space as part of the scalar outside flow collections, and
// a scalar starting with a letter cannot be YAML 1.1's base-60 number.
func innerColon(t string, i, j int, inFlow bool) bool {
	return !inFlow && t[j] == ':' && j > i && j+1 < len(t) && t[j+1] != ' ' &&
		(t[i] >= 'a' && t[i] <= 'z' || t[i] >= 'A' && t[i] <= 'Z')
}

// plainChar reports whether c may appear in a plain scalar of the subset.
func plainChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '/' || c == '*' || c == '+'
}

// plainKeyLen is the length of the plain key that t starts with; 0 for
// none, or one longer than YAML allows an implicit key (1,024 characters)
// or any Kubernetes name or label key needs.
func plainKeyLen(t string) int {
	i := 0
	for i <= 256 && i < len(t) && (t[i] >= 'a' && t[i] <= 'z' || t[i] >= 'A' && t[i] <= 'Z' || t[i] >= '0' && t[i] <= '9' || t[i] == '-' || t[i] == '_' || t[i] == '.' || t[i] == '/') {
		i++
	}
	if i > 256 {
		return 0
	}
	return i
}

// classify says what a plain scalar is, or 0 when the subset refuses it:
// a whole number without leading zeros (an int), a number with a
// Kubernetes quantity suffix (a string to YAML), or a word starting with a
// letter, '/' or '_' that no YAML version reads as a boolean or null.
func classify(s string) PlainKind {
	switch c := s[0]; {
	case c >= '0' && c <= '9':
		d := 0
		for d < len(s) && s[d] >= '0' && s[d] <= '9' {
			d++
		}
		if d == len(s) {
			if d > 18 || s[0] == '0' && d > 1 {
				return 0
			}
			return PlainInt
		}
		if s[0] == '0' && d > 1 {
			return 0
		}
		rest := s[d:]
		if rest[0] == '.' {
			f := 1
			for f < len(rest) && rest[f] >= '0' && rest[f] <= '9' {
				f++
			}
			if f == 1 {
				return 0
			}
			rest = rest[f:]
		}
		switch rest {
		case "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "m", "k", "M", "G", "T", "P":
			return PlainString
		}
		return 0
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '/' || c == '_':
		if len(s) <= 5 {
			for _, w := range [...]string{"y", "n", "yes", "no", "on", "off", "true", "false", "null"} {
				if strings.EqualFold(s, w) {
					return 0
				}
			}
		}
		return PlainString
	}
	return 0
}

func skipSpaces(t string) string {
	for len(t) > 0 && t[0] == ' ' {
		t = t[1:]
	}
	return t
}

func skipAt(t string, i int) int {
	for i < len(t) && t[i] == ' ' {
		i++
	}
	if i > 256 {
		return 0
	}
	return i
}
