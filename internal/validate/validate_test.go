package validate

import (
	"testing"

	"cuelang.org/go/cue"

	"github.com/golemtrust/meshc/internal/compile"
	"github.com/golemtrust/meshc/internal/load"
)

func TestIstiodReleaseMatchesCompile(t *testing.T) {
	for _, rev := range []string{"1-21", "canary", ""} {
		if got, want := istiodRelease(rev), compile.IstiodRelease(rev); got != want {
			t.Errorf("istiodRelease(%q) = %q; compile names the release %q", rev, got, want)
		}
	}
}

func TestExampleIsValidAndWarningFree(t *testing.T) {
	in, diags := load.Dir("../../clusters")
	if len(diags) > 0 {
		t.Fatalf("load: %v", diags)
	}
	m, diags := Mesh(in, Options{})
	if m == nil || len(diags) > 0 {
		t.Fatalf("the example mesh: %v", diags)
	}
	if len(m.Clusters) != len(in.Clusters) {
		t.Errorf("%d clusters, want %d", len(m.Clusters), len(in.Clusters))
	}
}

func TestDotted(t *testing.T) {
	for _, tc := range []struct {
		p    []cue.Selector
		want string
	}{
		{field("controlPlane", "pilot"), "controlPlane.pilot"},
		{field("namespaces", "rng", "authorization", 0, "from", 1, "namespace"), "namespaces.rng.authorization[0].from[1].namespace"},
		{field("namespaces", "rng", "labels", "istio.io/rev"), `namespaces.rng.labels."istio.io/rev"`},
		{field("revisions", "1-21"), "revisions.1-21"},
		{field("namespaces", "0"), "namespaces.0"},
		{nil, ""},
	} {
		if got := dotted(tc.p); got != tc.want {
			t.Errorf("dotted(%v) = %q, want %q", tc.p, got, tc.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	names := []string{"name", "network", "environment", "server", "mtls", "controlPlane", "sidecar", "namespaces"}
	for in, want := range map[string]string{
		"mtsl":         "mtls",
		"MTLS":         "mtls",
		"enviroment":   "environment",
		"controlplane": "controlPlane",
		"namespace":    "namespaces",
		"colour":       "",
		"x":            "",
	} {
		if got := suggest(in, names); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}
