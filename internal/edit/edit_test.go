package edit

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func set(path, v string) Change          { return Change{Path: strings.Split(path, "."), Value: &v} }
func remove(path string) Change          { return Change{Path: strings.Split(path, ".")} }
func after(c Change, s ...string) Change { c.After = s; return c }

const clusterYAML = `# yaml-language-server: $schema=../schema/cluster.schema.json
# Ankh-Morpork is in the middle of a canary upgrade.
name: ankh-morpork
network: network-am   # the AM network
environment: production
controlPlane:
  revision: "1-20"  # the default
  canary: '1-21'
  tags:
    prod-stable: "1-20"
namespaces:
  royal-bank:
    # Moved first.
    revision: "1-21"   # pinned during the upgrade
    labels: {team: payments}
  patricians-office:
    labels: {team: governance}
    authorization:
      - name: x
        from:
          - serviceAccount: y
  merchants-guild: {labels: {team: trade}}
  unseen-university: {}
  lone:
    revision: "1-21"
`

func TestYAML(t *testing.T) {
	for name, tc := range map[string]struct {
		changes []Change
		want    string // the lines that differ: "-old" / "+new", in order
	}{
		"set a quoted value": {
			[]Change{set("controlPlane.revision", "1-21")},
			`-  revision: "1-20"  # the default
+  revision: "1-21"  # the default`,
		},
		"set a single-quoted value": {
			[]Change{set("controlPlane.canary", "1-22")},
			`-  canary: '1-21'
+  canary: "1-22"`,
		},
		"insert after a sibling": {
			[]Change{after(set("controlPlane.previous", "1-20"), "canary", "revision")},
			`+  previous: "1-20"`,
		},
		"insert first in a block map": {
			[]Change{set("namespaces.patricians-office.revision", "1-21")},
			`+    revision: "1-21"`,
		},
		"insert first in a flow map": {
			[]Change{set("namespaces.merchants-guild.revision", "1-21")},
			`-  merchants-guild: {labels: {team: trade}}
+  merchants-guild: {revision: "1-21", labels: {team: trade}}`,
		},
		"insert into an empty flow map": {
			[]Change{set("namespaces.unseen-university.revision", "1-21")},
			`-  unseen-university: {}
+  unseen-university: {revision: "1-21"}`,
		},
		"remove keeps its end-of-line comment": {
			[]Change{remove("namespaces.royal-bank.revision")},
			`-    revision: "1-21"   # pinned during the upgrade
+    # pinned during the upgrade`,
		},
		"remove a plain field": {
			[]Change{remove("controlPlane.canary")},
			`-  canary: '1-21'`,
		},
		"remove the only field leaves {}": {
			[]Change{remove("namespaces.lone.revision")},
			`-  lone:
-    revision: "1-21"
+  lone: {}`,
		},
		"remove what is not there": {
			[]Change{remove("controlPlane.previous"), remove("namespaces.nowhere.revision")},
			``,
		},
		"promote": {
			[]Change{set("controlPlane.revision", "1-21"), remove("controlPlane.canary"), after(set("controlPlane.previous", "1-20"), "canary", "revision"), remove("namespaces.royal-bank.revision")},
			`-  revision: "1-20"  # the default
-  canary: '1-21'
+  revision: "1-21"  # the default
+  previous: "1-20"
-    revision: "1-21"   # pinned during the upgrade
+    # pinned during the upgrade`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := Apply([]byte(clusterYAML), false, tc.changes)
			require.NoError(t, err)
			assert.Equal(t, tc.want, lineDiff(clusterYAML, string(out)))
		})
	}
}

const clusterJSON = `{
  "name": "genua",
  "controlPlane": {
    "revision": "1-20",
    "canary": "1-21"
  },
  "namespaces": {
    "a": {"revision": "1-21", "labels": {"team": "x"}},
    "b": {},
    "c": {
      "labels": {"team": "y"}
    }
  }
}
`

