// Package load finds the mesh file and the cluster files in a folder and
// parses each into a CUE syntax tree whose positions point into the user's
// file. It reads and parses; it never evaluates or writes anything.
//
// Input is untrusted: every file is capped in size, must be UTF-8, may not
// nest deeper than MaxDepth, and YAML files may not use anchors and aliases
// (whose expansion can turn a small file into an enormous tree). Each
// problem is reported at its line and column.
package load

import (
	stdjson "encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"cuelang.org/go/cue/ast"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"
	"cuelang.org/go/encoding/json"
	"cuelang.org/go/encoding/yaml"

	"github.com/golemtrust/meshc/internal/diag"
)

// MaxFileSize caps every input file: a cluster file is a few kilobytes, and a
// cap keeps a runaway or hostile file from exhausting memory.
const MaxFileSize = 4 << 20

// MaxDepth caps how deeply maps and lists may nest in a file. The deepest
// value meshc reads (namespaces.<ns>.authorization[i].from[j].namespace)
// sits seven levels down; the cap keeps hostile input from driving the
// evaluator into deep recursion.
const MaxDepth = 32

// MaxEntries caps the entries of one map or list, and MaxNodes the fields
// and list items of a whole file. A cluster with a thousand namespaces stays
// far below both; the caps bound the time and memory that evaluating a
// hostile file within MaxFileSize could take (CUE's evaluation of one
// struct grows with the square of its fields).
const (
	MaxEntries = 10000
	MaxNodes   = 100000
)

// MeshStem is the stem of the mesh file.
const MeshStem = "mesh"

// File is one parsed input file.
type File struct {
	// Path is the file's path as reported in diagnostics: the --clusters
	// folder joined with the file name.
	Path string
	// Stem is the file name without its extension: the cluster's name.
	Stem string
	Data []byte
	// AST is the parsed file; nil for a file read but left unparsed
	// (DirOptions.Unparsed), which the validator parses when it must.
	AST *ast.File
	// Info is the file's status, taken before it was read.
	Info fs.FileInfo
}

// Input is everything in the clusters folder.
type Input struct {
	Dir      string
	Mesh     *File
	Clusters []*File // sorted by stem
}

// Extensions lists the file extensions meshc reads, in the order of
// preference used in messages.
var Extensions = []string{".yaml", ".yml", ".json", ".cue"}

// meshExtensions are the extensions a mesh file may have.
var meshExtensions = map[string]bool{".yaml": true, ".cue": true}

func known(ext string) bool {
	for _, e := range Extensions {
		if e == ext {
			return true
		}
	}
	return false
}

// Dir reads the clusters folder. It returns every problem it finds, not only
// the first; files that fail to parse are left out of the Input.
func Dir(dir string) (*Input, diag.List) { return DirParsing(dir, nil) }

// Lazy is a DirParsing unparsed function that leaves YAML cluster files
// unparsed: the validator reads them in pieces when it can and parses
// them whole when it must.
func Lazy(path string) bool {
	ext := filepath.Ext(path)
	return ext == ".yaml" || ext == ".yml"
}

// DirParsing is Dir for callers that parse lazily or not at all: a cluster
// file for which unparsed(path) reports true is read but not parsed (its
// AST is nil), because the caller parses it later (Parse; validate does so
// for such files) or never. The mesh file is always parsed; unparsed nil
// parses everything.
func DirParsing(dir string, unparsed func(path string) bool) (*Input, diag.List) {
	return DirWith(dir, DirOptions{Unparsed: unparsed})
}

// DirOptions tune DirWith.
type DirOptions struct {
	// Unparsed is DirParsing's unparsed.
	Unparsed func(path string) bool
	// FS, when set, is read instead of the folder dir, which then only
	// names the files in diagnostics: meshc diff loads a git revision
	// (internal/source) through the same code as a folder on disk.
	FS fs.FS
}

