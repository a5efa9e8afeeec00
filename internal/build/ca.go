package build

import (
	"os"
	"path/filepath"

	"github.com/golemtrust/meshc/internal/diag"
	"github.com/golemtrust/meshc/internal/mesh"
)

// caFolders warns, at the mesh file's gitops.ca, about each cluster whose
// CA folder (<path>/<cluster>/) is not in the repository: its engine would
// apply nothing before istiod, which would then mint its own root. The
// repository root is the folder holding the clusters folder, where the
// entry points' paths (overlays/...) start too. It only looks whether the
// folder is there: meshc never reads the CA material. It runs on every
// run for every cluster, reused ones included, since the folder is not an
// input the build cache records.
func caFolders(clustersDir string, m *mesh.Mesh, clusters []string) diag.List {
	var diags diag.List
	ca := m.GitOps.CA
	if ca == nil {
		return diags
	}
	root := filepath.Dir(filepath.Clean(clustersDir))
	at := diag.Pos{File: ca.Pos.File, Line: ca.Pos.Line, Col: ca.Pos.Col}
	for _, c := range clusters {
		if fi, err := os.Stat(filepath.Join(root, filepath.FromSlash(ca.Folder(c)))); err == nil && fi.IsDir() {
			continue
		}
		diags.Warnf(at, "gitops.ca: %s/ does not exist in the repository: cluster %s's istiod would start without the mesh's root CA, mint its own, and cross-cluster mTLS would fail; add the folder with what puts the cacerts Secret in istio-system (a SOPS-encrypted Secret, an ExternalSecret, a SealedSecret)",
			ca.Folder(c), c)
	}
	return diags
}
