package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// object is one Kubernetes object as decoded from YAML (JSON types:
// map[string]any, []any, string, float64/int64, bool).
type object = map[string]any

// decodeObjects reads a YAML stream of objects; empty documents are skipped.
func decodeObjects(data []byte) ([]object, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []object
	for {
		var o object
		if err := dec.Decode(&o); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return objs, err
		}
		if len(o) > 0 {
			objs = append(objs, o)
		}
	}
}

// field is the value at a path of keys, nil when absent.
func field(o any, path ...string) any {
	m, ok := o.(map[string]any)
	if !ok {
		return nil
	}
	v, found, err := unstructured.NestedFieldNoCopy(m, path...)
	if !found || err != nil {
		return nil
	}
	return v
}

// str is the string at a path, "" when absent or not a string.
func str(o any, path ...string) string {
	s, _ := field(o, path...).(string)
	return s
}

func kind(o object) string      { return str(o, "kind") }
func name(o object) string      { return str(o, "metadata", "name") }
func namespace(o object) string { return str(o, "metadata", "namespace") }

// id names an object in messages: Kind namespace/name.
func id(o object) string {
	if ns := namespace(o); ns != "" {
		return kind(o) + " " + ns + "/" + name(o)
	}
	return kind(o) + " " + name(o)
}

// find is the object of that kind and name, or nil.
func find(objs []object, k, n string) object {
	for _, o := range objs {
		if kind(o) == k && name(o) == n {
			return o
		}
	}
	return nil
}

func ofKind(objs []object, k string) []object {
	var out []object
	for _, o := range objs {
		if kind(o) == k {
			out = append(out, o)
		}
	}
	return out
}

// normal turns any decoded value into JSON's types, so values from a
// HelmRelease, a chart's output and a ConfigMap's embedded YAML compare alike
// (int 5 and float64 5 are the same number).
func normal(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return v
	}
	return out
}

// same says whether a value meshc set equals what a chart rendered: deeply
// equal as JSON, or, for two strings, the same Kubernetes quantity ("1" and
// "1000m"), or a string and a number of the same value ("0.5" and 0.5, as
// a chart quotes an env value).
func same(want, got any) bool {
	w, g := normal(want), normal(got)
	if reflect.DeepEqual(w, g) {
		return true
	}
	ws, gs := fmt.Sprint(w), fmt.Sprint(g)
	if ws == gs && w != nil && g != nil {
		_, wm := w.(map[string]any)
		_, gm := g.(map[string]any)
		return !wm && !gm
	}
	if wq, err := resource.ParseQuantity(ws); err == nil {
		if gq, err := resource.ParseQuantity(gs); err == nil {
			return wq.Cmp(gq) == 0
		}
	}
	return false
}

// show prints a value compactly for a failure message.
func show(v any) string {
	if v == nil {
		return "nothing"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// leaf is one value meshc set: its path of keys below values and the value.
type leaf struct {
	path  []string
	value any
}

// leaves flattens values into their leaves, sorted by path: maps are
// walked; lists, scalars and empty maps are leaves.
func leaves(prefix []string, v any) []leaf {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		return []leaf{{path: prefix, value: v}}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []leaf
	for _, k := range keys {
		out = append(out, leaves(append(slices.Clone(prefix), k), m[k])...)
	}
	return out
}

// dotted prints a path as Helm's --set would, quoting keys that hold dots.
func dotted(path []string) string {
	parts := make([]string, len(path))
	for i, k := range path {
		if strings.ContainsAny(k, "./") {
			k = strconv.Quote(k)
		}
		parts[i] = k
	}
	return strings.Join(parts, ".")
}