// DirWith is Dir with options: Scan, then every cluster file read.
func DirWith(dir string, o DirOptions) (*Input, diag.List) {
	ls, diags := Scan(dir, o.FS)
	if ls == nil {
		return nil, diags
	}
	in := &Input{Dir: dir, Mesh: ls.Mesh}
	for _, c := range ls.Clusters {
		f, rd := ls.Read(c)
		diags.Append(rd)
		if f == nil {
			continue
		}
		if o.Unparsed != nil && o.Unparsed(f.Path) {
			in.Clusters = append(in.Clusters, f)
			continue
		}
		parsed, pd := Parse(f.Path, f.Data)
		diags.Append(pd)
		if parsed != nil {
			parsed.Info = f.Info
			in.Clusters = append(in.Clusters, parsed)
		}
	}
	return in, diags
}

// Listing is the clusters folder as listed, before any cluster file is
// read: the mesh file, read and parsed, and each cluster file's status.
// The build cache decides from it which cluster files it needs to read at
// all (Read).
type Listing struct {
	Dir string
	// Mesh is the mesh file; nil when there is none, more than one, or it
	// does not read or parse.
	Mesh *File
	// Clusters are the cluster files, sorted by stem, one per cluster: of
	// two files for one cluster, the first in name order (the other is
	// an error of its own).
	Clusters []Listed
	fsys     fs.FS
}

// Listed is one cluster file as listed: where it is and its status.
type Listed struct {
	Path, Stem string
	// Info is the file's status, taken when the folder was listed: a
	// regular file of at most MaxFileSize bytes.
	Info fs.FileInfo
	name string // in the listing's file system
}

// Scan lists the clusters folder dir (read from fsys when set): every
// problem with its names (no mesh file, two files for one cluster, a
// file that is not a regular file or too big) and with the mesh file,
// which it reads and parses. It reads no cluster file.
func Scan(dir string, fsys fs.FS) (*Listing, diag.List) {
	if fsys == nil {
		fsys = os.DirFS(dir)
	}
	var diags diag.List
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		diags.Errorf(diag.Pos{File: dir}, "cannot read the clusters folder: %v", unwrapPathError(err))
		return nil, diags
	}
	ls := &Listing{Dir: dir, fsys: fsys}
	byStem := map[string][]string{}
	listed := map[string]Listed{} // by path: the regular files of fitting size
	for _, e := range entries {
		name := e.Name()
		ext := filepath.Ext(name)
		if !known(ext) || e.IsDir() || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
			continue
		}
		path := filepath.Join(dir, name)
		stem := strings.TrimSuffix(name, ext)
		if stem == MeshStem && !meshExtensions[ext] {
			diags.Errorf(diag.Pos{File: path}, "the mesh file must be mesh.yaml or mesh.cue; rename %s", name)
			continue
		}
		byStem[stem] = append(byStem[stem], path)
		fi, sd := statFile(fsys, name, path)
		diags.Append(sd)
		if fi != nil {
			listed[path] = Listed{Path: path, Stem: stem, Info: fi, name: name}
		}
	}

	stems := make([]string, 0, len(byStem))
	for s := range byStem {
		stems = append(stems, s)
	}
	sort.Strings(stems)
	for _, stem := range stems {
		paths := byStem[stem]
		sort.Strings(paths)
		// Of two files for one cluster, the first in name order is read;
		// each other one is an error of its own, so later stages do not
		// report the same cluster twice. Of two mesh files, neither is
		// read, but each is checked.
		for _, p := range paths[1:] {
			what := "cluster " + stem
			if stem == MeshStem {
				what = "the mesh"
			}
			diags.Errorf(diag.Pos{File: p, Line: 1, Col: 1}, "two files for %s: %s and %s; keep one of them", what, filepath.Base(paths[0]), filepath.Base(p))
		}
		if stem != MeshStem {
			if c, ok := listed[paths[0]]; ok {
				ls.Clusters = append(ls.Clusters, c)
			}
			continue
		}
		for _, p := range paths {
			c, ok := listed[p]
			if !ok {
				continue
			}
			f, rd := ls.Read(c)
			diags.Append(rd)
			if f == nil {
				continue
			}
			parsed, pd := Parse(f.Path, f.Data)
			diags.Append(pd)
			if parsed != nil && len(paths) == 1 {
				// Of two, which one is meant? Checking the clusters
				// against either could blame them for the other's
				// settings.
				parsed.Info = f.Info
				ls.Mesh = parsed
			}
		}
	}

	if _, ok := byStem[MeshStem]; !ok {
		diags.Errorf(diag.Pos{File: dir}, "no mesh file: add %s with the meshID, revisions and gitops settings (or mesh.cue)", filepath.Join(dir, "mesh.yaml"))
	}
	if len(stems)-btoi(byStem[MeshStem] != nil) == 0 {
		diags.Errorf(diag.Pos{File: dir}, "no cluster files: add one <cluster>.yaml, .yml, .json or .cue file per cluster")
	}
	return ls, diags
}

