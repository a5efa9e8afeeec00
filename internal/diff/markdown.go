package diff

import (
	"fmt"
	"strings"

	"github.com/golemtrust/meshc/internal/review"
)

// MarkdownLimit caps a comment: GitHub refuses comments over 65,536
// characters; the margin leaves room for a CI job's own marker line.
const MarkdownLimit = 65000

// Marker is the hidden first line of every comment, so a CI job finds
// the comment it posted before and updates it instead of adding another.
const Marker = "<!-- meshc-diff -->"

// Markdown renders the comparison as a pull-request comment of at most
// limit characters (MarkdownLimit when limit <= 0): risks first, a table
// of clusters, then one collapsed section per cluster. When everything does
// not fit, whole objects' diffs are left out (each replaced by one line
// naming it) from the first that does not fit on, and a last line counts
// them; the order never changes.
func Markdown(r *Result, limit int) string {
	if limit <= 0 {
		limit = MarkdownLimit
	}
	md := markdown{r: r, risks: len(r.Risks), include: func(int, int) bool { return true }}
	if out := md.render(); len(out) <= limit {
		return out
	}
	// Risks come first, but may take at most half of the comment: a change
	// that flags a thousand objects lists the first ones and counts the
	// rest.
	size := 0
	for i, k := range r.Risks {
		if size += len(riskRow(k)); size > limit/2 {
			md.risks = i
			break
		}
	}
	// Everything but the diffs, with every diff left out, is the floor;
	// the rest of the budget goes to diffs in order, each whole or not at
	// all.
	md.include = func(int, int) bool { return false }
	floor := len(md.render())
	budget := limit - floor - 8 // the count in the last line may grow a digit or so
	taken := map[[2]int]bool{}
	for ci, c := range r.Clusters {
		for oi, o := range c.Objects {
			if o.Change != Changed {
				continue
			}
			if n := len(diffBlock(o.Diff)) + 1; n <= budget { // the block, and a blank line before it
				budget -= n
				taken[[2]int{ci, oi}] = true
			} else {
				budget = -1 // stop here: later, smaller diffs stay out too, so what is shown is a prefix
			}
		}
	}
	md.include = func(ci, oi int) bool { return taken[[2]int{ci, oi}] }
	out := md.render()
	if len(out) <= limit {
		return out
	}
	// Even the list of objects does not fit (thousands of clusters): cut
	// it at a line and say so.
	return cut(out, limit)
}

type markdown struct {
	r *Result
	// risks is how many risks are listed; include says whether an
	// object's diff is shown.
	risks   int
	include func(cluster, object int) bool
}

func riskRow(k review.Risk) string {
	src := ""
	if k.Source != "" {
		src = "`" + k.Source + "`"
	}
	return fmt.Sprintf("| `%s` | %s | %s | %s | %s | %s | %s |\n", k.Rule, k.Cluster, cell(objectName(k)), cell(k.Before), cell(k.After), cell(k.Message), src)
}

