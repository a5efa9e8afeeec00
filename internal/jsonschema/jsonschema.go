// Package jsonschema generates the JSON Schemas of the mesh file and the
// cluster file from meshc's CUE schemas (cue/*.cue), so editors validate
// and complete YAML cluster files as users type (yaml-language-server:
// "# yaml-language-server: $schema=../schema/cluster.schema.json").
//
// The CUE definitions stay the single source of truth: cuelang.org/go's
// encoding/jsonschema generates the structure (types, closed structs,
// enums, patterns, bounds, references), and this package post-processes
// what that generator drops or cannot know:
//
//   - defaults: the generator weakens a field with a default (*"main" |
//     (string & =~"...") comes out as a bare string), so it runs on the
//     schema with the default markers removed, and the defaults are put
//     back as "default" annotations; a default arm the other arms accept
//     anyway ("const": "STRICT" beside STRICT | PERMISSIVE | DISABLE) is
//     dropped;
//   - required: a field with a default is not required; in a cluster file
//     nothing the mesh file's defaults can provide (#Defaults) is required,
//     as meshc itself accepts; the mesh file's defaults need not be
//     complete;
//   - descriptions: each field's doc comment and @allowed attribute;
//   - the mesh file's defaults, an open struct in #Mesh that meshc checks
//     against #Defaults, get #Defaults' schema;
//   - map keys constrained by a definition ([#Name]: #Version), which the
//     generator leaves open, get propertyNames;
//
// and then converts the result from draft 2020-12 (all the generator
// writes) to draft-07, the draft yaml-language-server supports.
//
// What JSON Schema cannot say stays with meshc validate: cross-file rules
// (a revision the mesh declares, the file name equals name), quantity
// arithmetic, and the Go rules in internal/validate.
package jsonschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/ast/astutil"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"
	cuejsonschema "cuelang.org/go/encoding/jsonschema"

	schemafiles "github.com/golemtrust/meshc/cue"
)

// The files meshc writes, in the schema folder.
const (
	MeshFile    = "mesh.schema.json"
	ClusterFile = "cluster.schema.json"
)

// DefaultDir is the folder the schema files are committed in, next to
// clusters/ (the example files' modelines say ../schema/...).
const DefaultDir = "schema"

// Draft is the JSON Schema draft of the files.
const Draft = "http://json-schema.org/draft-07/schema#"

// Files returns the schema files by name (MeshFile, ClusterFile). They
// depend only on the embedded CUE schema, so they are generated once.
func Files() (map[string][]byte, error) {
	files, err := generated()
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(files))
	for k, v := range files {
		out[k] = v
	}
	return out, nil
}

var generated = sync.OnceValues(generate)

// fileSpec describes one schema file.
type fileSpec struct {
	name        string // MeshFile or ClusterFile
	def         string // the CUE definition
	title       string
	description string
	// partialAt reports whether a top-level field, and everything in it,
	// may be incomplete: nothing in it is required.
	partialAt func(g *generator, field string) bool
	// fix adjusts the generated root before it is post-processed.
	fix func(g *generator, root node) error
}

var specs = []fileSpec{
	{
		name:  MeshFile,
		def:   "#Mesh",
		title: "meshc mesh file",
		description: "The mesh file, clusters/mesh.yaml: what every cluster of the mesh shares. " +
			"Generated from meshc's CUE schema (cue/mesh.cue); meshc validate checks more than this schema can.",
		partialAt: func(_ *generator, field string) bool { return field == "defaults" },
		fix:       meshDefaults,
	},
	{
		name:  ClusterFile,
		def:   "#Cluster",
		title: "meshc cluster file",
		description: "A cluster file, clusters/<name>.yaml: one cluster of the mesh. " +
			"Fields the mesh file's defaults can set are optional here. " +
			"Generated from meshc's CUE schema (cue/cluster.cue); meshc validate checks more than this schema can.",
		partialAt: func(g *generator, field string) bool {
			return lookupField(g.defaults.orig, field).Exists()
		},
	},
}

// meshDefaults gives the mesh file's defaults the schema of #Defaults:
// #Mesh declares them an open struct (defaults?: {...}), which the
// generator cannot express (it writes "const": {}), and meshc checks them
// against #Defaults (internal/validate).
func meshDefaults(g *generator, root node) error {
	props, _ := root["properties"].(node)
	if _, ok := props["defaults"].(node); !ok {
		return fmt.Errorf("#Mesh has no defaults field")
	}
	if err := g.addDef("Defaults", cue.ParsePath("#Defaults")); err != nil {
		return err
	}
	props["defaults"] = node{"$ref": "#/$defs/Defaults"} // the walk adds the description
	return nil
}

