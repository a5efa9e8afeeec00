package validate

import (
	"strconv"

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
