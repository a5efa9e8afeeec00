package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// chartsRoot is where the tests find Istio's charts; without them a test
// skips, and fails under CI=true.
func chartsRoot(t *testing.T) *charts {
	t.Helper()
	root := os.Getenv("E2E_CHARTS")
	if root == "" {
		root, _ = filepath.Abs(filepath.Join("..", "..", "..", "shared", "charts", "istio"))
	}
	if !isDir(root) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Istio's charts are not at %s", root)
		}
		t.Skipf("Istio's charts are not at %s", root)
	}
	return newCharts(root)
}

// The post-render step rejects a document with a mapping key twice, as
// helm-controller's does (finding 1).
func TestOriginLabelsRejectDuplicateKeys(t *testing.T) {
	doc := "apiVersion: v1\nkind: Service\nmetadata:\n  name: gw\n  labels:\n    topology.istio.io/network: a\n    topology.istio.io/network: a\n"
	_, err := originLabels{name: "gw", namespace: "flux-system"}.Run(bytes.NewBufferString(doc))
	if err == nil || !strings.Contains(err.Error(), `mapping key "topology.istio.io/network" already defined`) {
		t.Fatalf("want kustomize's duplicate key error, got %v", err)
	}
	out, err := originLabels{name: "gw", namespace: "flux-system"}.Run(bytes.NewBufferString(strings.Replace(doc, "    topology.istio.io/network: a\n", "", 1)))
	if err != nil || !strings.Contains(out.String(), "helm.toolkit.fluxcd.io/name: gw") {
		t.Fatalf("want the origin labels added, got %v\n%s", err, out)
	}
}

// A value with no effect check fails; a value whose effect is missing
// fails; one whose effect is there passes.
func TestEveryValueIsProven(t *testing.T) {
	c := chartsRoot(t)
	r := release{cluster: "c", origin: "test", chart: "istiod", version: "1.20.0", name: "istiod-1-20", namespace: "istio-system"}
	for _, tc := range []struct {
		values map[string]any
		want   string // "" passes
	}{
		{map[string]any{"revision": "1-20", "pilot": map[string]any{"autoscaleMin": 2}}, ""},
		{map[string]any{"revision": "1-20", "pilot": map[string]any{"traceSampling": 5}}, ""},
		{map[string]any{"revision": "1-20", "meshConfig": map[string]any{"accessLogFile": "/dev/stdout"}}, ""},
		{map[string]any{"revision": "1-20", "pilot": map[string]any{"traceSampling": 5, "env": map[string]any{"PILOT_TRACE_SAMPLING": "5"}}}, "PILOT_TRACE_SAMPLING 2 times"},
		{map[string]any{"revision": "1-20", "pilot": map[string]any{"cpu": map[string]any{"targetAverageUtilization": 60}}}, "no effect check for values.pilot.cpu.targetAverageUtilization"},
	} {
		r.values = tc.values
		x, err := (&checker{charts: c}).render(r, tc.values)
		if err != nil {
			t.Fatal(err)
		}
		_, fails := checkValues(x)
		got := strings.Join(fails, "\n")
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("values %v: want %q, got %q", tc.values, tc.want, got)
		}
	}
}

// A version the charts folder lacks is an error, not a skip.
func TestUnknownVersionFails(t *testing.T) {
	c := chartsRoot(t)
	_, err := c.render(release{chart: "istiod", version: "1.23.0", name: "x", namespace: "istio-system"}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "no chart istiod at version 1.23.0") {
		t.Fatalf("want an error for a missing version, got %v", err)
	}
}

// Finding 3: sampling 0 in the cluster file is 1 % when the chart drops
// traceSampling 0; finding 2: tracing alone as defaultProviders turns
// Prometheus off; finding 4: the 1.20 chart's zipkin tracer stays.
func TestFindingsOfIstiod(t *testing.T) {
	c := chartsRoot(t)
	values := map[string]any{
		"revision":   "1-20",
		"pilot":      map[string]any{"traceSampling": 0},
		"meshConfig": map[string]any{"defaultProviders": map[string]any{"tracing": []any{"otel"}}},
	}
	r := release{cluster: "c", origin: "test", chart: "istiod", version: "1.20.0", name: "istiod-1-20", namespace: "istio-system", values: values}
	x, err := (&checker{charts: c}).render(r, values)
	if err != nil {
		t.Fatal(err)
	}
	cl := &cluster{name: "c", tracing: map[string]any{"provider": "opentelemetry", "sampling": 0}}
	got := strings.Join(checkIstiod(cl, x), "\n")
	for _, want := range []string{
		"Prometheus metrics are off",
		"trace sampling is 1 % (Deployment istiod-1-20 sets no PILOT_TRACE_SAMPLING: istiod's default), want the cluster's tracing.sampling 0 %",
		`global.proxy.tracer is "zipkin"`,
		"defaultConfig.tracing.zipkin",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("want %q in\n%s", want, got)
		}
	}
}
