// Package engines chooses the delivery engine a mesh's gitops.engine names.
package engines

import (
	"github.com/golemtrust/meshc/internal/compile"
	"github.com/golemtrust/meshc/internal/engine"
	"github.com/golemtrust/meshc/internal/engine/flux"
	"github.com/golemtrust/meshc/internal/mesh"
)

// For returns the mesh's engine. Validation admits only known engines.
func For(m *mesh.Mesh) engine.Engine {
	switch m.GitOps.Engine {
	case mesh.Flux, "":
		return flux.Engine{}
	}
	panic("meshc bug: no delivery engine " + string(m.GitOps.Engine))
}

// Compile compiles one cluster and delivers it with the mesh's engine.
func Compile(m *mesh.Mesh, c *mesh.Cluster) *engine.Cluster {
	return engine.Deliver(For(m), m, compile.Compile(m, c))
}

// Mesh compiles and delivers every cluster, in the mesh's cluster order.
func Mesh(m *mesh.Mesh) []*engine.Cluster {
	out := make([]*engine.Cluster, len(m.Clusters))
	for i, c := range m.Clusters {
		out[i] = Compile(m, c)
	}
	return out
}
