package validate

import (
	"encoding/json"
	"fmt"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"

	"github.com/golemtrust/meshc/internal/diag"
	"github.com/golemtrust/meshc/internal/load"
	"github.com/golemtrust/meshc/internal/mesh"
)

// clusterDoc is a cluster file as decoded from CUE, after defaults.
type clusterDoc struct {
	Name         string `json:"name"`
	Network      string `json:"network"`
	Environment  string `json:"environment"`
	Server       string `json:"server"`
	MTLS         string `json:"mtls"`
	ControlPlane struct {
		Revision string  `json:"revision"`
		Canary   *string `json:"canary"`
		Profile  string  `json:"profile"`
		Pilot    struct {
			Resources resourcesDoc `json:"resources"`
			Autoscale struct {
				Min int `json:"min"`
				Max int `json:"max"`
			} `json:"autoscale"`
		} `json:"pilot"`
		AccessLogFile string `json:"accessLogFile"`
		Tracing       *struct {
			Provider string  `json:"provider"`
			Service  string  `json:"service"`
			Port     int     `json:"port"`
			Sampling float64 `json:"sampling"`
		} `json:"tracing"`
		IngressGateway struct {
			ServiceAnnotations map[string]string `json:"serviceAnnotations"`
		} `json:"ingressGateway"`
	} `json:"controlPlane"`
	Sidecar    resourcesDoc            `json:"sidecar"`
	Namespaces map[string]namespaceDoc `json:"namespaces"`
}

type resourcesDoc struct {
	Requests *cpuMemoryDoc `json:"requests"`
	Limits   *cpuMemoryDoc `json:"limits"`
}

type cpuMemoryDoc struct {
	CPU    quantityText `json:"cpu"`
	Memory quantityText `json:"memory"`
}

// quantityText keeps a quantity as the user wrote it, whether a YAML string
// ("500m") or a number (2).
type quantityText string

func (q *quantityText) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*q = quantityText(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*q = quantityText(n.String())
	return nil
}

type namespaceDoc struct {
	Injection string            `json:"injection"`
	Revision  string            `json:"revision"`
	MTLS      string            `json:"mtls"`
	Labels    map[string]string `json:"labels"`
	Quota     *struct {
		Requests cpuMemoryDoc  `json:"requests"`
		Limits   *cpuMemoryDoc `json:"limits"`
		Pods     int64         `json:"pods"`
	} `json:"quota"`
	ContainerDefaults *resourcesDoc `json:"containerDefaults"`
	Authorization     []struct {
		Name     string            `json:"name"`
		Selector map[string]string `json:"selector"`
		From     []struct {
			Namespace      string `json:"namespace"`
			ServiceAccount string `json:"serviceAccount"`
		} `json:"from"`
		Methods []string `json:"methods"`
		Paths   []string `json:"paths"`
	} `json:"authorization"`
}

// clusterFile validates one cluster file in a context of its own.
func clusterFile(meshSrc *load.File, m *mesh.Mesh, f *load.File) (*mesh.Cluster, diag.List) {
	var diags diag.List
	ctx := cuecontext.New()
	sch, err := newSchema(ctx)
	if err != nil {
		diags.Errorf(diag.Pos{File: f.Path}, "%v", err)
		return nil, diags
	}
	raw := ctx.BuildFile(f.AST)
	if err := raw.Err(); err != nil {
		return nil, schemaErrors(err, raw, sch.cluster, f.Path)
	}
	if raw.IncompleteKind() != cue.StructKind {
		diags.Errorf(diag.Pos{File: f.Path, Line: 1, Col: 1}, "a cluster file must be a map of fields (name, network, environment, controlPlane, ...)")
		return nil, diags
	}
	defaults := ctx.BuildFile(meshSrc.AST).LookupPath(cue.ParsePath("defaults"))
	if defaults.Exists() {
		raw = withDefaults(raw, defaults, nil)
	}
	u := sch.cluster.Unify(raw)
	if err := u.Validate(cue.Concrete(true)); err != nil {
		return nil, schemaErrors(err, raw, sch.cluster, f.Path)
	}
	var doc clusterDoc
	if err := u.Decode(&doc); err != nil {
		diags.Errorf(diag.Pos{File: f.Path}, "cannot decode the cluster file: %v", err)
		return nil, diags
	}
	r := &rules{m: m, raw: raw, file: f.Path, stem: f.Stem}
	c := r.cluster(&doc)
	if r.diags.Failed(false) {
		return nil, r.diags
	}
	return c, r.diags
}

// withDefaults fills in the mesh's defaults wherever the cluster has no
// value of its own. Structs merge field by field; anything else (a string, a
// list) is the cluster's when the cluster sets it. Filled-in values keep
// their positions in the mesh file, so an error in a default points there.
func withDefaults(cluster, defaults cue.Value, prefix []cue.Selector) cue.Value {
	it, err := defaults.Fields()
	if err != nil {
		return cluster
	}
	for it.Next() {
		p := append(append([]cue.Selector(nil), prefix...), it.Selector())
		path := cue.MakePath(p...)
		dv := it.Value()
		cv := cluster.LookupPath(path)
		switch {
		case !cv.Exists():
			cluster = cluster.FillPath(path, dv)
		case dv.IncompleteKind() == cue.StructKind && cv.IncompleteKind() == cue.StructKind:
			cluster = withDefaults(cluster, dv, p)
		}
	}
	return cluster
}

var _ = fmt.Sprintf