// node is one JSON Schema object, as decoded from JSON.
type node = map[string]any

// vals are one schema value in the three compilations of the CUE schema:
// orig as written, star without default markers (*x | y is x | y; the
// generator runs on it), rest without default arms (*x | y is y).
type vals struct{ orig, star, rest cue.Value }

func (v vals) lookup(f func(cue.Value) cue.Value) vals {
	return vals{f(v.orig), f(v.star), f(v.rest)}
}

func (v vals) field(name string) vals {
	return v.lookup(func(x cue.Value) cue.Value { return lookupField(x, name) })
}

func (v vals) anyString() vals {
	return v.lookup(func(x cue.Value) cue.Value { return x.LookupPath(cue.MakePath(cue.AnyString)) })
}

func (v vals) anyIndex() vals {
	return v.lookup(func(x cue.Value) cue.Value { return x.LookupPath(cue.MakePath(cue.AnyIndex)) })
}

func (v vals) index(i int) vals {
	return v.lookup(func(x cue.Value) cue.Value { return x.LookupPath(cue.MakePath(cue.Index(i))) })
}

// lookupField finds a regular, optional or required field of a struct.
func lookupField(v cue.Value, name string) cue.Value {
	for _, sel := range []cue.Selector{cue.Str(name), cue.Str(name).Optional(), cue.Str(name).Required()} {
		if f := v.LookupPath(cue.MakePath(sel)); f.Exists() {
			return f
		}
	}
	return cue.Value{}
}

// generator holds one run: the three compilations and the definitions.
type generator struct {
	ctx      *cue.Context
	roots    vals
	defaults vals // #Defaults
	// raw holds the generated (draft 2020-12) definitions by name, paths
	// their CUE paths.
	raw   map[string]node
	paths map[string]cue.Path
	// out holds the post-processed definitions by output name.
	out  map[string]node
	busy map[string]bool
}

func generate() (map[string][]byte, error) {
	ctx := cuecontext.New()
	g := &generator{ctx: ctx, raw: map[string]node{}, paths: map[string]cue.Path{}}
	var err error
	if g.roots.orig, err = compile(ctx, nil); err != nil {
		return nil, err
	}
	if g.roots.star, err = compile(ctx, dropDefaultMarks); err != nil {
		return nil, err
	}
	if g.roots.rest, err = compile(ctx, dropDefaultArms); err != nil {
		return nil, err
	}
	g.defaults = g.roots.lookup(func(x cue.Value) cue.Value { return x.LookupPath(cue.ParsePath("#Defaults")) })
	files := map[string][]byte{}
	for _, spec := range specs {
		data, err := g.file(spec)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", spec.name, err)
		}
		files[spec.name] = data
	}
	return files, nil
}

// compile builds the embedded schema files under their real names
// (cue/<file>.cue), as internal/validate does, after transforming each
// file's syntax tree.
func compile(ctx *cue.Context, transform func(*ast.File)) (cue.Value, error) {
	names, err := fs.Glob(schemafiles.Files, "*.cue")
	if err != nil {
		return cue.Value{}, err
	}
	sort.Strings(names)
	inst := build.NewContext().NewInstance(schemafiles.Dir, nil)
	for _, name := range names {
		src, err := fs.ReadFile(schemafiles.Files, name)
		if err != nil {
			return cue.Value{}, err
		}
		f, err := parser.ParseFile(path.Join(schemafiles.Dir, name), src, parser.ParseComments)
		if err != nil {
			return cue.Value{}, err
		}
		if transform != nil {
			transform(f)
		}
		if err := inst.AddSyntax(f); err != nil {
			return cue.Value{}, err
		}
	}
	root := ctx.BuildInstance(inst)
	if err := root.Err(); err != nil {
		return cue.Value{}, fmt.Errorf("meshc's own schema does not compile (a meshc bug): %w", err)
	}
	return root, nil
}

// dropDefaultMarks turns *x | y into x | y.
func dropDefaultMarks(f *ast.File) {
	astutil.Apply(f, nil, func(c astutil.Cursor) bool {
		if u, ok := c.Node().(*ast.UnaryExpr); ok && u.Op == token.MUL {
			c.Replace(u.X)
		}
		return true
	})
}

