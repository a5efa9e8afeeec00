package diff

import (
	"fmt"
	"strings"
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
	md := markdown{r: r, include: func(int, int) bool { return true }}
	if out := md.render(); len(out) <= limit {
		return out
	}
	// Everything but the diffs, with every diff left out, is the floor;
	// the rest of the budget goes to diffs in order, each whole or not at
	// all.
	md.include = func(int, int) bool { return false }
	floor := len(md.render())
	budget := limit - floor
	taken := map[[2]int]bool{}
	for ci, c := range r.Clusters {
		for oi, o := range c.Objects {
			if o.Change != Changed {
				continue
			}
			if n := len(diffBlock(o.Diff)); n <= budget {
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
	r       *Result
	include func(cluster, object int) bool
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
		for _, k := range r.Risks {
			src := ""
			if k.Source != "" {
				src = "`" + k.Source + "`"
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s | %s |\n", k.Rule, k.Cluster, cell(objectName(k)), cell(k.Before), cell(k.After), cell(k.Message), src)
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
		fmt.Fprintf(&b, "\n<details>\n<summary><b>%s</b>: %s</summary>\n\n", c.Name, summary(c))
		for oi, o := range c.Objects {
			name := "`" + strings.ReplaceAll(o.Key.String(), "`", "'") + "`"
			switch {
			case o.Change != Changed:
				fmt.Fprintf(&b, "- %s %s\n", o.Change, name)
			case md.include(ci, oi):
				fmt.Fprintf(&b, "- changed %s\n\n%s", name, diffBlock(o.Diff))
			default:
				left++
				fmt.Fprintf(&b, "- changed %s (diff left out: %d lines)\n", name, strings.Count(o.Diff, "\n"))
			}
		}
		if !strings.HasSuffix(b.String(), "\n\n") {
			b.WriteString("\n")
		}
		b.WriteString("</details>\n")
	}
	if left > 0 {
		fmt.Fprintf(&b, "\n%d object %s left out to keep this comment under %d characters; run `meshc diff` for all of them.\n",
			left, plural(left, "diff was", "diffs were"), MarkdownLimit)
	}
	return b.String()
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
