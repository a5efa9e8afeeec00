package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"cuelang.org/go/cue/cuecontext"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// mesh is one folder meshc built: its cluster files and committed output.
type mesh struct {
	dir      string // absolute
	label    string // as the user knows it: "." or "examples/x"
	repo     string // the repository root: a Flux path may be relative to it
	clusters []*cluster
	networks map[string]bool
}

// cluster is what the checks need to know of one cluster: what its file
// asks for (environment, tracing, merged over the mesh's defaults) and what
// meshc wrote for it.
type cluster struct {
	name        string
	environment string
	tracing     map[string]any // controlPlane.tracing, nil when unset
	golden      []object       // golden/<name>.yaml
	goldenFile  string
	releases    []release
	// waited holds the HelmReleases a Flux Kustomization with wait: true
	// applies, by name, with that Kustomization's name.
	waited   map[string]string
	istioctl string // overlays/_istioctl/<name>, "" when absent
}

// findMeshes finds the meshes under a repository: the root and every
// examples/*/ with clusters/ and golden/.
func findMeshes(repo string) ([]*mesh, error) {
	dirs := []string{repo}
	more, _ := filepath.Glob(filepath.Join(repo, "examples", "*"))
	sort.Strings(more)
	dirs = append(dirs, more...)
	var out []*mesh
	for _, d := range dirs {
		if !isDir(filepath.Join(d, "clusters")) || !isDir(filepath.Join(d, "golden")) {
			continue
		}
		label, _ := filepath.Rel(repo, d)
		m, err := loadMesh(repo, d, filepath.ToSlash(label))
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no mesh under %s (a folder with clusters/ and golden/)", repo)
	}
	return out, nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func loadMesh(repo, dir, label string) (*mesh, error) {
	m := &mesh{dir: dir, label: label, repo: repo, networks: map[string]bool{}}
	files, err := os.ReadDir(filepath.Join(dir, "clusters"))
	if err != nil {
		return nil, err
	}
	var defaults map[string]any
	inputs := map[string]map[string]any{}
	for _, f := range files {
		n := f.Name()
		ext := filepath.Ext(n)
		stem := strings.TrimSuffix(n, ext)
		if f.IsDir() || strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_") || !slices.Contains([]string{".yaml", ".yml", ".json", ".cue"}, ext) {
			continue
		}
		v, err := readInput(filepath.Join(dir, "clusters", n))
		if err != nil {
			return nil, err
		}
		if stem == "mesh" {
			defaults, _ = v["defaults"].(map[string]any)
			continue
		}
		inputs[stem] = v
	}
	names := make([]string, 0, len(inputs))
	for n := range inputs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		in := merge(defaults, inputs[n])
		c := &cluster{name: n, environment: str(in, "environment"), waited: map[string]string{}}
		c.tracing, _ = field(in, "controlPlane", "tracing").(map[string]any)
		m.networks[str(in, "network")] = true
		if err := m.loadOutput(c); err != nil {
			return nil, err
		}
		m.clusters = append(m.clusters, c)
	}
	return m, nil
}

// readInput decodes a mesh or cluster file: YAML or JSON, or a plain CUE
// file evaluated on its own (its fields are the cluster's; the schema's
// defaults are meshc's business, the checks read only what is written).
func readInput(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var v map[string]any
	if filepath.Ext(path) == ".cue" {
		val := cuecontext.New().CompileBytes(data)
		if err := val.Err(); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		err = val.Decode(&v)
	} else {
		err = yaml.Unmarshal(data, &v)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// merge is base with over's values on top, maps merged key by key (as a
// cluster file's fields win over the mesh's defaults).
func merge(base, over map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		bm, ok1 := out[k].(map[string]any)
		om, ok2 := v.(map[string]any)
		if ok1 && ok2 {
			out[k] = merge(bm, om)
		} else {
			out[k] = v
		}
	}
	return out
}

// loadOutput reads what meshc wrote for a cluster: its golden manifests and
// the releases in them, its Flux entry point (which Kustomizations wait on
// which HelmReleases), its Argo CD Applications and its istioctl folder.
func (m *mesh) loadOutput(c *cluster) error {
	c.goldenFile = filepath.Join("golden", c.name+".yaml")
	data, err := os.ReadFile(filepath.Join(m.dir, c.goldenFile))
	if err != nil {
		return err
	}
	if c.golden, err = decodeObjects(data); err != nil {
		return fmt.Errorf("%s/%s: %w", m.label, c.goldenFile, err)
	}
	rs, err := fluxReleases(c.name, c.goldenFile, c.golden)
	if err != nil {
		return err
	}
	c.releases = append(c.releases, rs...)

	if err := m.loadFluxWaits(c); err != nil {
		return err
	}
	argo, err := m.argoApplications(c.name)
	if err != nil {
		return err
	}
	for file, objs := range argo {
		rs, err := argoReleases(c.name, file, objs)
		if err != nil {
			return err
		}
		c.releases = append(c.releases, rs...)
	}
	if d := filepath.Join(m.dir, "overlays", "_istioctl", c.name); isDir(d) {
		c.istioctl = d
	}
	return nil
}

// loadFluxWaits builds, with kustomize, the folder each waiting
// Kustomization of overlays/_flux/<cluster>/ applies, and notes the
// HelmReleases in it.
func (m *mesh) loadFluxWaits(c *cluster) error {
	entry := filepath.Join(m.dir, "overlays", "_flux", c.name)
	if !isDir(entry) {
		return nil
	}
	objs, err := kustomize(entry)
	if err != nil {
		return err
	}
	for _, k := range ofKind(objs, "Kustomization") {
		if wait, _ := field(k, "spec", "wait").(bool); !wait {
			continue
		}
		p := str(k, "spec", "path")
		dir := filepath.Join(m.dir, p)
		if !isDir(dir) {
			dir = filepath.Join(m.repo, p)
		}
		applied, err := kustomize(dir)
		if err != nil {
			return fmt.Errorf("Kustomization %s: %w", name(k), err)
		}
		for _, hr := range ofKind(applied, "HelmRelease") {
			c.waited[name(hr)] = name(k)
		}
	}
	return nil
}

func kustomize(dir string) ([]object, error) {
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, err
	}
	out, err := res.AsYaml()
	if err != nil {
		return nil, err
	}
	return decodeObjects(out)
}

// argoApplications reads every YAML file under overlays/_argocd/ that
// belongs to the cluster (a folder of the cluster's name on its path), by
// file relative to the mesh.
func (m *mesh) argoApplications(cluster string) (map[string][]object, error) {
	root := filepath.Join(m.dir, "overlays", "_argocd")
	out := map[string][]object{}
	if !isDir(root) {
		return out, nil
	}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			return err
		}
		rel, _ := filepath.Rel(m.dir, p)
		if !slices.Contains(strings.Split(filepath.ToSlash(filepath.Dir(rel)), "/"), cluster) {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		objs, err := decodeObjects(data)
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		out[filepath.ToSlash(rel)] = objs
		return nil
	})
	return out, err
}
