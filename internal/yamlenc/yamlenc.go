// Package yamlenc writes meshc's objects as YAML, byte for byte as
// go.yaml.in/yaml/v2 Marshal writes them, without yaml.v2's reflection,
// event queue and per-character output buffer.
//
// It is a port, not a reimplementation: encode.go (which scalar style a
// value asks for), resolve.go (which strings would read back as something
// else), sorter.go (key order) and the parts of emitterc.go that block
// mappings, block sequences, empty flow collections and scalars go
// through. The emitter's state that the output depends on (column,
// indentation, and its whitespace and indention flags) is kept here and
// changed at the same points, so folding at the line width, the
// indentless sequences in mappings, "? " keys and block scalar indicators
// all come out the same. Function comments name the yaml.v2 function each
// one ports.
//
// Only values meshc builds are ported: nil, string, bool, the int, uint
// and float kinds as their predeclared types, map[string]any,
// map[string]string, []any, []string and []map[string]any. A document
// holding anything else (a named type, a pointer, a struct, a Marshaler)
// is handed to yaml.v2 whole, so the result is still yaml.v2's.
package yamlenc

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"

	yaml "go.yaml.in/yaml/v2"
)

// bestIndent is yaml.v2's best_indent: Marshal never sets another.
const bestIndent = 2

// bestWidth is the emitter's best_width as Marshal runs it: 80, unless
// yaml.FutureLineWrap has turned line wrapping off for the whole process,
// which only shows in the output. It is read once, on first use, because
// FutureLineWrap is meant to be called at start-up.
var bestWidth = sync.OnceValue(func() int {
	long := strings.Repeat("word ", 20) + "end"
	out, err := yaml.Marshal(map[string]string{"k": long})
	if err == nil && string(out) == "k: "+long+"\n" {
		return 1<<31 - 1
	}
	return 80
})

// Append appends the YAML of v, byte for byte what go.yaml.in/yaml/v2
// Marshal(v) returns.
//
// It panics where Marshal would return an error, which needs a value meshc
// never builds (a channel, a func, a Marshaler that fails).
func Append(dst []byte, v map[string]any) []byte {
	e := encoders.Get().(*encoder)
	start := len(dst)
	e.out = dst
	e.column = 0
	e.indent = -1
	e.whitespace = true
	e.indention = true
	e.width = bestWidth()
	e.unsupported = false

	// The document: implicit start, the root node, implicit end
	// (yaml_emitter_emit_document_start, _content and _end).
	e.mapping(v)
	e.writeIndent()

	out, unsupported := e.out, e.unsupported
	e.out = nil
	clear(e.keys.s[:cap(e.keys.s)])
	clear(e.keys.v[:cap(e.keys.v)])
	e.keys.s, e.keys.v = e.keys.s[:0], e.keys.v[:0]
	encoders.Put(e)
	if unsupported {
		y, err := yaml.Marshal(v)
		if err != nil {
			panic(fmt.Sprintf("yamlenc: %v", err))
		}
		return append(out[:start], y...)
	}
	return out
}

var encoders = sync.Pool{New: func() any { return new(encoder) }}

// encoder is the part of yaml_emitter_t that block output depends on.
type encoder struct {
	out []byte
	// column counts characters, not bytes, since the last line break, as
	// the emitter does when it compares it with the width.
	column int
	// indent is the emitter's indent; the emitter's stack of outer
	// indents is the Go call stack here.
	indent int
	// whitespace and indention are the emitter's flags of the same names:
	// whether the last thing written was whitespace, and whether the line
	// so far holds only indentation and indicators.
	whitespace bool
	indention  bool
	width      int
	keys       keySorter
	// unsupported records a value of a type not ported here.
	unsupported bool
}

