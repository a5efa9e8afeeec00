package compile

import (
	"github.com/golemtrust/meshc/internal/mesh"
)

// Base components every cluster's control plane builds on.
const (
	ComponentControlPlane = "control-plane"
	ComponentIngress      = "ingress-gateway"
	ComponentEastWest     = "eastwest-gateway"
)

// ComponentIstiod is the base component of one revision's istiod.
func ComponentIstiod(rev string) string { return "istiod-" + rev }

// IstiodRelease is the Helm release (and HelmRelease) name of a revision.
func IstiodRelease(rev string) string { return "istiod-" + rev }

// Base returns the shared part of every base component, by component name:
// what depends only on the mesh file. Every cluster's objects with a
// Component have exactly these Shared parts (or SharedReleases).
func Base(m *mesh.Mesh) map[string][]*Object {
	b := map[string][]*Object{
		ComponentControlPlane: {{Doc: istioSystemShared()}, {Release: baseShared()}},
		ComponentIngress:      {{Doc: ingressNamespace()}, {Release: ingressShared()}},
		ComponentEastWest:     {{Release: eastWestShared()}},
	}
	for rev := range m.Revisions {
		b[ComponentIstiod(rev)] = []*Object{{Release: istiodShared(m, rev)}}
	}
	return b
}

func istioSystemShared() Doc {
	return object("v1", "Namespace", meta(IstioSystem, ""), nil)
}

func baseShared() *Release {
	return &Release{Name: BaseRelease, Chart: "base", Namespace: IstioSystem, CRDs: true}
}

func istiodShared(m *mesh.Mesh, rev string) *Release {
	return &Release{
		Name: IstiodRelease(rev), Chart: "istiod", Namespace: IstioSystem,
		Version:   m.Revisions[rev].String(),
		Values:    istiodSharedValues(m, rev),
		DependsOn: []string{BaseRelease},
	}
}

func ingressNamespace() Doc {
	return object("v1", "Namespace", meta(IstioIngress, ""), nil)
}

func ingressShared() *Release {
	return &Release{Name: IngressGateway, Chart: "gateway", Namespace: IstioIngress, Wait: WaitNoAddress}
}

func eastWestShared() *Release {
	return &Release{Name: EastWestGateway, Chart: "gateway", Namespace: IstioSystem, Values: eastWestSharedValues(), Wait: WaitNoAddress}
}

// controlPlane is the control plane: Istio's charts as releases ordered
// base -> istiod -> gateways, plus the default revision tag.
func controlPlane(m *mesh.Mesh, c *mesh.Cluster) []*Object {
	cp := c.ControlPlane
	out := []*Object{
		patched(ComponentControlPlane, istioSystemShared(), Doc{"metadata": Doc{"labels": Doc{"topology.istio.io/network": c.Network}}}),
		// The base chart carries the CRDs: it follows the newest revision
		// the cluster runs (CRDs are upgraded first and stay backward
		// compatible), and its defaultRevision points the default
		// validating webhook at the default revision's istiod.
		release(ComponentControlPlane, baseShared(), Release{
			Version: cp.Newest().Version.String(),
			Values:  Doc{"defaultRevision": cp.Revision.Name},
		}),
	}
	for _, rev := range cp.Revisions() {
		out = append(out, release(ComponentIstiod(rev.Name), istiodShared(m, rev.Name), Release{Values: istiodValues(c)}))
	}

	// Gateways carry no revision: they are injected by the default tag
	// and so follow the default revision, moving with it on promotion.
	gateway := func(values Doc) Release {
		return Release{
			Version:   cp.Revision.Version.String(),
			DependsOn: []string{IstiodRelease(cp.Revision.Name)},
			Values:    values,
		}
	}
	if cp.Profile == "default" {
		out = append(out,
			patched(ComponentIngress, ingressNamespace(), nil),
			release(ComponentIngress, ingressShared(), gateway(ingressValues(c))))
	}
	if m.MultiNetwork() {
		out = append(out, release(ComponentEastWest, eastWestShared(), gateway(eastWestValues(c))))
	}
	out = append(out, &Object{Doc: revisionTag(cp.Revision.Name)})
	return out
}

// patched is an object made of a base component's shared part and the
// cluster's own part.
func patched(component string, shared, own Doc) *Object {
	return &Object{Component: component, Shared: shared, Doc: merge(shared, own)}
}

// release is a Helm release made of a base component's shared part and the
// cluster's own part.
func release(component string, shared *Release, own Release) *Object {
	return &Object{Component: component, SharedRelease: shared, Release: mergeRelease(*shared, own)}
}

// revisionTag is the default revision tag: the injection webhook that
// serves namespaces labelled istio-injection=enabled and pods labelled
// sidecar.istio.io/inject=true, pointing at the default revision's istiod.
// It is rendered here, as Istio's istiod chart renders it for revisionTags
// (templates/revision-tags-mwc.yaml), but owned by no Helm release: moving
// the tag on promotion is an in-place update of this one object, never a
// delete and re-create, and never a hand-over between releases. istiod
// patches caBundle at run time (its webhook patcher selects on
// istio.io/rev), so meshc leaves caBundle unset.
func revisionTag(rev string) Doc {
	hook := func(prefix string, nsSelector, objSelector []any) Doc {
		return Doc{
			"name": prefix + "sidecar-injector.istio.io",
			"clientConfig": Doc{"service": Doc{
				"name":      IstiodRelease(rev),
				"namespace": IstioSystem,
				"path":      "/inject",
				"port":      443,
			}},
			"sideEffects":             "None",
			"rules":                   []any{Doc{"operations": []any{"CREATE"}, "apiGroups": []any{""}, "apiVersions": []any{"v1"}, "resources": []any{"pods"}}},
			"failurePolicy":           "Fail",
			"reinvocationPolicy":      "Never",
			"admissionReviewVersions": []any{"v1"},
			"namespaceSelector":       Doc{"matchExpressions": nsSelector},
			"objectSelector":          Doc{"matchExpressions": objSelector},
		}
	}
	expr := func(key, op string, values ...string) Doc {
		d := Doc{"key": key, "operator": op}
		if len(values) > 0 {
			d["values"] = strList(values)
		}
		return d
	}
	notFalse := expr("sidecar.istio.io/inject", "NotIn", "false")
	return object("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", Doc{
		"name": "istio-revision-tag-default",
		"labels": Doc{
			"istio.io/tag":                 "default",
			"istio.io/rev":                 rev,
			"app":                          "sidecar-injector",
			"app.kubernetes.io/managed-by": "meshc",
		},
	}, Doc{"webhooks": []any{
		hook("rev.namespace.",
			[]any{expr("istio.io/rev", "In", "default"), expr("istio-injection", "DoesNotExist")},
			[]any{notFalse}),
		hook("rev.object.",
			[]any{expr("istio.io/rev", "DoesNotExist"), expr("istio-injection", "DoesNotExist")},
			[]any{notFalse, expr("istio.io/rev", "In", "default")}),
		hook("namespace.",
			[]any{expr("istio-injection", "In", "enabled")},
			[]any{notFalse}),
		hook("object.",
			[]any{expr("istio-injection", "DoesNotExist"), expr("istio.io/rev", "DoesNotExist")},
			[]any{expr("sidecar.istio.io/inject", "In", "true"), expr("istio.io/rev", "DoesNotExist")}),
	}})
}
