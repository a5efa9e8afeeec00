package validate

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/build"

	schemafiles "github.com/golemtrust/meshc/cue"
)

// schema is the compiled CUE schema in one cue.Context. A cue.Context is not
// safe for concurrent use, so every worker builds its own.
type schema struct {
	ctx       *cue.Context
	mesh      cue.Value // #Mesh
	cluster   cue.Value // #Cluster
	defaults  cue.Value // #Defaults
	namespace cue.Value // #Namespace
	name      cue.Value // #Name
}

// newSchema compiles the embedded schema files under their real names
// (cue/<file>.cue), so a schema position in a message names a real file.
func newSchema(ctx *cue.Context) (*schema, error) {
	names, err := fs.Glob(schemafiles.Files, "*.cue")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	inst := build.NewContext().NewInstance(schemafiles.Dir, nil)
	for _, name := range names {
		src, err := fs.ReadFile(schemafiles.Files, name)
		if err != nil {
			return nil, err
		}
		if err := inst.AddFile(path.Join(schemafiles.Dir, name), src); err != nil {
			return nil, err
		}
	}
	root := ctx.BuildInstance(inst)
	if err := root.Err(); err != nil {
		return nil, fmt.Errorf("meshc's own schema does not compile (a meshc bug): %w", err)
	}
	return &schema{
		ctx:       ctx,
		mesh:      root.LookupPath(cue.ParsePath("#Mesh")),
		cluster:   root.LookupPath(cue.ParsePath("#Cluster")),
		defaults:  root.LookupPath(cue.ParsePath("#Defaults")),
		namespace: root.LookupPath(cue.ParsePath("#Namespace")),
		name:      root.LookupPath(cue.ParsePath("#Name")),
	}, nil
}

// at returns the schema's constraint for a data path, following pattern
// constraints ([string]: #Namespace) and list elements.
func at(def cue.Value, p []cue.Selector) cue.Value {
	v := def
	for _, sel := range p {
		v = childDef(v, sel)
		if !v.Exists() {
			return v
		}
	}
	return v
}

// allowed describes in words what a schema constraint accepts: its
// @allowed attribute, or that of the definition it refers to, or the list
// of literal values of an enum.
func allowed(v cue.Value) string {
	if a := v.Attribute("allowed"); a.Err() == nil {
		if s, err := a.String(0); err == nil {
			return s
		}
	}
	if root, p := v.ReferencePath(); root.Exists() && len(p.Selectors()) > 0 {
		if d := allowed(root.LookupPath(p)); d != "" {
			return d
		}
	}
	op, args := v.Expr()
	switch op {
	case cue.NoOp, cue.SelectorOp:
		return ""
	case cue.OrOp:
		var lits []string
		for _, a := range args {
			if d := allowed(a); d != "" {
				return d
			}
			if s, err := a.String(); err == nil {
				lits = append(lits, s)
			}
		}
		return orList(lits)
	}
	for _, a := range args {
		if d := allowed(a); d != "" {
			return d
		}
	}
	return ""
}

// fieldNames lists the fields a schema struct allows, for suggestions.
func fieldNames(v cue.Value) []string {
	it, err := v.Fields(cue.Optional(true), cue.Definitions(false))
	if err != nil {
		return nil
	}
	var names []string
	for it.Next() {
		names = append(names, it.Selector().Unquoted())
	}
	return names
}

func orList(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}
