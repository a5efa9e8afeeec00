// Package review flags the changes a reviewer of a mesh pull request must
// not miss: weaker mTLS, wider or removed authorization, namespaces moving
// between istiods, uninstalled revisions, downgraded CRDs, smaller quotas,
// disabled injection, removed namespaces and clusters.
//
// The rules read the compiled objects of both sides (what each cluster
// receives), not the cluster files: a change made through the mesh file's
// defaults, a tag or a promotion is caught as surely as a one-line edit.
// The cluster file is consulted only to say which line caused a flag.
package review

import (
	"cmp"
	"slices"
	"strings"

	"github.com/golemtrust/meshc/internal/mesh"
)

// Key identifies an object within a cluster.
type Key struct {
	Kind, Namespace, Name string
}

func (k Key) String() string {
	if k.Namespace == "" {
		return k.Kind + " " + k.Name
	}
	return k.Kind + " " + k.Namespace + "/" + k.Name
}

// Doc is one object as compiled.
type Doc = map[string]any

// Cluster is one cluster's two sides.
type Cluster struct {
	Name string
	// Before and After are the objects the cluster receives at the base and
	// in the working tree; nil when the cluster does not exist on that side
	// (or the base mesh is invalid).
	Before, After map[Key]Doc
	// EntryPoint lists the keys of the engine's entry-point objects.
	EntryPoint []Key
	// Model is the working tree's validated cluster; nil when removed.
	Model *mesh.Cluster
	// File is the cluster file: the working tree's, or the base's when the
	// cluster was removed.
	File string
	// Where gives "path:line" of the deepest field of path (cluster file
	// fields, e.g. "namespaces", "royal-bank", "mtls") that the working
	// tree's cluster file (or, for a field it leaves to the mesh's
	// defaults, the mesh file) sets; "" when unknown. Nil: no lines.
	Where func(path ...string) string
}

func (c *Cluster) where(path ...string) string {
	if c.Where == nil {
		return ""
	}
	return c.Where(path...)
}

// Risk is one flagged change.
type Risk struct {
	Rule    string `json:"rule"`
	Cluster string `json:"cluster"`
	Kind    string `json:"kind"`
	// Namespace and Name identify the object.
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Before and After are the values that changed, as text.
	Before string `json:"before"`
	After  string `json:"after"`
	// Message says what changed and why it matters.
	Message string `json:"message"`
	// Source is "path:line" of the cluster file line that caused it, the
	// file alone, or "".
	Source string `json:"source,omitempty"`
}

// Rule is one risk rule.
type Rule struct {
	Name  string
	Check func(c *Cluster) []Risk
}

// Rules returns every rule, in the order risks are listed.
func Rules() []Rule {
	return []Rule{
		{"cluster-removed", ClusterRemoved},
		{"mtls-weakened", MTLSWeakened},
		{"authz-removed", AuthzRemoved},
		{"authz-widened", AuthzWidened},
		{"injection-disabled", InjectionDisabled},
		{"namespace-removed", NamespaceRemoved},
		{"revision-moved", RevisionMoved},
		{"revisions-moved-at-once", RevisionsMovedAtOnce},
		{"revision-removed", RevisionRemoved},
		{"crds-downgraded", CRDsDowngraded},
		{"quota-reduced", QuotaReduced},
	}
}

// Check runs every rule on every cluster. Risks are ordered by cluster
// name, then rule, then object.
func Check(clusters []*Cluster) []Risk {
	sorted := slices.Clone(clusters)
	slices.SortFunc(sorted, func(a, b *Cluster) int { return strings.Compare(a.Name, b.Name) })
	var out []Risk
	for _, c := range sorted {
		for _, r := range Rules() {
			risks := r.Check(c)
			slices.SortStableFunc(risks, func(a, b Risk) int {
				return cmp.Or(strings.Compare(a.Kind, b.Kind), strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
			})
			out = append(out, risks...)
		}
	}
	return out
}

// both reports whether the cluster exists on both sides: most rules
// compare objects, and a cluster added or removed has its own story.
func (c *Cluster) both() bool { return c.Before != nil && c.After != nil }

func (c *Cluster) risk(rule string, k Key, before, after, msg, source string) Risk {
	return Risk{Rule: rule, Cluster: c.Name, Kind: k.Kind, Namespace: k.Namespace, Name: k.Name,
		Before: before, After: after, Message: msg, Source: source}
}

// ofKind returns the keys of kind on one side, sorted.
func ofKind(objs map[Key]Doc, kind string) []Key {
	var out []Key
	for k := range objs {
		if k.Kind == kind {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(a, b Key) int {
		return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
	})
	return out
}

// get walks maps by key.
func get(d any, path ...string) any {
	for _, p := range path {
		m, ok := d.(map[string]any)
		if !ok {
			return nil
		}
		d = m[p]
	}
	return d
}

func str(d any, path ...string) string {
	s, _ := get(d, path...).(string)
	return s
}

func strMap(d any, path ...string) map[string]string {
	m, _ := get(d, path...).(map[string]any)
	out := map[string]string{}
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

func list(d any, path ...string) []any {
	l, _ := get(d, path...).([]any)
	return l
}

// added returns the items of after that before lacks, in after's order.
func added(before, after []string) []string {
	var out []string
	for _, a := range after {
		if !slices.Contains(before, a) && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
