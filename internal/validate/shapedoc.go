package validate

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"strconv"

	"cuelang.org/go/cue"

	"github.com/golemtrust/meshc/internal/load"
)

// decodeNamespace fills a namespaceDoc from an entry decided by its shape
// (v with the shape's defaults t), as json.Unmarshal of render(v, t) would,
// without the cost of reflection. ok is false for anything it does not
// know (the caller then unmarshals the JSON); TestShapeEqualsCUE compares
// its result with CUE's.
func decodeNamespace(v *load.Plain, t *tmpl) (d namespaceDoc, ok bool) {
	ok = fields(v, t, func(k string, x *load.Plain, xt *tmpl) bool {
		switch k {
		case "injection":
			return str(x, &d.Injection)
		case "revision":
			return str(x, &d.Revision)
		case "mtls":
			return str(x, &d.MTLS)
		case "labels":
			return strMap(x, xt, &d.Labels)
		case "quota":
			d.Quota = &quotaDoc{}
			return fields(x, xt, func(k string, x *load.Plain, xt *tmpl) bool {
				switch k {
				case "requests":
					return cpuMemory(x, xt, &d.Quota.Requests)
				case "limits":
					d.Quota.Limits = &cpuMemoryDoc{}
					return cpuMemory(x, xt, d.Quota.Limits)
				case "pods":
					if x.Kind != load.PlainInt {
						return false
					}
					n, err := strconv.ParseInt(x.Text, 10, 64)
					d.Quota.Pods = n
					return err == nil
				}
				return false
			})
		case "containerDefaults":
			d.ContainerDefaults = &resourcesDoc{}
			return fields(x, xt, func(k string, x *load.Plain, xt *tmpl) bool {
				switch k {
				case "requests":
					d.ContainerDefaults.Requests = &cpuMemoryDoc{}
					return cpuMemory(x, xt, d.ContainerDefaults.Requests)
				case "limits":
					d.ContainerDefaults.Limits = &cpuMemoryDoc{}
					return cpuMemory(x, xt, d.ContainerDefaults.Limits)
				}
				return false
			})
		case "authorization":
			if x.Kind != load.PlainList {
				return false
			}
			d.Authorization = make([]policyDoc, len(x.Vals))
			for i, pv := range x.Vals {
				p := &d.Authorization[i]
				if !fields(pv, item(xt, i), func(k string, x *load.Plain, xt *tmpl) bool {
					switch k {
					case "name":
						return str(x, &p.Name)
					case "selector":
						return strMap(x, xt, &p.Selector)
					case "methods":
						return strList(x, &p.Methods)
					case "paths":
						return strList(x, &p.Paths)
					case "from":
						if x.Kind != load.PlainList {
							return false
						}
						p.From = make([]sourceDoc, len(x.Vals))
						for j, sv := range x.Vals {
							s := &p.From[j]
							if !fields(sv, item(xt, j), func(k string, x *load.Plain, _ *tmpl) bool {
								switch k {
								case "namespace":
									return str(x, &s.Namespace)
								case "serviceAccount":
									return str(x, &s.ServiceAccount)
								}
								return false
							}) {
								return false
							}
						}
						return true
					}
					return false
				}) {
					return false
				}
			}
			return true
		}
		return false
	})
	return d, ok
}

// fields calls f with each field of the map v and then each default field
// of its template t (nil: none), with the template of each value.
func fields(v *load.Plain, t *tmpl, f func(k string, x *load.Plain, xt *tmpl) bool) bool {
	if v.Kind != load.PlainMap {
		return false
	}
	for i, k := range v.Keys {
		if !f(k, v.Vals[i], item(t, i)) {
			return false
		}
	}
	if t == nil {
		return true
	}
	if len(t.extraV) != len(t.extra) {
		return false
	}
	for j, k := range t.extraK {
		if !f(k, t.extraV[j], nil) {
			return false
		}
	}
	return true
}

// item is the template of t's i-th value; nil for none.
func item(t *tmpl, i int) *tmpl {
	if t == nil || i >= len(t.vals) {
		return nil
	}
	return t.vals[i]
}

func str(x *load.Plain, out *string) bool {
	*out = x.Text
	return x.Kind == load.PlainString
}

