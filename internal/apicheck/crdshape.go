package apicheck

import (
	"crypto/sha256"
	"maps"
	"reflect"
	"slices"
	"strconv"

	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
)

// A custom resource's verdict is decided by its shape when an object of
// the same shape passed the full check (checkCustom): the shape is the
// object, as objectOf normalised it, with the string leaves that no check
// but the per-object ones can read replaced by a blank marker, and the
// root metadata left out. On a hit only the per-object checks run
// (checkObjectMeta, the Helm values); they read everything the shape
// leaves out. What each check of checkCustom reads, in
// k8s.io/apiextensions-apiserver@v0.32.13 pkg/apiserver and
// k8s.io/kube-openapi pkg/validation/validate:
//
//   - schema/pruning (algorithm.go prune, skipPrune) reads map keys and
//     whether a value is a map, a list or a scalar, never a scalar's
//     value; at the resource root it skips apiVersion, kind and metadata
//     (PruneWithOptions makes the root an embedded resource).
//   - the OpenAPI validator (validation.ValidateCustomResource ->
//     kube-openapi validate: stringValidator.Validate reads a string
//     only for MaxLength, MinLength, Pattern; the format validator for
//     Format; the enum check for Enum; allOf/anyOf/oneOf/not validate the
//     whole subtree they sit on; type checks read only the Go kind). So a
//     string whose node has no ValueValidation at all and whose ancestors
//     have no Enum and no composition is read by none of it.
//   - schema/objectmeta Validate (validation.go validate,
//     validateEmbeddedResource) reads values only below an
//     x-kubernetes-embedded-resource node (apiVersion, kind, metadata);
//     the root is not one (isResourceRoot false in checkCustom).
//   - schema/listtype ValidateListSetsAndMaps reads the items of a
//     list-type set (validateListSet) and the key fields of a list-type
//     map's items (validateListMap), nothing else.
//   - schema/cel: a rule of x-kubernetes-validations sees its node's
//     whole subtree (self), and nothing outside it; its cost depends on
//     that subtree too. So no blank below a node with rules.
//
// Strings below a node that keeps unknown fields
// (x-kubernetes-preserve-unknown-fields) and that its schema does not
// name are read by none of these (pruning skips them, skipPrune; the
// validator has no schema for them; listtype and cel walk only named
// properties); the Helm values check reads them, and runs per object.
//
// Root metadata: the validator checks it against the CRD's metadata
// schema, so a kind is eligible only when that schema is at most
// `type: object`, and the root has no CEL rules (they may read
// metadata.name); checkObjectMeta does the rest, per object.
// TestCRDShapeRealObjects and FuzzCRDShape compare the two paths.

// shapeEligible reports whether the kind's objects may be decided by
// shape: the root has no rules, enum or composition and is not itself
// marked embedded, and metadata's schema is nothing beyond type: object.
func shapeEligible(s *structuralschema.Structural) bool {
	if s == nil || len(s.XValidations) > 0 || s.XEmbeddedResource || s.XPreserveUnknownFields || closedValidation(s.ValueValidation) {
		return false
	}
	md, ok := s.Properties["metadata"]
	if !ok {
		return true
	}
	return md.Type == "object" && len(md.Properties) == 0 && md.AdditionalProperties == nil && md.Items == nil &&
		emptyValidation(md.ValueValidation) && reflect.ValueOf(md.Extensions).IsZero() &&
		len(md.XValidations) == 0 && md.Default.Object == nil && !md.Nullable
}

// closedValidation reports whether vv constrains a whole subtree by
// value: an enum or a composition.
func closedValidation(vv *structuralschema.ValueValidation) bool {
	return vv != nil && (len(vv.Enum) > 0 || len(vv.AllOf) > 0 || len(vv.AnyOf) > 0 || len(vv.OneOf) > 0 || vv.Not != nil)
}

func emptyValidation(vv *structuralschema.ValueValidation) bool {
	return vv == nil || reflect.ValueOf(*vv).IsZero()
}

// blankable reports whether a string at node s may be blanked.
func blankable(s *structuralschema.Structural) bool {
	return s.Type == "string" && emptyValidation(s.ValueValidation) && len(s.XValidations) == 0 &&
		!s.XIntOrString && !s.XEmbeddedResource && !s.XPreserveUnknownFields
}

