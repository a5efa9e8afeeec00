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

// TestStartUpPackagesInitialiseEarly checks the order in which meshc's own
// start-up packages initialise against the libraries whose initialisation
// allocates megabytes or takes milliseconds, read from GODEBUG=inittrace
// (Go initialises packages in import-path order as their imports allow;
// see internal/hugepages):
//
//   - internal/hugepages and internal/warm come before the first heavy
//     library (CUE's decimals, the protobuf descriptors): the heap's huge
//     pages come before anything allocates much, and the cache is read
//     ahead on the second core for as much of the initialisation as can
//     be (warm imports nothing that sorts late: TestWarmImportsNothingLate);
//   - internal/tune's collector settings come before the largest ones
//     (the JSON Schema validator's meta-schemas, the API server's
//     validators).
func TestStartUpPackagesInitialiseEarly(t *testing.T) {
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
	const meshc = "github.com/golemtrust/meshc/internal/"
	for ours, heavies := range map[string][]string{
		meshc + "hugepages": {"github.com/cockroachdb/apd/v3", "google.golang.org/protobuf/reflect/protodesc", meshc + "warm"},
		meshc + "warm":      {"github.com/cockroachdb/apd/v3", "google.golang.org/protobuf/reflect/protodesc", "github.com/santhosh-tekuri/jsonschema/v6"},
		meshc + "tune":      {"github.com/santhosh-tekuri/jsonschema/v6", "github.com/asaskevich/govalidator", "k8s.io/kube-openapi/pkg/validation/strfmt", "k8s.io/component-base/metrics/legacyregistry"},
	} {
		at, ok := order[ours]
		if !ok {
			t.Fatalf("%s did not initialise:\n%s", ours, out)
		}
		for _, heavy := range heavies {
			if h, ok := order[heavy]; !ok {
				t.Errorf("%s does not initialise: update the test", heavy)
			} else if h < at {
				t.Errorf("%s initialises before %s", heavy, ours)
			}
		}
	}
}

// TestWarmImportsNothingLate keeps internal/warm's imports free of the
// packages that Go initialises late in meshc's binary, each of which
// would hold warm's start back by tens of milliseconds: path/filepath
// (internal/state and internal/cache use package path on Unix instead),
// net (pflag imports it), runtime/debug (internal/tune's).
func TestWarmImportsNothingLate(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/golemtrust/meshc/internal/warm").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		switch pkg {
		case "path/filepath", "net", "runtime/debug", "github.com/spf13/pflag":
			t.Errorf("internal/warm imports %s, which initialises late", pkg)
		}
	}
}
