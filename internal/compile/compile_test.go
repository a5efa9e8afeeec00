package compile_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/golemtrust/meshc/internal/compile"
	"github.com/golemtrust/meshc/internal/engine/engines"
	"github.com/golemtrust/meshc/internal/engine/flux"
	"github.com/golemtrust/meshc/internal/mesh"
	"github.com/golemtrust/meshc/internal/overlay"
	"github.com/golemtrust/meshc/internal/render"
)

// These tests cover the spec's output table row by row, on the objects a
// cluster's overlay really builds to (overlay + krusty), not on compile's
// intermediate maps.

func q(s string) mesh.Quantity { return mesh.Quantity{Text: s, Value: resource.MustParse(s)} }

func res(rc, rm, lc, lm string) mesh.Resources {
	return mesh.Resources{Requests: mesh.CPUMemory{CPU: q(rc), Memory: q(rm)}, Limits: mesh.CPUMemory{CPU: q(lc), Memory: q(lm)}}
}

// testMesh is a two-network mesh: "am" mid-canary on 1.20/1.21 with every
// namespace feature, "lancre" on 1.22 with profile minimal and tracing off.
func testMesh() *mesh.Mesh {
	v := func(s string) mesh.Version { x, _ := mesh.ParseVersion(s); return x }
	m := &mesh.Mesh{
		ID: "gt-mesh", TrustDomain: "gt.example",
		Revisions: map[string]mesh.Version{"1-20": v("1.20.0"), "1-21": v("1.21.2"), "1-22": v("1.22.1")},
		GitOps:    mesh.GitOps{Engine: mesh.Flux, RepoURL: "https://git.example/mesh.git", Branch: "trunk"},
	}
	canary := mesh.Revision{Name: "1-21", Version: v("1.21.2")}
	am := &mesh.Cluster{
		Name: "am", Network: "net-am", Environment: "production", MTLS: "STRICT",
		ControlPlane: mesh.ControlPlane{
			Revision: mesh.Revision{Name: "1-20", Version: v("1.20.0")}, Canary: &canary, Profile: "default",
			Pilot:                     mesh.Pilot{Resources: res("500m", "2Gi", "2", "4Gi"), AutoscaleMin: 2, AutoscaleMax: 5},
			AccessLogFile:             "/dev/stdout",
			Tracing:                   &mesh.Tracing{Provider: "zipkin", Service: "zipkin.obs.svc.cluster.local", Port: 9411, Sampling: 2.5},
			IngressServiceAnnotations: map[string]string{"example.com/dns": "am"},
			IngressGateway:            mesh.Gateway{ServiceType: "LoadBalancer", AutoscaleMin: 2, AutoscaleMax: 5},
			EastWestGateway:           mesh.Gateway{ServiceType: "NodePort", AutoscaleMin: 3, AutoscaleMax: 4},
		},
		Sidecar: res("100m", "128Mi", "500m", "256Mi"),
		Namespaces: []*mesh.Namespace{
			{Name: "bank", Injection: true, Revision: "1-21", Labels: map[string]string{"team": "payments"},
				Quota:             &mesh.Quota{Requests: mesh.CPUMemory{CPU: q("8"), Memory: q("16Gi")}, Limits: mesh.CPUMemory{CPU: q("32"), Memory: q("64Gi")}, Pods: 40},
				ContainerDefaults: &mesh.Resources{Requests: mesh.CPUMemory{CPU: q("100m"), Memory: q("128Mi")}, Limits: mesh.CPUMemory{CPU: q("500m"), Memory: q("512Mi")}},
				Authorization: []mesh.Policy{{Name: "api-authz", Selector: map[string]string{"app": "api"},
					From:    []mesh.Source{{ServiceAccount: "web"}, {Namespace: "istio-ingress", ServiceAccount: "istio-ingressgateway"}},
					Methods: []string{"GET"}, Paths: []string{"/api/*"}}},
			},
			{Name: "guild", Injection: true, MTLS: "PERMISSIVE"},
			{Name: "legacy", Injection: false},
		},
	}
	lancre := &mesh.Cluster{
		Name: "lancre", Network: "net-lancre", Environment: "staging", MTLS: "PERMISSIVE",
		ControlPlane: mesh.ControlPlane{
			Revision: mesh.Revision{Name: "1-22", Version: v("1.22.1")}, Profile: "minimal",
			Pilot:           mesh.Pilot{Resources: mesh.Resources{Requests: mesh.CPUMemory{CPU: q("500m"), Memory: q("2Gi")}}, AutoscaleMin: 1, AutoscaleMax: 5},
			AccessLogFile:   "",
			Tracing:         &mesh.Tracing{Provider: "none"},
			EastWestGateway: mesh.Gateway{ServiceType: "ClusterIP", AutoscaleMin: 1, AutoscaleMax: 5},
		},
		Sidecar: res("100m", "128Mi", "2000m", "1024Mi"),
	}
	m.Clusters = []*mesh.Cluster{am, lancre}
	return m
}

