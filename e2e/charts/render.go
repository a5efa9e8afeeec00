package main

import (
	"fmt"
	"os"
	"path/filepath"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/postrender"
)

// kubeVersion is the cluster the charts are rendered for: the e2e
// kube-apiserver's (e2e/versions.env).
var kubeVersion = chartutil.KubeVersion{Version: "v1.32.13", Major: "1", Minor: "32"}

// crdAPIVersions are the API versions the CRDs of Istio's base chart
// serve (every version from 1.20 to 1.30 serves a subset), so a template
// that asks .Capabilities.APIVersions.Has about them gets what a cluster
// with the base chart installed answers.
var crdAPIVersions = chartutil.VersionSet{
	"networking.istio.io/v1alpha3", "networking.istio.io/v1beta1", "networking.istio.io/v1",
	"security.istio.io/v1beta1", "security.istio.io/v1",
	"telemetry.istio.io/v1alpha1", "telemetry.istio.io/v1",
	"extensions.istio.io/v1alpha1", "install.istio.io/v1alpha1",
}

// charts loads Istio's published charts from <root>/<version>/<chart>,
// once each.
type charts struct {
	root   string
	loaded map[string]*chart.Chart
}

func newCharts(root string) *charts {
	return &charts{root: root, loaded: map[string]*chart.Chart{}}
}

func (c *charts) load(name, version string) (*chart.Chart, error) {
	dir := filepath.Join(c.root, version, name)
	if ch, ok := c.loaded[dir]; ok {
		return ch, nil
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("no chart %s at version %s: %s does not exist (the charts are at %s)", name, version, dir, c.versions())
	}
	ch, err := loader.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("loading chart %s: %w", dir, err)
	}
	if ch.Metadata.Version != version {
		return nil, fmt.Errorf("%s says version %s, not %s", dir, ch.Metadata.Version, version)
	}
	c.loaded[dir] = ch
	return ch, nil
}

func (c *charts) versions() string {
	entries, _ := os.ReadDir(c.root)
	var vs []string
	for _, e := range entries {
		if e.IsDir() {
			vs = append(vs, e.Name())
		}
	}
	return fmt.Sprint(vs)
}

// render is what Helm installs for a release: an install dry-run that
// never contacts a cluster (helm template), with the release's name,
// namespace and values, Kubernetes 1.32's capabilities plus Istio's CRDs,
// the chart's crds/ when the release installs them, the values checked
// against the chart's values.schema.json unless the engine is told not to
// (Helm 3.18.5 and later, helm-controller v1.4's Helm 3.19 among them,
// reject the gateway chart's own defaults at 1.21 to 1.24: its schema's
// root has additionalProperties false beside a $ref, helm/helm#31160), and
// the engine's post-renderer (nil: none).
func (c *charts) render(r release, values map[string]any, pr postrender.PostRenderer) ([]byte, error) {
	ch, err := c.load(r.chart, r.version)
	if err != nil {
		return nil, err
	}
	install := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	install.DryRun = true
	install.ClientOnly = true
	install.Replace = true
	install.ReleaseName = r.name
	install.Namespace = r.namespace
	install.KubeVersion = &kubeVersion
	install.APIVersions = crdAPIVersions
	install.IncludeCRDs = r.crds
	install.SkipSchemaValidation = r.noSchema
	install.PostRenderer = pr
	if values == nil {
		values = map[string]any{}
	}
	rel, err := install.Run(ch, values)
	if err != nil {
		return nil, err
	}
	return []byte(rel.Manifest), nil
}
