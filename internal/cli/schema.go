package cli

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/pflag"

	"github.com/golemtrust/meshc/internal/emit"
	"github.com/golemtrust/meshc/internal/jsonschema"
	"github.com/golemtrust/meshc/internal/state"
)

// bindSchema is 'meshc schema': it writes the JSON Schemas of the mesh
// file and the cluster file, generated from the CUE schema, for editors
// (yaml-language-server). Like build it writes through emit, so the folder
// gets an index and every file is replaced atomically.
func bindSchema(fs *pflag.FlagSet) func(*env, []string) int {
	var out string
	fs.StringVar(&out, "out", jsonschema.DefaultDir, "folder for "+jsonschema.MeshFile+" and "+jsonschema.ClusterFile)
	return func(e *env, args []string) int {
		if !noArgs(e, "schema", args) {
			return ExitUsage
		}
		files, err := jsonschema.Files()
		if err != nil {
			fmt.Fprintf(e.stderr, "meshc schema: meshc bug: %v\n", err)
			return ExitInvalid
		}
		st := state.For(out, "")
		unlock, err := emit.Lock(st.Lock, out)
		if err != nil {
			fmt.Fprintf(e.stderr, "meshc schema: %v\n", err)
			return ExitInvalid
		}
		defer unlock()
		if err := emit.Write(&emit.Tree{Dir: out, Files: files, Marker: st.Marker("schema")}); err != nil {
			fmt.Fprintf(e.stderr, "meshc schema: %v\n", err)
			return ExitInvalid
		}
		names := make([]string, 0, len(files))
		for n := range files {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(e.stdout, "wrote %s: %s\n", out, strings.Join(names, ", "))
		return ExitOK
	}
}
