// Package diag holds positioned diagnostics: the errors and warnings meshc
// reports to people as path:line:col: message.
package diag

import (
	"fmt"
	"sort"
	"strings"

	"cuelang.org/go/cue/token"
)

// Pos is a position in a user's file. Line 0 means the diagnostic belongs to
// a file or folder as a whole.
type Pos struct {
	File      string
	Line, Col int
}

// FromToken converts a CUE position.
func FromToken(p token.Pos) Pos {
	if !p.IsValid() {
		return Pos{}
	}
	return Pos{File: p.Filename(), Line: p.Line(), Col: p.Column()}
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Severity says whether a diagnostic fails the run.
type Severity int

// Severities.
const (
	Error Severity = iota
	Warning
)

// Diagnostic is one error or warning.
type Diagnostic struct {
	Pos      Pos
	Severity Severity
	Message  string
}

func (d Diagnostic) String() string {
	if d.Severity == Warning {
		return d.Pos.String() + ": warning: " + d.Message
	}
	return d.Pos.String() + ": " + d.Message
}

// List collects diagnostics. The zero value is ready to use.
type List []Diagnostic

// Errorf adds an error.
func (l *List) Errorf(p Pos, format string, args ...any) {
	*l = append(*l, Diagnostic{Pos: p, Severity: Error, Message: fmt.Sprintf(format, args...)})
}

// Warnf adds a warning.
func (l *List) Warnf(p Pos, format string, args ...any) {
	*l = append(*l, Diagnostic{Pos: p, Severity: Warning, Message: fmt.Sprintf(format, args...)})
}

// Append adds other lists.
func (l *List) Append(others ...List) {
	for _, o := range others {
		*l = append(*l, o...)
	}
}

// Failed reports whether the list fails a run: any error, or any warning
// when strict.
func (l List) Failed(strict bool) bool {
	for _, d := range l {
		if d.Severity == Error || strict {
			return true
		}
	}
	return false
}

// Sorted returns the diagnostics in a stable order (file, line, column,
// message) with exact duplicates removed, so a run's report does not depend
// on the order work finished in.
func (l List) Sorted() List {
	out := append(List(nil), l...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Pos.File != b.Pos.File {
			return a.Pos.File < b.Pos.File
		}
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line < b.Pos.Line
		}
		if a.Pos.Col != b.Pos.Col {
			return a.Pos.Col < b.Pos.Col
		}
		return a.Message < b.Message
	})
	dedup := out[:0]
	for i, d := range out {
		if i > 0 && d == out[i-1] {
			continue
		}
		dedup = append(dedup, d)
	}
	return dedup
}

// String renders the list one diagnostic per line, in stable order.
func (l List) String() string {
	var b strings.Builder
	for _, d := range l.Sorted() {
		b.WriteString(d.String())
		b.WriteByte('\n')
	}
	return b.String()
}
