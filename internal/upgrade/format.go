package upgrade

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteText prints the plan for a terminal or a pull request: each step
// with its edits, restarts and check.
func (p *Plan) WriteText(w io.Writer) error {
	var b strings.Builder
	if p.Done() {
		fmt.Fprintf(&b, "cluster %s already runs only revision %s; nothing to do\n", p.Cluster, p.To)
		_, err := io.WriteString(w, b.String())
		return err
	}
	now := p.From
	if p.Canary != "" {
		now += ", canary " + p.Canary
	}
	if p.Previous != "" {
		now += ", previous " + p.Previous
	}
	fmt.Fprintf(&b, "cluster %s runs revision %s; to run only %s: %d %s, one commit each\n", p.Cluster, now, p.To, len(p.Steps), plural(len(p.Steps), "step", "steps"))
	for _, st := range p.Steps {
		b.WriteString("\n")
		st.writeText(&b)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Title names the step in one line.
func (st *Step) Title() string {
	switch {
	case st.Namespace != "":
		return fmt.Sprintf("%d. %s namespace %s", st.N, st.Kind, st.Namespace)
	case st.Tag != "":
		return fmt.Sprintf("%d. %s tag %s", st.N, st.Kind, st.Tag)
	}
	return fmt.Sprintf("%d. %s", st.N, st.Kind)
}

func (st *Step) writeText(b *strings.Builder) {
	b.WriteString(st.Title() + "\n")
	if st.Check != nil && st.Check.Before {
		fmt.Fprintf(b, "   before merging, check: %s\n", st.Check.Text)
	}
	for _, e := range st.Edits {
		fmt.Fprintf(b, "   %s\n", e)
	}
	for _, r := range st.Restarts {
		fmt.Fprintf(b, "   then restart: %s\n", r)
	}
	if st.Check != nil && !st.Check.Before {
		fmt.Fprintf(b, "   then check: %s\n", st.Check.Text)
	}
}

// WriteText prints one step, as `upgrade next` does after applying it.
func (st *Step) WriteText(w io.Writer) error {
	var b strings.Builder
	st.writeText(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

type jsonPlan struct {
	Cluster string     `json:"cluster"`
	From    string     `json:"from"`
	To      string     `json:"to"`
	Steps   []jsonStep `json:"steps"`
}

type jsonStep struct {
	N         int        `json:"n"`
	Kind      Kind       `json:"kind"`
	Namespace string     `json:"namespace,omitempty"`
	Tag       string     `json:"tag,omitempty"`
	Edits     []jsonEdit `json:"edits"`
	Restarts  []string   `json:"restarts"`
	Check     *jsonCheck `json:"check,omitempty"`
}

type jsonEdit struct {
	Path  string  `json:"path"`
	Value *string `json:"value"`
}

type jsonCheck struct {
	When string `json:"when"` // before | after
	Text string `json:"text"`
}

// WriteJSON prints the plan as SPEC's json: {"cluster", "from", "to",
// "steps": [{"n", "kind", "namespace"?, "edits": [{"path", "value"}],
// "restarts"}]}; a step also carries "tag" when it moves a tag and its
// "check". A removed field's value is null.
func (p *Plan) WriteJSON(w io.Writer) error {
	out := jsonPlan{Cluster: p.Cluster, From: p.From, To: p.To, Steps: []jsonStep{}}
	for _, st := range p.Steps {
		js := jsonStep{N: st.N, Kind: st.Kind, Namespace: st.Namespace, Tag: st.Tag, Edits: []jsonEdit{}, Restarts: []string{}}
		for _, e := range st.Edits {
			js.Edits = append(js.Edits, jsonEdit{Path: strings.Join(e.Path, "."), Value: e.Value})
		}
		js.Restarts = append(js.Restarts, st.Restarts...)
		if st.Check != nil {
			js.Check = &jsonCheck{When: "after", Text: st.Check.Text}
			if st.Check.Before {
				js.Check.When = "before"
			}
		}
		out.Steps = append(out.Steps, js)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