type obj = map[string]any

// build renders a cluster's overlay with krusty and decodes the objects.
func build(t *testing.T, m *mesh.Mesh, c *mesh.Cluster) []obj {
	t.Helper()
	files, err := overlay.Cluster(engines.Compile(m, c), nil)
	require.NoError(t, err)
	for p, d := range overlay.Base(engines.For(m), m) {
		files[p] = d
	}
	out, err := render.Overlay(files, c.Name)
	require.NoError(t, err)
	return decode(t, out)
}

func decode(t *testing.T, data []byte) []obj {
	t.Helper()
	var objs []obj
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var o obj
		if err := dec.Decode(&o); err != nil {
			break
		}
		objs = append(objs, o)
	}
	require.NotEmpty(t, objs)
	return objs
}

func find(t *testing.T, objs []obj, kind, ns, name string) obj {
	t.Helper()
	for _, o := range objs {
		md := o["metadata"].(obj)
		gotNS, _ := md["namespace"].(string)
		if o["kind"] == kind && md["name"] == name && gotNS == ns {
			return o
		}
	}
	t.Fatalf("no %s %s/%s in the output", kind, ns, name)
	return nil
}

func absent(t *testing.T, objs []obj, kind, ns, name string) {
	t.Helper()
	for _, o := range objs {
		md := o["metadata"].(obj)
		gotNS, _ := md["namespace"].(string)
		if o["kind"] == kind && md["name"] == name && gotNS == ns {
			t.Fatalf("unexpected %s %s/%s in the output", kind, ns, name)
		}
	}
}

// get follows a path of map keys and list indexes.
func get(t *testing.T, o any, path ...any) any {
	t.Helper()
	cur := o
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := cur.(obj)
			require.True(t, ok, "at %v: not a map", p)
			cur, ok = m[k]
			if !ok {
				return nil
			}
		case int:
			l, ok := cur.([]any)
			require.True(t, ok, "at %v: not a list", p)
			require.Less(t, k, len(l))
			cur = l[k]
		}
	}
	return cur
}

func labels(t *testing.T, o obj) obj {
	l, _ := get(t, o, "metadata", "labels").(obj)
	return l
}

func TestNamespaces(t *testing.T) {
	m := testMesh()
	objs := build(t, m, m.Clusters[0])

	assert.Equal(t, "net-am", labels(t, find(t, objs, "Namespace", "", "istio-system"))["topology.istio.io/network"])
	ingress := find(t, objs, "Namespace", "", "istio-ingress")
	assert.NotContains(t, labels(t, ingress), "istio-injection", "the ingress gateway is injected")

	bank := labels(t, find(t, objs, "Namespace", "", "bank"))
	assert.Equal(t, obj{"istio.io/rev": "1-21", "team": "payments"}, bank, "pinned: istio.io/rev and no istio-injection")
	assert.Equal(t, obj{"istio-injection": "enabled"}, labels(t, find(t, objs, "Namespace", "", "guild")))
	assert.Equal(t, obj{"istio-injection": "disabled"}, labels(t, find(t, objs, "Namespace", "", "legacy")))
	for _, n := range []string{"bank", "guild", "legacy", "istio-system", "istio-ingress"} {
		assert.Equal(t, "disabled", get(t, find(t, objs, "Namespace", "", n), "metadata", "annotations", "kustomize.toolkit.fluxcd.io/prune"), n)
	}

	minimal := build(t, m, m.Clusters[1])
	absent(t, minimal, "Namespace", "", "istio-ingress")
	absent(t, minimal, "HelmRelease", "flux-system", "istio-ingressgateway")
}

