package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoTestOraclesInTheBinary keeps kustomize's krusty, the test oracle
// the golden files are proved against (internal/kustomizeoracle), out of
// the production binary: it is most of kustomize, tens of megabytes and
// milliseconds of start-up that meshc never runs.
func TestNoTestOraclesInTheBinary(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "sigs.k8s.io/kustomize/api/krusty" || strings.HasSuffix(pkg, "/internal/kustomizeoracle") {
			t.Errorf("meshc's binary links %s, which only tests may use", pkg)
		}
	}
}