// Read reads one listed file, unparsed (AST nil); its Info is the status
// taken when it was listed, before this read.
func (ls *Listing) Read(c Listed) (*File, diag.List) {
	data, diags := readFile(ls.fsys, c.name, c.Path, c.Info)
	if data == nil {
		return nil, diags
	}
	return &File{Path: c.Path, Stem: c.Stem, Data: data, Info: c.Info}, diags
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// statFile takes the status of name in fsys, reported as path, and
// refuses anything but a regular file of at most MaxFileSize bytes.
func statFile(fsys fs.FS, name, path string) (fs.FileInfo, diag.List) {
	var diags diag.List
	fi, err := fs.Stat(fsys, name)
	if err != nil {
		diags.Errorf(diag.Pos{File: path}, "cannot read: %v", unwrapPathError(err))
		return nil, diags
	}
	if !fi.Mode().IsRegular() {
		diags.Errorf(diag.Pos{File: path}, "not a regular file; a mesh or cluster file must be a plain file")
		return nil, diags
	}
	if fi.Size() > MaxFileSize {
		diags.Errorf(diag.Pos{File: path}, "file is %d bytes; input files may be at most %d bytes (4 MiB)", fi.Size(), MaxFileSize)
		return nil, diags
	}
	return fi, diags
}

// readFile reads a file statFile accepted, name in fsys, reported as
// path, of the status fi. It reads through a limit, so a file that grows
// after the size check cannot push past the cap.
func readFile(fsys fs.FS, name, path string, fi fs.FileInfo) ([]byte, diag.List) {
	var diags diag.List
	fh, err := fsys.Open(name)
	if err != nil {
		diags.Errorf(diag.Pos{File: path}, "cannot read: %v", unwrapPathError(err))
		return nil, diags
	}
	defer fh.Close()
	// Sized from the status, one byte over to see whether the file grew
	// since (then the rest is read too, and the cap below still holds):
	// io.ReadAll alone grows its buffer from 512 bytes, allocating about
	// twice the file.
	r := io.LimitReader(fh, MaxFileSize+1)
	data := make([]byte, fi.Size()+1)
	n, err := io.ReadFull(r, data)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		data, err = data[:n], nil
	case err == nil:
		var rest []byte
		rest, err = io.ReadAll(r)
		data = append(data, rest...)
	}
	if err != nil {
		diags.Errorf(diag.Pos{File: path}, "cannot read: %v", unwrapPathError(err))
		return nil, diags
	}
	if len(data) > MaxFileSize {
		diags.Errorf(diag.Pos{File: path}, "file is more than %d bytes; input files may be at most %d bytes (4 MiB)", MaxFileSize, MaxFileSize)
		return nil, diags
	}
	if data == nil {
		data = []byte{}
	}
	return data, diags
}

