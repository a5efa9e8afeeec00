package apicheck

import (
	"crypto/sha256"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestVerdictsSeeded: a key an earlier run passed is not checked again
// (the object below would fail), seeds may come in any order and twice,
// and Sorted lists the seeds and this run's passes once each, sorted.
func TestVerdictsSeeded(t *testing.T) {
	k := func(s string) [32]byte { return sha256.Sum256([]byte(s)) }
	bad := map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "Not_A_Name"}}
	good := map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "fine"}}
	v := NewVerdicts([][32]byte{k("b"), k("a"), k("b")})
	assert.Empty(t, v.Object("s.yaml", k("a"), bad), "a seeded key is not checked again")
	assert.NotEmpty(t, v.Object("s.yaml", k("bad"), bad), "an unknown key is checked")
	require.Empty(t, v.Object("s.yaml", k("good"), good))
	want := [][32]byte{k("a"), k("b"), k("good")}
	got := v.Sorted()
	require.Len(t, got, 3)
	assert.ElementsMatch(t, want, got)
	for i := 1; i < len(got); i++ {
		assert.Negative(t, compareKeys(got[i-1], got[i]), "sorted, once each")
	}
}
