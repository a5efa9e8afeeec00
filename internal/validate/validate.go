// Package validate turns parsed input files into the mesh model. It unifies
// every file with the CUE schema (structure, enums, patterns, defaults), then
// applies the rules that need Go: quantities, cross-field and cross-file
// references, quota arithmetic. Every problem is reported with the position
// in the user's file, and all of them are reported in one run.
package validate

import (
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/cuecontext"
	cueerrors "cuelang.org/go/cue/errors"

	"github.com/golemtrust/meshc/internal/diag"
	"github.com/golemtrust/meshc/internal/load"
	"github.com/golemtrust/meshc/internal/mesh"
)

// Options tune a validation run.
type Options struct {
	// Parallelism is the number of clusters validated at once; 0 means
	// GOMAXPROCS. Output never depends on it.
	Parallelism int
}

// Mesh validates the mesh file and every cluster file. It returns the model
// (nil when there are errors) and every diagnostic, sorted.
func Mesh(in *load.Input, opts Options) (*mesh.Mesh, diag.List) {
	var diags diag.List
	if in == nil || in.Mesh == nil {
		return nil, diags
	}
	ctx := cuecontext.New()
	sch, err := newSchema(ctx)
	if err != nil {
		diags.Errorf(diag.Pos{File: schemaDirName()}, "%v", err)
		return nil, diags
	}
	m, md := meshFile(sch, in.Mesh)
	diags.Append(md)
	if m == nil {
		return nil, diags.Sorted()
	}

	clusters := make([]*mesh.Cluster, len(in.Clusters))
	perCluster := make([]diag.List, len(in.Clusters))
	workers := opts.Parallelism
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(workers, len(in.Clusters)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				// One context per cluster: a shared context keeps every
				// cluster's evaluation alive and its memory grows with the
				// whole mesh.
				clusters[i], perCluster[i] = clusterFile(in.Mesh, m, in.Clusters[i])
			}
		}()
	}
	for i := range in.Clusters {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	diags.Append(perCluster...)

	for _, c := range clusters {
		if c != nil {
			m.Clusters = append(m.Clusters, c)
		}
	}
	diags.Append(meshRules(m, in))
	diags = diags.Sorted()
	if diags.Failed(false) {
		return nil, diags
	}
	return m, diags
}

func schemaDirName() string { return "cue" }

// meshDoc is the mesh file as decoded from CUE.
type meshDoc struct {
	MeshID      string            `json:"meshID"`
	TrustDomain string            `json:"trustDomain"`
	Revisions   map[string]string `json:"revisions"`
	GitOps      struct {
		Engine  string `json:"engine"`
		RepoURL string `json:"repoURL"`
		Branch  string `json:"branch"`
	} `json:"gitops"`
}

func meshFile(sch *schema, f *load.File) (*mesh.Mesh, diag.List) {
	var diags diag.List
	raw := sch.ctx.BuildFile(f.AST)
	if err := raw.Err(); err != nil {
		return nil, schemaErrors(err, raw, sch.mesh, f.Path)
	}
	u := sch.mesh.Unify(raw)
	if err := u.Validate(cue.Concrete(true)); err != nil {
		return nil, schemaErrors(err, raw, sch.mesh, f.Path)
	}
	var doc meshDoc
	if err := u.Decode(&doc); err != nil {
		diags.Errorf(diag.Pos{File: f.Path}, "cannot decode the mesh file: %v", err)
		return nil, diags
	}
	m := &mesh.Mesh{
		ID:          doc.MeshID,
		TrustDomain: doc.TrustDomain,
		Revisions:   map[string]mesh.Version{},
		GitOps:      mesh.GitOps{Engine: mesh.Engine(doc.GitOps.Engine), RepoURL: doc.GitOps.RepoURL, Branch: doc.GitOps.Branch},
	}
	if len(doc.Revisions) == 0 {
		diags.Errorf(posOf(raw, f.Path, "revisions"), "revisions: the mesh declares no control-plane revisions; add at least one, such as \"1-21\": 1.21.0")
	}
	for name, v := range doc.Revisions {
		ver, err := mesh.ParseVersion(v)
		if err != nil {
			diags.Errorf(posOf(raw, f.Path, "revisions", name), "revisions.%s: %v", name, err)
			continue
		}
		m.Revisions[name] = ver
	}
	if d := raw.LookupPath(cue.ParsePath("defaults")); d.Exists() {
		if err := sch.defaults.Unify(d).Validate(); err != nil {
			diags.Append(prefixed(schemaErrors(err, d, sch.defaults, f.Path), "defaults."))
		}
	}
	if diags.Failed(false) {
		return nil, diags
	}
	return m, diags
}

