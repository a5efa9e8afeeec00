package flux_test

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/golemtrust/meshc/internal/apicheck"
	"github.com/golemtrust/meshc/internal/build"
	"github.com/golemtrust/meshc/internal/compile"
	"github.com/golemtrust/meshc/internal/engine/engines"
	"github.com/golemtrust/meshc/internal/engine/flux"
	"github.com/golemtrust/meshc/internal/mesh"
	"github.com/golemtrust/meshc/internal/overlay"
)

// exampleWith validates the repository's example mesh with its mesh file
// edited by edit.
func exampleWith(t *testing.T, edit func(string) string) *mesh.Mesh {
	t.Helper()
	src := filepath.Join("..", "..", "..", "clusters")
	dir := filepath.Join(t.TempDir(), "clusters")
	require.NoError(t, os.Mkdir(dir, 0o755))
	entries, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		require.NoError(t, err)
		if e.Name() == "mesh.yaml" {
			data = []byte(edit(string(data)))
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644))
	}
	m, diags := build.Validate(build.Options{ClustersDir: dir})
	require.NotNil(t, m, diags.String())
	return m
}

func get(o any, keys ...string) any {
	for _, k := range keys {
		m, _ := o.(compile.Doc)
		o = m[k]
	}
	return o
}

// TestCA: with gitops.ca, a mesh-ca Kustomization applies the cluster's
// folder (decrypted with SOPS when asked) and the control plane depends on
// it; without, the entry point is as before.
func TestCA(t *testing.T) {
	for _, sops := range []bool{false, true} {
		m := exampleWith(t, func(s string) string {
			ca := "  ca:\n    path: secrets/ca\n"
			if sops {
				ca += "    decryption: sops\n"
			}
			return strings.Replace(s, "  branch: main\n", "  branch: main\n"+ca, 1)
		})
		for _, c := range m.Clusters {
			cc := engines.Compile(m, c)
			docs := cc.Entry.Docs
			require.Len(t, docs, 4)
			var names []string
			for _, d := range docs {
				names = append(names, get(d, "metadata", "name").(string))
				for _, err := range apicheck.NewVerdicts(nil).Object("sync.yaml", sha256.Sum256(overlay.Encode(d)), d) {
					t.Error(err)
				}
			}
			assert.Equal(t, []string{flux.Source, flux.CA, flux.ControlPlane, flux.Policy}, names)
			ca := docs[1]
			assert.Equal(t, "./secrets/ca/"+c.Name, get(ca, "spec", "path"))
			assert.Equal(t, true, get(ca, "spec", "wait"), "the Secret is applied before the control plane starts")
			assert.Equal(t, false, get(ca, "spec", "prune"), "files leaving the folder never delete the live cacerts")
			if sops {
				assert.Equal(t, compile.Doc{"provider": "sops", "secretRef": compile.Doc{"name": "sops-age"}}, get(ca, "spec", "decryption"))
			} else {
				assert.Nil(t, get(ca, "spec", "decryption"))
			}
			assert.Equal(t, []any{compile.Doc{"name": flux.CA}}, get(docs[2], "spec", "dependsOn"), "istiod waits for the CA")
			assert.Equal(t, []any{compile.Doc{"name": flux.ControlPlane}}, get(docs[3], "spec", "dependsOn"))
		}
	}
	m := exampleWith(t, func(s string) string { return s })
	docs := engines.Compile(m, m.Clusters[0]).Entry.Docs
	require.Len(t, docs, 3)
	assert.Nil(t, get(docs[1], "spec", "dependsOn"))
}