// node emits a value: yaml_emitter_emit_node, fed by encoder.marshal.
// mappingContext is whether the value is a mapping's value, which is what
// makes a block sequence in a mapping indentless.
func (e *encoder) node(v any, mappingContext bool) {
	switch v := v.(type) {
	case nil:
		e.plainASCII("null")
	case string:
		e.scalar(prepare(v), false)
	case bool:
		if v {
			e.plainASCII("true")
		} else {
			e.plainASCII("false")
		}
	case int:
		e.int(int64(v))
	case int8:
		e.int(int64(v))
	case int16:
		e.int(int64(v))
	case int32:
		e.int(int64(v))
	case int64:
		e.int(v)
	case uint:
		e.uint(uint64(v))
	case uint8:
		e.uint(uint64(v))
	case uint16:
		e.uint(uint64(v))
	case uint32:
		e.uint(uint64(v))
	case uint64:
		e.uint(v)
	case uintptr:
		e.uint(uint64(v))
	case float32:
		e.float(float64(v), 32)
	case float64:
		e.float(v, 64)
	case map[string]any:
		e.mapping(v)
	case map[string]string:
		e.stringMapping(v)
	case []any:
		if len(v) == 0 {
			e.emptyFlow("[", "]")
			return
		}
		saved := e.sequenceStart(mappingContext)
		for _, x := range v {
			e.sequenceItem()
			e.node(x, false)
		}
		e.indent = saved
	case []string:
		if len(v) == 0 {
			e.emptyFlow("[", "]")
			return
		}
		saved := e.sequenceStart(mappingContext)
		for _, x := range v {
			e.sequenceItem()
			e.scalar(prepare(x), false)
		}
		e.indent = saved
	case []map[string]any:
		if len(v) == 0 {
			e.emptyFlow("[", "]")
			return
		}
		saved := e.sequenceStart(mappingContext)
		for _, x := range v {
			e.sequenceItem()
			e.mapping(x)
		}
		e.indent = saved
	default:
		e.unsupported = true
	}
}

// int, uint and float are encoder.intv, uintv and floatv. Their text is
// digits, signs, '.', 'e', "inf" and "nan": always plain, never folded.
func (e *encoder) int(v int64) {
	n := e.plainStart()
	e.out = strconv.AppendInt(e.out, v, 10)
	e.plainEnd(n)
}

func (e *encoder) uint(v uint64) {
	n := e.plainStart()
	e.out = strconv.AppendUint(e.out, v, 10)
	e.plainEnd(n)
}

func (e *encoder) float(v float64, bits int) {
	switch {
	case math.IsInf(v, 1):
		e.plainASCII(".inf")
	case math.IsInf(v, -1):
		e.plainASCII("-.inf")
	case math.IsNaN(v):
		e.plainASCII(".nan")
	default:
		n := e.plainStart()
		e.out = strconv.AppendFloat(e.out, v, 'g', -1, bits)
		e.plainEnd(n)
	}
}

// plainASCII writes a plain scalar that is ASCII with no spaces or breaks,
// which is all yaml_emitter_write_plain_scalar does with one.
func (e *encoder) plainASCII(s string) {
	n := e.plainStart()
	e.out = append(e.out, s...)
	e.plainEnd(n)
}

func (e *encoder) plainStart() int {
	if !e.whitespace {
		e.put(' ')
	}
	return len(e.out)
}

func (e *encoder) plainEnd(start int) {
	e.column += len(e.out) - start
	e.whitespace = false
	e.indention = false
}

// mapping is encoder.mapv with yaml_emitter_emit_mapping_start and
// yaml_emitter_emit_block_mapping_key/_value.
func (e *encoder) mapping(m map[string]any) {
	if len(m) == 0 {
		e.emptyFlow("{", "}")
		return
	}
	start := len(e.keys.s)
	for k, v := range m {
		e.keys.s = append(e.keys.s, k)
		e.keys.v = append(e.keys.v, v)
	}
	e.sortKeys(start)
	saved := e.indent
	e.increaseIndent(false, false)
	for i := start; i < start+len(m); i++ {
		e.key(e.keys.s[i])
		e.node(e.keys.v[i], true)
	}
	e.indent = saved
	e.keys.s = e.keys.s[:start]
	e.keys.v = e.keys.v[:start]
}

