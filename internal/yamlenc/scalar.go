package yamlenc

import (
	"strings"
	"unicode/utf8"
)

type scalarStyle uint8

const (
	plainStyle scalarStyle = iota
	singleQuotedStyle
	doubleQuotedStyle
	literalStyle
)

// scalar is a string scalar event: the text the emitter gets, whether it
// carries the !!binary tag, the style encoder.stringv asks for, and the
// emitter's analysis of the text.
type scalar struct {
	value  string
	binary bool
	style  scalarStyle
	a      analysis
}

// prepare is encoder.stringv and yaml_emitter_analyze_scalar.
func prepare(s string) scalar {
	if a, ok := analyzeWord(s); ok {
		// A word is ASCII, so valid UTF-8, and has no '\n' or ':', so it
		// is no literal and no sexagesimal number.
		sc := scalar{value: s, a: a}
		if !resolvesToStr(s) {
			sc.style = doubleQuotedStyle
		}
		return sc
	}
	sc := scalar{value: s}
	canUsePlain := true
	if !utf8.ValidString(s) {
		// Invalid UTF-8 cannot be written as text: yaml.v2 tags it
		// !!binary and writes base64.
		sc.binary = true
		sc.value = encodeBase64(s)
	} else {
		canUsePlain = resolvesToStr(s) && !isBase60Float(s)
	}
	switch {
	case strings.IndexByte(sc.value, '\n') >= 0:
		sc.style = literalStyle
	case canUsePlain:
		sc.style = plainStyle
	default:
		sc.style = doubleQuotedStyle
	}
	sc.a = analyzeAny(sc.value)
	return sc
}

// analysis is the part of yaml_emitter_t's scalar_data that block output
// reads (flow_plain_allowed only matters inside flow collections, which
// here are always empty), plus two facts that let the writers take a
// shortcut.
type analysis struct {
	multiline           bool
	blockPlainAllowed   bool
	singleQuotedAllowed bool
	blockAllowed        bool
	// spaces is whether the text has a ' ', the only place a plain
	// scalar folds.
	spaces bool
	// chars is the text's length in characters, what the emitter's column
	// counts.
	chars int
}

// plainSafe is the bytes analyzeWord takes.
var plainSafe = func() (t [256]bool) {
	for b := 0x21; b <= 0x7E; b++ {
		t[b] = b != ':' && b != '#'
	}
	return t
}()

// analyzeWord is analyzeAny, in one pass over a table, for the scalars
// meshc writes most, names and quantities: printable ASCII with no space,
// ':' or '#' (ok is false for any other). Such a scalar has no breaks,
// spaces or special characters, and only its start can be an indicator
// (a ':' or '#' could be one further on).
func analyzeWord(value string) (analysis, bool) {
	if len(value) == 0 {
		return analysis{}, false
	}
	for i := 0; i < len(value); i++ {
		if !plainSafe[value[i]] {
			return analysis{}, false
		}
	}
	indicator := false
	switch value[0] {
	case ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		indicator = true
	case '?', '-':
		// Followed by whitespace: the end of the text counts.
		indicator = len(value) == 1
	}
	if len(value) >= 3 && (value[:3] == "---" || value[:3] == "...") {
		indicator = true
	}
	return analysis{
		blockPlainAllowed:   !indicator,
		singleQuotedAllowed: true,
		blockAllowed:        true,
		chars:               len(value),
	}, true
}

