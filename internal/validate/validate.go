// Package validate turns parsed input files into the mesh model. It unifies
// every file with the CUE schema (structure, enums, patterns, defaults), then
// applies the rules that need Go: quantities, cross-field and cross-file
// references, quota arithmetic. Every problem is reported with the position
// in the user's file, and all of them are reported in one run.
package validate

import (
	"encoding/json"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/cuecontext"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/token"

	schemafiles "github.com/golemtrust/meshc/cue"
	"github.com/golemtrust/meshc/internal/diag"
	"github.com/golemtrust/meshc/internal/load"
	"github.com/golemtrust/meshc/internal/mesh"
	suggestpkg "github.com/golemtrust/meshc/internal/suggest"
)

// Options tune a validation run.
type Options struct {
	// Parallelism is the number of clusters validated at once; 0 means
	// GOMAXPROCS. Output never depends on it.
	Parallelism int
	// Whole validates every cluster file whole, never on the fast path
	// (fast.go); the tests compare the two.
	Whole bool
	// Entries, when set, keeps namespace entry verdicts across runs.
	Entries EntryStore
}

// Mesh validates the mesh file and every cluster file. It returns the model
// (nil when there are errors) and every diagnostic, sorted. Cluster files
// are validated even when the mesh file is missing or invalid, as far as
// they can be without it, so one run reports every error.
func Mesh(in *load.Input, opts Options) (*mesh.Mesh, diag.List) {
	var diags diag.List
	if in == nil {
		return nil, diags
	}
	ctx := cuecontext.New()
	sch, err := newSchema(ctx)
	if err != nil {
		diags.Errorf(diag.Pos{File: schemafiles.Dir}, "%v", err)
		return nil, diags
	}
	info := &meshInfo{declared: map[string]bool{}}
	if in.Mesh != nil {
		var md diag.List
		info, md = meshFile(sch, in.Mesh)
		diags.Append(md)
	}
	m := info.m

	clusters := make([]*mesh.Cluster, len(in.Clusters))
	perCluster := make([]diag.List, len(in.Clusters))
	workers := opts.Parallelism
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	memo := newEntryMemo(opts.Entries)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for n := 0; n < min(workers, len(in.Clusters)); n++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &worker{info: info, memo: memo}
			if n == 0 {
				// This goroutine only waits from here on: the first
				// worker takes over its compiled schema.
				w.adopt(sch)
			}
			for i := range jobs {
				if c, ok := fastCluster(w, in.Clusters[i]); ok && !opts.Whole {
					clusters[i] = c
					continue
				}
				// One context per cluster: a shared context keeps every
				// cluster's evaluation alive and its memory grows with the
				// whole mesh.
				clusters[i], perCluster[i] = clusterFile(info, in.Clusters[i])
			}
		}()
	}
	for i := range in.Clusters {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	diags.Append(perCluster...)

	if m != nil {
		for _, c := range clusters {
			if c != nil {
				m.Clusters = append(m.Clusters, c)
			}
		}
	}
	diags = diags.Sorted()
	if m == nil || !info.ok || diags.Failed(false) {
		return nil, diags
	}
	return m, diags
}

// meshInfo is what cluster validation needs from the mesh file.
type meshInfo struct {
	// file is the mesh file; nil when there is none or it does not parse.
	file *load.File
	// m is the mesh as far as it is valid: only revisions with a valid
	// version are in m.Revisions.
	m *mesh.Mesh
	// ok reports whether the mesh file is valid.
	ok bool
	// declared holds every revision name the mesh file declares, valid or
	// not, so that clusters are not blamed for the mesh's mistakes.
	declared map[string]bool
	// headDefaults are the mesh's defaults as plain data, for fastHead
	// (nil: none); headsByShape says whether fastHead may run at all (a
	// valid YAML mesh file whose defaults are plain data).
	headDefaults *load.Plain
	headsByShape bool
	// buildMu serialises building the mesh file's syntax tree into a CUE
	// context (defaults): BuildFile resolves identifiers in the tree it
	// is given, writing to it, and the validation workers each build it
	// into their own context (go test -race saw them race).
	buildMu sync.Mutex
}

