package apicheck

import (
	"crypto/sha256"
	"encoding/json"
	"maps"

	"k8s.io/apimachinery/pkg/util/validation"
)

// An object's verdict is decided by its shape when an object of the same
// shape passed: the shape is the object with the values of its
// metadata.labels blanked, and the values are then checked on their own,
// as the API server checks them (validation.IsValidLabelValue).
//
// Why that is the same check: label values are read by nothing but the
// label validation of ObjectMeta, for every kind. Built-in kinds validate
// each label key and value on its own (ValidateLabels); a custom
// resource's schema cannot constrain metadata beyond its name, and CEL
// rules cannot see labels; IstioOperator's metadata is ObjectMeta too.
// TestLabelShapeEqualsFull and FuzzLabelShape compare the two.
//
// It pays where every cluster labels its namespaces with something of its
// own (its name, a cost centre): 50,000 distinct Namespace objects in a
// 1,000-cluster mesh, of 50 shapes.

// labelShape returns the key of doc's shape and its label values; ok is
// false when doc has no labels, or a label value that is not a string
// (the full check says what is wrong with it).
func labelShape(doc map[string]any) (key [32]byte, values []string, ok bool) {
	md, _ := doc["metadata"].(map[string]any)
	if md == nil {
		return key, nil, false
	}
	var blank map[string]string
	switch l := md["labels"].(type) {
	case map[string]any:
		blank = make(map[string]string, len(l))
		for k, v := range l {
			s, isStr := v.(string)
			if !isStr {
				return key, nil, false
			}
			blank[k] = ""
			values = append(values, s)
		}
	case map[string]string:
		blank = make(map[string]string, len(l))
		for k, v := range l {
			blank[k] = ""
			values = append(values, v)
		}
	default:
		return key, nil, false
	}
	if len(values) == 0 {
		return key, nil, false
	}
	top, meta := maps.Clone(doc), maps.Clone(md)
	meta["labels"] = blank
	top["metadata"] = meta
	js, err := json.Marshal(top) // map keys sorted: one text per shape
	if err != nil {
		return key, nil, false
	}
	return sha256.Sum256(js), values, true
}

// validLabelValues reports whether every value is a valid label value.
func validLabelValues(values []string) bool {
	for _, v := range values {
		if len(validation.IsValidLabelValue(v)) > 0 {
			return false
		}
	}
	return true
}
