package load

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"

	"cuelang.org/go/cue/ast"
	cueerrors "cuelang.org/go/cue/errors"
	yamlv3 "go.yaml.in/yaml/v3"

	"github.com/golemtrust/meshc/internal/diag"
)

// parseYAML parses a YAML file. Anchors and aliases are rejected before
// CUE's decoder sees the file: the decoder expands every alias into a copy
// of its anchor's value, so a small file can expand into gigabytes ("a
// billion laughs"), and an error inside an expanded value would point at
// the anchor rather than where the value is used.
func parseYAML(path string, data []byte) (*ast.File, diag.List) {
	if i := bareCR(data); i >= 0 {
		// YAML counts a lone carriage return as a line break and CUE's
		// positions do not: refuse rather than report wrong lines.
		var diags diag.List
		line := bytes.Count(data[:i], []byte("\n")) + 1
		col := i - (bytes.LastIndexByte(data[:i], '\n') + 1) + 1
		diags.Errorf(diag.Pos{File: path, Line: line, Col: col}, "a carriage return (\\r) without a line feed; save the file with LF or CRLF line endings")
		return nil, diags
	}
	if d := checkAnchors(path, data); len(d) > 0 {
		return nil, d
	}
	f, err := parseYAMLFile(path, data)
	if err != nil {
		return nil, yamlSyntaxErrors(path, data, err)
	}
	return f, nil
}

// bareCR returns the offset of the first carriage return that is not
// followed by a line feed, or -1.
func bareCR(data []byte) int {
	for i, b := range data {
		if b == '\r' && (i+1 == len(data) || data[i+1] != '\n') {
			return i
		}
	}
	return -1
}

// checkAnchors reports the first anchor (&name) or alias (*name) in a YAML
// file. Only a file where one may start is parsed a second time to find it.
func checkAnchors(path string, data []byte) diag.List {
	var diags diag.List
	if !mayHaveAnchors(data) {
		return nil
	}
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	for {
		var doc yamlv3.Node
		if err := dec.Decode(&doc); err != nil {
			// io.EOF, or a syntax error, which CUE's decoder reports.
			return nil
		}
		if n := findAnchor(&doc); n != nil {
			what, name := "anchor", "&"+n.Anchor
			if n.Kind == yamlv3.AliasNode {
				what, name = "alias", "*"+n.Value
			}
			diags.Errorf(diag.Pos{File: path, Line: n.Line, Col: n.Column},
				"YAML %s %s: anchors and aliases are not supported; write the value out in full, or share it in a CUE file with a hidden field such as _containerDefaults", what, name)
			return diags
		}
	}
}

// mayHaveAnchors reports whether an anchor or alias may start somewhere in
// data: a '&' or '*' at the start of a token, after a blank, a line break
// or a flow indicator. A '*' inside a word, as in paths: [/api/*], cannot.
func mayHaveAnchors(data []byte) bool {
	for i, b := range data {
		if b != '&' && b != '*' {
			continue
		}
		if i == 0 {
			return true
		}
		switch data[i-1] {
		case ' ', '\t', '\n', '\r', '[', '{', ',':
			return true
		}
	}
	return false
}

// findAnchor returns the first node, in document order, that defines an
// anchor or is an alias. It does not follow aliases, so it visits each node
// of the parsed document once.
func findAnchor(n *yamlv3.Node) *yamlv3.Node {
	stack := []*yamlv3.Node{n}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n.Anchor != "" || n.Kind == yamlv3.AliasNode {
			return n
		}
		for i := len(n.Content) - 1; i >= 0; i-- {
			stack = append(stack, n.Content[i])
		}
	}
	return nil
}

// lineRE matches the "file:LINE: message" and "yaml: line LINE: message"
// forms of YAML syntax errors.
var (
	cueLineRE  = regexp.MustCompile(`^(.*):(\d+): (.*)$`)
	yamlLineRE = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)
)

// maxBisect bounds the size of a file whose syntax error meshc locates
// precisely (see yamlErrorLine); bigger files get the parser's line.
const maxBisect = 1 << 20

// yamlSyntaxErrors turns a YAML decoding error into a positioned
// diagnostic. The YAML parser's own line is often that of the enclosing
// block rather than of the mistake (and on the first line it gives none),
// so meshc finds the first line at which the file stops parsing and points
// at it, with a word on what usually causes the error.
func yamlSyntaxErrors(path string, data []byte, err error) diag.List {
	var diags diag.List
	var ce cueerrors.Error
	if errors.As(err, &ce) && ce.Position().IsValid() {
		// A positioned error from CUE's decoder (an invalid key, say).
		return syntaxErrors(path, err, "")
	}
	msg, line := err.Error(), 0
	if m := cueLineRE.FindStringSubmatch(msg); m != nil && m[1] == path {
		line, _ = strconv.Atoi(m[2])
		msg = m[3]
	} else {
		msg = strings.TrimPrefix(msg, path+": ")
	}
	if yerr := decodeAll(data); yerr != nil {
		if m := yamlLineRE.FindStringSubmatch(yerr.Error()); m != nil {
			msg = m[2]
			if l, ok := yamlErrorLine(data, msg); ok {
				line = l
			}
		}
	}
	if line == 0 {
		line = 1
	}
	lines := splitLines(data)
	if line > len(lines) {
		line = len(lines)
	}
	col := 1
	if line >= 1 && line <= len(lines) {
		col = firstColumn(lines[line-1], msg)
	}
	if line < 1 {
		line = 1
	}
	advice := yamlAdvice(msg)
	if line >= 1 && line <= len(lines) && tabIndented(lines[line-1]) {
		advice = "; this line is indented with a tab, and YAML indents with spaces only"
	}
	diags.Errorf(diag.Pos{File: path, Line: line, Col: col}, "syntax error: %s%s", msg, advice)
	return diags
}