func TestPolicies(t *testing.T) {
	m := testMesh()
	objs := build(t, m, m.Clusters[0])

	pa := find(t, objs, "PeerAuthentication", "istio-system", "default")
	assert.Equal(t, "security.istio.io/v1beta1", pa["apiVersion"], "oldest revision 1.20 serves v1beta1 only")
	assert.Equal(t, "STRICT", get(t, pa, "spec", "mtls", "mode"))
	assert.Equal(t, "PERMISSIVE", get(t, find(t, objs, "PeerAuthentication", "guild", "default"), "spec", "mtls", "mode"))
	absent(t, objs, "PeerAuthentication", "bank", "default")

	rq := find(t, objs, "ResourceQuota", "bank", "mesh-quota")
	assert.Equal(t, obj{"requests.cpu": "8", "requests.memory": "16Gi", "limits.cpu": "32", "limits.memory": "64Gi", "pods": "40"}, get(t, rq, "spec", "hard"))

	lr := find(t, objs, "LimitRange", "bank", "mesh-defaults")
	assert.Equal(t, obj{
		"type":           "Container",
		"defaultRequest": obj{"cpu": "100m", "memory": "128Mi"},
		"default":        obj{"cpu": "500m", "memory": "512Mi"},
	}, get(t, lr, "spec", "limits", 0))

	ap := find(t, objs, "AuthorizationPolicy", "bank", "api-authz")
	assert.Equal(t, "ALLOW", get(t, ap, "spec", "action"))
	assert.Equal(t, obj{"app": "api"}, get(t, ap, "spec", "selector", "matchLabels"))
	assert.Len(t, get(t, ap, "spec", "rules"), 1)
	assert.Equal(t, []any{"gt.example/ns/bank/sa/web", "gt.example/ns/istio-ingress/sa/istio-ingressgateway"},
		get(t, ap, "spec", "rules", 0, "from", 0, "source", "principals"))
	assert.Equal(t, obj{"methods": []any{"GET"}, "paths": []any{"/api/*"}}, get(t, ap, "spec", "rules", 0, "to", 0, "operation"))

	// Istio 1.22 serves security.istio.io/v1 and networking.istio.io/v1.
	lancre := build(t, m, m.Clusters[1])
	assert.Equal(t, "security.istio.io/v1", find(t, lancre, "PeerAuthentication", "istio-system", "default")["apiVersion"])
	assert.Equal(t, "networking.istio.io/v1", find(t, lancre, "Gateway", "istio-system", "cross-network-gateway")["apiVersion"])
}

