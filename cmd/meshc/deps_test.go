package main

import (
	"os"
	"os/exec"
	"path/filepath"
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

// TestTuneInitialisesFirst checks that internal/tune sets the runtime up
// before the libraries whose initialisation allocates megabytes (the
// JSON Schema validator's meta-schemas, the API server's validators):
// the package's effect on start-up depends on it (see its doc).
func TestTuneInitialisesFirst(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "meshc")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "version")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("meshc version: %v\n%s", err, out)
	}
	order := map[string]int{}
	for i, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "init" {
			order[f[1]] = i
		}
	}
	tune, ok := order["github.com/golemtrust/meshc/internal/tune"]
	if !ok {
		t.Fatalf("internal/tune did not initialise:\n%s", out)
	}
	for _, heavy := range []string{"github.com/santhosh-tekuri/jsonschema/v6", "github.com/asaskevich/govalidator", "k8s.io/kube-openapi/pkg/validation/strfmt", "k8s.io/component-base/metrics/legacyregistry"} {
		if at, ok := order[heavy]; ok && at < tune {
			t.Errorf("%s initialises before internal/tune", heavy)
		}
	}
}
