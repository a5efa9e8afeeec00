package diff

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/golemtrust/meshc/internal/review"
)

// BaseLabel names the base for people: its name and short commit.
func (r *Result) BaseLabel() string {
	short := r.Commit
	if len(short) > 12 {
		short = short[:12]
	}
	if r.Base == "" || r.Base == r.Commit {
		return short
	}
	return r.Base + " (" + short + ")"
}

// note says, when it must, that one side is empty.
func (r *Result) note() string {
	switch {
	case len(r.BaseProblems) > 0:
		n := len(r.BaseProblems)
		return fmt.Sprintf("the mesh at %s is invalid (%d %s): every cluster is compared with nothing", r.BaseLabel(), n, plural(n, "error", "errors"))
	case r.BaseMissing:
		return fmt.Sprintf("%s has no clusters folder: every cluster is new", r.BaseLabel())
	}
	return ""
}

func summary(c *Cluster) string {
	a, r, ch := c.Count()
	return fmt.Sprintf("%s: %d added, %d removed, %d changed", c.Change, a, r, ch)
}

func changeMark(c Change) string {
	switch c {
	case Added:
		return "+"
	case Removed:
		return "-"
	}
	return "~"
}

// Text writes the comparison for a terminal.
func Text(w io.Writer, r *Result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "meshc diff: %s -> working tree\n", r.BaseLabel())
	if n := r.note(); n != "" {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	if r.Empty() {
		b.WriteString("no changes: every cluster receives the same objects\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	if len(r.Risks) > 0 {
		fmt.Fprintf(&b, "\n%d %s:\n", len(r.Risks), plural(len(r.Risks), "risk", "risks"))
		for _, k := range r.Risks {
			fmt.Fprintf(&b, "  %s  %s  %s: %s -> %s\n", k.Rule, k.Cluster, objectName(k), k.Before, k.After)
			fmt.Fprintf(&b, "      %s\n", k.Message)
			if k.Source != "" {
				fmt.Fprintf(&b, "      at %s\n", k.Source)
			}
		}
	}
	for i := range r.Clusters {
		c := &r.Clusters[i]
		fmt.Fprintf(&b, "\ncluster %s: %s\n", c.Name, summary(c))
		for _, o := range c.Objects {
			fmt.Fprintf(&b, "  %s %s\n", changeMark(o.Change), o.Key)
			for _, line := range strings.SplitAfter(o.Diff, "\n") {
				if line != "" {
					b.WriteString("      " + line)
				}
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func objectName(k review.Risk) string {
	return review.Key{Kind: k.Kind, Namespace: k.Namespace, Name: k.Name}.String()
}

// jsonResult is SPEC's shape, with the risks first and the commit, the
// base's errors and each risk's before, after and source added.
type jsonResult struct {
	Base       string        `json:"base"`
	Commit     string        `json:"commit"`
	BaseErrors []string      `json:"baseErrors,omitempty"`
	Risks      []review.Risk `json:"risks"`
	Clusters   []jsonCluster `json:"clusters"`
}

type jsonCluster struct {
	Name    string       `json:"name"`
	Change  Change       `json:"change"`
	Objects []jsonObject `json:"objects"`
}

type jsonObject struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Change    Change `json:"change"`
	Diff      string `json:"diff"`
}

// JSON writes the comparison as one JSON document.
func JSON(w io.Writer, r *Result) error {
	out := jsonResult{Base: r.Base, Commit: r.Commit, Risks: r.Risks, Clusters: []jsonCluster{}}
	if out.Base == "" {
		out.Base = r.Commit
	}
	if out.Risks == nil {
		out.Risks = []review.Risk{}
	}
	for _, d := range r.BaseProblems {
		out.BaseErrors = append(out.BaseErrors, d.String())
	}
	for _, c := range r.Clusters {
		jc := jsonCluster{Name: c.Name, Change: c.Change, Objects: []jsonObject{}}
		for _, o := range c.Objects {
			jc.Objects = append(jc.Objects, jsonObject{o.Kind, o.Namespace, o.Name, o.Change, o.Diff})
		}
		out.Clusters = append(out.Clusters, jc)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}