func TestJSON(t *testing.T) {
	for name, tc := range map[string]struct {
		changes []Change
		want    string
	}{
		"promote": {
			[]Change{set("controlPlane.revision", "1-21"), remove("controlPlane.canary"), after(set("controlPlane.previous", "1-20"), "canary", "revision"), remove("namespaces.a.revision")},
			`-    "revision": "1-20",
-    "canary": "1-21"
+    "revision": "1-21",
+    "previous": "1-20"
-    "a": {"revision": "1-21", "labels": {"team": "x"}},
+    "a": {"labels": {"team": "x"}},`,
		},
		"pin": {
			[]Change{set("namespaces.b.revision", "1-21"), set("namespaces.c.revision", "1-21")},
			`-    "b": {},
+    "b": {"revision": "1-21"},
+      "revision": "1-21",`,
		},
		"remove the first of two": {
			[]Change{remove("controlPlane.revision")},
			`-    "revision": "1-20",`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := Apply([]byte(clusterJSON), true, tc.changes)
			require.NoError(t, err)
			assert.Equal(t, tc.want, lineDiff(clusterJSON, string(out)))
		})
	}
}

func TestUnsupported(t *testing.T) {
	_, err := Apply([]byte("a:\n  b: |\n    x\n"), false, []Change{set("a.b", "y")})
	assert.ErrorContains(t, err, "cannot edit in place")
	_, err = Apply([]byte("a: 1\n"), false, []Change{set("x.y", "y")})
	assert.ErrorContains(t, err, "x is not in the file")
}

// lineDiff lists the lines that differ between a and b as "-old" and "+new"
// lines, hunk by hunk; the lines outside the hunks are byte-identical.
func lineDiff(a, b string) string {
	al, bl := strings.SplitAfter(a, "\n"), strings.SplitAfter(b, "\n")
	// Longest common subsequence of lines.
	n, m := len(al), len(bl)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if al[i] == bl[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []string
	var minus, plus []string
	flush := func() {
		out = append(out, minus...)
		out = append(out, plus...)
		minus, plus = nil, nil
	}
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && al[i] == bl[j]:
			flush()
			i, j = i+1, j+1
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			plus = append(plus, "+"+strings.TrimSuffix(bl[j], "\n"))
			j++
		default:
			minus = append(minus, "-"+strings.TrimSuffix(al[i], "\n"))
			i++
		}
	}
	flush()
	return strings.Join(out, "\n")
}

// TestEveryField sets and removes every scalar field of the example mesh's
// files and of the test inputs: each edit either fails cleanly or changes
// at most the lines of its field (and of an emptied map's key) and holds
// what kyaml's own edit holds (Apply checks that).
func TestEveryField(t *testing.T) {
	files := map[string]bool{clusterYAML: false, clusterJSON: true}
	paths, err := filepath.Glob("../../clusters/*.yaml")
	require.NoError(t, err)
	for _, p := range paths {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		files[string(data)] = false
	}
	applied, failed := 0, 0
	defer func() {
		// Most edits apply; the ones that fail are list items' fields
		// and multi-line values.
		t.Logf("%d edits applied, %d refused", applied, failed)
		assert.Greater(t, applied, 4*failed)
	}()
	for text, json := range files {
		rn, err := yaml.Parse(text)
		require.NoError(t, err)
		var scalars [][]string
		var walk func(n *yaml.Node, path []string)
		walk = func(n *yaml.Node, path []string) {
			if n.Kind != yaml.MappingNode {
				return
			}
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := append(slices.Clone(path), n.Content[i].Value)
				if n.Content[i+1].Kind == yaml.ScalarNode {
					scalars = append(scalars, p)
				}
				walk(n.Content[i+1], p)
			}
		}
		walk(rn.YNode(), nil)
		require.NotEmpty(t, scalars)
		for _, p := range scalars {
			for _, c := range []Change{set(strings.Join(p, "."), "x-1"), remove(strings.Join(p, ".")), set(strings.Join(append(slices.Clone(p[:len(p)-1]), "new-field"), "."), "x-2")} {
				out, err := Apply([]byte(text), json, []Change{c})
				if err != nil {
					failed++
					continue
				}
				applied++
				changed := 0
				for _, line := range strings.Split(lineDiff(text, string(out)), "\n") {
					if strings.HasPrefix(line, "+") {
						changed++
					}
				}
				assert.LessOrEqual(t, changed, 2, "%s: %s", c, lineDiff(text, string(out)))
			}
		}
	}
}
