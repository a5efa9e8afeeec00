// Package overlay lays compiled objects out as kustomize overlays: a shared
// base of components that depends only on the mesh file, and per cluster an
// overlay with two parts, the control plane and the mesh policy, each
// holding only what is specific to the cluster. It returns files as data;
// writing them is emit's job.
package overlay

import (
	"fmt"
	"path"
	"reflect"
	"sort"
	"strings"

	"github.com/golemtrust/meshc/internal/compile"
	"github.com/golemtrust/meshc/internal/engine"
	"github.com/golemtrust/meshc/internal/mesh"
)

// Files maps a slash-separated path, relative to the output folder, to its
// contents.
type Files map[string][]byte

// Folder names that are not clusters start with '_': cluster names are
// DNS-1123 labels, which never do, so the two cannot collide.
const (
	BaseDir      = "_base"
	IstioctlDir  = "_istioctl"
	ControlPlane = "control-plane"
	Policy       = "policy"
)

const (
	kustomizeAPI = "kustomize.config.k8s.io/v1beta1"
	componentAPI = "kustomize.config.k8s.io/v1alpha1"
)

// Base returns the shared base, one kustomize Component per base component,
// and the engine's mesh-wide root files: what depends only on the mesh file.
func Base(e engine.Engine, m *mesh.Mesh) Files {
	files := Files{}
	for name, docs := range e.Root(m) {
		files[path.Join(e.Dir(), name)] = Encode(docs...)
	}
	for name, docs := range engine.Base(e, m) {
		dir := path.Join(BaseDir, name)
		var resources []string
		for _, d := range docs {
			f := fileName(d)
			files[path.Join(dir, f)] = Encode(d)
			resources = append(resources, f)
		}
		sort.Strings(resources)
		files[path.Join(dir, "kustomization.yaml")] = Encode(compile.Doc{
			"apiVersion": componentAPI,
			"kind":       "Component",
			"resources":  strList(resources),
		})
	}
	return files
}

// ResourcesFile holds a part's own objects (not patches of a base).
const ResourcesFile = "resources.yaml"

// Printed returns the YAML of an object that was printed already (the
// golden file's objects, which are byte for byte what an overlay holds for
// them), so it is not printed twice; false when it was not.
type Printed func(compile.Doc) ([]byte, bool)

// Cluster returns one cluster's overlay, GitOps entry point and
// IstioOperator files. printed may be nil.
func Cluster(c *engine.Cluster, printed Printed) (Files, error) {
	files := Files{}
	root := c.Name
	files[path.Join(root, "kustomization.yaml")] = Encode(compile.Doc{
		"apiVersion": kustomizeAPI,
		"kind":       "Kustomization",
		"resources":  strList([]string{ControlPlane, Policy}),
	})
	if err := part(files, path.Join(root, ControlPlane), c.ControlPlane, printed); err != nil {
		return nil, fmt.Errorf("cluster %s: %w", c.Name, err)
	}
	if err := part(files, path.Join(root, Policy), c.Policy, printed); err != nil {
		return nil, fmt.Errorf("cluster %s: %w", c.Name, err)
	}
	files[path.Join(c.Dir, c.Entry.File)] = Encode(c.Entry.Docs...)
	files[path.Join(c.Dir, "kustomization.yaml")] = Encode(compile.Doc{
		"apiVersion": kustomizeAPI,
		"kind":       "Kustomization",
		"resources":  strList([]string{c.Entry.File}),
	})
	for name, d := range c.IstioOperators {
		files[path.Join(IstioctlDir, c.Name, name)] = Encode(d)
	}
	return files, nil
}