// defaults is the mesh file's defaults, built into ctx; it does not exist
// when the mesh file has none.
func (mi *meshInfo) defaults(ctx *cue.Context) cue.Value {
	mi.buildMu.Lock()
	defer mi.buildMu.Unlock()
	return ctx.BuildFile(mi.file.AST).LookupPath(cue.ParsePath("defaults"))
}

// known reports whether the mesh file was read at all.
func (mi *meshInfo) known() bool { return mi.file != nil }

// meshDoc is the mesh file as decoded from CUE.
type meshDoc struct {
	MeshID      string            `json:"meshID"`
	TrustDomain string            `json:"trustDomain"`
	Revisions   map[string]string `json:"revisions"`
	GitOps      struct {
		Engine  string `json:"engine"`
		RepoURL string `json:"repoURL"`
		Branch  string `json:"branch"`
		CA      *struct {
			Path       string `json:"path"`
			Decryption string `json:"decryption"`
		} `json:"ca"`
	} `json:"gitops"`
}

func meshFile(sch *schema, f *load.File) (*meshInfo, diag.List) {
	info := &meshInfo{file: f, declared: map[string]bool{}}
	var diags diag.List
	raw := sch.ctx.BuildFile(f.AST)
	if err := raw.Err(); err != nil && kindOf(raw) != cue.StructKind {
		// An error in the file as a whole (a reference to nothing);
		// errors inside its fields are found field by field below.
		info.file = nil
		return info, schemaErrors(err, raw, sch.mesh, f.Path)
	}
	if kindOf(raw) != cue.StructKind {
		info.file = nil
		diags.Errorf(diag.Pos{File: f.Path, Line: 1, Col: 1}, "the file holds %s; a mesh file is a map of fields: meshID, revisions, gitops and optional defaults", show(raw))
		return info, diags
	}
	if revs := raw.LookupPath(cue.ParsePath("revisions")); revs.Exists() {
		if it, err := revs.Fields(); err == nil {
			for it.Next() {
				info.declared[it.Selector().Unquoted()] = true
			}
		}
	}

	var doc meshDoc
	u := sch.mesh.Unify(raw)
	d := raw.LookupPath(cue.ParsePath("defaults"))
	uerr := u.Validate(cue.Concrete(true))
	var derr error
	if d.Exists() {
		derr = sch.defaults.Unify(d).Validate()
	}
	if uerr == nil && derr == nil {
		if err := u.Decode(&doc); err != nil {
			diags.Errorf(diag.Pos{File: f.Path}, "cannot decode the mesh file: %v", err)
			return info, diags
		}
	} else {
		c := &checker{sch: sch, file: f.Path, raw: raw, sub: func(p []cue.Selector) (cue.Value, bool, bool) {
			if len(p) == 1 && p[0].String() == "defaults" {
				return sch.defaults, true, true
			}
			return cue.Value{}, false, false
		}}
		clean, _ := c.check(sch.mesh, raw, nil, false)
		diags.Append(c.diags)
		if len(c.diags) == 0 {
			// The schema says no, but the checker found nothing: report
			// what CUE says.
			if uerr != nil {
				diags.Append(schemaErrors(uerr, raw, sch.mesh, f.Path))
			}
			if derr != nil {
				for _, e := range schemaErrors(derr, d, sch.defaults, f.Path) {
					e.Message = "defaults." + e.Message
					diags = append(diags, e)
				}
			}
		}
		decodeClean(clean, &doc)
	}

	m := &mesh.Mesh{
		ID:          doc.MeshID,
		TrustDomain: doc.TrustDomain,
		Revisions:   map[string]mesh.Version{},
		GitOps:      mesh.GitOps{Engine: mesh.Engine(doc.GitOps.Engine), RepoURL: doc.GitOps.RepoURL, Branch: doc.GitOps.Branch},
	}
	if ca := doc.GitOps.CA; ca != nil {
		at := posOf(raw, f.Path, cue.Str("gitops"), cue.Str("ca"))
		m.GitOps.CA = &mesh.CA{Path: ca.Path, Decryption: ca.Decryption, Pos: mesh.Pos{File: at.File, Line: at.Line, Col: at.Col}}
		if ca.Decryption == "sops" && m.GitOps.Engine == mesh.ArgoCD {
			p := []cue.Selector{cue.Str("gitops"), cue.Str("ca"), cue.Str("decryption")}
			diags.Errorf(valuePosOf(raw, f.Path, p...), "%s: sops is Flux's (kustomize-controller decrypts the folder); Argo CD has no SOPS decryption of its own, and meshc never decrypts the CA: remove decryption and put in %s/<cluster>/ what Argo CD applies as it is (an ExternalSecret, a SealedSecret), or use gitops.engine: flux",
				dotted(p), ca.Path)
		}
	}
	if len(info.declared) == 0 {
		diags.Errorf(posOf(raw, f.Path, cue.Str("revisions")), "revisions: the mesh declares no control-plane revisions; add at least one, such as \"1-21\": 1.21.0")
	}
	for _, name := range sortedKeys(doc.Revisions) {
		p := []cue.Selector{cue.Str("revisions"), cue.Str(name)}
		ver, err := mesh.ParseVersion(doc.Revisions[name])
		if err != nil {
			diags.Errorf(valuePosOf(raw, f.Path, p...), "%s: %v", dotted(p), err)
			continue
		}
		if rel := istiodRelease(name); len(rel) > MaxReleaseName {
			diags.Errorf(posOf(raw, f.Path, p...), "%s: the revision's Helm release name %q is %d characters; Helm allows at most %d: use a revision name of at most %d characters",
				dotted(p), rel, len(rel), MaxReleaseName, MaxReleaseName-len(istiodRelease("")))
			continue
		}
		m.Revisions[name] = ver
	}
	info.m = m
	info.ok = !diags.Failed(false)
	if info.ok && uerr == nil && derr == nil {
		info.headDefaults, info.headsByShape = plainDefaults(sch, f, d)
	}
	return info, diags
}