func TestFluxControlPlane(t *testing.T) {
	m := testMesh()
	objs := build(t, m, m.Clusters[0])

	repo := find(t, objs, "HelmRepository", "flux-system", "istio")
	assert.Equal(t, compile.ChartRepository, get(t, repo, "spec", "url"))

	base := find(t, objs, "HelmRelease", "flux-system", "istio-base")
	assert.Equal(t, "base", get(t, base, "spec", "chart", "spec", "chart"))
	assert.Equal(t, "1.21.2", get(t, base, "spec", "chart", "spec", "version"), "the base chart follows the newest revision")
	assert.Equal(t, "istio-base", get(t, base, "spec", "releaseName"))
	assert.Equal(t, "CreateReplace", get(t, base, "spec", "install", "crds"))
	assert.Equal(t, "CreateReplace", get(t, base, "spec", "upgrade", "crds"))
	assert.Equal(t, "1-20", get(t, base, "spec", "values", "defaultRevision"), "the default validator points at the default revision")
	assert.Nil(t, get(t, base, "spec", "dependsOn"))

	for rev, version := range map[string]string{"1-20": "1.20.0", "1-21": "1.21.2"} {
		hr := find(t, objs, "HelmRelease", "flux-system", "istiod-"+rev)
		assert.Equal(t, "istiod", get(t, hr, "spec", "chart", "spec", "chart"))
		assert.Equal(t, version, get(t, hr, "spec", "chart", "spec", "version"))
		assert.Equal(t, "istio-system", get(t, hr, "spec", "targetNamespace"))
		assert.Equal(t, []any{obj{"name": "istio-base"}}, get(t, hr, "spec", "dependsOn"))
		v := get(t, hr, "spec", "values").(obj)
		assert.Equal(t, rev, v["revision"])
		assert.Equal(t, "gt-mesh", get(t, v, "global", "meshID"))
		assert.Equal(t, "am", get(t, v, "global", "multiCluster", "clusterName"))
		assert.Equal(t, "net-am", get(t, v, "global", "network"))
		assert.Equal(t, obj{"requests": obj{"cpu": "500m", "memory": "2Gi"}, "limits": obj{"cpu": "2", "memory": "4Gi"}}, get(t, v, "pilot", "resources"))
		assert.Equal(t, 2, get(t, v, "pilot", "autoscaleMin"))
		assert.Equal(t, 5, get(t, v, "pilot", "autoscaleMax"))
		assert.Equal(t, "/dev/stdout", get(t, v, "meshConfig", "accessLogFile"))
		assert.Equal(t, "gt.example", get(t, v, "meshConfig", "trustDomain"))
		assert.Equal(t, obj{"requests": obj{"cpu": "100m", "memory": "128Mi"}, "limits": obj{"cpu": "500m", "memory": "256Mi"}}, get(t, v, "global", "proxy", "resources"))
		assert.Equal(t, []any{obj{"name": "zipkin", "zipkin": obj{"service": "zipkin.obs.svc.cluster.local", "port": 9411}}}, get(t, v, "meshConfig", "extensionProviders"))
		assert.Equal(t, []any{"zipkin"}, get(t, v, "meshConfig", "defaultProviders", "tracing"))
		assert.Equal(t, []any{"prometheus"}, get(t, v, "meshConfig", "defaultProviders", "metrics"),
			"naming a tracing provider must not turn the chart's Prometheus metrics off")
		assert.Equal(t, "none", get(t, v, "global", "proxy", "tracer"), "no zipkin tracer beside the extension provider")
		assert.Equal(t, "2.5", get(t, v, "pilot", "env", "PILOT_TRACE_SAMPLING"))
		assert.Equal(t, 0, get(t, v, "pilot", "traceSampling"), "0: the chart adds no PILOT_TRACE_SAMPLING of its own")
		if rev == "1-20" {
			assert.Equal(t, false, get(t, v, "telemetry", "v2", "prometheus", "enabled"), "1.20's stats EnvoyFilters would double the Telemetry API's metrics")
		} else {
			assert.Nil(t, get(t, v, "telemetry"), "1.21 has no stats EnvoyFilters")
		}
	}

	gw := find(t, objs, "HelmRelease", "flux-system", "istio-ingressgateway")
	assert.Equal(t, "gateway", get(t, gw, "spec", "chart", "spec", "chart"))
	assert.Equal(t, "1.20.0", get(t, gw, "spec", "chart", "spec", "version"), "the gateway follows the default revision")
	assert.Equal(t, "istio-ingressgateway", get(t, gw, "spec", "releaseName"))
	assert.Equal(t, "istio-ingress", get(t, gw, "spec", "targetNamespace"))
	assert.Equal(t, []any{obj{"name": "istiod-1-20"}}, get(t, gw, "spec", "dependsOn"))
	assert.Nil(t, get(t, gw, "spec", "values", "revision"), "no revision: the gateway follows the default tag")
	assert.Equal(t, obj{"example.com/dns": "am"}, get(t, gw, "spec", "values", "service", "annotations"))
	assert.Equal(t, "LoadBalancer", get(t, gw, "spec", "values", "service", "type"))
	assert.Equal(t, obj{"minReplicas": 2, "maxReplicas": 5}, get(t, gw, "spec", "values", "autoscaling"))
	assert.Equal(t, obj{"minAvailable": 1}, get(t, gw, "spec", "values", "podDisruptionBudget"), "two replicas or more: a budget")
	for _, hr := range []obj{gw, find(t, objs, "HelmRelease", "flux-system", "istio-eastwestgateway")} {
		// Tenant policy never waits on a gateway's LoadBalancer address.
		assert.Equal(t, true, get(t, hr, "spec", "install", "disableWait"))
		assert.Equal(t, true, get(t, hr, "spec", "upgrade", "disableWait"))
		assert.Nil(t, get(t, hr, "spec", "install", "disableSchemaValidation"), "the 1.20 gateway chart's schema works with today's Helm")
	}
	for _, name := range []string{"istio-base", "istiod-1-20", "istiod-1-21"} {
		assert.Nil(t, get(t, find(t, objs, "HelmRelease", "flux-system", name), "spec", "install", "disableWait"), "%s keeps Helm's wait", name)
	}

	// The default revision tag points at the default revision.
	tag := find(t, objs, "MutatingWebhookConfiguration", "", "istio-revision-tag-default")
	assert.Equal(t, map[string]any{
		"istio.io/tag": "default", "istio.io/rev": "1-20", "app": "sidecar-injector",
		"install.operator.istio.io/owning-resource": "unknown", "operator.istio.io/component": "Pilot",
		"release": "istiod-1-20", "app.kubernetes.io/managed-by": "meshc",
	}, labels(t, tag), "the 1.20 chart's revision-tags.yaml labels, managed by meshc")
	hooks := get(t, tag, "webhooks").([]any)
	require.Len(t, hooks, 4)
	for _, h := range hooks {
		assert.Equal(t, "istiod-1-20", get(t, h, "clientConfig", "service", "name"))
		assert.Nil(t, get(t, h, "clientConfig", "caBundle"), "istiod patches caBundle at run time")
		assert.Equal(t, []any{"v1beta1", "v1"}, get(t, h, "admissionReviewVersions"), "as the 1.20 chart and istioctl emit it")
	}
	assert.Equal(t, obj{"key": "istio-injection", "operator": "In", "values": []any{"enabled"}}, get(t, hooks[2], "namespaceSelector", "matchExpressions", 0))

	// Multi-network: an east-west gateway and the cross-network Gateway.
	ew := find(t, objs, "HelmRelease", "flux-system", "istio-eastwestgateway")
	assert.Equal(t, "net-am", get(t, ew, "spec", "values", "networkGateway"))
	assert.Equal(t, "NodePort", get(t, ew, "spec", "values", "service", "type"))
	assert.Equal(t, obj{"minReplicas": 3, "maxReplicas": 4}, get(t, ew, "spec", "values", "autoscaling"))
	assert.Equal(t, obj{"minAvailable": 1}, get(t, ew, "spec", "values", "podDisruptionBudget"))
	assert.Nil(t, get(t, ew, "spec", "values", "labels", "topology.istio.io/network"),
		"networkGateway gives the label; setting it in labels too duplicates the Service's key")
	cng := find(t, objs, "Gateway", "istio-system", "cross-network-gateway")
	assert.Equal(t, obj{"number": 15443, "name": "tls", "protocol": "TLS"}, get(t, cng, "spec", "servers", 0, "port"))
	assert.Equal(t, "AUTO_PASSTHROUGH", get(t, cng, "spec", "servers", 0, "tls", "mode"))
	assert.Equal(t, []any{"*.local"}, get(t, cng, "spec", "servers", 0, "hosts"))
}

