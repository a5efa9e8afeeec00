// Package schema embeds meshc's CUE schemas, the single source of truth for
// what a mesh file and a cluster file may contain.
package schema

import "embed"

// Files holds every schema file under its real name, so errors and
// positions name cue/<file>.cue.
//
//go:embed *.cue
var Files embed.FS

// Dir is the folder the schema files are reported under.
const Dir = "cue"
