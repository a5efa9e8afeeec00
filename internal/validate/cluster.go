package validate

import (
	"encoding/json"

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
		Revision string            `json:"revision"`
		Canary   *string           `json:"canary"`
		Previous *string           `json:"previous"`
		Tags     map[string]string `json:"tags"`
		Profile  string            `json:"profile"`
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
			gatewayDoc
			ServiceAnnotations map[string]string `json:"serviceAnnotations"`
		} `json:"ingressGateway"`
		EastWestGateway gatewayDoc `json:"eastWestGateway"`
	} `json:"controlPlane"`
	Sidecar    resourcesDoc            `json:"sidecar"`
	Namespaces map[string]namespaceDoc `json:"namespaces"`
}

// gatewayDoc is a gateway's settings; autoscale bounds are 0 when unset.
type gatewayDoc struct {
	ServiceType string `json:"serviceType"`
	Autoscale   struct {
		Min int `json:"min"`
		Max int `json:"max"`
	} `json:"autoscale"`
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
	Injection         string            `json:"injection"`
	Revision          string            `json:"revision"`
	MTLS              string            `json:"mtls"`
	Labels            map[string]string `json:"labels"`
	Quota             *quotaDoc         `json:"quota"`
	ContainerDefaults *resourcesDoc     `json:"containerDefaults"`
	Authorization     []policyDoc       `json:"authorization"`
}

type quotaDoc struct {
	Requests cpuMemoryDoc  `json:"requests"`
	Limits   *cpuMemoryDoc `json:"limits"`
	Pods     int64         `json:"pods"`
}

type policyDoc struct {
	Name     string            `json:"name"`
	Selector map[string]string `json:"selector"`
	From     []sourceDoc       `json:"from"`
	Methods  []string          `json:"methods"`
	Paths    []string          `json:"paths"`
}

type sourceDoc struct {
	Namespace      string `json:"namespace"`
	ServiceAccount string `json:"serviceAccount"`
}

// clusterFile validates one cluster file in a context of its own.
func clusterFile(info *meshInfo, f *load.File) (*mesh.Cluster, diag.List) {
	var diags diag.List
	if f.AST == nil {
		// Read but not parsed by load (the fast path's candidates).
		parsed, pd := load.Parse(f.Path, f.Data)
		if parsed == nil {
			return nil, pd
		}
		diags.Append(pd)
		f = parsed
	}
	ctx := cuecontext.New()
	sch, err := newSchema(ctx)
	if err != nil {
		diags.Errorf(diag.Pos{File: f.Path}, "%v", err)
		return nil, diags
	}
	raw := ctx.BuildFile(f.AST)
	if err := raw.Err(); err != nil && kindOf(raw) != cue.StructKind {
		// An error in the file as a whole (a reference to nothing);
		// errors inside its fields are found field by field below.
		return nil, schemaErrors(err, raw, sch.cluster, f.Path)
	}
	if kindOf(raw) != cue.StructKind {
		diags.Errorf(diag.Pos{File: f.Path, Line: 1, Col: 1}, "the file holds %s; a cluster file is a map of fields: name, network, environment, controlPlane and optional sidecar, namespaces, ...", show(raw))
		return nil, diags
	}
	if info.file != nil {
		defaults := info.defaults(ctx)
		if defaults.Exists() && kindOf(defaults) == cue.StructKind {
			// The missing fields are gathered in a small value and unified
			// with the cluster once: filling them into the cluster one by
			// one re-evaluates the whole cluster each time.
			patch := ctx.CompileString("{}")
			withDefaults(raw, defaults, sch.defaults, nil, &patch)
			raw = raw.Unify(patch)
		}
	}

	var doc clusterDoc
	var bad [][]cue.Selector
	u := sch.cluster.Unify(raw)
	verr := u.Err() // cheap, and catches most errors before Validate lists them all
	if verr == nil {
		verr = u.Validate(cue.Concrete(true))
	}
	if verr == nil {
		if err := decode(u, &doc); err != nil {
			diags.Errorf(diag.Pos{File: f.Path, Line: 1, Col: 1}, "cannot decode the cluster file: %v", err)
			return nil, diags
		}
	} else {
		c := &checker{sch: sch, file: f.Path, raw: raw, sub: noSub}
		if !info.known() {
			// Without a mesh file, a required field may yet come from
			// its defaults.
			c.mayOmit = func(p []cue.Selector) bool { return at(sch.defaults, p).Exists() }
		}
		clean, _ := c.check(sch.cluster, raw, nil, false)
		found := c.diags
		if len(found) == 0 {
			found = schemaErrors(verr, raw, sch.cluster, f.Path)
		}
		for _, d := range found {
			// An invalid default is reported once, in the mesh file.
			if d.Pos.File == f.Path {
				diags = append(diags, d)
			}
		}
		decodeClean(clean, &doc)
		bad = c.bad
	}
	r := &rules{info: info, raw: raw, ast: f.AST, file: f.Path, stem: f.Stem, name: allowed(sch.name), bad: bad}
	c := r.cluster(&doc)
	diags.Append(r.diags)
	if diags.Failed(false) {
		return nil, diags
	}
	return c, diags
}

func noSub([]cue.Selector) (cue.Value, bool, bool) { return cue.Value{}, false, false }

// decode fills a Go struct from a valid, concrete value. It goes through
// JSON: cue.Value.Decode walks the value with reflection per field and
// costs several times as much for a cluster with many namespaces.
func decode(v cue.Value, x any) error {
	data, err := v.MarshalJSON()
	if err != nil {
		return err
	}
	return json.Unmarshal(data, x)
}

// withDefaults gathers in patch the mesh's defaults for wherever the cluster has no
// value of its own. Structs merge field by field; anything else (a string, a
// list) is the cluster's when the cluster sets it. Filled-in values keep
// their positions in the mesh file, so an error in a default points there.
// Only fields the #Defaults schema allows are taken; the mesh file's check
// reports any other.
func withDefaults(cluster, defaults, schema cue.Value, prefix []cue.Selector, patch *cue.Value) {
	it, err := defaults.Fields()
	if err != nil {
		return
	}
	for it.Next() {
		sel := cue.Str(it.Selector().Unquoted())
		if !schema.Allows(sel) {
			continue
		}
		p := appendPath(prefix, sel)
		path := cue.MakePath(p...)
		dv := it.Value()
		cv := cluster.LookupPath(path)
		switch {
		case !cv.Exists():
			*patch = patch.FillPath(path, dv)
		case kindOf(dv) == cue.StructKind && kindOf(cv) == cue.StructKind:
			withDefaults(cluster, dv, childDef(schema, sel), p, patch)
		}
	}
}
