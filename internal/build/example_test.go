package build_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	yaml "go.yaml.in/yaml/v3"

	"github.com/golemtrust/meshc/internal/build"
	"github.com/golemtrust/meshc/internal/emit"
)

const repo = "../.."

var exampleOpts = build.Options{
	ClustersDir: filepath.Join(repo, "clusters"),
	OutDir:      filepath.Join(repo, "overlays"),
	GoldenDir:   filepath.Join(repo, "golden"),
}

// TestExampleIsCurrent is the golden test of the example mesh and of every
// mesh under examples/: the committed overlays/ and golden/ are exactly what
// build writes. MESHC_UPDATE=1 (make golden) rewrites them instead.
func TestExampleIsCurrent(t *testing.T) {
	examples, err := filepath.Glob(filepath.Join(repo, "examples", "*", "clusters"))
	require.NoError(t, err)
	meshes := map[string]build.Options{".": exampleOpts}
	for _, c := range examples {
		dir := filepath.Dir(c)
		meshes[filepath.Base(dir)] = build.Options{
			ClustersDir: c,
			OutDir:      filepath.Join(dir, "overlays"),
			GoldenDir:   filepath.Join(dir, "golden"),
		}
	}
	for name, opts := range meshes {
		t.Run(name, func(t *testing.T) {
			m, diags := build.Validate(opts)
			require.NotNil(t, m, diags.String())
			assert.Empty(t, diags, "the example mesh is warning-free")
			out, err := build.Compile(m, opts)
			require.NoError(t, err)
			if os.Getenv("MESHC_UPDATE") != "" {
				require.NoError(t, emit.Write(out.Trees()...))
				return
			}
			d, err := emit.Check(out.Trees()...)
			require.NoError(t, err)
			assert.Empty(t, d, "%s: overlays/ or golden/ are stale: run make golden and read the diff", opts.ClustersDir)
		})
	}
}

// TestKubectlKustomize builds every committed overlay, each of its two
// parts and every Flux entry point with kubectl's own kustomize, an
// independent implementation of what Flux runs, and checks that a
// cluster's overlay yields exactly the objects of its golden file.
func TestKubectlKustomize(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	require.NoError(t, err, "kubectl is required: it is the independent check of every overlay")
	clusters, err := os.ReadDir(exampleOpts.OutDir)
	require.NoError(t, err)
	var n int
	for _, e := range clusters {
		if !e.IsDir() || strings.HasPrefix(e.Name(), "_") {
			continue
		}
		n++
		name := e.Name()
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(exampleOpts.OutDir, name)
			got := kustomize(t, kubectl, dir)
			golden, err := os.ReadFile(filepath.Join(exampleOpts.GoldenDir, name+".yaml"))
			require.NoError(t, err)
			assert.Equal(t, objects(t, golden), got)

			cp := kustomize(t, kubectl, filepath.Join(dir, "control-plane"))
			pol := kustomize(t, kubectl, filepath.Join(dir, "policy"))
			assert.Equal(t, len(got), len(cp)+len(pol), "the two parts make up the whole overlay")
			for _, o := range pol {
				assert.NotEqual(t, "HelmRelease", o["kind"], "the policy part holds no charts")
			}
			for _, o := range cp {
				assert.NotContains(t, o["apiVersion"], "istio.io", "the control plane holds no Istio resources: their CRDs do not exist yet")
			}
			entry := kustomize(t, kubectl, filepath.Join(exampleOpts.OutDir, "_flux", name))
			assert.Len(t, entry, 3)
		})
	}
	assert.Equal(t, 3, n, "the example mesh has three clusters")
}

func kustomize(t *testing.T, kubectl, dir string) []map[string]any {
	t.Helper()
	cmd := exec.Command(kubectl, "kustomize", dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "kubectl kustomize %s: %s", dir, stderr.String())
	return objects(t, out)
}

// objects decodes a YAML stream into objects sorted by identity.
func objects(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	var objs []map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var o map[string]any
		if err := dec.Decode(&o); err != nil {
			break
		}
		if o != nil {
			objs = append(objs, o)
		}
	}
	key := func(o map[string]any) string {
		md, _ := o["metadata"].(map[string]any)
		return o["kind"].(string) + "/" + str(md["namespace"]) + "/" + str(md["name"])
	}
	sort.Slice(objs, func(i, j int) bool { return key(objs[i]) < key(objs[j]) })
	return objs
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// TestSharedValuesLiveOnce checks the overlay layout: a value that depends
// only on the mesh file (the mesh ID, the chart repository) is written once,
// in the base, never in a cluster's overlay.
func TestSharedValuesLiveOnce(t *testing.T) {
	count := map[string]int{}
	err := filepath.WalkDir(exampleOpts.OutDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(exampleOpts.OutDir, p)
		for _, shared := range []string{"meshID: golemtrust-mesh", "istio-release.storage.googleapis.com"} {
			if bytes.Contains(data, []byte(shared)) && !strings.HasPrefix(rel, "_istioctl") {
				count[shared]++
				assert.True(t, strings.HasPrefix(rel, "_base/"), "%s holds the shared value %q", rel, shared)
			}
		}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, 2, count["meshID: golemtrust-mesh"], "once per revision component (1-20, 1-21)")
	assert.Equal(t, 1, count["istio-release.storage.googleapis.com"])
}