// decodeAll parses every document of a YAML stream and returns the first
// error.
func decodeAll(data []byte) error {
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	for {
		var n yamlv3.Node
		err := dec.Decode(&n)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// yamlErrorLine finds the first line L such that the file's first L lines
// fail to parse with the same message as the whole file: where the mistake
// is. YAML is line-structured, so a prefix of a well-formed file is almost
// always well-formed and a binary search finds L in a few parses.
func yamlErrorLine(data []byte, msg string) (int, bool) {
	if len(data) > maxBisect {
		return 0, false
	}
	starts := []int{0}
	for i, b := range data {
		if b == '\n' && i+1 < len(data) {
			starts = append(starts, i+1)
		}
	}
	n := len(starts)
	fails := func(k int) bool {
		end := len(data)
		if k < n {
			end = starts[k]
		}
		err := decodeAll(data[:end])
		if err == nil {
			return false
		}
		m := yamlLineRE.FindStringSubmatch(err.Error())
		return m != nil && m[2] == msg
	}
	lo, hi := 1, n // fails(n) holds: it is the whole file
	for lo < hi {
		mid := (lo + hi) / 2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, true
}

func splitLines(data []byte) []string {
	s := strings.TrimSuffix(string(data), "\n")
	return strings.Split(s, "\n")
}

// firstColumn picks the column to point at on the offending line: a tab in
// the indentation, the '{' or '[' of a flow collection that is not closed,
// the ':' that is not allowed; else the first character that is not blank.
func firstColumn(line, msg string) int {
	indent := len(line) - len(strings.TrimLeft(line, " \t"))
	if i := strings.IndexByte(line[:indent], '\t'); i >= 0 {
		return i + 1
	}
	switch {
	case strings.Contains(msg, "expected ',' or '}'"):
		if i := strings.IndexByte(line, '{'); i >= 0 {
			return i + 1
		}
	case strings.Contains(msg, "expected ',' or ']'"):
		if i := strings.IndexByte(line, '['); i >= 0 {
			return i + 1
		}
	case strings.Contains(msg, "mapping values are not allowed"):
		if i := strings.LastIndex(line, ": "); i >= 0 {
			return i + 1
		}
	}
	if indent < len(line) {
		return indent + 1
	}
	return 1
}

// tabIndented reports whether a line is indented with a tab.
func tabIndented(line string) bool {
	indent := len(line) - len(strings.TrimLeft(line, " \t"))
	return strings.IndexByte(line[:indent], '\t') >= 0
}

// yamlAdvice says in plain words what usually causes a YAML parser error.
func yamlAdvice(msg string) string {
	switch {
	case strings.Contains(msg, "did not find expected key"):
		return "; check the indentation: the keys of one map start in the same column, and a list item starts with '- '"
	case strings.Contains(msg, "mapping values are not allowed"):
		return "; a value that contains ': ' must be quoted, and a nested map starts on a new, further indented line"
	case strings.Contains(msg, "tab character"):
		return "; YAML indents with spaces only"
	case strings.Contains(msg, "found character that cannot start any token"):
		return "; quote a value that starts with a character such as ` @ % or a tab"
	case strings.Contains(msg, "did not find expected ',' or '}'"):
		return "; a {...} map opened here is not closed: separate its entries with ',' and end it with '}'"
	case strings.Contains(msg, "did not find expected ',' or ']'"):
		return "; a [...] list opened here is not closed: separate its items with ',' and end it with ']'"
	case strings.Contains(msg, "found unexpected end of stream"):
		return "; a quoted string opened here is not closed"
	case strings.Contains(msg, "did not find expected '-' indicator"):
		return "; a list's items each start with '- ' at the same indentation, and a map key cannot follow them at that indentation"
	case strings.Contains(msg, "could not find expected ':'"):
		return "; write each entry of a map as key: value"
	case strings.Contains(msg, "did not find expected node content"):
		return "; a value is missing here"
	case strings.Contains(msg, "block sequence entries are not allowed"):
		return "; a list item ('- ') cannot follow a value on the same key: start the list on a new, indented line"
	case strings.Contains(msg, "unknown anchor"):
		return "; YAML anchors and aliases are not supported: write the value out in full"
	case strings.Contains(msg, "cannot unmarshal tag"):
		return "; remove the tag: meshc reads plain YAML values"
	}
	return ""
}