func strMap(x *load.Plain, t *tmpl, out *map[string]string) bool {
	if x.Kind != load.PlainMap {
		return false
	}
	m := make(map[string]string, len(x.Keys))
	*out = m
	return fields(x, t, func(k string, x *load.Plain, _ *tmpl) bool {
		m[k] = x.Text
		return x.Kind == load.PlainString
	})
}

func strList(x *load.Plain, out *[]string) bool {
	if x.Kind != load.PlainList {
		return false
	}
	l := make([]string, len(x.Vals))
	for i, e := range x.Vals {
		if e.Kind != load.PlainString {
			return false
		}
		l[i] = e.Text
	}
	*out = l
	return true
}

// cpuMemory fills a quantity pair: a quantity is kept as written, a
// string's text or a whole number's digits (quantityText).
func cpuMemory(x *load.Plain, t *tmpl, out *cpuMemoryDoc) bool {
	return fields(x, t, func(k string, x *load.Plain, _ *tmpl) bool {
		if x.Kind != load.PlainString && x.Kind != load.PlainInt {
			return false
		}
		switch k {
		case "cpu":
			out.CPU = quantityText(x.Text)
		case "memory":
			out.Memory = quantityText(x.Text)
		default:
			return false
		}
		return true
	})
}

// plainDefaults returns a valid YAML mesh file's defaults (d, from the
// file as built) as plain data for fastHead, and whether fastHead may use
// them: every field is one #Defaults allows (so withDefaults takes each,
// merging maps field by field and filling the rest whole, which is what
// mergeDefaults does), and every value is a map, list, string or whole
// number whose text render may print unescaped. A CUE mesh file may give
// defaults that are not plain data (a disjunction), so its heads are
// always unified whole.
func plainDefaults(sch *schema, f *load.File, d cue.Value) (*load.Plain, bool) {
	if ext := filepath.Ext(f.Path); ext != ".yaml" && ext != ".yml" {
		return nil, false
	}
	if !d.Exists() {
		return nil, true
	}
	if kindOf(d) != cue.StructKind || !allAllowed(d, sch.defaults) {
		return nil, false
	}
	js, err := d.MarshalJSON()
	if err != nil {
		return nil, false
	}
	var x any
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	if dec.Decode(&x) != nil {
		return nil, false
	}
	p, ok := plainOf(x, true)
	if !ok || p.Kind != load.PlainMap || !printable(p) {
		return nil, false
	}
	return p, true
}

// allAllowed reports whether schema allows every field of v, and each
// field's schema every field of a map below it.
func allAllowed(v, schema cue.Value) bool {
	it, err := v.Fields()
	if err != nil {
		return false
	}
	for it.Next() {
		sel := cue.Str(it.Selector().Unquoted())
		if !schema.Allows(sel) {
			return false
		}
		if x := it.Value(); kindOf(x) == cue.StructKind && !allAllowed(x, childDef(schema, sel)) {
			return false
		}
	}
	return true
}

// printable reports whether every key and string of v is printable ASCII
// without quotes or backslashes, as ParsePlainEntry's are: render prints
// them as they are.
func printable(v *load.Plain) bool {
	ok := func(s string) bool {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
				return false
			}
		}
		return true
	}
	if !ok(v.Text) {
		return false
	}
	for _, k := range v.Keys {
		if !ok(k) {
			return false
		}
	}
	for _, x := range v.Vals {
		if !printable(x) {
			return false
		}
	}
	return true
}

// mergeDefaults is a cluster head with the mesh's defaults merged in as
// withDefaults merges them: a field the head lacks is the default's, two
// maps merge field by field, anything else is the head's. head is not
// changed.
func mergeDefaults(head, defaults *load.Plain) *load.Plain {
	if defaults == nil || head.Kind != load.PlainMap || defaults.Kind != load.PlainMap {
		return head
	}
	out := &load.Plain{Kind: load.PlainMap, Keys: slices.Clone(head.Keys), Vals: slices.Clone(head.Vals)}
	for i, k := range defaults.Keys {
		j := slices.Index(out.Keys, k)
		switch {
		case j < 0:
			out.Keys, out.Vals = append(out.Keys, k), append(out.Vals, defaults.Vals[i])
		case out.Vals[j].Kind == load.PlainMap && defaults.Vals[i].Kind == load.PlainMap:
			out.Vals[j] = mergeDefaults(out.Vals[j], defaults.Vals[i])
		}
	}
	return out
}
