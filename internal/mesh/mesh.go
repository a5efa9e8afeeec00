// Package mesh is meshc's domain model: a validated mesh and its clusters as
// plain Go values, with every default applied. It imports no CUE; later
// stages (compile, quota reports) read only these types.
package mesh

import (
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
	// NetworkSet is the whole mesh's set of networks, sorted and distinct,
	// when Clusters holds only some of its clusters (build.Plan validates
	// only the clusters it does not reuse, and says which networks the
	// others are on); nil means the networks of Clusters. Every cluster's
	// output depends on it (MultiNetwork), so it is an input like the
	// rest, never filled in behind the caller's back.
	NetworkSet []string
}

// GitOps says which engine delivers the overlays and where this repo lives.
type GitOps struct {
	Engine  Engine
	RepoURL string
	Branch  string
	// CA, when set, is where each cluster's root CA comes from.
	CA *CA
}

// CA is the mesh's gitops.ca: each cluster's <Path>/<cluster>/ folder in
// this repository puts the cluster's cacerts Secret in place (a
// SOPS-encrypted Secret, an ExternalSecret, ...), applied before any
// istiod. meshc never reads it.
type CA struct {
	Path string
	// Decryption is "sops" (Flux decrypts the folder) or "".
	Decryption string
	// Pos is where the mesh file declares it, for messages about it.
	Pos Pos
}

// Pos is a place in an input file (diag.Pos without CUE's token types).
type Pos struct {
	File      string
	Line, Col int
}

// Folder is the cluster's CA folder, relative to the repository root.
func (ca *CA) Folder(cluster string) string { return ca.Path + "/" + cluster }

// Engine is a GitOps engine.
type Engine string

// The GitOps engines meshc emits entry points for.
const (
	Flux   Engine = "flux"
	ArgoCD Engine = "argocd"
)

// Networks returns the mesh's networks, sorted and distinct: NetworkSet,
// or those of Clusters.
func (m *Mesh) Networks() []string {
	if m.NetworkSet != nil {
		return m.NetworkSet
	}
	return NetworksOf(m.Clusters)
}

// NetworksOf returns the distinct networks of clusters, sorted.
func NetworksOf(clusters []*Cluster) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range clusters {
		if !seen[c.Network] {
			seen[c.Network] = true
			out = append(out, c.Network)
		}
	}
	sort.Strings(out)
	return out
}

// MultiNetwork reports whether the clusters span more than one network, in
// which case each cluster needs an east-west gateway.
func (m *Mesh) MultiNetwork() bool {
	if m.NetworkSet != nil {
		return len(m.NetworkSet) > 1
	}
	// Asked once per cluster and object: stop at the second network
	// rather than collecting and sorting them all.
	for _, c := range m.Clusters {
		if c.Network != m.Clusters[0].Network {
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
	Revision Revision
	Canary   *Revision
	// Previous is the revision a promotion replaced: still installed, so
	// proxies not yet restarted keep a control plane, with no tag pointing
	// at it; namespaces may pin it to roll back.
	Previous *Revision
	// Tags are the revision tags besides default, sorted by name.
	Tags          []Tag
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

// Revisions returns the revisions the cluster runs: the default one, then
// the canary, then the previous one.
func (cp *ControlPlane) Revisions() []Revision {
	out := []Revision{cp.Revision}
	if cp.Canary != nil {
		out = append(out, *cp.Canary)
	}
	if cp.Previous != nil {
		out = append(out, *cp.Previous)
	}
	return out
}

// Runs reports whether the cluster runs the named revision.
func (cp *ControlPlane) Runs(rev string) bool {
	for _, r := range cp.Revisions() {
		if r.Name == rev {
			return true
		}
	}
	return false
}

// Tag returns the revision tag of that name, if the cluster declares it.
func (cp *ControlPlane) Tag(name string) (Tag, bool) {
	for _, t := range cp.Tags {
		if t.Name == name {
			return t, true
		}
	}
	return Tag{}, false
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

// Tag is a revision tag: an injection webhook of its own, selected by
// namespaces labelled istio.io/rev=<Name>, that points at Revision.
type Tag struct {
	Name     string
	Revision string
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
	// Revision is the pin: a revision or a tag of the cluster, or "" for
	// the default tag (the cluster's default revision).
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