// Parse parses one file's content. The format follows path's extension
// (.cue, .yaml, .yml or .json); the stem of path is the File's Stem. It
// returns nil and positioned errors when the content is not a well-formed
// mesh or cluster file: a syntax error, invalid UTF-8, more than
// MaxFileSize bytes, nesting deeper than MaxDepth, more than MaxEntries
// entries in a map or MaxNodes in the file, a YAML anchor or alias,
// a key given twice in one YAML or JSON map, or a top level that is not a
// map.
func Parse(path string, data []byte) (file *File, diags diag.List) {
	ext := filepath.Ext(path)
	stem := strings.TrimSuffix(filepath.Base(path), ext)
	if len(data) > MaxFileSize {
		diags.Errorf(diag.Pos{File: path}, "file is %d bytes; input files may be at most %d bytes (4 MiB)", len(data), MaxFileSize)
		return nil, diags
	}
	if p, ok := invalidUTF8(data); !ok {
		diags.Errorf(diag.Pos{File: path, Line: p.Line, Col: p.Col}, "invalid UTF-8: files must be UTF-8 text; this byte is not")
		return nil, diags
	}
	var f *ast.File
	defer func() {
		// A parser that panics on some input is a bug in it; the user
		// still gets an error for the file rather than a crash.
		if x := recover(); x != nil {
			var d diag.List
			d.Errorf(diag.Pos{File: path}, "syntax error: the file could not be parsed (%v); check it, and please report this to meshc's maintainers", x)
			file, diags = nil, d
		}
	}()
	switch ext {
	case ".cue":
		f, diags = parseCUE(path, data)
	case ".yaml", ".yml":
		f, diags = parseYAML(path, data)
	case ".json":
		f, diags = parseJSON(path, data)
	default:
		diags.Errorf(diag.Pos{File: path}, "unknown file type %q; use .yaml, .yml, .json or .cue", ext)
	}
	if f == nil || diags.Failed(false) {
		return nil, diags
	}
	if d := checkShape(path, f); len(d) > 0 {
		return nil, d
	}
	if ext != ".cue" {
		// In CUE, giving a field twice unifies the values; in YAML and
		// JSON a map's keys are unique and a repeated one is a mistake
		// (most parsers silently keep the last value).
		if d := checkSpecialFloats(path, f); len(d) > 0 {
			return nil, d
		}
		if d := checkDuplicateKeys(path, f); len(d) > 0 {
			return nil, d
		}
		if d := checkTopLevel(path, stem, data, f); len(d) > 0 {
			return nil, d
		}
	}
	return &File{Path: path, Stem: stem, Data: data, AST: f}, diags
}

// invalidUTF8 finds the first byte that is not UTF-8. The column counts
// bytes, as every other column meshc reports does.
func invalidUTF8(data []byte) (diag.Pos, bool) {
	if utf8.Valid(data) {
		return diag.Pos{}, true
	}
	line, lineStart := 1, 0
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			return diag.Pos{Line: line, Col: i - lineStart + 1}, false
		}
		i += size
		if r == '\n' {
			line, lineStart = line+1, i
		}
	}
	return diag.Pos{Line: line, Col: 1}, false
}

func parseCUE(path string, data []byte) (*ast.File, diag.List) {
	f, err := parser.ParseFile(path, data, parser.ParseComments)
	if err != nil {
		return nil, syntaxErrors(path, err, "")
	}
	return f, nil
}

func parseJSON(path string, data []byte) (*ast.File, diag.List) {
	var diags diag.List
	expr, err := json.Extract(path, data)
	if err != nil {
		return nil, jsonSyntaxErrors(path, data, err)
	}
	// CUE's JSON decoder turns a key that is a valid identifier into one
	// and points at its first letter; point at the opening quote, as for
	// every other key and value, where the key's token starts.
	ast.Walk(expr, func(n ast.Node) bool {
		if f, ok := n.(*ast.Field); ok {
			if id, ok := f.Label.(*ast.Ident); ok && id.NamePos.IsValid() {
				id.NamePos = id.NamePos.Add(-1)
			}
		}
		return true
	}, nil)
	s, ok := expr.(*ast.StructLit)
	if !ok {
		diags.Errorf(posOrFile(expr.Pos(), path), "%s", topLevelMessage(strings.TrimSuffix(filepath.Base(path), ".json"), describeExpr(expr)))
		return nil, diags
	}
	return &ast.File{Filename: path, Decls: s.Elts}, nil
}

