package overlay

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/golemtrust/meshc/internal/compile"
)

func TestPatchHoldsOnlyWhatTheBaseLacks(t *testing.T) {
	shared := compile.Doc{
		"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
		"metadata": compile.Doc{"name": "istiod-1-20", "namespace": "flux-system"},
		"spec":     compile.Doc{"chart": compile.Doc{"spec": compile.Doc{"chart": "istiod"}}, "values": compile.Doc{"revision": "1-20"}},
	}
	doc := compile.Doc{
		"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
		"metadata": compile.Doc{"name": "istiod-1-20", "namespace": "flux-system"},
		"spec": compile.Doc{
			"chart":  compile.Doc{"spec": compile.Doc{"chart": "istiod"}},
			"values": compile.Doc{"revision": "1-20", "global": compile.Doc{"network": "n1"}},
		},
	}
	p, err := patch(doc, shared)
	require.NoError(t, err)
	assert.Equal(t, compile.Doc{
		"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
		"metadata": compile.Doc{"name": "istiod-1-20", "namespace": "flux-system"},
		"spec":     compile.Doc{"values": compile.Doc{"global": compile.Doc{"network": "n1"}}},
	}, p)

	p, err = patch(shared, shared)
	require.NoError(t, err)
	assert.Nil(t, p, "nothing to patch")
}

func TestPatchRefusesToOverrideTheBase(t *testing.T) {
	shared := compile.Doc{"metadata": compile.Doc{"name": "x"}, "spec": compile.Doc{"a": "1"}}
	_, err := patch(compile.Doc{"metadata": compile.Doc{"name": "x"}, "spec": compile.Doc{"a": "2"}}, shared)
	assert.ErrorContains(t, err, "overrides spec.a")
	_, err = patch(compile.Doc{"metadata": compile.Doc{"name": "x"}}, shared)
	assert.ErrorContains(t, err, "the base sets spec")
}

func TestEncodeKeepsStringsStrings(t *testing.T) {
	out := string(Encode(compile.Doc{"a": "yes", "b": "0123", "c": "~", "d": "1e3", "e": "1-20", "f": 3}))
	assert.Equal(t, "a: \"yes\"\nb: \"0123\"\nc: \"~\"\nd: \"1e3\"\ne: 1-20\nf: 3\n", out)
	assert.True(t, strings.HasPrefix(string(Encode(compile.Doc{"a": 1}, compile.Doc{"b": 2})), "a: 1\n---\nb: 2\n"))
}
