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

// gatewaySchemaIsBroken reports whether the gateway chart at version v
// ships a values.schema.json that today's Helm rejects whatever the
// values: from 1.21 its top level says additionalProperties: false beside
// a $ref, which the draft-04 validators of older Helm ignored and the
// 2020-12 validator of Helm 3.18+ and 4 (helm-controller v1.6 uses Helm
// 4.2) applies, refusing every key, the chart's own defaults included.
// Istio moved the constraint into $defs in 1.25.5, 1.26.4 and 1.27.1;
// meshc turns the check off up to 1.27 and validates the values against
// that schema itself (internal/apicheck), the way its authors meant it.
func gatewaySchemaIsBroken(v mesh.Version) bool { return v.AtLeast(1, 21) && !v.AtLeast(1, 28) }

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
		out = append(out, release(ComponentIstiod(rev.Name), istiodShared(m, rev.Name), Release{Values: istiodValues(c, rev.Version)}))
	}

	// Gateways carry no revision: they are injected by the default tag
	// and so follow the default revision, moving with it on promotion.
	gateway := func(values Doc) Release {
		return Release{
			Version:   cp.Revision.Version.String(),
			DependsOn: []string{IstiodRelease(cp.Revision.Name)},
			Values:    values,
			// Helm's check of the values against the chart's schema
			// is off where the schema itself is broken.
			SkipSchemaValidation: gatewaySchemaIsBroken(cp.Revision.Version),
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
	out = append(out, &Object{Doc: revisionTag("default", cp.Revision.Name, cp.Revision.Version)})
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

// revisionTag is a revision tag's injection webhook: for the default tag,
// the one that serves namespaces labelled istio-injection=enabled and pods
// labelled sidecar.istio.io/inject=true. It points at revision rev, which
// runs Istio version v. It is rendered here as the istiod chart of that
// version renders it for revisionTags (templates/revision-tags.yaml,
// revision-tags-mwc.yaml in 1.28 and later), but owned by no Helm release: moving
// the tag on promotion is an in-place update of this one object, never a
// delete and re-create, and never a hand-over between releases. istiod
// patches caBundle at run time (its webhook patcher selects on
// istio.io/rev), so meshc leaves caBundle unset.
func revisionTag(tag, rev string, v mesh.Version) Doc {
	// The chart lists v1beta1 before v1 up to 1.22 and only v1 from 1.23;
	// istiod serves both.
	reviewVersions := []any{"v1"}
	if !v.AtLeast(1, 23) {
		reviewVersions = []any{"v1beta1", "v1"}
	}
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
			"admissionReviewVersions": reviewVersions,
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
		"name":   "istio-revision-tag-" + tag,
		"labels": revisionTagLabels(tag, rev, v),
	}, Doc{"webhooks": []any{
		hook("rev.namespace.",
			[]any{expr("istio.io/rev", "In", tag), expr("istio-injection", "DoesNotExist")},
			[]any{notFalse}),
		hook("rev.object.",
			[]any{expr("istio.io/rev", "DoesNotExist"), expr("istio-injection", "DoesNotExist")},
			[]any{notFalse, expr("istio.io/rev", "In", tag)}),
		hook("namespace.",
			[]any{expr("istio-injection", "In", "enabled")},
			[]any{notFalse}),
		hook("object.",
			[]any{expr("istio-injection", "DoesNotExist"), expr("istio.io/rev", "DoesNotExist")},
			[]any{expr("sidecar.istio.io/inject", "In", "true"), expr("istio.io/rev", "DoesNotExist")}),
	}})
}

// revisionTagLabels are the labels the istiod chart of version v gives a
// tag's webhook when release istiod-<rev> renders it, with two deliberate
// differences: app.kubernetes.io/managed-by names meshc (no Helm release
// owns the object) and there is no helm.sh/chart (no chart does either).
// istio.io/rev is what istiod's webhook patcher selects on to fill in
// caBundle, istio.io/tag what `istioctl tag list` reads.
func revisionTagLabels(tag, rev string, v mesh.Version) Doc {
	l := Doc{
		"istio.io/tag": tag,
		"istio.io/rev": rev,
		"install.operator.istio.io/owning-resource": "unknown",
		"operator.istio.io/component":               "Pilot",
		"app":                                       "sidecar-injector",
		"release":                                   IstiodRelease(rev),
		"app.kubernetes.io/managed-by":              "meshc",
	}
	if v.AtLeast(1, 24) {
		// From 1.24 the chart adds its istio.labels.
		l["app.kubernetes.io/name"] = "istiod"
		l["app.kubernetes.io/instance"] = IstiodRelease(rev)
		l["app.kubernetes.io/part-of"] = "istio"
		l["app.kubernetes.io/version"] = v.String()
	}
	return l
}
