package diff

import (
	"strconv"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/token"

	"github.com/golemtrust/meshc/internal/diag"
	"github.com/golemtrust/meshc/internal/load"
)

// locator answers review.Cluster.Where for a cluster file: "path:line" of
// the field at path when the file sets it; else of the same field under
// the mesh file's defaults when that sets it; else of the deepest enclosing
// field the file sets; else the file's path alone. Positions come from
// the parsed file, as the validator's diagnostics do.
func locator(cluster, meshFile *load.File) func(path ...string) string {
	var cf, mf *ast.File
	parse := func(f *load.File) *ast.File {
		if f == nil {
			return nil
		}
		if f.AST != nil {
			return f.AST
		}
		// Files the loader left unparsed (load.Lazy) are parsed here, once.
		if p, _ := load.Parse(f.Path, f.Data); p != nil {
			return p.AST
		}
		return nil
	}
	parsed := false
	return func(path ...string) string {
		if !parsed {
			cf, mf, parsed = parse(cluster), parse(meshFile), true
		}
		pos, depth := find(cf, path)
		if depth < len(path) {
			if mpos, mdepth := find(mf, append([]string{"defaults"}, path...)); mdepth == len(path)+1 {
				return at(meshFile.Path, mpos)
			}
		}
		if depth == 0 {
			return cluster.Path
		}
		return at(cluster.Path, pos)
	}
}

func at(file string, p token.Pos) string {
	d := diag.FromToken(p)
	if d.Line == 0 {
		return file
	}
	return file + ":" + strconv.Itoa(d.Line)
}

// find walks path through f's fields and list items and returns the
// position of the deepest one found and how many elements of path it
// matched.
func find(f *ast.File, path []string) (token.Pos, int) {
	if f == nil {
		return token.NoPos, 0
	}
	var pos token.Pos
	var elts []ast.Decl = f.Decls
	var node ast.Expr
	for i, want := range path {
		if node != nil {
			switch n := node.(type) {
			case *ast.StructLit:
				elts = n.Elts
			case *ast.ListLit:
				idx, err := strconv.Atoi(want)
				if err != nil || idx < 0 || idx >= len(n.Elts) {
					return pos, i
				}
				pos, node, elts = n.Elts[idx].Pos(), n.Elts[idx], nil
				continue
			default:
				return pos, i
			}
		}
		var next ast.Expr
		found := false
		for _, d := range elts {
			fd, ok := d.(*ast.Field)
			if !ok {
				continue
			}
			name, _, err := ast.LabelName(fd.Label)
			if err != nil || name != want {
				continue
			}
			pos, next, found = fd.Label.Pos(), fd.Value, true
			break
		}
		if !found {
			return pos, i
		}
		node = next
	}
	return pos, len(path)
}
