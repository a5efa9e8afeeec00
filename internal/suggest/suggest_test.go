package suggest

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"mtls", "mtls", 0},
		{"mtsl", "mtls", 1}, // a swap is one edit
		{"pod", "pods", 1},
		{"autoscaleMinn", "autoscaleMin", 1},
		{"kitten", "sitting", 3},
		{"", "abc", 3},
	} {
		assert.Equal(t, c.want, Distance(c.a, c.b), "%s/%s", c.a, c.b)
	}
}

func TestClosest(t *testing.T) {
	names := []string{"mtls", "name", "network", "namespaces"}
	assert.Equal(t, "mtls", Closest("mtsl", names, 2))
	assert.Equal(t, "network", Closest("netwrok", names, 2))
	assert.Equal(t, "", Closest("zzzzzz", names, 2))
	assert.Equal(t, "", Closest("mtls", names, 2), "the word itself is no suggestion")
	assert.Equal(t, "name", Closest("nme", []string{"nmea", "name"}, 1), "ties go to the first in sorted order")
}
