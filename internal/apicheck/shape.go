package apicheck

import (
	"crypto/sha256"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"sync"

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
	b := shapeBufs.Get().(*[]byte)
	defer shapeBufs.Put(b)
	text, canonical := appendShape((*b)[:0], doc, 0)
	*b = text[:0]
	if !canonical {
		// A value of a type appendShape does not know: the JSON text of
		// the object with its label values blanked is the key.
		top, meta := maps.Clone(doc), maps.Clone(md)
		meta["labels"] = blank
		top["metadata"] = meta
		js, err := json.Marshal(top) // map keys sorted: one text per shape
		if err != nil {
			return key, nil, false
		}
		return sha256.Sum256(js), values, true
	}
	return sha256.Sum256(text), values, true
}

// shapeBufs holds labelShape's text buffers between objects.
var shapeBufs = sync.Pool{New: func() any { return new([]byte) }}

// Depths appendShape passes down: at the top of the object, in its
// metadata, in its labels (whose values it blanks), anywhere else.
const (
	atTop = iota
	inMetadata
	inLabels
	elsewhere
)

// appendShape appends v's shape text to b: maps with sorted keys, every
// scalar tagged with its Go type (more distinct than JSON, never less),
// metadata.labels' values blank. false when v holds a type it does not
// know.
func appendShape(b []byte, v any, at int) ([]byte, bool) {
	ok := true
	switch x := v.(type) {
	case map[string]any:
		b = append(b, '{')
		for _, k := range slices.Sorted(maps.Keys(x)) {
			b = strconv.AppendQuote(b, k)
			b = append(b, ':')
			next := elsewhere
			switch {
			case at == atTop && k == "metadata":
				next = inMetadata
			case at == inMetadata && k == "labels":
				next = inLabels
			case at == inLabels:
				b = append(b, 'L', ',')
				continue
			}
			if b, ok = appendShape(b, x[k], next); !ok {
				return b, false
			}
			b = append(b, ',')
		}
		b = append(b, '}')
	case map[string]string:
		b = append(b, 'S', '{')
		for _, k := range slices.Sorted(maps.Keys(x)) {
			b = strconv.AppendQuote(b, k)
			if at == inLabels {
				b = append(b, ':', 'L', ',')
				continue
			}
			b = append(b, ':', 's')
			b = strconv.AppendQuote(b, x[k])
			b = append(b, ',')
		}
		b = append(b, '}')
	case []any:
		b = append(b, '[')
		for _, e := range x {
			if b, ok = appendShape(b, e, elsewhere); !ok {
				return b, false
			}
			b = append(b, ',')
		}
		b = append(b, ']')
	case []string:
		b = append(b, 'S', '[')
		for _, e := range x {
			b = strconv.AppendQuote(append(b, 's'), e)
			b = append(b, ',')
		}
		b = append(b, ']')
	case string:
		b = strconv.AppendQuote(append(b, 's'), x)
	case int:
		b = strconv.AppendInt(append(b, 'i'), int64(x), 10)
	case int64:
		b = strconv.AppendInt(append(b, 'I'), x, 10)
	case float64:
		b = strconv.AppendFloat(append(b, 'f'), x, 'g', -1, 64)
	case bool:
		b = strconv.AppendBool(append(b, 'b'), x)
	case nil:
		b = append(b, 'n')
	default:
		return b, false
	}
	return b, true
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
