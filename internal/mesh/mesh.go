// Package mesh is meshc's domain model: a validated mesh and its clusters as
// plain Go values, with every default applied. It imports no CUE; later
// stages (compile, quota reports) read only these types.
package mesh

import (
	"iter"
	"sort"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Mesh is the whole mesh: the mesh file plus every cluster.
type Mesh struct {
	ID          string
	TrustDomain string
	// Revisions maps a control-plane revision name to its Istio version.
	Revisions map[string]Version
	GitOps    GitOps
	// Clusters are sorted by name.
	Clusters []*Cluster
	// OtherNetworks are the networks of clusters left out of Clusters
	// (an incremental build compiles only the clusters that changed);
	// they count for MultiNetwork.
	OtherNetworks []string
}

// GitOps says which engine delivers the overlays and where this repo lives.
type GitOps struct {
	Engine  Engine
	RepoURL string
	Branch  string
}

// Engine is a GitOps engine.
type Engine string

// The GitOps engines meshc emits entry points for.
const (
	Flux   Engine = "flux"
	ArgoCD Engine = "argocd"
)

// Networks returns the distinct networks of the mesh's clusters, sorted.
// allNetworks yields every cluster's network, then OtherNetworks.
func (m *Mesh) allNetworks() iter.Seq[string] {
	return func(yield func(string) bool) {
		for _, c := range m.Clusters {
			if !yield(c.Network) {
				return
			}
		}
		for _, n := range m.OtherNetworks {
			if !yield(n) {
				return
			}
		}
	}
}

func (m *Mesh) Networks() []string {
	seen := map[string]bool{}
	var out []string
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, c := range m.Clusters {
		add(c.Network)
	}
	for _, n := range m.OtherNetworks {
		add(n)
	}
	sort.Strings(out)
	return out
}

// MultiNetwork reports whether the clusters span more than one network, in
// which case each cluster needs an east-west gateway.
func (m *Mesh) MultiNetwork() bool {
	// Asked once per cluster and object: stop at the second network
	// rather than collecting and sorting them all.
	first, seen := "", false
	for n := range m.allNetworks() {
		if !seen {
			first, seen = n, true
		} else if n != first {
			return true
		}
	}
	return false
}

// Cluster is one Kubernetes cluster of the mesh.
type Cluster struct {
	Name         string
	Network      string
	Environment  string
	Server       string
	MTLS         string
	ControlPlane ControlPlane
	Sidecar      Resources
	// Namespaces are sorted by name.
	Namespaces []*Namespace
}

// Production reports whether the cluster is a production one.
func (c *Cluster) Production() bool { return c.Environment == "production" }

// ControlPlane is a cluster's Istio control plane.
type ControlPlane struct {
	Revision      Revision
	Canary        *Revision
	Profile       string
	Pilot         Pilot
	AccessLogFile string
	Tracing       *Tracing
	// IngressServiceAnnotations are copied onto the ingress gateway's Service.
	IngressServiceAnnotations map[string]string
	IngressGateway            Gateway
	// EastWestGateway applies to multi-network meshes only.
	EastWestGateway Gateway
}

// Gateway is a gateway's Service type and replica bounds, defaults applied.
type Gateway struct {
	ServiceType  string // LoadBalancer, NodePort or ClusterIP
	AutoscaleMin int
	AutoscaleMax int
}

// PodDisruptionBudget reports whether the gateway gets one: with at least
// two replicas, so a node drain never takes the last one down (with one
// replica a budget of minAvailable 1 would block every drain instead).
func (g Gateway) PodDisruptionBudget() bool { return g.AutoscaleMin >= 2 }

// Revisions returns the revisions the cluster runs: the default one, then the canary.
func (cp *ControlPlane) Revisions() []Revision {
	if cp.Canary == nil {
		return []Revision{cp.Revision}
	}
	return []Revision{cp.Revision, *cp.Canary}
}

// Oldest returns the revision with the oldest Istio version.
func (cp *ControlPlane) Oldest() Revision {
	r := cp.Revisions()
	sort.SliceStable(r, func(i, j int) bool { return r[i].Version.Less(r[j].Version) })
	return r[0]
}

// Newest returns the revision with the newest Istio version.
func (cp *ControlPlane) Newest() Revision {
	r := cp.Revisions()
	sort.SliceStable(r, func(i, j int) bool { return r[j].Version.Less(r[i].Version) })
	return r[0]
}

// Revision is a named control-plane revision and the Istio version it runs.
type Revision struct {
	Name    string
	Version Version
}

// Pilot is istiod's deployment settings.
type Pilot struct {
	Resources    Resources
	AutoscaleMin int
	AutoscaleMax int
}

// Tracing is the cluster's tracing provider.
type Tracing struct {
	Provider string // opentelemetry, zipkin or none
	Service  string
	Port     int
	Sampling float64
}

// Resources is a container's requests and limits. A zero Quantity with an
// empty Text means "not set".
type Resources struct {
	Requests CPUMemory
	Limits   CPUMemory
}

// CPUMemory is a cpu and memory pair.
type CPUMemory struct {
	CPU    Quantity
	Memory Quantity
}

// Set reports whether either value is set.
func (c CPUMemory) Set() bool { return c.CPU.Text != "" || c.Memory.Text != "" }

// Quantity is a Kubernetes quantity together with the text the user wrote,
// which is what meshc emits (so "2" stays "2" rather than becoming "2000m").
type Quantity struct {
	Text  string
	Value resource.Quantity
}

// Namespace is a tenant namespace of a cluster.
type Namespace struct {
	Name      string
	Injection bool
	// Revision is the pinned revision, or "" for the cluster's default one.
	Revision          string
	MTLS              string // "" when the cluster's mode applies
	Labels            map[string]string
	Quota             *Quota
	ContainerDefaults *Resources
	Authorization     []Policy
}

// Quota is a namespace's ResourceQuota.
type Quota struct {
	Requests CPUMemory
	Limits   CPUMemory
	Pods     int64
}

// Policy is an ALLOW AuthorizationPolicy.
type Policy struct {
	Name     string
	Selector map[string]string
	From     []Source
	Methods  []string
	Paths    []string
}

// Source is a workload identity: a service account in a namespace.
type Source struct {
	Namespace      string
	ServiceAccount string
}
