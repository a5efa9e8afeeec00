package apicheck

import (
	"crypto/sha256"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sigsyaml "sigs.k8s.io/yaml"
)

// someLabelValues are label values the API server accepts and refuses.
var someLabelValues = []string{
	"c00001", "x", "", "a.b-c_d", "A9", strings.Repeat("v", 63),
	"bad value", "-x", "x-", strings.Repeat("v", 64), "x/y", "ü", "a\nb",
}

// TestLabelShapeEqualsFull requires the shape path to decide as the whole
// check does: every labelled object of the example's golden files, learnt
// once, then checked again with each label value replaced.
func TestLabelShapeEqualsFull(t *testing.T) {
	c := checker(t)
	verdicts := NewVerdicts(nil)
	var docs []map[string]any
	for _, g := range []string{"ankh-morpork", "genua", "quirm"} {
		data, err := os.ReadFile("../../golden/" + g + ".yaml")
		require.NoError(t, err)
		for _, d := range splitDocuments(data) {
			var m map[string]any
			require.NoError(t, sigsyaml.Unmarshal(d.data, &m))
			if _, _, ok := labelShape(m); ok {
				docs = append(docs, m)
			}
		}
	}
	require.Greater(t, len(docs), 10, "labelled objects")
	byShape := 0
	for i, doc := range docs {
		require.Empty(t, verdicts.Object("s.yaml", sha256.Sum256([]byte(fmt.Sprint("learn", i))), doc))
		labels := doc["metadata"].(map[string]any)["labels"].(map[string]any)
		for k := range labels {
			for j, v := range someLabelValues {
				m := withLabel(doc, k, v)
				shape, values, _ := labelShape(m)
				_, known := verdicts.shapes.Load(shape)
				require.True(t, known, "the mutated object has the learnt shape")
				viaShape := verdicts.Object("s.yaml", sha256.Sum256([]byte(fmt.Sprint(i, k, j))), m)
				whole := c.Object("s.yaml", m)
				assert.Equal(t, reasons(whole), reasons(viaShape), "%s=%q in document %d", k, v, i)
				if len(viaShape) == 0 && validLabelValues(values) {
					byShape++
				}
			}
		}
	}
	assert.Greater(t, byShape, 0)
}

// FuzzLabelShape is TestLabelShapeEqualsFull for any label value.
func FuzzLabelShape(f *testing.F) {
	for _, v := range someLabelValues {
		f.Add(v)
	}
	c, err := Default()
	if err != nil {
		f.Fatal(err)
	}
	verdicts := NewVerdicts(nil)
	ns := map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{
		"name": "team-000", "labels": map[string]any{"team": "t000", "cluster": "c00001"}}}
	if errs := verdicts.Object("s.yaml", [32]byte{1}, ns); len(errs) > 0 {
		f.Fatal(errs)
	}
	n := 0
	f.Fuzz(func(t *testing.T, v string) {
		n++
		m := withLabel(ns, "cluster", v)
		viaShape := verdicts.Object("s.yaml", sha256.Sum256([]byte(fmt.Sprint("fuzz", n, v))), m)
		if whole := c.Object("s.yaml", m); len(whole) != len(viaShape) {
			t.Fatalf("label value %q: shape path %v, whole check %v", v, viaShape, whole)
		}
	})
}

// withLabel returns a copy of doc with one label value replaced.
func withLabel(doc map[string]any, key, value string) map[string]any {
	md := doc["metadata"].(map[string]any)
	labels := map[string]any{}
	for k, v := range md["labels"].(map[string]any) {
		labels[k] = v
	}
	labels[key] = value
	meta := map[string]any{}
	for k, v := range md {
		meta[k] = v
	}
	meta["labels"] = labels
	out := map[string]any{}
	for k, v := range doc {
		out[k] = v
	}
	out["metadata"] = meta
	return out
}