// decodeClean decodes the checker's clean data into a Go value. The data
// is JSON-ready by construction; a field that does not fit is left at its
// zero value.
func decodeClean(clean any, x any) {
	b, err := json.Marshal(clean)
	if err != nil {
		return
	}
	_ = json.Unmarshal(b, x)
}

// schemaErrors turns CUE's errors into messages for people: the path in the
// user's file, what was found there and what the schema allows. It is the
// fallback for errors the checker does not see (and for errors in a CUE
// file itself, such as a reference to nothing).
func schemaErrors(err error, raw, def cue.Value, file string) diag.List {
	var diags diag.List
	seen := map[string]bool{}
	for _, e := range cueerrors.Errors(err) {
		p := errorPath(e.Path())
		format, args := e.Msg()
		msg := fmt.Sprintf(format, args...)
		key := dotted(p)
		if seen[key] {
			continue // a disjunction reports each alternative; one message is enough
		}
		seen[key] = true
		name := dotted(p)
		found := raw.LookupPath(cue.MakePath(p...))
		pos := posOf(raw, file, p...)
		// Prefer a position CUE gives in the user's own file.
		for _, ip := range append([]token.Pos{e.Position()}, e.InputPositions()...) {
			if dp := diag.FromToken(ip); dp.File == file && dp.Line > 0 && !found.Exists() {
				pos = dp
				break
			}
		}
		switch {
		case name == "":
			diags.Errorf(pos, "%s", msg)
		case strings.Contains(format, "field not allowed"):
			parent := at(def, p[:len(p)-1])
			field := p[len(p)-1].Unquoted()
			hint := ""
			if s := suggest(field, fieldNames(parent)); s != "" {
				hint = fmt.Sprintf("; did you mean %q?", s)
			} else if names := fieldNames(parent); len(names) > 0 {
				hint = "; allowed fields: " + strings.Join(names, ", ")
			}
			diags.Errorf(pos, "%s: unknown field %q%s", name, field, hint)
		case !found.Exists() || found.Err() != nil:
			diags.Errorf(pos, "%s: %s", name, msg)
		default:
			what := allowed(at(def, p))
			if what == "" {
				what = msg
			}
			diags.Errorf(valuePosOf(raw, file, p...), "%s: %s is not allowed; use %s", name, show(found), what)
		}
	}
	return diags
}

