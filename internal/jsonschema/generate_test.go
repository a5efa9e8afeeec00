package jsonschema

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDeterministic generates the files twice, each run from scratch: the
// bytes must not depend on map order or anything else that varies.
func TestDeterministic(t *testing.T) {
	a, err := generate()
	require.NoError(t, err)
	for i := 0; i < 3; i++ {
		b, err := generate()
		require.NoError(t, err)
		assert.Equal(t, a, b)
	}
}

func TestTypeIntersection(t *testing.T) {
	assert.Equal(t, "integer", intersectTypes("number", "integer"))
	assert.Equal(t, "string", intersectTypes([]any{"string", "null"}, "string"))
	assert.Nil(t, intersectTypes("string", "number"))
}

func TestMergeKeepsClashingArms(t *testing.T) {
	n := node{"allOf": []any{
		node{"type": "number"},
		node{"type": "integer", "minimum": 1},
		node{"minimum": 2},
		node{"$ref": "#/$defs/X"},
	}}
	simplify(n)
	assert.Equal(t, node{
		"type": "integer", "minimum": 1,
		"allOf": []any{node{"minimum": 2}, node{"$ref": "#/$defs/X"}},
	}, n)
}
