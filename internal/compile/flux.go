package compile

import (
	"github.com/golemtrust/meshc/internal/mesh"
)

// Flux object names in each cluster's flux-system namespace.
const (
	FluxSource       = "meshc"
	FluxControlPlane = "mesh-control-plane"
	FluxPolicy       = "mesh-policy"
)

// fluxEntryPoint is what a cluster's Flux needs to follow this repo: a
// GitRepository and two Kustomizations. The control plane is applied and
// waited for first (wait: true), then the policy (dependsOn): Flux dry-runs
// a whole Kustomization before applying any of it, and Istio's CRDs do not
// exist until the base chart is installed.
func fluxEntryPoint(m *mesh.Mesh, c *mesh.Cluster) []Doc {
	src := object("source.toolkit.fluxcd.io/v1", "GitRepository", meta(FluxSource, FluxNamespace), Doc{"spec": Doc{
		"interval": "1m",
		"url":      m.GitOps.RepoURL,
		"ref":      Doc{"branch": m.GitOps.Branch},
	}})
	ks := func(name, part string, extra Doc) Doc {
		spec := Doc{
			"interval":  "10m",
			"path":      "./overlays/" + c.Name + "/" + part,
			"prune":     true,
			"sourceRef": Doc{"kind": "GitRepository", "name": FluxSource},
			"timeout":   "10m",
		}
		return object("kustomize.toolkit.fluxcd.io/v1", "Kustomization", meta(name, FluxNamespace), Doc{"spec": merge(spec, extra)})
	}
	return []Doc{
		src,
		ks(FluxControlPlane, "control-plane", Doc{"wait": true}),
		ks(FluxPolicy, "policy", Doc{"dependsOn": []any{Doc{"name": FluxControlPlane}}}),
	}
}