// errorPath turns the path of a CUE error into selectors, leaving out the
// definition the data was unified with.
func errorPath(parts []string) []cue.Selector {
	var p []cue.Selector
	for i, s := range parts {
		switch {
		case i == 0 && strings.HasPrefix(s, "#"):
		case strings.HasPrefix(s, `"`):
			if u, err := strconv.Unquote(s); err == nil {
				p = append(p, cue.Str(u))
			} else {
				p = append(p, cue.Str(s))
			}
		default:
			if n, err := strconv.Atoi(s); err == nil && n >= 0 {
				p = append(p, cue.Index(n))
			} else {
				p = append(p, cue.Str(s))
			}
		}
	}
	return p
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
	case cue.BytesKind:
		return "binary data"
	}
	if t := literalText(v); t != "" {
		return t
	}
	if s := fmt.Sprint(v); s != "" {
		return s
	}
	return "this value"
}

// literalText is a scalar's text as written in the user's file.
func literalText(v cue.Value) string {
	switch n := v.Source().(type) {
	case *ast.BasicLit:
		return n.Value
	case *ast.Field:
		if l, ok := n.Value.(*ast.BasicLit); ok {
			return l.Value
		}
	case *ast.UnaryExpr:
		if l, ok := n.X.(*ast.BasicLit); ok {
			return n.Op.String() + l.Value
		}
	}
	return ""
}

// dotted renders a data path as people write it: controlPlane.pilot,
// namespaces.rng.authorization[0].name, namespaces.rng.labels."app.kubernetes.io/name".
func dotted(p []cue.Selector) string {
	var b strings.Builder
	for _, s := range p {
		if s.Type() == cue.IndexLabel {
			fmt.Fprintf(&b, "[%d]", s.Index())
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		name := s.Unquoted()
		if needsQuotes(name) {
			name = strconv.Quote(name)
		}
		b.WriteString(name)
	}
	return b.String()
}

func needsQuotes(s string) bool {
	if s == "" {
		return true
	}
	for _, r := range s {
		if r == '.' || r == '"' || r == '[' || r == ']' || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
	}
	return false
}

// posOf finds the position of a data path in the user's files: the field's
// name, or of the deepest part of the path that exists, and at least the
// file itself.
func posOf(raw cue.Value, file string, p ...cue.Selector) diag.Pos {
	if !raw.Exists() {
		return diag.Pos{File: file, Line: 1, Col: 1} // the fast path, which discards it
	}
	for n := len(p); n > 0; n-- {
		v := raw.LookupPath(cue.MakePath(p[:n]...))
		if !v.Exists() {
			continue
		}
		if pos := diag.FromToken(v.Pos()); pos.Line > 0 && !strings.HasPrefix(pos.File, schemafiles.Dir+"/") {
			return pos
		}
	}
	return diag.Pos{File: file, Line: 1, Col: 1}
}

// valuePosOf is posOf pointing at the value itself when it is a scalar:
// "mtls: STRICTT" is reported at STRICTT.
func valuePosOf(raw cue.Value, file string, p ...cue.Selector) diag.Pos {
	if !raw.Exists() {
		return posOf(raw, file, p...)
	}
	v := raw.LookupPath(cue.MakePath(p...))
	if v.Exists() && v.IncompleteKind()&(cue.StructKind|cue.ListKind) == 0 {
		if f, ok := v.Source().(*ast.Field); ok && f.Value != nil {
			if pos := diag.FromToken(f.Value.Pos()); pos.Line > 0 {
				return pos
			}
		}
		if pos := diag.FromToken(v.Pos()); pos.Line > 0 && !strings.HasPrefix(pos.File, schemafiles.Dir+"/") {
			return pos
		}
	}
	return posOf(raw, file, p...)
}

// suggest returns the candidate closest to s, if it is close enough to be a
// likely typo: within about half of its length.
func suggest(s string, candidates []string) string {
	return suggestpkg.Closest(s, candidates, len(s)/2+1)
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