// analyzeAny is yaml_emitter_analyze_scalar.
func analyzeAny(value string) analysis {
	if len(value) == 0 {
		return analysis{blockPlainAllowed: true, singleQuotedAllowed: true}
	}
	var (
		blockIndicators   bool
		lineBreaks        bool
		specialCharacters bool

		leadingSpace  bool
		leadingBreak  bool
		trailingSpace bool
		trailingBreak bool
		breakSpace    bool
		spaceBreak    bool

		precededByWhitespace bool
		followedByWhitespace bool
		previousSpace        bool
		previousBreak        bool

		spaces bool
		chars  int
	)
	if len(value) >= 3 && (value[:3] == "---" || value[:3] == "...") {
		blockIndicators = true
	}
	precededByWhitespace = true
	for i, w := 0, 0; i < len(value); i += w {
		w = width(value[i])
		chars++
		followedByWhitespace = i+w >= len(value) || isBlank(value, i+w)
		if i == 0 {
			switch value[i] {
			case '#', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
				blockIndicators = true
			case '?', ':':
				if followedByWhitespace {
					blockIndicators = true
				}
			case '-':
				if followedByWhitespace {
					blockIndicators = true
				}
			}
		} else {
			switch value[i] {
			case ':':
				if followedByWhitespace {
					blockIndicators = true
				}
			case '#':
				if precededByWhitespace {
					blockIndicators = true
				}
			}
		}
		// Marshal sets the emitter to unicode, so non-ASCII printable
		// characters are not special.
		if !isPrintable(value, i) {
			specialCharacters = true
		}
		if value[i] == ' ' {
			spaces = true
			if i == 0 {
				leadingSpace = true
			}
			if i+1 == len(value) {
				trailingSpace = true
			}
			if previousBreak {
				breakSpace = true
			}
			previousSpace = true
			previousBreak = false
		} else if isBreak(value, i) {
			lineBreaks = true
			if i == 0 {
				leadingBreak = true
			}
			if i+w == len(value) {
				trailingBreak = true
			}
			if previousSpace {
				spaceBreak = true
			}
			previousSpace = false
			previousBreak = true
		} else {
			previousSpace = false
			previousBreak = false
		}
		precededByWhitespace = isBlankz(value, i)
	}

	a := analysis{
		multiline:           lineBreaks,
		blockPlainAllowed:   true,
		singleQuotedAllowed: true,
		blockAllowed:        true,
		spaces:              spaces,
		chars:               chars,
	}
	if leadingSpace || leadingBreak || trailingSpace || trailingBreak {
		a.blockPlainAllowed = false
	}
	if trailingSpace {
		a.blockAllowed = false
	}
	if breakSpace {
		a.blockPlainAllowed = false
		a.singleQuotedAllowed = false
	}
	if spaceBreak || specialCharacters {
		a.blockPlainAllowed = false
		a.singleQuotedAllowed = false
		a.blockAllowed = false
	}
	if lineBreaks {
		a.blockPlainAllowed = false
	}
	if blockIndicators {
		a.blockPlainAllowed = false
	}
	return a
}

// selectStyle is yaml_emitter_select_scalar_style outside flow
// collections, for an implicit (untagged) or !!binary scalar.
func (sc *scalar) selectStyle(simpleKey bool) scalarStyle {
	style := sc.style
	if simpleKey && sc.a.multiline {
		style = doubleQuotedStyle
	}
	if style == plainStyle {
		if !sc.a.blockPlainAllowed {
			style = singleQuotedStyle
		}
		if len(sc.value) == 0 && simpleKey {
			style = singleQuotedStyle
		}
	}
	if style == singleQuotedStyle && !sc.a.singleQuotedAllowed {
		style = doubleQuotedStyle
	}
	if style == literalStyle && (!sc.a.blockAllowed || simpleKey) {
		style = doubleQuotedStyle
	}
	return style
}

// scalar is yaml_emitter_emit_scalar. simpleKey is whether the scalar is
// a key written on its value's line, where it may not fold or span lines.
func (e *encoder) scalar(sc scalar, simpleKey bool) {
	style := sc.selectStyle(simpleKey)
	if sc.binary {
		// yaml_emitter_process_tag: the !! handle, then the suffix, which
		// needs no escaping.
		if !e.whitespace {
			e.put(' ')
		}
		e.out = append(e.out, "!!binary"...)
		e.column += len("!!binary")
		e.whitespace = false
		e.indention = false
	}
	saved := e.indent
	e.increaseIndent(true, false)
	allowBreaks := !simpleKey
	switch style {
	case plainStyle:
		e.writePlain(sc.value, &sc.a, allowBreaks)
	case singleQuotedStyle:
		e.writeSingleQuoted(sc.value, allowBreaks)
	case doubleQuotedStyle:
		e.writeDoubleQuoted(sc.value, allowBreaks)
	case literalStyle:
		e.writeLiteral(sc.value)
	}
	e.indent = saved
}