func (e *encoder) stringMapping(m map[string]string) {
	if len(m) == 0 {
		e.emptyFlow("{", "}")
		return
	}
	start := len(e.keys.s)
	for k := range m {
		e.keys.s = append(e.keys.s, k)
		e.keys.v = append(e.keys.v, nil)
	}
	e.sortKeys(start)
	saved := e.indent
	e.increaseIndent(false, false)
	for i := start; i < start+len(m); i++ {
		k := e.keys.s[i]
		e.key(k)
		e.scalar(prepare(m[k]), false)
	}
	e.indent = saved
	e.keys.s = e.keys.s[:start]
	e.keys.v = e.keys.v[:start]
}

// sortKeys sorts the keys (and their values) pushed on the encoder's key
// stack since start, as yaml.v2 sorts a map's keys. Nested maps push
// theirs above, so one buffer serves a whole document.
func (e *encoder) sortKeys(start int) {
	keys, values := e.keys.s, e.keys.v
	if len(keys)-start < 2 {
		return
	}
	e.keys.s, e.keys.v = keys[start:], values[start:]
	sort.Sort(&e.keys)
	e.keys.s, e.keys.v = keys, values
}

// key writes a mapping key and its ':' indicator, as a simple key when
// yaml_emitter_check_simple_key allows one and as "? key\n:" otherwise.
func (e *encoder) key(k string) {
	e.writeIndent()
	sc := prepare(k)
	length := len(sc.value)
	if sc.binary {
		length += len("!!") + len("binary")
	}
	if !sc.a.multiline && length <= 128 {
		e.scalar(sc, true)
		e.indicator(":", false, false, false)
		return
	}
	e.indicator("?", true, false, true)
	e.scalar(sc, false)
	e.writeIndent()
	e.indicator(":", true, false, true)
}

// sequenceStart is yaml_emitter_emit_block_sequence_item's first call: a
// sequence that is a mapping's value on the key's line stays at the key's
// indentation.
func (e *encoder) sequenceStart(mappingContext bool) (saved int) {
	saved = e.indent
	e.increaseIndent(false, mappingContext && !e.indention)
	return saved
}

func (e *encoder) sequenceItem() {
	e.writeIndent()
	e.indicator("-", true, false, true)
}

// emptyFlow writes an empty collection, which the emitter always writes in
// flow style (yaml_emitter_check_empty_sequence/_mapping).
func (e *encoder) emptyFlow(open, close string) {
	e.indicator(open, true, true, false)
	e.indicator(close, false, false, false)
}

// increaseIndent is yaml_emitter_increase_indent, without the stack.
func (e *encoder) increaseIndent(flow, indentless bool) {
	if e.indent < 0 {
		if flow {
			e.indent = bestIndent
		} else {
			e.indent = 0
		}
	} else if !indentless {
		e.indent += bestIndent
	}
}

// writeIndent is yaml_emitter_write_indent.
func (e *encoder) writeIndent() {
	indent := max(e.indent, 0)
	if !e.indention || e.column > indent || (e.column == indent && !e.whitespace) {
		e.putBreak()
	}
	for e.column < indent {
		e.put(' ')
	}
	e.whitespace = true
	e.indention = true
}

// indicator is yaml_emitter_write_indicator; every indicator is ASCII.
func (e *encoder) indicator(ind string, needWhitespace, isWhitespace, isIndention bool) {
	if needWhitespace && !e.whitespace {
		e.put(' ')
	}
	e.out = append(e.out, ind...)
	e.column += len(ind)
	e.whitespace = isWhitespace
	e.indention = e.indention && isIndention
}

func (e *encoder) put(b byte) {
	e.out = append(e.out, b)
	e.column++
}

func (e *encoder) putBreak() {
	e.out = append(e.out, '\n')
	e.column = 0
}

// write copies the character at s[i] and returns the index after it.
func (e *encoder) write(s string, i int) int {
	w := width(s[i])
	e.out = append(e.out, s[i:i+w]...)
	e.column++
	return i + w
}

// writeBreak is write_break: '\n' is the emitter's line break, any other
// break is copied as it is.
func (e *encoder) writeBreak(s string, i int) int {
	if s[i] == '\n' {
		e.putBreak()
		return i + 1
	}
	i = e.write(s, i)
	e.column = 0
	return i
}
