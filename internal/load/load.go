// Package load finds the mesh file and the cluster files in a folder and
// parses each into a CUE syntax tree whose positions point into the user's
// file. It reads and parses; it never evaluates or writes anything.
package load

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"cuelang.org/go/cue/ast"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/encoding/json"
	"cuelang.org/go/encoding/yaml"

	"github.com/golemtrust/meshc/internal/diag"
)

// MaxFileSize caps every input file: a cluster file is a few kilobytes, and a
// cap keeps a runaway or hostile file from exhausting memory.
const MaxFileSize = 4 << 20

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
	AST  *ast.File
}

// Input is everything in the clusters folder.
type Input struct {
	Dir      string
	Mesh     *File
	Clusters []*File // sorted by stem
}

// formats maps the extensions meshc reads to their parsers.
var formats = map[string]func(path string, data []byte) (*ast.File, error){
	".cue":  parseCUE,
	".yaml": parseYAML,
	".yml":  parseYAML,
	".json": parseJSON,
}

// Dir reads the clusters folder. It returns every problem it finds, not only
// the first; files that fail to parse are left out of the Input.
func Dir(dir string) (*Input, diag.List) {
	var diags diag.List
	entries, err := os.ReadDir(dir)
	if err != nil {
		diags.Errorf(diag.Pos{File: dir}, "cannot read the clusters folder: %v", unwrapPathError(err))
		return nil, diags
	}
	in := &Input{Dir: dir}
	byStem := map[string][]string{}
	for _, e := range entries {
		name := e.Name()
		ext := filepath.Ext(name)
		parse, ok := formats[ext]
		if !ok || e.IsDir() || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
			continue
		}
		path := filepath.Join(dir, name)
		stem := strings.TrimSuffix(name, ext)
		byStem[stem] = append(byStem[stem], path)
		f, fd := readFile(path, stem, parse)
		diags.Append(fd)
		if f == nil {
			continue
		}
		if stem == MeshStem {
			in.Mesh = f
		} else {
			in.Clusters = append(in.Clusters, f)
		}
	}

	stems := make([]string, 0, len(byStem))
	for s := range byStem {
		stems = append(stems, s)
	}
	sort.Strings(stems)
	for _, stem := range stems {
		paths := byStem[stem]
		if len(paths) < 2 {
			continue
		}
		sort.Strings(paths)
		what := "cluster " + stem
		if stem == MeshStem {
			what = "the mesh"
		}
		for _, p := range paths[1:] {
			diags.Errorf(diag.Pos{File: p, Line: 1, Col: 1}, "two files for %s: %s and %s; keep one of them", what, filepath.Base(paths[0]), filepath.Base(p))
		}
		// Keep the first file only, so later stages do not report the
		// same cluster twice.
		in.Clusters = dropStem(in.Clusters, stem, paths[0])
	}
	sort.Slice(in.Clusters, func(i, j int) bool { return in.Clusters[i].Stem < in.Clusters[j].Stem })

	if _, ok := byStem[MeshStem]; !ok {
		diags.Errorf(diag.Pos{File: dir}, "no mesh file: add %s/mesh.yaml or %s/mesh.cue with the meshID, revisions and gitops settings", dir, dir)
	}
	if len(byStem)-btoi(byStem[MeshStem] != nil) == 0 {
		diags.Errorf(diag.Pos{File: dir}, "no cluster files: add one <cluster>.yaml, .yml, .json or .cue file per cluster")
	}
	return in, diags
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func dropStem(files []*File, stem, keep string) []*File {
	out := files[:0]
	for _, f := range files {
		if f.Stem == stem && f.Path != keep {
			continue
		}
		out = append(out, f)
	}
	return out
}

func readFile(path, stem string, parse func(string, []byte) (*ast.File, error)) (*File, diag.List) {
	var diags diag.List
	fi, err := os.Stat(path)
	if err != nil {
		diags.Errorf(diag.Pos{File: path}, "cannot read: %v", unwrapPathError(err))
		return nil, diags
	}
	if fi.Size() > MaxFileSize {
		diags.Errorf(diag.Pos{File: path}, "file is %d bytes; input files may be at most %d bytes (4 MiB)", fi.Size(), MaxFileSize)
		return nil, diags
	}
	data, err := os.ReadFile(path)
	if err != nil {
		diags.Errorf(diag.Pos{File: path}, "cannot read: %v", unwrapPathError(err))
		return nil, diags
	}
	if p, ok := invalidUTF8(data); !ok {
		diags.Errorf(diag.Pos{File: path, Line: p.Line, Col: p.Col}, "invalid UTF-8: files must be UTF-8 text")
		return nil, diags
	}
	f, err := parse(path, data)
	if err != nil {
		for _, e := range cueerrors.Errors(err) {
			pos := diag.FromToken(e.Position())
			if pos.File == "" {
				pos = diag.Pos{File: path}
			}
			format, args := e.Msg()
			diags.Errorf(pos, "syntax error: %s", fmt.Sprintf(format, args...))
		}
		return nil, diags
	}
	return &File{Path: path, Stem: stem, Data: data, AST: f}, diags
}

// invalidUTF8 finds the first byte that is not UTF-8.
func invalidUTF8(data []byte) (diag.Pos, bool) {
	if utf8.Valid(data) {
		return diag.Pos{}, true
	}
	line, col := 1, 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			return diag.Pos{Line: line, Col: col}, false
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		i += size
	}
	return diag.Pos{Line: line, Col: col}, false
}

func parseCUE(path string, data []byte) (*ast.File, error) {
	return parser.ParseFile(path, data, parser.ParseComments)
}

func parseYAML(path string, data []byte) (*ast.File, error) {
	return yaml.Extract(path, data)
}

func parseJSON(path string, data []byte) (*ast.File, error) {
	expr, err := json.Extract(path, data)
	if err != nil {
		return nil, err
	}
	s, ok := expr.(*ast.StructLit)
	if !ok {
		return nil, cueerrors.Newf(expr.Pos(), "a cluster file must hold one JSON object")
	}
	return &ast.File{Filename: path, Decls: s.Elts}, nil
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
