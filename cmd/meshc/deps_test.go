package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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

// TestNoCollectionAtAStartingGoal: with internal/ballast, checking the
// example mesh never collects at the runtime's starting goals (4 MB, 16 MB
// at internal/tune's setting): after the first cycle, which the ballast's
// own allocation starts, every goal is at least twice the ballast.
// Without it the check collected at goals of 16 and 25 MB.
func TestNoCollectionAtAStartingGoal(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "meshc")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	root := filepath.Join("..", "..")
	cmd := exec.Command(bin, "check", "--clusters", filepath.Join(root, "clusters"), "--out", filepath.Join(root, "overlays"),
		"--golden", filepath.Join(root, "golden"), "--schema", filepath.Join(root, "schema"))
	cmd.Env = append(os.Environ(), "GODEBUG=gctrace=1", "MESHC_CACHE_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("meshc check: %v\n%s", err, out)
	}
	var cycles []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "gc ") {
			cycles = append(cycles, line)
		}
	}
	if len(cycles) == 0 {
		t.Fatalf("no collection traced:\n%s", out)
	}
	for _, line := range cycles[1:] {
		before, _, ok := strings.Cut(line, " MB goal")
		f := strings.Fields(before)
		if !ok || len(f) == 0 {
			t.Fatalf("no goal in %q", line)
		}
		goal, err := strconv.Atoi(f[len(f)-1])
		if err != nil {
			t.Fatalf("the goal in %q: %v", line, err)
		}
		if goal < 32 {
			t.Errorf("a collection at a %d MB goal: %s", goal, line)
		}
	}
}