func TestTracingSamplingZero(t *testing.T) {
	m := testMesh()
	m.Clusters[0].ControlPlane.Tracing.Sampling = 0
	objs := build(t, m, m.Clusters[0])
	v := get(t, find(t, objs, "HelmRelease", "flux-system", "istiod-1-21"), "spec", "values")
	assert.Equal(t, "0", get(t, v, "pilot", "env", "PILOT_TRACE_SAMPLING"), "0 %, not Istio's default 1 %")
}

// TestRevisionTagFollowsTheChart: from 1.23 the chart lists only v1, and
// from 1.24 it adds its istio.labels.
func TestRevisionTagFollowsTheChart(t *testing.T) {
	m := testMesh()
	objs := build(t, m, m.Clusters[1]) // default revision 1-22 (1.22.1)
	tag := find(t, objs, "MutatingWebhookConfiguration", "", "istio-revision-tag-default")
	assert.Equal(t, []any{"v1beta1", "v1"}, get(t, tag, "webhooks", 0, "admissionReviewVersions"))
	assert.NotContains(t, labels(t, tag), "app.kubernetes.io/part-of")

	v, _ := mesh.ParseVersion("1.24.2")
	m.Revisions["1-24"] = v
	m.Clusters[1].ControlPlane.Revision = mesh.Revision{Name: "1-24", Version: v}
	objs = build(t, m, m.Clusters[1])
	tag = find(t, objs, "MutatingWebhookConfiguration", "", "istio-revision-tag-default")
	for i := range 4 {
		assert.Equal(t, []any{"v1"}, get(t, tag, "webhooks", i, "admissionReviewVersions"))
	}
	l := labels(t, tag)
	assert.Equal(t, "1.24.2", l["app.kubernetes.io/version"])
	assert.Equal(t, "istiod-1-24", l["app.kubernetes.io/instance"])
	assert.Equal(t, "istio", l["app.kubernetes.io/part-of"])
	assert.Equal(t, "istiod", l["app.kubernetes.io/name"])
	assert.Equal(t, "meshc", l["app.kubernetes.io/managed-by"])
	assert.NotContains(t, l, "helm.sh/chart", "no chart owns it")
}