// dropDefaultArms turns *x | y into y.
func dropDefaultArms(f *ast.File) {
	isDefault := func(e ast.Expr) bool {
		for {
			p, ok := e.(*ast.ParenExpr)
			if !ok {
				break
			}
			e = p.X
		}
		u, ok := e.(*ast.UnaryExpr)
		return ok && u.Op == token.MUL
	}
	astutil.Apply(f, nil, func(c astutil.Cursor) bool {
		b, ok := c.Node().(*ast.BinaryExpr)
		if !ok || b.Op != token.OR {
			return true
		}
		switch {
		case isDefault(b.X):
			c.Replace(b.Y)
		case isDefault(b.Y):
			c.Replace(b.X)
		}
		return true
	})
}

// gen runs cuelang.org/go's generator on a value of the star compilation
// and returns the root schema; the definitions it refers to go to g.raw.
func (g *generator) gen(v cue.Value) (node, error) {
	var names error
	expr, err := cuejsonschema.Generate(v, &cuejsonschema.GenerateConfig{
		NamesFunc: func(refs []*cuejsonschema.CUERef) {
			for _, r := range refs {
				var parts []string
				for _, s := range r.Path.Selectors() {
					parts = append(parts, strings.TrimPrefix(s.String(), "#"))
				}
				r.Name = strings.Join(parts, ".")
				if p, ok := g.paths[r.Name]; ok && p.String() != r.Path.String() {
					names = fmt.Errorf("two definitions named %s: %v and %v", r.Name, p, r.Path)
				}
				g.paths[r.Name] = r.Path
			}
		},
	})
	if err != nil {
		return nil, err
	}
	if names != nil {
		return nil, names
	}
	val := g.ctx.BuildExpr(expr)
	if err := val.Err(); err != nil {
		return nil, err
	}
	data, err := val.MarshalJSON()
	if err != nil {
		return nil, err
	}
	root, err := decode(data)
	if err != nil {
		return nil, err
	}
	delete(root, "$schema")
	if defs, ok := root["$defs"].(node); ok {
		delete(root, "$defs")
		for name, d := range defs {
			if err := g.setRaw(name, d.(node)); err != nil {
				return nil, err
			}
		}
	}
	return root, nil
}

// setRaw records a generated definition; every run of the generator must
// agree on it.
func (g *generator) setRaw(name string, d node) error {
	if old, ok := g.raw[name]; ok {
		a, _ := json.Marshal(old)
		b, _ := json.Marshal(d)
		if !bytes.Equal(a, b) {
			return fmt.Errorf("definition %s generated two ways:\n%s\n%s", name, a, b)
		}
		return nil
	}
	g.raw[name] = d
	return nil
}

// addDef generates the definition at p under name.
func (g *generator) addDef(name string, p cue.Path) error {
	d, err := g.gen(g.roots.star.LookupPath(p))
	if err != nil {
		return err
	}
	g.paths[name] = p
	return g.setRaw(name, d)
}

func decode(data []byte) (node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // numbers stay as the generator wrote them
	var n node
	if err := dec.Decode(&n); err != nil {
		return nil, err
	}
	return n, nil
}

// file generates one schema file.
func (g *generator) file(spec fileSpec) ([]byte, error) {
	g.out, g.busy = map[string]node{}, map[string]bool{}
	p := cue.ParsePath(spec.def)
	v := g.roots.lookup(func(x cue.Value) cue.Value { return x.LookupPath(p) })
	root, err := g.gen(v.star)
	if err != nil {
		return nil, err
	}
	if spec.fix != nil {
		if err := spec.fix(g, root); err != nil {
			return nil, err
		}
	}
	w := &walker{g: g, partialAt: func(f string) bool { return spec.partialAt(g, f) }}
	if err := w.walk(root, v, false); err != nil {
		return nil, err
	}
	defs := g.reachable(root)
	schema := node{
		"$schema":     Draft,
		"$comment":    "Generated by meshc from cue/*.cue (" + spec.def + "); do not edit: run 'meshc schema'.",
		"title":       spec.title,
		"description": spec.description,
	}
	for k, x := range root {
		if k == "description" {
			continue
		}
		schema[k] = x
	}
	if len(defs) > 0 {
		schema["$defs"] = defs
	}
	simplify(schema)
	if err := toDraft7(schema); err != nil {
		return nil, err
	}
	if err := check(schema); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b) // map keys come out sorted
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(schema); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