// prefixed puts a path prefix in front of each message, for errors found
// in a sub-value such as the mesh's defaults.
func prefixed(l diag.List, prefix string) diag.List {
	for i := range l {
		l[i].Message = prefix + l[i].Message
	}
	return l
}

// schemaErrors turns CUE's errors into messages for people: the path in the
// user's file, what was found there and what the schema allows.
func schemaErrors(err error, raw, def cue.Value, file string) diag.List {
	var diags diag.List
	seen := map[string]bool{}
	for _, e := range cueerrors.Errors(err) {
		p := e.Path()
		for len(p) > 0 && strings.HasPrefix(p[0], "#") {
			p = p[1:] // the definition the data was unified with
		}
		format, args := e.Msg()
		msg := fmt.Sprintf(format, args...)
		key := strings.Join(p, "\x00")
		if seen[key] {
			continue // a disjunction reports each alternative; one message is enough
		}
		seen[key] = true
		name := dotted(p)
		found := raw.LookupPath(pathOf(p))
		switch {
		case strings.Contains(format, "field not allowed"):
			parent := at(def, p[:len(p)-1])
			field := p[len(p)-1]
			hint := ""
			if s := suggest(field, fieldNames(parent)); s != "" {
				hint = fmt.Sprintf("; did you mean %q?", s)
			} else if names := fieldNames(parent); len(names) > 0 {
				hint = "; allowed fields: " + strings.Join(names, ", ")
			}
			diags.Errorf(posOf(raw, file, p...), "%s: unknown field %q%s", name, field, hint)
		case !found.Exists():
			what := allowed(at(def, p))
			if what != "" {
				what = " (" + what + ")"
			}
			diags.Errorf(posOf(raw, file, p...), "%s: missing required field%s", name, what)
		default:
			what := allowed(at(def, p))
			if what == "" {
				what = msg
			}
			if name == "" {
				diags.Errorf(posOf(raw, file, p...), "%s", msg)
				continue
			}
			diags.Errorf(valuePosOf(raw, file, p...), "%s: %s is not allowed; use %s", name, show(found), what)
		}
	}
	return diags
}

// show renders a found value the way the user wrote it.
func show(v cue.Value) string {
	switch v.IncompleteKind() {
	case cue.StringKind:
		if s, err := v.String(); err == nil {
			return strconv.Quote(s)
		}
	case cue.StructKind:
		return "a map"
	case cue.ListKind:
		return "a list"
	case cue.NullKind:
		return "null"
	}
	if s := fmt.Sprint(v); s != "" {
		return s
	}
	return "this value"
}

// dotted renders a data path as people write it: controlPlane.pilot,
// namespaces.rng.authorization[0].name.
func dotted(p []string) string {
	var b strings.Builder
	for _, s := range p {
		if _, err := strconv.Atoi(s); err == nil {
			b.WriteString("[" + s + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	return b.String()
}

func pathOf(p []string) cue.Path {
	sels := make([]cue.Selector, len(p))
	for i, s := range p {
		if n, err := strconv.Atoi(s); err == nil {
			sels[i] = cue.Index(n)
		} else {
			sels[i] = cue.Str(s)
		}
	}
	return cue.MakePath(sels...)
}

// posOf finds the position of a data path in the user's files: the field's
// name, or of the deepest part of the path that exists, and at least the
// file itself.
func posOf(raw cue.Value, file string, p ...string) diag.Pos {
	for n := len(p); n >= 0; n-- {
		v := raw.LookupPath(pathOf(p[:n]))
		if !v.Exists() {
			continue
		}
		if pos := diag.FromToken(v.Pos()); pos.Line > 0 && !strings.HasPrefix(pos.File, schemaDirName()+"/") {
			return pos
		}
	}
	return diag.Pos{File: file, Line: 1, Col: 1}
}

// valuePosOf is posOf pointing at the value itself when it is a scalar:
// "mtls: STRICTT" is reported at STRICTT.
func valuePosOf(raw cue.Value, file string, p ...string) diag.Pos {
	v := raw.LookupPath(pathOf(p))
	if v.Exists() && v.IncompleteKind()&(cue.StructKind|cue.ListKind) == 0 {
		if f, ok := v.Source().(*ast.Field); ok && f.Value != nil {
			if pos := diag.FromToken(f.Value.Pos()); pos.Line > 0 {
				return pos
			}
		}
	}
	return posOf(raw, file, p...)
}

// suggest returns the candidate closest to s, if it is close enough to be a
// likely typo.
func suggest(s string, candidates []string) string {
	best, bestD := "", len(s)/2+2
	sorted := append([]string(nil), candidates...)
	sort.Strings(sorted)
	for _, c := range sorted {
		if d := distance(strings.ToLower(s), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// distance is the Damerau-Levenshtein (optimal string alignment) distance,
// so a swap such as mtsl -> mtls counts as one edit.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
