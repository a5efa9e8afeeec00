// Package flags defines the command-line flags that the commands reading
// the mesh and writing or comparing its output share, so that the CLI and
// the prefetch that starts before it (internal/warm) read a command line
// alike.
package flags

import "github.com/spf13/pflag"

// Input are the flags of every command that reads the mesh.
type Input struct {
	Clusters string
	Strict   bool
}

// Bind defines the flags on fs.
func (f *Input) Bind(fs *pflag.FlagSet) {
	fs.StringVar(&f.Clusters, "clusters", "clusters", "folder with mesh.{yaml,cue} and one file per cluster")
	fs.BoolVar(&f.Strict, "strict", false, "treat warnings as errors")
}

// Output are the flags of commands that write or compare output.
type Output struct {
	Out, Golden, Schema string
	Only                []string
}

// Bind defines the flags on fs; withGolden adds those of the commands
// that write or compare every tree (build, check).
func (f *Output) Bind(fs *pflag.FlagSet, withGolden bool) {
	fs.StringVar(&f.Out, "out", "overlays", "folder for the kustomize overlays")
	if withGolden {
		fs.StringVar(&f.Golden, "golden", "golden", "folder for the rendered manifests, one file per cluster")
		fs.StringVar(&f.Schema, "schema", "schema", "folder for the JSON Schemas of the mesh and cluster files, for editors")
		fs.StringArrayVar(&f.Only, "cluster", nil, "limit output to this cluster (repeatable); the whole mesh is still validated")
	}
}
