package apicheck

import (
	"fmt"

	"github.com/golemtrust/meshc/internal/suggest"
)

// suggestion returns `; did you mean "x"?` for the candidate closest to name,
// or "" when none is close enough to be a likely typo: a fifth of the
// name's length, at least one edit. Stricter than for input files: these
// are meshc's own keys, where a near miss is a real difference.
func suggestion(name string, candidates []string) string {
	best := suggest.Closest(name, candidates, max(1, len(name)/5))
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

// unknownField is the reason given for a field that the definition lacks.
func unknownField(name string, known []string) string {
	return fmt.Sprintf("unknown field %q%s", name, suggestion(name, known))
}
