package validate

import (
	"github.com/golemtrust/meshc/internal/diag"
	"github.com/golemtrust/meshc/internal/load"
	"github.com/golemtrust/meshc/internal/mesh"
)

// meshRules applies the rules that span clusters.
func meshRules(m *mesh.Mesh, in *load.Input) diag.List {
	var diags diag.List
	// Reserved output folder names start with '_' (see overlay), which a
	// DNS-1123 cluster name never does, so no cluster can collide with them.
	_ = in
	return diags
}