// TestGatewayOneReplicaNoBudget: a budget of minAvailable 1 over one
// replica would block every node drain.
func TestGatewayOneReplicaNoBudget(t *testing.T) {
	m := testMesh()
	objs := build(t, m, m.Clusters[1])
	ew := find(t, objs, "HelmRelease", "flux-system", "istio-eastwestgateway")
	assert.Equal(t, "ClusterIP", get(t, ew, "spec", "values", "service", "type"))
	assert.Nil(t, get(t, ew, "spec", "values", "podDisruptionBudget"))
	// The 1.22 gateway chart's values.schema.json refuses every key under
	// Helm 3.18+ and 4: meshc turns Helm's check off and does its own.
	assert.Equal(t, true, get(t, ew, "spec", "install", "disableSchemaValidation"))
	assert.Equal(t, true, get(t, ew, "spec", "upgrade", "disableSchemaValidation"))
}

func TestTracingNone(t *testing.T) {
	m := testMesh()
	objs := build(t, m, m.Clusters[1])
	v := get(t, find(t, objs, "HelmRelease", "flux-system", "istiod-1-22"), "spec", "values")
	assert.Equal(t, false, get(t, v, "meshConfig", "enableTracing"))
	assert.Equal(t, "none", get(t, v, "global", "proxy", "tracer"))
	assert.Nil(t, get(t, v, "meshConfig", "extensionProviders"))
	assert.Equal(t, "", get(t, v, "meshConfig", "accessLogFile"), "an empty accessLogFile turns access logs off")
	assert.Equal(t, obj{"requests": obj{"cpu": "500m", "memory": "2Gi"}}, get(t, v, "pilot", "resources"), "no limits unless set")
}

func TestSingleNetworkHasNoEastWest(t *testing.T) {
	m := testMesh()
	m.Clusters[1].Network = "net-am"
	objs := build(t, m, m.Clusters[0])
	absent(t, objs, "HelmRelease", "flux-system", "istio-eastwestgateway")
	absent(t, objs, "Gateway", "istio-system", "cross-network-gateway")
}

