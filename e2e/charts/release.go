package main

import (
	"fmt"
	"strings"
)

// release is one Helm release a GitOps engine installs, whichever engine
// meshc wrote it for: what to render and with what.
type release struct {
	cluster string // the cluster it is installed on
	engine  string // "flux" or "argocd"
	origin  string // where meshc wrote it, for messages: "golden/x.yaml HelmRelease flux-system/istiod-1-20"

	chart     string // base, istiod or gateway
	version   string // the chart's version: an Istio release such as 1.21.0
	name      string // the Helm release name
	namespace string // the release namespace
	values    map[string]any
	crds      bool // the chart's crds/ are installed with it
	// noSchema: the engine renders without checking the values against the
	// chart's values.schema.json (Flux: install and upgrade
	// disableSchemaValidation; Argo CD: helm.skipSchemaValidation).
	noSchema bool

	// Flux only: the HelmRelease's identity (helm-controller's origin
	// labels) and whether Helm waits for the release's resources to be
	// ready (a LoadBalancer Service: until it has an address).
	owner      object
	waits      bool
	postRender bool
}

func (r release) String() string {
	return fmt.Sprintf("%s %s (chart %s %s, release %s/%s)", r.cluster, r.origin, r.chart, r.version, r.namespace, r.name)
}

// fluxReleases reads the HelmReleases of a cluster's rendered manifests,
// defaulting as helm-controller does: the release name is
// <targetNamespace>-<name> when a target namespace is set and no
// releaseName; CRDs are installed unless install.crds is Skip; Helm waits
// unless install.disableWait (and upgrade.disableWait for upgrades) is set.
func fluxReleases(cluster, origin string, objs []object) ([]release, error) {
	var out []release
	for _, o := range ofKind(objs, "HelmRelease") {
		r := release{
			cluster:    cluster,
			engine:     "flux",
			origin:     origin + " " + id(o),
			chart:      str(o, "spec", "chart", "spec", "chart"),
			version:    str(o, "spec", "chart", "spec", "version"),
			name:       str(o, "spec", "releaseName"),
			namespace:  str(o, "spec", "targetNamespace"),
			crds:       str(o, "spec", "install", "crds") != "Skip",
			owner:      o,
			postRender: true,
		}
		if r.namespace == "" {
			r.namespace = namespace(o)
		}
		if r.name == "" {
			r.name = name(o)
			if t := str(o, "spec", "targetNamespace"); t != "" {
				r.name = t + "-" + name(o)
			}
		}
		installWait, _ := field(o, "spec", "install", "disableWait").(bool)
		upgradeWait, _ := field(o, "spec", "upgrade", "disableWait").(bool)
		r.waits = !installWait || !upgradeWait
		installSchema, _ := field(o, "spec", "install", "disableSchemaValidation").(bool)
		upgradeSchema, _ := field(o, "spec", "upgrade", "disableSchemaValidation").(bool)
		r.noSchema = installSchema && upgradeSchema
		if v, ok := field(o, "spec", "values").(map[string]any); ok {
			r.values = v
		}
		if r.chart == "" || r.version == "" {
			return nil, fmt.Errorf("%s: spec.chart.spec.chart and .version must be set", r.origin)
		}
		out = append(out, r)
	}
	return out, nil
}

// argoReleases reads the Argo CD Applications with a Helm chart source
// (spec.source or any of spec.sources with a chart): the release name is
// helm.releaseName or the Application's name, the namespace
// spec.destination.namespace, the values helm.valuesObject (or the
// helm.values string). Argo CD runs `helm template --include-crds`, so the
// chart's crds/ are part of what it applies unless skipCrds is set.
func argoReleases(cluster, origin string, objs []object) ([]release, error) {
	var out []release
	for _, o := range ofKind(objs, "Application") {
		sources, _ := field(o, "spec", "sources").([]any)
		if s := field(o, "spec", "source"); s != nil {
			sources = append([]any{s}, sources...)
		}
		for _, s := range sources {
			chart := str(s, "chart")
			if chart == "" {
				continue
			}
			r := release{
				cluster:   cluster,
				engine:    "argocd",
				origin:    origin + " " + id(o),
				chart:     chart,
				version:   str(s, "targetRevision"),
				name:      str(s, "helm", "releaseName"),
				namespace: str(o, "spec", "destination", "namespace"),
			}
			skip, _ := field(s, "helm", "skipCrds").(bool)
			r.crds = !skip
			r.noSchema, _ = field(s, "helm", "skipSchemaValidation").(bool)
			if r.name == "" {
				r.name = name(o)
			}
			switch v := field(s, "helm", "valuesObject").(type) {
			case map[string]any:
				r.values = v
			case nil:
				if text := str(s, "helm", "values"); strings.TrimSpace(text) != "" {
					objs, err := decodeObjects([]byte(text))
					if err != nil || len(objs) != 1 {
						return nil, fmt.Errorf("%s: helm.values is not one YAML map: %v", r.origin, err)
					}
					r.values = objs[0]
				}
			}
			out = append(out, r)
		}
	}
	return out, nil
}
