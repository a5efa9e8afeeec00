// Package flags defines the command-line flags that the commands reading
// the mesh and writing or comparing its output share, so that the CLI and
// the prefetch that starts before it (internal/warm) read a command line
// alike.
//
// It defines them on a FlagSet, which the CLI's pflag.FlagSet is and so is
// the standard library's flag.FlagSet, which internal/warm uses: pflag
// imports package net, which Go initialises among the last packages of
// meshc's binary, and warm must initialise early (see its doc).
package flags

// FlagSet is what defining the flags takes: *pflag.FlagSet and
// *flag.FlagSet both have these methods. A repeatable flag is defined with
// StringArrayVar (pflag) or, failing that, Func (flag).
type FlagSet interface {
	StringVar(p *string, name, value, usage string)
	BoolVar(p *bool, name string, value bool, usage string)
}

type stringArrayFlagSet interface {
	StringArrayVar(p *[]string, name string, value []string, usage string)
}

type funcFlagSet interface {
	Func(name, usage string, fn func(string) error)
}

// Input are the flags of every command that reads the mesh.
type Input struct {
	Clusters string
	Strict   bool
}

// Bind defines the flags on fs.
func (f *Input) Bind(fs FlagSet) {
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
func (f *Output) Bind(fs FlagSet, withGolden bool) {
	fs.StringVar(&f.Out, "out", "overlays", "folder for the kustomize overlays")
	if !withGolden {
		return
	}
	fs.StringVar(&f.Golden, "golden", "golden", "folder for the rendered manifests, one file per cluster")
	fs.StringVar(&f.Schema, "schema", "schema", "folder for the JSON Schemas of the mesh and cluster files, for editors")
	const name, usage = "cluster", "limit output to this cluster (repeatable); the whole mesh is still validated"
	switch fs := fs.(type) {
	case stringArrayFlagSet:
		fs.StringArrayVar(&f.Only, name, nil, usage)
	case funcFlagSet:
		fs.Func(name, usage, func(v string) error { f.Only = append(f.Only, v); return nil })
	default:
		panic("flags: a flag set without repeatable string flags")
	}
}
