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

// neverPrune marks an object the engine must not delete when it leaves the
// output: a Namespace holds tenants' workloads.
func neverPrune() Doc {
	return Doc{"kustomize.toolkit.fluxcd.io/prune": "disabled"}
}

// Base returns the shared part of every base component, by component name:
// what depends only on the mesh file. Every cluster's objects with a
// Component have exactly these Shared parts.
func Base(m *mesh.Mesh) map[string][]Doc {
	b := map[string][]Doc{
		ComponentControlPlane: {istioSystemShared(), helmRepository(), baseShared()},
		ComponentIngress:      {ingressNamespace(), ingressShared()},
		ComponentEastWest:     {eastWestShared()},
	}
	for rev := range m.Revisions {
		b[ComponentIstiod(rev)] = []Doc{istiodShared(m, rev)}
	}
	return b
}

func istioSystemShared() Doc {
	return object("v1", "Namespace", Doc{"name": IstioSystem, "annotations": neverPrune()}, nil)
}

func helmRepository() Doc {
	return object("source.toolkit.fluxcd.io/v1", "HelmRepository", meta("istio", FluxNamespace), Doc{
		"spec": Doc{"interval": "1h", "url": ChartRepository},
	})
}

func baseShared() Doc {
	return helmRelease(BaseRelease, "base", IstioSystem, nil, Doc{
		"install": Doc{"crds": "CreateReplace"},
		"upgrade": Doc{"crds": "CreateReplace"},
	})
}

func istiodShared(m *mesh.Mesh, rev string) Doc {
	return helmRelease(IstiodRelease(rev), "istiod", IstioSystem, []string{BaseRelease}, Doc{
		"chart":  Doc{"spec": Doc{"version": m.Revisions[rev].String()}},
		"values": istiodSharedValues(m, rev),
	})
}

func ingressNamespace() Doc {
	return object("v1", "Namespace", Doc{"name": IstioIngress, "annotations": neverPrune()}, nil)
}

// gatewayNoWait is what the gateway releases add to install and upgrade:
// Helm's wait would hold the release (and with it mesh-control-plane,
// which waits for every HelmRelease, and mesh-policy after it) until the
// Service has a LoadBalancer address, which a cluster without a load
// balancer never gives. base and istiod keep Helm's wait: tenant policy
// needs their CRDs and webhooks.
func gatewayNoWait() Doc { return Doc{"disableWait": true} }

func ingressShared() Doc {
	return helmRelease(IngressGateway, "gateway", IstioIngress, nil, Doc{
		"install": gatewayNoWait(), "upgrade": gatewayNoWait(),
	})
}

func eastWestShared() Doc {
	return helmRelease(EastWestGateway, "gateway", IstioSystem, nil, Doc{
		"install": gatewayNoWait(), "upgrade": gatewayNoWait(),
		"values": eastWestSharedValues(),
	})
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

// controlPlane is the Flux control plane: Istio's charts as HelmReleases
// chained base -> istiod -> gateways, plus the default revision tag.
func controlPlane(m *mesh.Mesh, c *mesh.Cluster) []*Object {
	cp := c.ControlPlane
	out := []*Object{
		patched(ComponentControlPlane, istioSystemShared(), Doc{"metadata": Doc{"labels": Doc{"topology.istio.io/network": c.Network}}}),
		patched(ComponentControlPlane, helmRepository(), nil),
		// The base chart carries the CRDs: it follows the newest revision
		// the cluster runs (CRDs are upgraded first and stay backward
		// compatible), and its defaultRevision points the default
		// validating webhook at the default revision's istiod.
		patched(ComponentControlPlane, baseShared(), Doc{"spec": Doc{
			"chart":  Doc{"spec": Doc{"version": cp.Newest().Version.String()}},
			"values": Doc{"defaultRevision": cp.Revision.Name},
		}}),
	}
	for _, rev := range cp.Revisions() {
		out = append(out, patched(ComponentIstiod(rev.Name), istiodShared(m, rev.Name),
			Doc{"spec": Doc{"values": istiodValues(c, rev.Version)}}))
	}

	// Gateways carry no revision: they are injected by the default tag
	// and so follow the default revision, moving with it on promotion.
	gatewayPatch := func(values Doc) Doc {
		spec := Doc{
			"chart":     Doc{"spec": Doc{"version": cp.Revision.Version.String()}},
			"dependsOn": []any{Doc{"name": IstiodRelease(cp.Revision.Name)}},
		}
		if gatewaySchemaIsBroken(cp.Revision.Version) {
			spec["install"] = Doc{"disableSchemaValidation": true}
			spec["upgrade"] = Doc{"disableSchemaValidation": true}
		}
		if len(values) > 0 {
			spec["values"] = values
		}
		return Doc{"spec": spec}
	}
	if cp.Profile == "default" {
		out = append(out,
			patched(ComponentIngress, ingressNamespace(), nil),
			patched(ComponentIngress, ingressShared(), gatewayPatch(ingressValues(c))))
	}
	if m.MultiNetwork() {
		out = append(out, patched(ComponentEastWest, eastWestShared(), gatewayPatch(eastWestValues(c))))
	}
	out = append(out, &Object{Doc: revisionTag("default", cp.Revision.Name, cp.Revision.Version)})
	return out
}

// patched is an object made of a base component's shared part and the
// cluster's own part.
func patched(component string, shared, own Doc) *Object {
	return &Object{Component: component, Shared: shared, Doc: merge(shared, own)}
}

// helmRelease is a Flux HelmRelease of one of Istio's charts. The Helm
// release lives in the target namespace (storageNamespace), where helm and
// istioctl look for it.
func helmRelease(name, chart, namespace string, dependsOn []string, spec Doc) Doc {
	s := Doc{
		"interval":         "30m",
		"releaseName":      name,
		"targetNamespace":  namespace,
		"storageNamespace": namespace,
		"chart": Doc{"spec": Doc{
			"chart":     chart,
			"sourceRef": Doc{"kind": "HelmRepository", "name": "istio"},
		}},
		"install": Doc{"remediation": Doc{"retries": 3}},
		"upgrade": Doc{"remediation": Doc{"retries": 3}},
	}
	if len(dependsOn) > 0 {
		deps := make([]any, len(dependsOn))
		for i, d := range dependsOn {
			deps[i] = Doc{"name": d}
		}
		s["dependsOn"] = deps
	}
	return object("helm.toolkit.fluxcd.io/v2", "HelmRelease", meta(name, FluxNamespace), Doc{"spec": merge(s, spec)})
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
