// Package flux is the Flux delivery engine: Istio's charts as HelmReleases
// from one HelmRepository in each cluster, and per cluster a GitRepository
// and two Kustomizations (control plane, then policy) as its entry point.
package flux

import (
	"github.com/golemtrust/meshc/internal/compile"
	"github.com/golemtrust/meshc/internal/engine"
	"github.com/golemtrust/meshc/internal/mesh"
)

// Flux object names in each cluster's flux-system namespace.
const (
	Namespace    = "flux-system"
	Source       = "meshc"
	ControlPlane = "mesh-control-plane"
	Policy       = "mesh-policy"
	// Repository is the HelmRepository of Istio's charts.
	Repository = "istio"
)

// Engine is Flux.
type Engine struct{}

var _ engine.Engine = Engine{}

// Dir is overlays/_flux: per cluster the folder `flux bootstrap` or
// `kubectl apply -k` applies.
func (Engine) Dir() string { return "_flux" }

// NeverPrune is kustomize-controller's opt-out of garbage collection.
func (Engine) NeverPrune() map[string]string {
	return map[string]string{"kustomize.toolkit.fluxcd.io/prune": "disabled"}
}

// Sources is the HelmRepository every HelmRelease pulls Istio's charts from.
func (Engine) Sources() []compile.Doc {
	return []compile.Doc{object("source.toolkit.fluxcd.io/v1", "HelmRepository", Repository, compile.Doc{
		"spec": compile.Doc{"interval": "1h", "url": compile.ChartRepository},
	})}
}

// Release is a HelmRelease. The Helm release lives in the target namespace
// (storageNamespace), where helm and istioctl look for it.
//
// compile.WaitNoAddress turns Helm's wait off (install and upgrade
// disableWait): helm-controller's default wait (kstatus) counts a Service
// as ready once it has a cluster IP, but its UseHelm3Defaults feature gate,
// or a HelmRelease's waitStrategy legacy, brings back Helm 3's wait, which
// holds a LoadBalancer Service until it has an external address, and with
// it mesh-control-plane (wait: true) and tenant policy after it. What is
// ordered after a gateway needs nothing from it; base and istiod keep the
// wait (policy needs their CRDs and webhooks).
func (Engine) Release(r *compile.Release) compile.Doc {
	chart := compile.Doc{
		"chart":     r.Chart,
		"sourceRef": compile.Doc{"kind": "HelmRepository", "name": Repository},
	}
	if r.Version != "" {
		chart["version"] = r.Version
	}
	spec := compile.Doc{
		"interval":         "30m",
		"releaseName":      r.Name,
		"targetNamespace":  r.Namespace,
		"storageNamespace": r.Namespace,
		"chart":            compile.Doc{"spec": chart},
		"install":          compile.Doc{"remediation": compile.Doc{"retries": 3}},
		"upgrade":          compile.Doc{"remediation": compile.Doc{"retries": 3}},
	}
	for _, action := range []string{"install", "upgrade"} {
		a := spec[action].(compile.Doc)
		if r.CRDs {
			a["crds"] = "CreateReplace"
		}
		if r.Wait == compile.WaitNoAddress {
			a["disableWait"] = true
		}
		if r.SkipSchemaValidation {
			a["disableSchemaValidation"] = true
		}
	}
	if len(r.DependsOn) > 0 {
		deps := make([]any, len(r.DependsOn))
		for i, d := range r.DependsOn {
			deps[i] = compile.Doc{"name": d}
		}
		spec["dependsOn"] = deps
	}
	if len(r.Values) > 0 {
		spec["values"] = r.Values
	}
	return object("helm.toolkit.fluxcd.io/v2", "HelmRelease", r.Name, compile.Doc{"spec": spec})
}

// EntryPoint is what a cluster's Flux needs to follow this repo: a
// GitRepository and two Kustomizations. The control plane is applied and
// waited for first (wait: true), then the policy (dependsOn): Flux dry-runs
// a whole Kustomization before applying any of it, and Istio's CRDs do not
// exist until the base chart is installed.
func (Engine) EntryPoint(m *mesh.Mesh, cc *compile.Cluster) engine.Entry {
	src := object("source.toolkit.fluxcd.io/v1", "GitRepository", Source, compile.Doc{"spec": compile.Doc{
		"interval": "1m",
		"url":      m.GitOps.RepoURL,
		"ref":      compile.Doc{"branch": m.GitOps.Branch},
	}})
	ks := func(name, part string, extra compile.Doc) compile.Doc {
		spec := compile.Doc{
			"interval":  "10m",
			"path":      "./overlays/" + cc.Name + "/" + part,
			"prune":     true,
			"sourceRef": compile.Doc{"kind": "GitRepository", "name": Source},
			"timeout":   "10m",
		}
		for k, v := range extra {
			spec[k] = v
		}
		return object("kustomize.toolkit.fluxcd.io/v1", "Kustomization", name, compile.Doc{"spec": spec})
	}
	return engine.Entry{File: "sync.yaml", Docs: []compile.Doc{
		src,
		ks(ControlPlane, "control-plane", compile.Doc{"wait": true}),
		ks(Policy, "policy", compile.Doc{"dependsOn": []any{compile.Doc{"name": ControlPlane}}}),
	}}
}

// Root: Flux is bootstrapped per cluster (overlays/_flux/<cluster>).
func (Engine) Root(*mesh.Mesh) map[string][]compile.Doc { return nil }

func object(apiVersion, kind, name string, rest compile.Doc) compile.Doc {
	d := compile.Doc{"apiVersion": apiVersion, "kind": kind, "metadata": compile.Doc{"name": name, "namespace": Namespace}}
	for k, v := range rest {
		d[k] = v
	}
	return d
}
