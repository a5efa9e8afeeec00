package jsonschema

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// annotations are the keywords that say something about a value without
// constraining it.
var annotations = map[string]bool{
	"description": true, "default": true, "title": true, "$comment": true, "examples": true,
}

// simplify merges allOf arms, and single anyOf arms, into the schema that
// holds them where no keyword clashes ({"allOf": [{"type": "number"},
// {"type": "integer", "minimum": 1}]} is {"type": "integer", "minimum":
// 1}): the same schema, easier to read, and an editor's messages are
// clearer.
func simplify(n node) {
	for _, k := range sortedKeys(n) {
		switch x := n[k].(type) {
		case node:
			if k == "const" || k == "default" {
				continue
			}
			if k == "properties" || k == "patternProperties" || k == "$defs" {
				for _, kk := range sortedKeys(x) {
					if c, ok := x[kk].(node); ok {
						simplify(c)
					}
				}
				continue
			}
			simplify(x)
		case []any:
			if k == "enum" || k == "required" {
				continue
			}
			for _, e := range x {
				if c, ok := e.(node); ok {
					simplify(c)
				}
			}
		}
	}
	if arms, ok := n["anyOf"].([]any); ok && len(arms) == 1 {
		delete(n, "anyOf")
		if !merge(n, arms[0].(node)) {
			n["anyOf"] = arms
		}
	}
	if arms, ok := n["allOf"].([]any); ok {
		delete(n, "allOf")
		var keep []any
		for _, a := range arms {
			if !merge(n, a.(node)) {
				keep = append(keep, a)
			}
		}
		if len(keep) > 0 {
			n["allOf"] = keep
		}
	}
}

// merge adds the keywords of arm to n when none clashes, and reports
// whether it did. n's annotations win over arm's.
func merge(n, arm node) bool {
	_, armRef := arm["$ref"]
	_, nRef := n["$ref"]
	if armRef || nRef {
		// Draft-07 ignores a $ref's siblings: only annotations may join
		// one.
		for _, x := range []node{n, arm} {
			for k := range x {
				if k != "$ref" && !annotations[k] {
					return false
				}
			}
		}
		if armRef && nRef {
			return false
		}
	}
	merged := node{}
	for k, v := range arm {
		old, ok := n[k]
		switch {
		case !ok:
			merged[k] = v
		case annotations[k]:
		case k == "type":
			t := intersectTypes(old, v)
			if t == nil {
				return false
			}
			merged[k] = t
		case reflect.DeepEqual(old, v):
		default:
			return false
		}
	}
	for k, v := range merged {
		n[k] = v
	}
	return true
}

// intersectTypes intersects two type keywords (a string or a list), or
// returns nil. An integer is a number.
func intersectTypes(a, b any) any {
	set := func(x any) []string {
		switch x := x.(type) {
		case string:
			return []string{x}
		case []any:
			var out []string
			for _, e := range x {
				if s, ok := e.(string); ok {
					out = append(out, s)
				}
			}
			return out
		}
		return nil
	}
	var out []any
	for _, x := range set(a) {
		for _, y := range set(b) {
			switch {
			case x == y:
				out = append(out, x)
			case x == "integer" && y == "number", x == "number" && y == "integer":
				out = append(out, "integer")
			}
		}
	}
	switch len(out) {
	case 0:
		return nil
	case 1:
		return out[0]
	}
	return out
}

// notInDraft7 are draft 2020-12 keywords draft-07 has no word for.
var notInDraft7 = []string{
	"$anchor", "$dynamicAnchor", "$dynamicRef", "$recursiveRef", "$vocabulary",
	"dependentRequired", "dependentSchemas", "unevaluatedItems", "unevaluatedProperties",
	"minContains", "maxContains",
}

// toDraft7 rewrites a draft 2020-12 schema as draft-07: $defs are
// definitions, prefixItems are an items list with additionalItems, and a
// $ref has no constraining siblings (draft-07 ignores them).
func toDraft7(root node) error {
	if defs, ok := root["$defs"]; ok {
		delete(root, "$defs")
		root["definitions"] = defs
	}
	var err error
	visit(root, func(n node) {
		for _, k := range notInDraft7 {
			if _, ok := n[k]; ok && err == nil {
				err = fmt.Errorf("the schema uses %s, which draft-07 cannot express", k)
			}
		}
		if ref, ok := n["$ref"].(string); ok {
			if name, ok := strings.CutPrefix(ref, defsRef); ok {
				n["$ref"] = "#/definitions/" + name
			}
			var constraints bool
			for k := range n {
				constraints = constraints || k != "$ref" && !annotations[k]
			}
			if constraints {
				allOf, _ := n["allOf"].([]any)
				n["allOf"] = append([]any{node{"$ref": n["$ref"]}}, allOf...)
				delete(n, "$ref")
			}
		}
		if prefix, ok := n["prefixItems"].([]any); ok {
			delete(n, "prefixItems")
			items, hasItems := n["items"]
			same := hasItems
			for _, p := range prefix {
				same = same && reflect.DeepEqual(p, items)
			}
			if same {
				return // minItems says how many there must be
			}
			n["items"] = prefix
			if hasItems {
				n["additionalItems"] = items
			}
		}
	})
	return err
}

// check refuses what would make a schema reject valid files: an open CUE
// struct that the generator wrote as "const": {}.
func check(root node) error {
	var err error
	visit(root, func(n node) {
		if c, ok := n["const"]; ok && err == nil {
			if _, isMap := c.(node); isMap {
				b, _ := json.Marshal(n)
				err = fmt.Errorf("a map generated as a constant (a struct the generator could not express): %s", b)
			}
		}
	})
	return err
}
