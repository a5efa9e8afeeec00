package apicheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"
)

// gvk is an object's group, version and kind.
type gvk = schema.GroupVersionKind

// document is one YAML document of a stream and the line it starts on.
type document struct {
	line int
	data []byte
}

// splitDocuments splits a YAML stream on its "---" separator lines, as
// kubectl and kustomize do. Each document's line is that of its first line
// that is neither blank nor a comment.
func splitDocuments(data []byte) []document {
	var docs []document
	var cur []byte
	startLine, seen := 1, false
	for i, l := range bytes.SplitAfter(data, []byte("\n")) {
		if isSeparator(l) {
			docs = append(docs, document{line: startLine, data: cur})
			cur, startLine, seen = nil, i+2, false
			continue
		}
		if t := bytes.TrimSpace(l); !seen && (len(t) == 0 || t[0] == '#') {
			startLine = i + 2
		} else {
			seen = true
		}
		cur = append(cur, l...)
	}
	return append(docs, document{line: startLine, data: cur})
}

func isSeparator(l []byte) bool {
	l = bytes.TrimRight(l, " \t\r\n")
	return bytes.Equal(l, []byte("---")) || bytes.HasPrefix(l, []byte("--- "))
}

// object is one decoded document.
type object struct {
	json                              []byte
	m                                 map[string]any
	apiVersion, kind, namespace, name string
	gvk                               gvk
}

// decodeDocument turns a YAML document into an object; it returns nil for an
// empty document (only comments or whitespace).
func decodeDocument(d document) (*object, *Error) {
	if len(bytes.TrimSpace(stripComments(d.data))) == 0 {
		return nil, nil
	}
	js, err := yaml.YAMLToJSONStrict(d.data)
	if err != nil {
		return nil, &Error{Reason: "invalid YAML: " + err.Error()}
	}
	if bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
		return nil, nil
	}
	var v any
	if err := utiljson.Unmarshal(js, &v); err != nil {
		return nil, &Error{Reason: "invalid document: " + err.Error()}
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &Error{Reason: fmt.Sprintf("a Kubernetes object must be a mapping, not %s", describe(v))}
	}
	return newObject(js, m), nil
}

// newObject is a decoded object with its identity read off.
func newObject(js []byte, m map[string]any) *object {
	o := &object{json: js, m: m}
	o.apiVersion, _ = m["apiVersion"].(string)
	o.kind, _ = m["kind"].(string)
	if md, ok := m["metadata"].(map[string]any); ok {
		o.name, _ = md["name"].(string)
		o.namespace, _ = md["namespace"].(string)
	}
	if gv, err := schema.ParseGroupVersion(o.apiVersion); err == nil {
		o.gvk = gv.WithKind(o.kind)
	}
	return o
}

// stripComments drops whole-line comments, to tell an empty document.
func stripComments(b []byte) []byte {
	var out []byte
	for _, l := range bytes.Split(b, []byte("\n")) {
		if t := bytes.TrimSpace(l); len(t) > 0 && t[0] != '#' {
			out = append(out, l...)
			out = append(out, '\n')
		}
	}
	return out
}

// document checks one document of a stream.
func (c *Checker) document(d document) []*Error {
	o, perr := decodeDocument(d)
	if perr != nil {
		return []*Error{perr}
	}
	if o == nil {
		return nil
	}
	return c.object(o)
}

// objectOf is decodeDocument for an object meshc holds as a map: the JSON
// and the decoded map are what decoding its YAML would give (numbers as
// int64 or float64, as k8s.io/apimachinery's JSON decoder makes them).
func objectOf(doc map[string]any) (*object, *Error) {
	js, err := json.Marshal(doc)
	if err != nil {
		return nil, &Error{Reason: "cannot be represented as JSON: " + err.Error()}
	}
	var m map[string]any
	if err := utiljson.Unmarshal(js, &m); err != nil {
		return nil, &Error{Reason: "invalid document: " + err.Error()}
	}
	return newObject(js, m), nil
}

// object checks one decoded object against its API definition.
func (c *Checker) object(o *object) []*Error {
	p := &problems{obj: o}
	switch {
	case o.apiVersion == "" || o.kind == "":
		if o.apiVersion == "" {
			p.add("apiVersion", "Required value: every object needs an apiVersion (a string)")
		}
		if o.kind == "" {
			p.add("kind", "Required value: every object needs a kind (a string)")
		}
	case o.gvk.Kind == "":
		p.addf("apiVersion", "Invalid value: %q: not a group/version", o.apiVersion)
	case o.gvk.Group == "install.istio.io" && o.gvk.Kind == "IstioOperator":
		c.checkIstioOperator(p)
	case c.builtins.knows(o.gvk):
		c.builtins.check(p)
	default:
		v, err := c.crds().lookup(o.gvk)
		switch {
		case err != nil:
			p.add("", err.Error())
		case v != nil:
			c.checkCustom(p, v)
		default:
			p.add("", c.unknownKind(o.gvk))
		}
	}
	return p.errs
}

// unknownKind explains why no definition was found for k.
func (c *Checker) unknownKind(k gvk) string {
	var versions, kinds []string
	for _, other := range append(c.crds().kinds(), c.builtins.kinds()...) {
		if other.Group == k.Group {
			if other.Kind == k.Kind {
				versions = append(versions, other.GroupVersion().String())
			} else {
				kinds = append(kinds, other.Kind)
			}
		}
	}
	msg := fmt.Sprintf("no API definition for apiVersion %q, kind %q", k.GroupVersion().String(), k.Kind)
	switch {
	case len(versions) > 0:
		sort.Strings(versions)
		msg += fmt.Sprintf(": %s is served as %s", k.Kind, strings.Join(uniq(versions), ", "))
	case len(kinds) > 0:
		msg += suggestion(k.Kind, uniq(kinds))
	}
	return msg
}

func uniq(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// describe names a decoded JSON value's type for messages.
func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "a map"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64, float64, int, int32:
		return "a number"
	default:
		return fmt.Sprintf("%T", v)
	}
}
