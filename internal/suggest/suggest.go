// Package suggest finds the likely intended word for a typo: the "did you
// mean" of meshc's input errors and of its API checks.
package suggest

import (
	"slices"
	"strings"
)

// Closest returns the candidate closest to s (case-insensitively) within
// at most maxEdits edits, ties going to the first in sorted order; "" when
// none is that close. A candidate equal to s is not a suggestion.
func Closest(s string, candidates []string, maxEdits int) string {
	best, bestD := "", maxEdits+1
	ls := strings.ToLower(s)
	for _, c := range slices.Sorted(slices.Values(candidates)) {
		if c == s {
			continue
		}
		if d := Distance(ls, strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// Distance is the optimal string alignment (restricted Damerau-Levenshtein)
// distance: insertions, deletions, substitutions and swaps of two adjacent
// letters (mtsl -> mtls) count one edit each. Words longer than 64 runes
// are not compared (they are no field names) and count as far apart.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		return len(ra) + len(rb)
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