func (md markdown) render() string {
	r := md.r
	var b strings.Builder
	b.WriteString(Marker + "\n")
	fmt.Fprintf(&b, "### meshc diff: %s → working tree\n\n", r.baseMarkdown())
	if n := r.note(); n != "" {
		fmt.Fprintf(&b, "> [!WARNING]\n> %s.\n", cell(n))
		for _, d := range r.BaseProblems {
			fmt.Fprintf(&b, "> `%s`\n", strings.ReplaceAll(d.String(), "`", "'"))
		}
		b.WriteString("\n")
	}
	if r.Empty() {
		b.WriteString("No changes: every cluster receives the same objects.\n")
		return b.String()
	}
	if len(r.Risks) > 0 {
		fmt.Fprintf(&b, "#### :warning: %d %s\n\n", len(r.Risks), plural(len(r.Risks), "risk", "risks"))
		b.WriteString("| rule | cluster | object | before | after | why | source |\n|---|---|---|---|---|---|---|\n")
		for _, k := range r.Risks[:md.risks] {
			b.WriteString(riskRow(k))
		}
		if n := len(r.Risks) - md.risks; n > 0 {
			fmt.Fprintf(&b, "\n%d more %s not listed, to keep this comment short; `meshc diff` lists them all.\n", n, plural(n, "risk", "risks"))
		}
		b.WriteString("\n")
	} else {
		b.WriteString("No risks flagged.\n\n")
	}
	b.WriteString("| cluster | change | added | removed | changed |\n|---|---|--:|--:|--:|\n")
	for i := range r.Clusters {
		c := &r.Clusters[i]
		a, rm, ch := c.Count()
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %d |\n", c.Name, c.Change, a, rm, ch)
	}
	left := 0
	for ci := range r.Clusters {
		c := &r.Clusters[ci]
		fmt.Fprintf(&b, "\n<details>\n<summary><b>%s</b>: %s</summary>\n", c.Name, counts(c))
		// Grouped by change, in the table's order; within a group, by
		// kind, namespace and name.
		for _, group := range []Change{Added, Removed, Changed} {
			heading := false
			for oi, o := range c.Objects {
				if o.Change != group {
					continue
				}
				if !heading {
					fmt.Fprintf(&b, "\n%s:\n", strings.ToUpper(string(group[:1]))+string(group[1:]))
					heading = true
				}
				name := "`" + strings.ReplaceAll(o.Key.String(), "`", "'") + "`"
				switch {
				case o.Change != Changed:
					fmt.Fprintf(&b, "- %s\n", name)
				case md.include(ci, oi):
					fmt.Fprintf(&b, "- %s\n\n%s", name, diffBlock(o.Diff))
				default:
					left++
					fmt.Fprintf(&b, "- %s\n", name)
				}
			}
		}
		if !strings.HasSuffix(b.String(), "\n\n") {
			b.WriteString("\n")
		}
		b.WriteString("</details>\n")
	}
	if left > 0 {
		fmt.Fprintf(&b, "\n%d changed %s listed without %s diff, to keep this comment under %d characters; `meshc diff` shows every diff.\n",
			left, plural(left, "object is", "objects are"), plural(left, "its", "their"), MarkdownLimit)
	}
	return b.String()
}

// counts says how many objects changed how, leaving out the zeros.
func counts(c *Cluster) string {
	a, r, ch := c.Count()
	var parts []string
	for _, p := range []struct {
		n    int
		what string
	}{{a, "added"}, {r, "removed"}, {ch, "changed"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	return string(c.Change) + ", " + strings.Join(parts, ", ")
}

// baseMarkdown names the base: its name and short commit, as code.
func (r *Result) baseMarkdown() string {
	label := r.BaseLabel()
	if name, commit, ok := strings.Cut(label, " ("); ok {
		return "`" + name + "` (`" + strings.TrimSuffix(commit, ")") + "`)"
	}
	return "`" + label + "`"
}

// diffBlock fences a diff; the fence is longer than any run of backticks
// inside it, so no value can close it early.
func diffBlock(d string) string {
	fence := "```"
	for strings.Contains(d, fence) {
		fence += "`"
	}
	return fence + "diff\n" + d + fence + "\n\n"
}

// cell makes text safe in a table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// cut shortens a comment to limit characters at a line boundary, closing
// an open section, and says how much was cut.
func cut(s string, limit int) string {
	const reserve = 300
	end := strings.LastIndex(s[:limit-reserve], "\n") + 1
	kept := s[:end]
	more := strings.Count(s[end:], "\n")
	tail := ""
	if strings.Count(kept, "<details>") > strings.Count(kept, "</details>") {
		tail = "\n</details>\n"
	}
	return kept + tail + fmt.Sprintf("\nThe comment is cut here (%d more lines) to stay under %d characters; run `meshc diff` for all of it.\n", more, MarkdownLimit)
}
