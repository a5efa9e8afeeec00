package review

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/golemtrust/meshc/internal/engine/engines"
	"github.com/golemtrust/meshc/internal/load"
	"github.com/golemtrust/meshc/internal/mesh"
	"github.com/golemtrust/meshc/internal/validate"
)

// example validates the repository's example mesh afresh, so each side of
// a pair is its own copy to edit.
func example(t *testing.T) *mesh.Mesh {
	t.Helper()
	in, diags := load.Dir("../../clusters")
	require.False(t, diags.Failed(false), "%s", diags)
	m, diags := validate.Mesh(in, validate.Options{})
	require.NotNil(t, m, "%s", diags)
	return m
}

func cluster(m *mesh.Mesh, name string) *mesh.Cluster {
	for _, c := range m.Clusters {
		if c.Name == name {
			return c
		}
	}
	panic("no cluster " + name)
}

func namespace(c *mesh.Cluster, name string) *mesh.Namespace {
	for _, ns := range c.Namespaces {
		if ns.Name == name {
			return ns
		}
	}
	panic("no namespace " + name)
}

// objects compiles one cluster and indexes what it receives.
func objects(m *mesh.Mesh, c *mesh.Cluster) (map[Key]Doc, []Key) {
	cc := engines.Compile(m, c)
	out := map[Key]Doc{}
	add := func(d Doc) Key {
		k := Key{Kind: str(d, "kind"), Namespace: str(d, "metadata", "namespace"), Name: str(d, "metadata", "name")}
		out[k] = d
		return k
	}
	for _, d := range cc.Objects() {
		add(d)
	}
	var entry []Key
	for _, d := range cc.Entry.Docs {
		entry = append(entry, add(d))
	}
	return out, entry
}

// pair compiles cluster name of the example mesh before and after edit.
func pair(t *testing.T, name string, edit func(m *mesh.Mesh, c *mesh.Cluster)) *Cluster {
	t.Helper()
	bm, am := example(t), example(t)
	bc, ac := cluster(bm, name), cluster(am, name)
	edit(am, ac)
	before, entry := objects(bm, bc)
	after, _ := objects(am, ac)
	return &Cluster{Name: name, Before: before, After: after, EntryPoint: entry, Model: ac, File: "clusters/" + name + ".yaml",
		Where: func(path ...string) string { return "at:" + join(path) }}
}

func join(p []string) string {
	s := ""
	for i, x := range p {
		if i > 0 {
			s += "."
		}
		s += x
	}
	return s
}

// benign is a change no rule may flag: a label and a stronger mode.
func benign(m *mesh.Mesh, c *mesh.Cluster) {
	for _, ns := range c.Namespaces {
		ns.Labels["owner"] = "someone-else"
		if ns.MTLS == "PERMISSIVE" {
			ns.MTLS = "STRICT"
		}
		if ns.Quota != nil {
			ns.Quota.Pods++
		}
	}
}

func TestRulesIgnoreBenignChanges(t *testing.T) {
	for _, name := range []string{"ankh-morpork", "genua", "quirm"} {
		c := pair(t, name, benign)
		require.Empty(t, Check([]*Cluster{c}), name)
	}
	// and a cluster that does not change at all
	require.Empty(t, Check([]*Cluster{pair(t, "genua", func(*mesh.Mesh, *mesh.Cluster) {})}))
}