// crdShape returns the shape key of the normalised object m under the
// kind's structural schema s (eligible per shapeEligible); false when
// the object holds a value appendShape does not know or metadata is not
// a map (the full check decides).
func crdShape(m map[string]any, s *structuralschema.Structural) (key [32]byte, ok bool) {
	if _, isMap := m["metadata"].(map[string]any); !isMap {
		return key, false
	}
	b := shapeBufs.Get().(*[]byte)
	defer shapeBufs.Put(b)
	text := append((*b)[:0], "crd\x00"...)
	text = append(text, '{')
	for _, k := range slices.Sorted(maps.Keys(m)) {
		text = strconv.AppendQuote(text, k)
		text = append(text, ':')
		var ok bool
		switch k {
		case "metadata":
			text, ok = append(text, 'M'), true
		case "apiVersion", "kind":
			text, ok = appendShape(text, m[k], elsewhere)
		default:
			text, ok = appendCRDShape(text, m[k], child(s, k), false, false)
		}
		if !ok {
			*b = text[:0]
			return key, false
		}
		text = append(text, ',')
	}
	text = append(text, '}')
	*b = text[:0]
	return sha256.Sum256(text), true
}

// unknownNode stands for a field the schema does not allow: its subtree
// is kept verbatim (the full check reports it; nothing records a shape
// for it).
var unknownNode = &structuralschema.Structural{}

// child is the schema of s's property k: nil in an open subtree (s keeps
// unknown fields and does not name k), unknownNode for a field pruning
// drops.
func child(s *structuralschema.Structural, k string) *structuralschema.Structural {
	if p, ok := s.Properties[k]; ok {
		return &p
	}
	if s.AdditionalProperties != nil {
		if s.AdditionalProperties.Structural != nil {
			return s.AdditionalProperties.Structural
		}
		return unknownNode
	}
	if s.XPreserveUnknownFields {
		return nil
	}
	return unknownNode
}

// appendCRDShape appends x's shape text at schema node s (nil: open, below
// a node that keeps unknown fields). mapKey: x is a key field of a
// list-type map's item.
func appendCRDShape(b []byte, x any, s *structuralschema.Structural, open, mapKey bool) ([]byte, bool) {
	if s == unknownNode || mapKey {
		return appendShape(b, x, elsewhere)
	}
	if s != nil && (len(s.XValidations) > 0 || s.XEmbeddedResource || closedValidation(s.ValueValidation)) {
		return appendShape(b, x, elsewhere) // read as a whole
	}
	if s == nil && !open {
		open = true
	}
	switch x := x.(type) {
	case map[string]any:
		if s != nil && s.Type != "object" {
			return appendShape(b, x, elsewhere)
		}
		b = append(b, '{')
		for _, k := range slices.Sorted(maps.Keys(x)) {
			b = strconv.AppendQuote(b, k)
			b = append(b, ':')
			var c *structuralschema.Structural
			if s != nil {
				c = child(s, k)
			}
			var ok bool
			if b, ok = appendCRDShape(b, x[k], c, open, false); !ok {
				return b, false
			}
			b = append(b, ',')
		}
		return append(b, '}'), true
	case []any:
		if s != nil && (s.Type != "array" || s.Items == nil) {
			return appendShape(b, x, elsewhere)
		}
		var items *structuralschema.Structural
		var keys []string
		if s != nil {
			if s.XListType != nil && *s.XListType == "set" {
				return appendShape(b, x, elsewhere) // items compared (validateListSet)
			}
			if s.XListType != nil && *s.XListType == "map" {
				keys = s.XListMapKeys
			}
			items = s.Items
		}
		b = append(b, '[')
		for _, e := range x {
			var ok bool
			if b, ok = appendItem(b, e, items, open, keys); !ok {
				return b, false
			}
			b = append(b, ',')
		}
		return append(b, ']'), true
	case string:
		if s == nil || blankable(s) {
			return append(b, 'B'), true
		}
		return appendShape(b, x, elsewhere)
	default:
		return appendShape(b, x, elsewhere)
	}
}

// appendItem appends a list item's shape; the key fields of a list-type
// map's item are kept verbatim (validateListMap compares them).
func appendItem(b []byte, e any, items *structuralschema.Structural, open bool, keys []string) ([]byte, bool) {
	m, isMap := e.(map[string]any)
	if len(keys) == 0 || !isMap || items.Type != "object" || len(items.XValidations) > 0 || items.XEmbeddedResource || closedValidation(items.ValueValidation) {
		return appendCRDShape(b, e, items, open, false)
	}
	b = append(b, '{')
	for _, k := range slices.Sorted(maps.Keys(m)) {
		b = strconv.AppendQuote(b, k)
		b = append(b, ':')
		var ok bool
		if b, ok = appendCRDShape(b, m[k], child(items, k), open, slices.Contains(keys, k)); !ok {
			return b, false
		}
		b = append(b, ',')
	}
	return append(b, '}'), true
}
