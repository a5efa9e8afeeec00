package edit

import (
	"strings"
	"testing"

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