func TestMTLSWeakened(t *testing.T) {
	r := MTLSWeakened(pair(t, "quirm", func(_ *mesh.Mesh, c *mesh.Cluster) { c.MTLS = "PERMISSIVE" }))
	require.Len(t, r, 1)
	require.Equal(t, Risk{Rule: "mtls-weakened", Cluster: "quirm", Kind: "PeerAuthentication", Namespace: "istio-system", Name: "default",
		Before: "STRICT", After: "PERMISSIVE", Message: "mesh-wide mTLS goes STRICT -> PERMISSIVE: every namespace without its own mode accepts plaintext", Source: "at:mtls"}, r[0])

	// a namespace override weaker than the mesh-wide mode
	r = MTLSWeakened(pair(t, "quirm", func(_ *mesh.Mesh, c *mesh.Cluster) { namespace(c, "royal-bank").MTLS = "PERMISSIVE" }))
	require.Len(t, r, 1)
	require.Equal(t, "royal-bank", r[0].Namespace)
	require.Equal(t, "at:namespaces.royal-bank.mtls", r[0].Source)

	// a STRICT override removed under a PERMISSIVE mesh-wide mode
	r = MTLSWeakened(pair(t, "genua", func(_ *mesh.Mesh, c *mesh.Cluster) {}))
	require.Empty(t, r)
	strictUnderPermissive := func(t *testing.T) (*mesh.Mesh, *mesh.Mesh) {
		bm, am := example(t), example(t)
		for _, m := range []*mesh.Mesh{bm, am} {
			c := cluster(m, "genua")
			c.MTLS = "PERMISSIVE"
			namespace(c, "rng").MTLS = "STRICT"
		}
		namespace(cluster(am, "genua"), "rng").MTLS = ""
		return bm, am
	}
	bm, am := strictUnderPermissive(t)
	before, _ := objects(bm, cluster(bm, "genua"))
	after, _ := objects(am, cluster(am, "genua"))
	r = MTLSWeakened(&Cluster{Name: "genua", Before: before, After: after})
	require.Len(t, r, 1)
	require.Equal(t, "namespace rng's STRICT override is removed: it now follows the mesh-wide PERMISSIVE and its workloads accept plaintext", r[0].Message)

	// stronger is fine; the same mode spelled as an override is fine
	require.Empty(t, MTLSWeakened(pair(t, "genua", func(_ *mesh.Mesh, c *mesh.Cluster) { namespace(c, "patricians-office").MTLS = "STRICT" })))
	require.Empty(t, MTLSWeakened(pair(t, "quirm", func(_ *mesh.Mesh, c *mesh.Cluster) { namespace(c, "royal-bank").MTLS = "STRICT" })))
}

func TestAuthzRemoved(t *testing.T) {
	r := AuthzRemoved(pair(t, "genua", func(_ *mesh.Mesh, c *mesh.Cluster) {
		ns := namespace(c, "rng")
		ns.Authorization = ns.Authorization[:1]
	}))
	require.Len(t, r, 1)
	require.Equal(t, Key{"AuthorizationPolicy", "rng", "numbers-web-authz"}, Key{r[0].Kind, r[0].Namespace, r[0].Name})
	require.Equal(t, "ALLOW cluster.local/ns/istio-ingress/sa/istio-ingressgateway", r[0].Before)
	require.Equal(t, "removed", r[0].After)
	require.Empty(t, AuthzRemoved(pair(t, "genua", func(_ *mesh.Mesh, c *mesh.Cluster) {
		namespace(c, "rng").Authorization[0].Selector["version"] = "v2"
	})))
}

func TestAuthzWidened(t *testing.T) {
	r := AuthzWidened(pair(t, "genua", func(_ *mesh.Mesh, c *mesh.Cluster) {
		p := &namespace(c, "rng").Authorization[0]
		p.From = append(p.From, mesh.Source{Namespace: "royal-bank", ServiceAccount: "vault"})
	}))
	require.Len(t, r, 1)
	require.Equal(t, "policy numbers-api-authz now also allows ns/royal-bank/sa/vault", r[0].Message)
	require.Equal(t, "at:namespaces.rng.authorization.0.from", r[0].Source)

	r = AuthzWidened(pair(t, "genua", func(_ *mesh.Mesh, c *mesh.Cluster) { namespace(c, "rng").Authorization[1].Methods = nil }))
	require.Len(t, r, 1)
	require.Equal(t, "GET", r[0].Before)
	require.Equal(t, "any", r[0].After)

	r = AuthzWidened(pair(t, "genua", func(_ *mesh.Mesh, c *mesh.Cluster) {
		namespace(c, "rng").Authorization[1].Methods = []string{"GET", "POST"}
	}))
	require.Len(t, r, 1)
	require.Equal(t, "policy numbers-web-authz now also allows methods POST", r[0].Message)

	// a trust domain change renames every principal and lets no one new in
	require.Empty(t, AuthzWidened(pair(t, "genua", func(m *mesh.Mesh, c *mesh.Cluster) { m.TrustDomain = "golemtrust.example" })))

	// narrower: a path restriction added
	require.Empty(t, AuthzWidened(pair(t, "genua", func(_ *mesh.Mesh, c *mesh.Cluster) {
		p := &namespace(c, "rng").Authorization[0]
		p.Paths = []string{"/api/*"}
	})))
}