func TestEntryPointAndIstioOperators(t *testing.T) {
	m := testMesh()
	c := engines.Compile(m, m.Clusters[0])
	require.Len(t, c.Entry.Docs, 3)
	src, cp, pol := c.Entry.Docs[0], c.Entry.Docs[1], c.Entry.Docs[2]
	assert.Equal(t, "GitRepository", src["kind"])
	assert.Equal(t, "https://git.example/mesh.git", get(t, src, "spec", "url"))
	assert.Equal(t, "trunk", get(t, src, "spec", "ref", "branch"))
	assert.Equal(t, "./overlays/am/control-plane", get(t, cp, "spec", "path"))
	assert.Equal(t, true, get(t, cp, "spec", "wait"))
	assert.Equal(t, "./overlays/am/policy", get(t, pol, "spec", "path"))
	assert.Equal(t, []any{map[string]any{"name": flux.ControlPlane}}, get(t, pol, "spec", "dependsOn"))
	assert.Equal(t, "_flux/am", c.Dir)

	require.Len(t, c.IstioOperators, 6)
	iop := c.IstioOperators["istiod-1-21.yaml"]
	assert.Equal(t, "minimal", get(t, iop, "spec", "profile"))
	assert.Equal(t, "1-21", get(t, iop, "spec", "revision"))
	assert.Equal(t, "gt-mesh", get(t, iop, "spec", "values", "global", "meshID"))
	assert.Equal(t, map[string]any{"minReplicas": 2, "maxReplicas": 5}, get(t, iop, "spec", "components", "pilot", "k8s", "hpaSpec"))
	gw := c.IstioOperators["ingress-gateway.yaml"]
	assert.Equal(t, "empty", get(t, gw, "spec", "profile"))
	assert.Equal(t, "istio-ingress", get(t, gw, "spec", "components", "ingressGateways", 0, "namespace"))
	assert.Nil(t, get(t, gw, "spec", "revision"))
	gv := get(t, gw, "spec", "values", "gateways", "istio-ingressgateway")
	assert.Equal(t, "LoadBalancer", get(t, gv, "type"))
	assert.Equal(t, 2, get(t, gv, "autoscaleMin"))
	assert.Equal(t, 5, get(t, gv, "autoscaleMax"))
	assert.Equal(t, true, get(t, gw, "spec", "values", "global", "defaultPodDisruptionBudget", "enabled"))

	// The east-west gateway as Istio's gen-eastwest-gateway.sh makes it.
	ew := c.IstioOperators["eastwest-gateway.yaml"]
	comp := get(t, ew, "spec", "components", "ingressGateways", 0)
	assert.Equal(t, "istio-eastwestgateway", get(t, comp, "name"))
	assert.Nil(t, get(t, comp, "namespace"), "istio-system, as the guide installs it")
	assert.Equal(t, map[string]any{"istio": "eastwestgateway", "app": "istio-eastwestgateway", "topology.istio.io/network": "net-am"}, get(t, comp, "label"))
	assert.Equal(t, []any{map[string]any{"name": "ISTIO_META_REQUESTED_NETWORK_VIEW", "value": "net-am"}}, get(t, comp, "k8s", "env"))
	var ports []any
	for _, p := range get(t, comp, "k8s", "service", "ports").([]any) {
		ports = append(ports, get(t, p, "port"))
	}
	assert.Equal(t, []any{15021, 15443, 15012, 15017}, ports)
	assert.Equal(t, "net-am", get(t, ew, "spec", "values", "global", "network"))
	assert.Equal(t, "NodePort", get(t, ew, "spec", "values", "gateways", "istio-ingressgateway", "type"))
	assert.Equal(t, 3, get(t, ew, "spec", "values", "gateways", "istio-ingressgateway", "autoscaleMin"))

	// The namespaces istioctl does not make, applied before the gateways.
	assert.Equal(t, "Namespace", get(t, c.IstioOperators["namespace-istio-ingress.yaml"], "kind"))
	assert.Equal(t, "net-am", labels(t, c.IstioOperators["namespace-istio-system.yaml"])["topology.istio.io/network"])
}
