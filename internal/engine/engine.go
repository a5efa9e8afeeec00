// Package engine is the seam between compile and the GitOps engines:
// compile emits engine-neutral Helm releases and plain objects, and an
// Engine (internal/engine/flux, internal/engine/argocd) turns them into
// what it applies, names its never-prune mark and writes its entry points.
// Nothing outside the engine packages knows any engine's objects.
package engine

import (
	"github.com/golemtrust/meshc/internal/compile"
	"github.com/golemtrust/meshc/internal/mesh"
)

// Engine is one GitOps engine.
type Engine interface {
	// Dir is the engine's folder under overlays/ (a leading '_': no
	// cluster name can collide with it). Entry points live in
	// Dir/<cluster>/, mesh-wide files directly in Dir.
	Dir() string
	// NeverPrune is the annotation that keeps the engine from deleting an
	// object once it leaves the output: every Namespace gets it, since a
	// namespace holds tenants' workloads.
	NeverPrune() map[string]string
	// Release is the object the engine applies in the target cluster for
	// a Helm release, or nil when it installs charts from elsewhere (Argo
	// CD: the chart is an Application's source in the management
	// cluster). Called with a base component's shared part too: the
	// object for a shared part must be a part of the object for any
	// release completed from it (overlay patches the difference).
	Release(r *compile.Release) compile.Doc
	// Sources are the objects every cluster's releases need beside them
	// (Flux: the HelmRepository), shared by the whole mesh: they belong to
	// the control-plane base component.
	Sources() []compile.Doc
	// EntryPoint is what the engine needs to deliver the cluster: the
	// objects in Dir/<cluster>/.
	EntryPoint(m *mesh.Mesh, cc *compile.Cluster) Entry
	// Root is the mesh-wide files in Dir, by name: the one object a team
	// applies once so that every cluster's entry point is picked up
	// (none for Flux, bootstrapped per cluster).
	Root(m *mesh.Mesh) map[string][]compile.Doc
}

// Entry is a cluster's entry point: File in Dir/<cluster>/ holds Docs.
type Entry struct {
	File string
	Docs []compile.Doc
}

// Cluster is one cluster as its engine delivers it.
type Cluster struct {
	Name string
	// ControlPlane and Policy are the two parts of the cluster's overlay,
	// objects only (releases turned into the engine's objects or left
	// out), applied in that order.
	ControlPlane []*compile.Object
	Policy       []*compile.Object
	// IstioOperators are for installing with istioctl instead, by file name.
	IstioOperators map[string]compile.Doc
	// Dir is the folder of the entry point under overlays/.
	Dir   string
	Entry Entry
}

// Objects returns every object of the cluster's overlay, both parts.
func (c *Cluster) Objects() []compile.Doc {
	out := make([]compile.Doc, 0, len(c.ControlPlane)+len(c.Policy))
	for _, o := range c.ControlPlane {
		out = append(out, o.Doc)
	}
	for _, o := range c.Policy {
		out = append(out, o.Doc)
	}
	return out
}

// Deliver turns a compiled cluster into what e applies. It takes over cc's
// objects (their maps are marked in place).
func Deliver(e Engine, m *mesh.Mesh, cc *compile.Cluster) *Cluster {
	mark := e.NeverPrune()
	out := &Cluster{
		Name:           cc.Name,
		ControlPlane:   objects(e, mark, cc.ControlPlane),
		Policy:         objects(e, mark, cc.Policy),
		IstioOperators: cc.IstioOperators,
		Dir:            e.Dir() + "/" + cc.Name,
		Entry:          e.EntryPoint(m, cc),
	}
	if srcs := e.Sources(); len(srcs) > 0 {
		// Sources sit right after the first object, the istio-system
		// Namespace, in the control-plane component.
		own := make([]*compile.Object, 0, len(out.ControlPlane)+len(srcs))
		own = append(own, out.ControlPlane[:1]...)
		for _, d := range srcs {
			own = append(own, &compile.Object{Component: compile.ComponentControlPlane, Shared: d, Doc: compile.Merge(d)})
		}
		out.ControlPlane = append(own, out.ControlPlane[1:]...)
	}
	return out
}

func objects(e Engine, mark map[string]string, in []*compile.Object) []*compile.Object {
	out := make([]*compile.Object, 0, len(in))
	for _, o := range in {
		if o.Release != nil {
			d := e.Release(o.Release)
			if d == nil {
				continue
			}
			var shared compile.Doc
			if o.SharedRelease != nil {
				shared = e.Release(o.SharedRelease)
			}
			out = append(out, &compile.Object{Doc: d, Component: o.Component, Shared: shared})
			continue
		}
		markNamespace(o.Doc, mark)
		markNamespace(o.Shared, mark)
		out = append(out, o)
	}
	return out
}

// Base returns the shared base as e delivers it: the objects of each base
// component, by component name. A component left with no objects (a
// release the engine installs from elsewhere) is left out.
func Base(e Engine, m *mesh.Mesh) map[string][]compile.Doc {
	mark := e.NeverPrune()
	out := map[string][]compile.Doc{}
	for name, objs := range compile.Base(m) {
		var docs []compile.Doc
		for _, o := range objs {
			if o.Release != nil {
				if d := e.Release(o.Release); d != nil {
					docs = append(docs, d)
				}
				continue
			}
			markNamespace(o.Doc, mark)
			docs = append(docs, o.Doc)
		}
		if name == compile.ComponentControlPlane {
			docs = append(docs, e.Sources()...)
		}
		if len(docs) > 0 {
			out[name] = docs
		}
	}
	return out
}

// markNamespace adds the never-prune mark to a Namespace.
func markNamespace(d compile.Doc, mark map[string]string) {
	if d == nil || d["kind"] != "Namespace" || len(mark) == 0 {
		return
	}
	md := d["metadata"].(compile.Doc)
	ann, _ := md["annotations"].(compile.Doc)
	if ann == nil {
		ann = compile.Doc{}
		md["annotations"] = ann
	}
	for k, v := range mark {
		ann[k] = v
	}
}