func TestInjectionDisabled(t *testing.T) {
	r := InjectionDisabled(pair(t, "quirm", func(_ *mesh.Mesh, c *mesh.Cluster) { namespace(c, "royal-bank").Injection = false }))
	require.Len(t, r, 1)
	require.Equal(t, "injected (1-21)", r[0].Before)
	require.Equal(t, "at:namespaces.royal-bank.injection", r[0].Source)
	require.Empty(t, InjectionDisabled(pair(t, "ankh-morpork", func(_ *mesh.Mesh, c *mesh.Cluster) { namespace(c, "royal-bank").Revision = "" })))
}

func TestNamespaceRemoved(t *testing.T) {
	r := NamespaceRemoved(pair(t, "quirm", func(_ *mesh.Mesh, c *mesh.Cluster) { c.Namespaces = c.Namespaces[1:] }))
	require.Len(t, r, 1)
	require.Equal(t, "merchants-guild", r[0].Name)
	require.Contains(t, r[0].Message, "LimitRange mesh-defaults, ResourceQuota mesh-quota")
	// a namespace added is not a risk
	require.Empty(t, NamespaceRemoved(pair(t, "quirm", func(_ *mesh.Mesh, c *mesh.Cluster) {
		c.Namespaces = append(c.Namespaces, &mesh.Namespace{Name: "zzz", Injection: true})
	})))
}

func TestRevisionMoved(t *testing.T) {
	r := RevisionMoved(pair(t, "ankh-morpork", func(_ *mesh.Mesh, c *mesh.Cluster) { namespace(c, "merchants-guild").Revision = "1-21" }))
	require.Len(t, r, 1)
	require.Equal(t, Risk{Rule: "revision-moved", Cluster: "ankh-morpork", Kind: "Namespace", Name: "merchants-guild", Before: "1-20", After: "1-21",
		Message: "namespace merchants-guild moves from istiod 1-20 to 1-21 (pinned to 1-21); its pods change revision when restarted: kubectl rollout restart deployment -n merchants-guild",
		Source:  "at:namespaces.merchants-guild.revision"}, r[0])
	require.Empty(t, RevisionsMovedAtOnce(pair(t, "ankh-morpork", func(_ *mesh.Mesh, c *mesh.Cluster) { namespace(c, "merchants-guild").Revision = "1-21" })))
	// pinning a namespace to the revision it already runs moves nothing
	require.Empty(t, RevisionMoved(pair(t, "ankh-morpork", func(_ *mesh.Mesh, c *mesh.Cluster) { namespace(c, "merchants-guild").Revision = "1-20" })))
}

// promote is the canary promotion: 1-21 becomes the default, 1-20 stays
// installed beside it until it is retired, royal-bank is unpinned.
func promote(m *mesh.Mesh, c *mesh.Cluster) {
	old := c.ControlPlane.Revision
	c.ControlPlane.Revision = *c.ControlPlane.Canary
	c.ControlPlane.Canary = &old // (the model has no "previous" yet; the canary keeps 1-20 installed)
	namespace(c, "royal-bank").Revision = ""
}