// jsonSyntaxErrors reports a JSON syntax error at CUE's position, in
// encoding/json's words.
func jsonSyntaxErrors(path string, data []byte, err error) diag.List {
	var x any
	jerr := stdjson.Unmarshal(data, &x)
	if jerr == nil {
		return syntaxErrors(path, err, "")
	}
	var diags diag.List
	pos := diag.Pos{File: path, Line: 1, Col: 1}
	if ps := cueerrors.Positions(err); len(ps) > 0 {
		pos = posOrFile(ps[0], path)
	}
	msg := jerr.Error()
	if strings.Contains(msg, "looking for beginning of object key string") {
		msg += "; JSON allows no ',' after a map's last entry, and keys must be in double quotes"
	}
	diags.Errorf(pos, "syntax error: %s", msg)
	return diags
}

// syntaxErrors turns a parser's errors into positioned diagnostics.
func syntaxErrors(path string, err error, trim string) diag.List {
	var diags diag.List
	for _, e := range cueerrors.Errors(err) {
		pos := diag.FromToken(e.Position())
		if pos.File == "" {
			pos = diag.Pos{File: path}
		}
		if pos.Line > 0 && pos.Col == 0 {
			pos.Col = 1
		}
		format, args := e.Msg()
		msg := fmt.Sprintf(format, args...)
		if trim != "" {
			msg = strings.TrimPrefix(msg, trim+fmt.Sprintf("%q", path))
			msg = strings.TrimPrefix(msg, ": ")
		}
		if msg == "" {
			msg = "the file could not be parsed"
		}
		diags.Errorf(pos, "syntax error: %s", msg)
	}
	if len(diags) == 0 {
		diags.Errorf(diag.Pos{File: path}, "syntax error: %v", err)
	}
	return diags
}

func posOrFile(p token.Pos, path string) diag.Pos {
	if pos := diag.FromToken(p); pos.Line > 0 {
		return pos
	}
	return diag.Pos{File: path, Line: 1, Col: 1}
}

// checkShape rejects maps and lists nested deeper than MaxDepth, a map or
// list with more than MaxEntries entries, and a file with more than
// MaxNodes fields and items in all.
func checkShape(path string, f *ast.File) diag.List {
	var diags diag.List
	depth, nodes := 0, len(f.Decls)
	var deepest, widest ast.Node
	entries := 0
	ast.Walk(f, func(n ast.Node) bool {
		if deepest != nil || widest != nil || nodes > MaxNodes {
			return false
		}
		var elts int
		switch n := n.(type) {
		case *ast.StructLit:
			elts = len(n.Elts)
		case *ast.ListLit:
			elts = len(n.Elts)
		case *ast.File:
			elts = len(n.Decls)
		default:
			return true
		}
		if elts > MaxEntries {
			widest, entries = n, elts
			return false
		}
		if _, ok := n.(*ast.File); ok {
			return true
		}
		if depth == MaxDepth {
			deepest = n
			return false
		}
		nodes += elts
		depth++
		return true
	}, func(n ast.Node) {
		switch n.(type) {
		case *ast.StructLit, *ast.ListLit:
			depth--
		}
	})
	switch {
	case widest != nil:
		diags.Errorf(posOrFile(widest.Pos(), path), "%d entries in one map or list; meshc reads at most %d: split the cluster, or check that the file is the one you meant", entries, MaxEntries)
	case deepest != nil:
		diags.Errorf(posOrFile(deepest.Pos(), path), "nested more than %d levels deep; meshc's files need a handful of levels: check the indentation or the brackets", MaxDepth)
	case nodes > MaxNodes:
		diags.Errorf(diag.Pos{File: path}, "more than %d fields and list items; meshc reads at most %d in one file: split the cluster, or check that the file is the one you meant", MaxNodes, MaxNodes)
	}
	return diags
}

