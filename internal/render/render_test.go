package render_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/golemtrust/meshc/internal/bench"
	"github.com/golemtrust/meshc/internal/build"
	"github.com/golemtrust/meshc/internal/compile"
	"github.com/golemtrust/meshc/internal/mesh"
	"github.com/golemtrust/meshc/internal/overlay"
	"github.com/golemtrust/meshc/internal/render"
)

// requireSameAsKrusty renders every cluster of a mesh both ways, directly
// and through a krusty build of its overlay, and requires identical bytes.
func requireSameAsKrusty(t *testing.T, m *mesh.Mesh) {
	t.Helper()
	base := overlay.Base(m)
	for _, c := range m.Clusters {
		cc := compile.Compile(m, c)
		files, err := overlay.Cluster(cc)
		require.NoError(t, err)
		for p, d := range base {
			files[p] = d
		}
		viaKrusty, err := render.Overlay(files, c.Name)
		require.NoError(t, err)
		direct, err := render.Objects(cc.Objects())
		require.NoError(t, err)
		require.Equal(t, string(viaKrusty), string(direct), "cluster %s", c.Name)
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
