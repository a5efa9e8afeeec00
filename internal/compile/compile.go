// Package compile turns the mesh model into Kubernetes objects: pure
// functions from mesh.Mesh to plain maps, with no I/O. Each object that has
// a part every cluster of the mesh shares names the base component that
// carries that part, so the overlay stage can write it once.
package compile

import (
	"github.com/golemtrust/meshc/internal/mesh"
)

// Doc is one YAML document: a Kubernetes object or a part of one.
type Doc = map[string]any

// Object is one object of a cluster's output, or one Helm release.
type Object struct {
	// Doc is the whole object as the cluster receives it; nil for a
	// release.
	Doc Doc
	// Component names the base component that holds Shared, the part of Doc
	// that depends only on the mesh file; "" when all of Doc is the
	// cluster's own.
	Component string
	Shared    Doc
	// Release, instead of Doc, is a Helm release, which a delivery engine
	// turns into what it applies; SharedRelease is its part in Component.
	Release, SharedRelease *Release
}

// Cluster is everything meshc emits for one cluster.
type Cluster struct {
	Name string
	// ControlPlane and Policy are the two parts of the cluster's output,
	// applied in that order: the control plane's Helm releases and plain
	// objects, and the mesh policy (plain objects only). Namespaces carry
	// no engine's mark yet: the delivery engine adds its never-prune mark.
	ControlPlane []*Object
	Policy       []*Object
	// IstioOperators are for installing with istioctl instead, by file name.
	IstioOperators map[string]Doc
}

// Well-known names meshc uses in every cluster.
const (
	IstioSystem  = "istio-system"
	IstioIngress = "istio-ingress"
	// IngressGateway is the ingress gateway's release, Deployment and
	// service account name on both install paths.
	IngressGateway  = "istio-ingressgateway"
	EastWestGateway = "istio-eastwestgateway"
	BaseRelease     = "istio-base"
	// ChartRepository is where Istio publishes its Helm charts.
	ChartRepository = "https://istio-release.storage.googleapis.com/charts"
)

// Mesh compiles every cluster of the mesh, in the mesh's cluster order.
func Mesh(m *mesh.Mesh) []*Cluster {
	out := make([]*Cluster, len(m.Clusters))
	for i, c := range m.Clusters {
		out[i] = Compile(m, c)
	}
	return out
}

// Compile compiles one cluster.
func Compile(m *mesh.Mesh, c *mesh.Cluster) *Cluster {
	out := &Cluster{Name: c.Name}
	out.ControlPlane = controlPlane(m, c)
	out.Policy = policy(m, c)
	out.IstioOperators = istioOperators(m, c)
	return out
}

// istioAPI returns the newest apiVersion of an Istio API group that the
// cluster's oldest revision serves: v1 arrived in Istio 1.22.
func istioAPI(c *mesh.Cluster, group string) string {
	if c.ControlPlane.Oldest().Version.AtLeast(1, 22) {
		return group + "/v1"
	}
	return group + "/v1beta1"
}

// Merge returns a deep merge of docs, later ones winning (see merge).
func Merge(docs ...Doc) Doc { return merge(docs...) }

// merge returns a deep merge of docs, later ones winning; maps merge key by
// key, anything else is replaced. It is kustomize's strategic merge for
// objects without a schema, so an overlay patch of Shared yields Doc.
func merge(docs ...Doc) Doc {
	out := Doc{}
	for _, d := range docs {
		for k, v := range d {
			if vm, ok := v.(Doc); ok {
				if om, ok := out[k].(Doc); ok {
					out[k] = merge(om, vm)
					continue
				}
				out[k] = merge(vm)
				continue
			}
			out[k] = v
		}
	}
	return out
}

func meta(name, namespace string) Doc {
	md := Doc{"name": name}
	if namespace != "" {
		md["namespace"] = namespace
	}
	return md
}

func object(apiVersion, kind string, metadata Doc, rest Doc) Doc {
	d := Doc{"apiVersion": apiVersion, "kind": kind, "metadata": metadata}
	for k, v := range rest {
		d[k] = v
	}
	return d
}

func strMap(m map[string]string) Doc {
	out := Doc{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func strList(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