func TestRevisionsMovedAtOnce(t *testing.T) {
	c := pair(t, "ankh-morpork", promote)
	r := RevisionsMovedAtOnce(c)
	require.Len(t, r, 1)
	require.Equal(t, "merchants-guild, patricians-office", r[0].Name)
	require.Equal(t, "merchants-guild=1-20, patricians-office=1-20", r[0].Before)
	require.Equal(t, "merchants-guild=1-21, patricians-office=1-21", r[0].After)
	moves := RevisionMoved(c)
	require.Len(t, moves, 2) // royal-bank stays on 1-21: unpinned onto the tag that now points there
	require.Contains(t, moves[0].Message, "the default revision moves under it")
}

func TestRevisionRemoved(t *testing.T) {
	r := RevisionRemoved(pair(t, "ankh-morpork", func(_ *mesh.Mesh, c *mesh.Cluster) {
		c.ControlPlane.Revision = *c.ControlPlane.Canary
		c.ControlPlane.Canary = nil
		namespace(c, "royal-bank").Revision = ""
	}))
	require.Len(t, r, 1)
	require.Equal(t, "istiod-1-20", r[0].Name)
	require.Equal(t, "1-20", r[0].Before)
	require.Empty(t, RevisionRemoved(pair(t, "ankh-morpork", promote)))
}

func TestCRDsDowngraded(t *testing.T) {
	r := CRDsDowngraded(pair(t, "ankh-morpork", func(_ *mesh.Mesh, c *mesh.Cluster) {
		c.ControlPlane.Canary = nil
		namespace(c, "royal-bank").Revision = ""
	}))
	require.Len(t, r, 1)
	require.Equal(t, "1.21.0", r[0].Before)
	require.Equal(t, "1.20.0", r[0].After)
	require.Equal(t, "istio-base", r[0].Name)
	require.Empty(t, CRDsDowngraded(pair(t, "ankh-morpork", promote)))
}

func TestQuotaReduced(t *testing.T) {
	r := QuotaReduced(pair(t, "quirm", func(_ *mesh.Mesh, c *mesh.Cluster) {
		q := namespace(c, "royal-bank").Quota
		q.Limits.CPU = mesh.Quantity{Text: "24"}
	}))
	require.Len(t, r, 1)
	require.Equal(t, "limits.cpu=32", r[0].Before)
	require.Equal(t, "limits.cpu=24", r[0].After)
	require.Equal(t, "at:namespaces.royal-bank.quota.limits.cpu", r[0].Source)

	r = QuotaReduced(pair(t, "quirm", func(_ *mesh.Mesh, c *mesh.Cluster) { namespace(c, "royal-bank").Quota = nil }))
	require.Len(t, r, 1)
	require.Equal(t, "removed", r[0].After)

	// the same amount written another way, and more of it, are fine
	require.Empty(t, QuotaReduced(pair(t, "quirm", func(_ *mesh.Mesh, c *mesh.Cluster) {
		q := namespace(c, "royal-bank").Quota
		q.Limits.CPU = mesh.Quantity{Text: "32000m"}
		q.Requests.Memory = mesh.Quantity{Text: "32Gi"}
	})))
}

func TestClusterRemoved(t *testing.T) {
	c := pair(t, "quirm", func(*mesh.Mesh, *mesh.Cluster) {})
	c.After, c.Model = nil, nil
	r := ClusterRemoved(c)
	require.Len(t, r, 1)
	require.Equal(t, "GitRepository", r[0].Kind)
	require.Equal(t, "clusters/quirm.yaml", r[0].Source)
	require.Contains(t, r[0].Message, "GitRepository flux-system/meshc, Kustomization flux-system/mesh-control-plane, Kustomization flux-system/mesh-policy")
	// a cluster added is not a risk, and no other rule fires on a removal
	added := pair(t, "quirm", func(*mesh.Mesh, *mesh.Cluster) {})
	added.Before = nil
	require.Empty(t, Check([]*Cluster{added}))
	require.Len(t, Check([]*Cluster{c}), 1)
}
