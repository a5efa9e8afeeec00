package load

import (
	"bytes"
	"unicode/utf8"
)

// Entry is one entry of a YAML cluster file's top-level namespaces map, as
// the text the user wrote: from the line of its key to the line before the
// next entry (trailing blank and comment lines included).
type Entry struct {
	Text []byte
	Line int // the 1-based line of its key in the file
}

// SplitNamespaces cuts a block-style YAML cluster file into its head (the
// file with the namespaces map's lines blanked, so every other line keeps
// its number) and the text of each namespace entry, without parsing
// anything.
//
// It exists for speed: in a large mesh most namespace entries are written
// the same way in many clusters, and an entry's meaning depends on its
// text alone (block YAML is structured by indentation; anchors, tags and
// directives, which could reach across entries, are refused), so the
// validator parses and checks each distinct text once. It recognises only
// the plain layout meshgen and people write
//
//	namespaces:
//	  team-a:
//	    ...
//
// and reports ok == false for anything else (flow style, tabs, CR, several
// documents, odd indentation, an empty map): those files are parsed whole,
// which is always correct, only slower. Callers must treat the split as a
// hint: every entry and the head are still parsed and validated, and any
// problem sends the whole file down the full path, which reports it at its
// exact position.
func SplitNamespaces(data []byte) (head []byte, entries []Entry, ok bool) {
	if !plainText(data) {
		return nil, nil, false
	}
	key, start, end := -1, -1, -1 // the key line's offset; the body's byte range
	bodyLine := 0                 // line number of the first body line
	line := 0
	seenKey := false
	for off := 0; off < len(data); {
		line++
		eol := bytes.IndexByte(data[off:], '\n')
		next := len(data)
		if eol >= 0 {
			next = off + eol + 1
		}
		text := data[off:next]
		switch {
		case bytes.HasPrefix(text, []byte("---")) || bytes.HasPrefix(text, []byte("...")) || bytes.HasPrefix(text, []byte("%")):
			return nil, nil, false // several documents or a directive
		case len(text) == 0 || text[0] == '#' || text[0] == '\n':
		case text[0] == ' ':
			if !seenKey && !blankLine(text) {
				return nil, nil, false // the top level is indented
			}
			// inside whatever top-level entry is open
		default:
			if !plainKey(text) && !isNamespacesKey(text) {
				return nil, nil, false // a top level that is not a plain block map
			}
			seenKey = true
			if start >= 0 && end < 0 {
				end = off // the next top-level key ends the body
			}
			if isNamespacesKey(text) {
				if start >= 0 {
					return nil, nil, false // given twice: the parser says so
				}
				key, start, bodyLine = off, next, line+1
			} else if bytes.HasPrefix(text, []byte("namespaces")) {
				return nil, nil, false // flow style or something else
			}
		}
		off = next
	}
	if start < 0 {
		return nil, nil, false
	}
	if end < 0 {
		end = len(data)
	}

	indent := -1
	line = bodyLine - 1
	for off := start; off < end; {
		line++
		eol := bytes.IndexByte(data[off:end], '\n')
		next := end
		if eol >= 0 {
			next = off + eol + 1
		}
		text := data[off:next]
		n := 0
		for n < len(text) && text[n] == ' ' {
			n++
		}
		blank := n == len(text) || text[n] == '\n' || text[n] == '#'
		switch {
		case blank:
			if len(entries) > 0 {
				last := &entries[len(entries)-1]
				last.Text = data[off-len(last.Text) : next]
			}
		case indent < 0 || n == indent:
			if n == 0 || !plainKey(text[n:]) {
				return nil, nil, false // flow style, a list, a quoted or complex key
			}
			indent = n
			entries = append(entries, Entry{Text: text, Line: line})
		case n > indent:
			last := &entries[len(entries)-1]
			last.Text = data[off-len(last.Text) : next]
		default:
			return nil, nil, false // less indented than the entries
		}
		off = next
	}
	if len(entries) == 0 {
		return nil, nil, false // namespaces: with nothing under it
	}
	head = make([]byte, 0, len(data)-(end-start)+len(entries)*8)
	head = append(head, data[:key]...)
	// Blank the key line and the body line by line, keeping line numbers.
	head = append(head, '\n')
	for _, c := range data[start:end] {
		if c == '\n' {
			head = append(head, '\n')
		}
	}
	head = append(head, data[end:]...)
	return head, entries, true
}

// isNamespacesKey reports whether a top-level line is exactly
// "namespaces:", optionally followed by spaces or a comment.
func isNamespacesKey(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, []byte("namespaces:"))
	if !ok {
		return false
	}
	if len(rest) == 0 || rest[0] == '\n' {
		return true
	}
	// A comment needs a space before its '#' ("namespaces:#x" is not one).
	trimmed := bytes.TrimLeft(rest, " ")
	return rest[0] == ' ' && (len(trimmed) == 0 || trimmed[0] == '\n' || trimmed[0] == '#')
}

// plainKey reports whether a line starts with a plain map key made of the
// characters a namespace name may have (and a few more), then ':' and a
// space or the line's end.
func plainKey(line []byte) bool {
	i := 0
	for i < len(line) && (line[i] >= 'a' && line[i] <= 'z' || line[i] >= 'A' && line[i] <= 'Z' || line[i] >= '0' && line[i] <= '9' || line[i] == '-' || line[i] == '_' || line[i] == '.') {
		i++
	}
	if i == 0 || i == len(line) || line[i] != ':' {
		return false
	}
	return i+1 == len(line) || line[i+1] == ' ' || line[i+1] == '\n'
}

// plainText reports whether data has no tab, CR, control character, byte
// order mark or character YAML may read as a line break (NEL, U+2028,
// U+2029): lines are then exactly what the splitter sees, and blanking a
// comment cannot hide a character the parser would refuse.
func plainText(data []byte) bool {
	ascii := true
	for _, c := range data {
		switch {
		case c < 0x20 && c != '\n', c == 0x7f:
			return false
		case c >= 0x80:
			ascii = false
		}
	}
	if ascii {
		return true
	}
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size <= 1, r >= 0x80 && r <= 0x9f, r == 0x2028, r == 0x2029, r == 0xfeff, r == 0xfffe, r == 0xffff:
			return false
		}
		i += size
	}
	return true
}

// blankLine reports whether a line holds only spaces and maybe a comment.
func blankLine(line []byte) bool {
	t := bytes.TrimLeft(line, " ")
	return len(t) == 0 || t[0] == '\n' || t[0] == '#'
}