// writePlain is yaml_emitter_write_plain_scalar.
func (e *encoder) writePlain(value string, a *analysis, allowBreaks bool) {
	if !e.whitespace {
		e.put(' ')
	}
	// The emitter folds only at a space it reaches past the width; a
	// plain scalar neither starts nor ends with one, so a scalar that
	// ends by the width has no such space.
	if !a.multiline && (!a.spaces || !allowBreaks || e.column+a.chars <= e.width) {
		e.out = append(e.out, value...)
		e.column += a.chars
		e.whitespace = false
		e.indention = false
		return
	}
	spaces := false
	breaks := false
	for i := 0; i < len(value); {
		if value[i] == ' ' {
			if allowBreaks && !spaces && e.column > e.width && !isSpace(value, i+1) {
				e.writeIndent()
				i++
			} else {
				i = e.write(value, i)
			}
			spaces = true
		} else if isBreak(value, i) {
			if !breaks && value[i] == '\n' {
				e.putBreak()
			}
			i = e.writeBreak(value, i)
			e.indention = true
			breaks = true
		} else {
			if breaks {
				e.writeIndent()
			}
			i = e.write(value, i)
			e.indention = false
			spaces = false
			breaks = false
		}
	}
	e.whitespace = false
	e.indention = false
}

// writeSingleQuoted is yaml_emitter_write_single_quoted_scalar.
func (e *encoder) writeSingleQuoted(value string, allowBreaks bool) {
	e.indicator("'", true, false, false)
	spaces := false
	breaks := false
	for i := 0; i < len(value); {
		if value[i] == ' ' {
			if allowBreaks && !spaces && e.column > e.width && i > 0 && i < len(value)-1 && !isSpace(value, i+1) {
				e.writeIndent()
				i++
			} else {
				i = e.write(value, i)
			}
			spaces = true
		} else if isBreak(value, i) {
			if !breaks && value[i] == '\n' {
				e.putBreak()
			}
			i = e.writeBreak(value, i)
			e.indention = true
			breaks = true
		} else {
			if breaks {
				e.writeIndent()
			}
			if value[i] == '\'' {
				e.put('\'')
			}
			i = e.write(value, i)
			e.indention = false
			spaces = false
			breaks = false
		}
	}
	e.indicator("'", false, false, false)
	e.whitespace = false
	e.indention = false
}

// writeDoubleQuoted is yaml_emitter_write_double_quoted_scalar.
func (e *encoder) writeDoubleQuoted(value string, allowBreaks bool) {
	spaces := false
	e.indicator(`"`, true, false, false)
	// The emitter's is_bom looks at the start of the text whatever the
	// index it is given, so after a leading BOM it escapes every
	// character.
	bom := strings.HasPrefix(value, "\uFEFF")
	for i := 0; i < len(value); {
		if bom || !isPrintable(value, i) || isBreak(value, i) || value[i] == '"' || value[i] == '\\' {
			octet := value[i]
			var w int
			var v rune
			switch {
			case octet&0x80 == 0x00:
				w, v = 1, rune(octet&0x7F)
			case octet&0xE0 == 0xC0:
				w, v = 2, rune(octet&0x1F)
			case octet&0xF0 == 0xE0:
				w, v = 3, rune(octet&0x0F)
			case octet&0xF8 == 0xF0:
				w, v = 4, rune(octet&0x07)
			}
			for k := 1; k < w; k++ {
				octet = value[i+k]
				v = (v << 6) + (rune(octet) & 0x3F)
			}
			i += w

			e.put('\\')
			switch v {
			case 0x00:
				e.put('0')
			case 0x07:
				e.put('a')
			case 0x08:
				e.put('b')
			case 0x09:
				e.put('t')
			case 0x0A:
				e.put('n')
			case 0x0b:
				e.put('v')
			case 0x0c:
				e.put('f')
			case 0x0d:
				e.put('r')
			case 0x1b:
				e.put('e')
			case 0x22:
				e.put('"')
			case 0x5c:
				e.put('\\')
			case 0x85:
				e.put('N')
			case 0xA0:
				e.put('_')
			case 0x2028:
				e.put('L')
			case 0x2029:
				e.put('P')
			default:
				if v <= 0xFF {
					e.put('x')
					w = 2
				} else if v <= 0xFFFF {
					e.put('u')
					w = 4
				} else {
					e.put('U')
					w = 8
				}
				for k := (w - 1) * 4; k >= 0; k -= 4 {
					digit := byte((v >> uint(k)) & 0x0F)
					if digit < 10 {
						e.put(digit + '0')
					} else {
						e.put(digit + 'A' - 10)
					}
				}
			}
			spaces = false
		} else if value[i] == ' ' {
			if allowBreaks && !spaces && e.column > e.width && i > 0 && i < len(value)-1 {
				e.writeIndent()
				if isSpace(value, i+1) {
					e.put('\\')
				}
				i++
			} else {
				i = e.write(value, i)
			}
			spaces = true
		} else {
			i = e.write(value, i)
			spaces = false
		}
	}
	e.indicator(`"`, false, false, false)
	e.whitespace = false
	e.indention = false
}

