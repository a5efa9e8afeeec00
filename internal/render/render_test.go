package render_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/golemtrust/meshc/internal/bench"
	"github.com/golemtrust/meshc/internal/build"
	"github.com/golemtrust/meshc/internal/engine/engines"
	"github.com/golemtrust/meshc/internal/mesh"
	"github.com/golemtrust/meshc/internal/render"
)

// requireSameAsKrusty compiles a mesh as meshc build does, and requires
// each cluster's golden file to be byte for byte what a krusty build of
// its overlay (the files build writes, base included) prints.
func requireSameAsKrusty(t *testing.T, m *mesh.Mesh) {
	t.Helper()
	out, err := build.Compile(m, build.Options{})
	require.NoError(t, err)
	for _, c := range m.Clusters {
		viaKrusty, err := render.Overlay(out.Overlays.Files, c.Name)
		require.NoError(t, err)
		require.Equal(t, string(viaKrusty), string(out.Golden.Files[c.Name+".yaml"]), "cluster %s", c.Name)
		// And the overlay's own objects are the golden file's, printed
		// once: the policy part holds exactly the golden bytes of its
		// objects.
		direct, err := render.Objects(engines.Compile(m, c).Objects())
		require.NoError(t, err)
		require.Equal(t, string(direct), string(out.Golden.Files[c.Name+".yaml"]))
	}
}

func TestDirectEqualsKrustyOnTheExample(t *testing.T) {
	m, diags := build.Validate(build.Options{ClustersDir: filepath.Join("..", "..", "clusters")})
	require.NotNil(t, m, diags.String())
	requireSameAsKrusty(t, m)
}

func TestDirectEqualsKrustyOnGeneratedMeshes(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, bench.Generate(dir, 12, 6))
	m, diags := build.Validate(build.Options{ClustersDir: dir})
	require.NotNil(t, m, diags.String())
	requireSameAsKrusty(t, m)
}