// checkSpecialFloats reports YAML's .inf and .nan, which CUE cannot hold,
// and whole numbers too large for 64 bits (which CUE's YAML decoder turns
// into an expression that does not parse).
func checkSpecialFloats(path string, f *ast.File) diag.List {
	var diags diag.List
	ast.Walk(f, func(n ast.Node) bool {
		l, ok := n.(*ast.BasicLit)
		if !ok || (l.Kind != token.FLOAT && l.Kind != token.INT) {
			return true
		}
		if big, ok := strings.CutPrefix(l.Value, "number & "); ok {
			diags.Errorf(posOrFile(l.Pos(), path), "the number %s is too large (at most 9223372036854775807); quote it if you mean the text", big)
			return true
		}
		var what string
		switch strings.TrimLeft(l.Value, "+-") {
		case "Inf":
			what = "infinity (.inf)"
		case "NaN":
			what = "not-a-number (.nan)"
		default:
			return true
		}
		diags.Errorf(posOrFile(l.Pos(), path), "%s is not allowed: values are finite numbers or strings; quote it if you mean the text", what)
		return true
	}, nil)
	return diags
}

// checkDuplicateKeys reports a key given twice in one map of a YAML or
// JSON file, at its second occurrence.
func checkDuplicateKeys(path string, f *ast.File) diag.List {
	var diags diag.List
	check := func(decls []ast.Decl) {
		first := map[string]token.Pos{}
		for _, d := range decls {
			fd, ok := d.(*ast.Field)
			if !ok {
				continue
			}
			name, _, err := ast.LabelName(fd.Label)
			if err != nil {
				continue
			}
			if p, dup := first[name]; dup {
				fp := diag.FromToken(p)
				diags.Errorf(posOrFile(fd.Label.Pos(), path), "%q is given twice in one map (first at %d:%d); keep one of them", name, fp.Line, fp.Col)
				continue
			}
			first[name] = fd.Label.Pos()
		}
	}
	check(f.Decls)
	ast.Walk(f, func(n ast.Node) bool {
		if s, ok := n.(*ast.StructLit); ok {
			check(s.Elts)
		}
		return true
	}, nil)
	return diags
}

// checkTopLevel requires a YAML file to hold a single map.
func checkTopLevel(path, stem string, data []byte, f *ast.File) diag.List {
	var diags diag.List
	if len(f.Decls) != 1 {
		return nil
	}
	e, ok := f.Decls[0].(*ast.EmbedDecl)
	if !ok {
		return nil
	}
	if l, ok := e.Expr.(*ast.ListLit); ok && !l.Lbrack.IsValid() && len(l.Elts) > 1 {
		diags.Errorf(posOrFile(l.Elts[1].Pos(), path), "a second YAML document (after ---); a mesh or cluster file holds exactly one document: move it into a file of its own")
		return diags
	}
	what, pos := describeExpr(e.Expr), posOrFile(e.Expr.Pos(), path)
	if strings.TrimSpace(string(data)) == "" || isNullDoc(e.Expr) {
		what, pos = "nothing", diag.Pos{File: path, Line: 1, Col: 1}
	}
	diags.Errorf(pos, "%s", topLevelMessage(stem, what))
	return diags
}

func isNullDoc(x ast.Expr) bool {
	switch x := x.(type) {
	case *ast.BinaryExpr: // *null | _, what an empty document becomes
		return true
	case *ast.BasicLit:
		return x.Kind == token.NULL
	}
	return false
}

func describeExpr(x ast.Expr) string {
	switch x := x.(type) {
	case *ast.ListLit:
		return "a list"
	case *ast.BasicLit:
		if x.Kind == token.NULL {
			return "nothing"
		}
		return "the single value " + x.Value
	}
	return "a single value"
}

func topLevelMessage(stem, what string) string {
	if stem == MeshStem {
		return fmt.Sprintf("the file holds %s; a mesh file is a map of fields: meshID, revisions, gitops and optional defaults", what)
	}
	return fmt.Sprintf("the file holds %s; a cluster file is a map of fields: name, network, environment, controlPlane and optional sidecar, namespaces, ...", what)
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

// parseYAMLFile is the one place meshc calls CUE's YAML decoder.
func parseYAMLFile(path string, data []byte) (*ast.File, error) {
	return yaml.Extract(path, data)
}