// part writes one part of an overlay: the base components it builds on,
// patches with the cluster's own values, and the cluster's own objects in
// ResourcesFile, grouped by namespace so a reviewer sees a tenant in one
// place.
func part(files Files, dir string, objects []*compile.Object, printed Printed) error {
	var components []string
	seenComponent := map[string]bool{}
	grouped := map[string][]compile.Doc{}
	var patches []namedPatch
	for _, o := range objects {
		if o.Component == "" {
			f := groupName(o.Doc)
			grouped[f] = append(grouped[f], o.Doc)
			continue
		}
		if !seenComponent[o.Component] {
			seenComponent[o.Component] = true
			components = append(components, "../../"+BaseDir+"/"+o.Component)
		}
		p, err := patch(o.Doc, o.Shared)
		if err != nil {
			return err
		}
		if p == nil {
			continue
		}
		patches = append(patches, namedPatch{fileName(o.Doc), Encode(p)})
	}
	var resources []string
	if len(grouped) > 0 {
		// One file for the part's own objects, a namespace's objects
		// together: thousands of clusters with dozens of tenants each
		// would otherwise mean tens of thousands of files to write,
		// check and stat on every build.
		groups := make([]string, 0, len(grouped))
		for g := range grouped {
			groups = append(groups, g)
		}
		sort.Strings(groups)
		var docs []compile.Doc
		for _, g := range groups {
			docs = append(docs, grouped[g]...)
		}
		files[path.Join(dir, ResourcesFile)] = encodeReusing(printed, docs)
		resources = []string{ResourcesFile}
	}
	k := compile.Doc{"apiVersion": kustomizeAPI, "kind": "Kustomization"}
	if len(components) > 0 {
		k["components"] = strList(components)
	}
	if len(resources) > 0 {
		k["resources"] = strList(resources)
	}
	if len(patches) > 0 {
		// Inline, in the kustomization: a file per patch would be five
		// more files per cluster to write, stat and check on every build.
		sort.Slice(patches, func(i, j int) bool { return patches[i].name < patches[j].name })
		list := make([]any, len(patches))
		for i, p := range patches {
			list[i] = compile.Doc{"patch": string(p.yaml)}
		}
		k["patches"] = list
	}
	files[path.Join(dir, "kustomization.yaml")] = Encode(k)
	return nil
}

// namedPatch is a patch's YAML and the name it sorts by (its object's
// kind and name).
type namedPatch struct {
	name string
	yaml []byte
}

// patch returns the strategic-merge patch that turns shared into doc, or nil
// when there is nothing to add. shared must be a part of doc: a base is only
// ever added to, never overridden.
func patch(doc, shared compile.Doc) (compile.Doc, error) {
	d, err := diff(doc, shared, "")
	if err != nil || len(d) == 0 {
		return nil, err
	}
	md := doc["metadata"].(compile.Doc)
	id := compile.Doc{"name": md["name"]}
	if ns, ok := md["namespace"]; ok {
		id["namespace"] = ns
	}
	d["apiVersion"], d["kind"] = doc["apiVersion"], doc["kind"]
	if m, ok := d["metadata"].(compile.Doc); ok {
		for k, v := range id {
			m[k] = v
		}
	} else {
		d["metadata"] = id
	}
	return d, nil
}

func diff(doc, shared compile.Doc, at string) (compile.Doc, error) {
	for k := range shared {
		if _, ok := doc[k]; !ok {
			return nil, fmt.Errorf("meshc bug: the base sets %s%s, which the object lacks", at, k)
		}
	}
	out := compile.Doc{}
	for k, v := range doc {
		sv, inBase := shared[k]
		if !inBase {
			out[k] = v
			continue
		}
		vm, ok1 := v.(compile.Doc)
		sm, ok2 := sv.(compile.Doc)
		if ok1 && ok2 {
			sub, err := diff(vm, sm, at+k+".")
			if err != nil {
				return nil, err
			}
			if len(sub) > 0 {
				out[k] = sub
			}
			continue
		}
		if !reflect.DeepEqual(v, sv) {
			return nil, fmt.Errorf("meshc bug: the cluster overrides %s%s, which the base sets", at, k)
		}
	}
	return out, nil
}

// fileName names an object's file after its kind and name.
func fileName(d compile.Doc) string {
	md := d["metadata"].(compile.Doc)
	return strings.ToLower(d["kind"].(string)) + "-" + md["name"].(string) + ".yaml"
}

// groupName is the file an own object goes to: its namespace's file (the
// Namespace object and everything in it), or its kind and name when it is
// cluster-scoped.
func groupName(d compile.Doc) string {
	md := d["metadata"].(compile.Doc)
	if ns, ok := md["namespace"].(string); ok {
		return "namespace-" + ns + ".yaml"
	}
	if d["kind"] == "Namespace" {
		return "namespace-" + md["name"].(string) + ".yaml"
	}
	return fileName(d)
}

func strList(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// encodeReusing is Encode, taking each document's YAML from printed where
// it has it.
func encodeReusing(printed Printed, docs []compile.Doc) []byte {
	if printed == nil {
		return Encode(docs...)
	}
	// Each document's bytes first, then one buffer of the exact size: a
	// cluster's files are most of a build's output, held until written.
	parts := make([][]byte, len(docs))
	size := 0
	for i, d := range docs {
		y, ok := printed(d)
		if !ok {
			y = Encode(d)
		}
		parts[i], size = y, size+len(y)+len("---\n")
	}
	buf := make([]byte, 0, size)
	for i, y := range parts {
		if i > 0 {
			buf = append(buf, "---\n"...)
		}
		buf = append(buf, y...)
	}
	return buf
}
