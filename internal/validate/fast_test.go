package validate

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"cuelang.org/go/cue/cuecontext"

	"github.com/golemtrust/meshc/internal/bench"
	"github.com/golemtrust/meshc/internal/load"
)

// TestFastPathEqualsWholeFile validates the same meshes on the fast path
// and whole, and requires the same model and the same diagnostics: the
// fast path is an optimisation, never a different check.
func TestFastPathEqualsWholeFile(t *testing.T) {
	gen := t.TempDir()
	if err := bench.Generate(gen, 7, 12); err != nil {
		t.Fatal(err)
	}
	// Layouts the splitter must get right: comments and blank lines
	// between and inside entries, flow values on the key's line, quoted
	// keys, a block scalar, a top-level key after the namespaces.
	odd := `name: cluster-0007
network: network-a
environment: staging
controlPlane:
  revision: "1-21"
namespaces:
  # a comment before the first entry

  team-a:
    labels: {note: "x-y", "quoted": "v"}

# a comment at column 0 between entries
  team-b: {injection: disabled}
  team-c:
    authorization:
      - name: p
        selector: {app: x}
        from: [{namespace: team-a, serviceAccount: sa}]
        paths:
          - |
            /line one: #not a comment

            line three
sidecar:
  requests: {cpu: 100m, memory: 128Mi}
`
	if err := os.WriteFile(filepath.Join(gen, "cluster-0007.yaml"), []byte(odd), 0o644); err != nil {
		t.Fatal(err)
	}
	// A cluster that is valid only as a whole file is never accepted in
	// pieces: a namespace given twice.
	dup := strings.Replace(string(mustRead(t, filepath.Join(gen, "cluster-0001.yaml"))), "  team-002:", "  team-001:", 1)
	for _, dir := range []string{"../../clusters", gen} {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			in, diags := load.DirParsing(dir, load.Lazy)
			if len(diags) > 0 {
				t.Fatalf("load: %v", diags)
			}
			fast, fd := Mesh(in, Options{})
			whole, wd := Mesh(in, Options{Whole: true})
			if fast == nil || whole == nil {
				t.Fatalf("does not validate: %v / %v", fd, wd)
			}
			if !reflect.DeepEqual(fast, whole) {
				t.Errorf("the fast path's model differs from the whole file's")
			}
			if fd.String() != wd.String() {
				t.Errorf("diagnostics differ:\nfast:\n%s\nwhole:\n%s", fd, wd)
			}
			// And the fast path really ran: every YAML file took it.
			sch, err := newSchema(cuecontext.New())
			if err != nil {
				t.Fatal(err)
			}
			info, _ := meshFile(sch, in.Mesh)
			w := &worker{info: info, memo: newEntryMemo(nil)}
			for _, f := range in.Clusters {
				if ext := filepath.Ext(f.Path); ext != ".yaml" && ext != ".yml" {
					continue
				}
				if _, ok := fastCluster(w, f); !ok {
					t.Errorf("%s took the full path", f.Path)
				}
			}
		})
	}
	t.Run("duplicate", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(gen, "cluster-0001.yaml"), []byte(dup), 0o644); err != nil {
			t.Fatal(err)
		}
		in, _ := load.DirParsing(gen, load.Lazy)
		m, fd := Mesh(in, Options{})
		_, wd := Mesh(in, Options{Whole: true})
		if m != nil || !strings.Contains(fd.String(), "cluster-0001.yaml") {
			t.Fatalf("a namespace given twice was accepted: %v", fd)
		}
		if fd.String() != wd.String() {
			t.Errorf("diagnostics differ:\nfast:\n%s\nwhole:\n%s", fd, wd)
		}
	})
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