// writeBlockScalarHints is yaml_emitter_write_block_scalar_hints: an
// indentation indicator when the text starts with a space or a break, and
// the chomping indicator its trailing breaks need.
func (e *encoder) writeBlockScalarHints(value string) {
	if isSpace(value, 0) || isBreak(value, 0) {
		e.indicator(string(rune('0'+bestIndent)), false, false, false)
	}
	var chomp string
	if len(value) == 0 {
		chomp = "-"
	} else {
		i := len(value) - 1
		for value[i]&0xC0 == 0x80 {
			i--
		}
		if !isBreak(value, i) {
			chomp = "-"
		} else if i == 0 {
			chomp = "+"
		} else {
			i--
			for value[i]&0xC0 == 0x80 {
				i--
			}
			if isBreak(value, i) {
				chomp = "+"
			}
		}
	}
	if chomp != "" {
		e.indicator(chomp, false, false, false)
	}
}

// writeLiteral is yaml_emitter_write_literal_scalar.
func (e *encoder) writeLiteral(value string) {
	e.indicator("|", true, false, false)
	e.writeBlockScalarHints(value)
	e.putBreak()
	e.indention = true
	e.whitespace = true
	breaks := true
	for i := 0; i < len(value); {
		if isBreak(value, i) {
			i = e.writeBreak(value, i)
			e.indention = true
			breaks = true
		} else {
			if breaks {
				e.writeIndent()
			}
			i = e.write(value, i)
			e.indention = false
			breaks = false
		}
	}
}

// The character classes of yamlprivateh.go, on valid UTF-8 text. Reads
// past the end, which the emitter never makes on valid text, yield false.

func width(b byte) int {
	switch {
	case b&0x80 == 0x00:
		return 1
	case b&0xE0 == 0xC0:
		return 2
	case b&0xF0 == 0xE0:
		return 3
	case b&0xF8 == 0xF0:
		return 4
	}
	return 0
}

func at(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

// isPrintable is is_printable: note that it leaves out tabs, every
// control character but '\n', and every character beyond U+FFFF.
func isPrintable(s string, i int) bool {
	b := s[i]
	return b == 0x0A ||
		b >= 0x20 && b <= 0x7E ||
		b == 0xC2 && at(s, i+1) >= 0xA0 ||
		b > 0xC2 && b < 0xED ||
		b == 0xED && at(s, i+1) < 0xA0 ||
		b == 0xEE ||
		b == 0xEF &&
			!(at(s, i+1) == 0xBB && at(s, i+2) == 0xBF) &&
			!(at(s, i+1) == 0xBF && (at(s, i+2) == 0xBE || at(s, i+2) == 0xBF))
}

func isSpace(s string, i int) bool { return at(s, i) == ' ' }

func isBlank(s string, i int) bool { b := at(s, i); return b == ' ' || b == '\t' }

// isBreak is is_break: CR, LF, NEL, LS and PS.
func isBreak(s string, i int) bool {
	b := at(s, i)
	return b == '\r' || b == '\n' ||
		b == 0xC2 && at(s, i+1) == 0x85 ||
		b == 0xE2 && at(s, i+1) == 0x80 && (at(s, i+2) == 0xA8 || at(s, i+2) == 0xA9)
}

func isBlankz(s string, i int) bool {
	return isBlank(s, i) || isBreak(s, i) || at(s, i) == 0
}
