// Package kustomizeoracle builds a cluster's overlay with kustomize's
// krusty, in process and in memory, and returns what `kustomize build`
// prints. It is the test oracle that proves meshc's golden files (printed
// by internal/render without kustomize) byte for byte: only tests import
// it, so krusty stays out of the meshc binary (cmd/meshc's deps test
// guards that).
package kustomizeoracle

import (
	"fmt"
	"path"
	"sync"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/golemtrust/meshc/internal/overlay"
)

// kustomize keeps its OpenAPI schema in process-wide state, so builds must
// not run concurrently.
var mu sync.Mutex

// Build builds overlays/<cluster> from files (the base plus the cluster's
// overlay, paths relative to the overlays folder) and returns the rendered
// manifests.
func Build(files overlay.Files, cluster string) ([]byte, error) {
	fs := filesys.MakeFsInMemory()
	const root = "/overlays"
	for p, data := range files {
		if err := fs.WriteFile(path.Join(root, p), data); err != nil {
			return nil, err
		}
	}
	mu.Lock()
	defer mu.Unlock()
	opts := krusty.MakeDefaultOptions()
	// kubectl kustomize and kustomize build sort in the legacy order
	// (namespaces and quotas first, webhooks last) unless told otherwise;
	// so does the golden file, so both print the same stream.
	opts.Reorder = krusty.ReorderOptionLegacy
	k := krusty.MakeKustomizer(opts)
	rm, err := k.Run(fs, path.Join(root, cluster))
	if err != nil {
		return nil, fmt.Errorf("kustomize build of overlay %s: %w", cluster, err)
	}
	out, err := rm.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("kustomize build of overlay %s: %w", cluster, err)
	}
	return out, nil
}
