package diff

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/golemtrust/meshc/internal/bench"
	"github.com/golemtrust/meshc/internal/review"
)

// repo is a git repository in a temporary folder, with commits whose ids
// do not depend on the clock.
type repo struct {
	t   *testing.T
	dir string
}

func newRepo(t *testing.T) *repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	r := &repo{t, t.TempDir()}
	r.git("init", "-q", "-b", "main")
	return r
}

func (r *repo) git(args ...string) {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-C", r.dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=meshc", "GIT_AUTHOR_EMAIL=meshc@example.com",
		"GIT_COMMITTER_NAME=meshc", "GIT_COMMITTER_EMAIL=meshc@example.com",
		"GIT_AUTHOR_DATE=2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2026-01-01T00:00:00Z", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	require.NoError(r.t, err, "git %v: %s", args, out)
}

func (r *repo) commit(msg string) {
	r.git("add", "-A")
	r.git("commit", "-q", "-m", msg)
}

func (r *repo) clusters() string { return filepath.Join(r.dir, "clusters") }

// copyExample copies the repository's example mesh into the repo.
func (r *repo) copyExample() {
	r.t.Helper()
	require.NoError(r.t, os.MkdirAll(r.clusters(), 0o755))
	entries, err := os.ReadDir("../../clusters")
	require.NoError(r.t, err)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join("../../clusters", e.Name()))
		require.NoError(r.t, err)
		require.NoError(r.t, os.WriteFile(filepath.Join(r.clusters(), e.Name()), data, 0o644))
	}
}

func (r *repo) edit(name, old, new string) {
	r.t.Helper()
	p := filepath.Join(r.clusters(), name)
	data, err := os.ReadFile(p)
	require.NoError(r.t, err)
	require.Contains(r.t, string(data), old)
	require.NoError(r.t, os.WriteFile(p, []byte(strings.Replace(string(data), old, new, 1)), 0o644))
}

func (r *repo) run(opts Options) *Result {
	r.t.Helper()
	// From the repository's root, as a user or CI runs it: paths in the
	// output are relative.
	r.t.Chdir(r.dir)
	opts.ClustersDir = "clusters"
	res, diags, err := Run(opts)
	require.NoError(r.t, err)
	require.False(r.t, diags.Failed(false), "%s", diags)
	return res
}

// TestMarkdownStaysUnderTheLimit changes every AuthorizationPolicy of a
// generated 64 x 10 mesh (the trust domain is in every principal): well
// over a thousand changed objects, far more diff than a comment holds.
func TestMarkdownStaysUnderTheLimit(t *testing.T) {
	r := newRepo(t)
	require.NoError(t, bench.Generate(r.clusters(), 64, 10))
	r.commit("generated")
	r.edit("mesh.yaml", "trustDomain: cluster.local", "trustDomain: golemtrust.example")
	res := r.run(Options{})

	changed := 0
	for _, c := range res.Clusters {
		_, _, n := c.Count()
		changed += n
	}
	require.Greater(t, changed, 1000)
	t.Logf("%d changed objects", changed)

	md := Markdown(res, 0)
	require.LessOrEqual(t, len(md), MarkdownLimit)
	require.NotContains(t, md, "The comment is cut here", "the list of objects fits; only diffs are left out")
	require.Equal(t, md, Markdown(res, 0), "the same input gives the same comment")
	shown := strings.Count(md, "```diff\n")
	named := strings.Count(md, "\n- `") - countAddedRemoved(res)
	left := named - shown
	require.Greater(t, shown, 0)
	require.Greater(t, left, 0)
	require.Equal(t, changed, named, "every changed object is named, with its diff or without")
	require.True(t, strings.HasSuffix(md, "\n"+itoa(left)+" changed objects are listed without their diff, to keep this comment under 65000 characters; `meshc diff` shows every diff.\n"), md[len(md)-300:])
	// What is shown is a prefix: after the first object without its diff,
	// no diff follows.
	first := strings.Index(md, "`\n- `")
	require.Greater(t, first, 0)
	require.NotContains(t, md[first:], "```diff\n")

	// With a limit even the list of objects does not fit in, the comment
	// is cut at a line and says so.
	small := Markdown(res, 8000)
	require.LessOrEqual(t, len(small), 8000)
	require.Contains(t, small, "The comment is cut here (")
	require.Equal(t, strings.Count(small, "<details>"), strings.Count(small, "</details>"))
}

func itoa(n int) string { return fmtInt(n) }

func fmtInt(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

// TestExamplePromotion renders the comment for the ankh-morpork canary
// promotion and compares it with the committed example a reviewer reads;
// MESHC_UPDATE=1 rewrites it.
func TestExamplePromotion(t *testing.T) {
	r := newRepo(t)
	r.copyExample()
	r.commit("example mesh")
	r.git("checkout", "-q", "-b", "promote-ankh-morpork")
	r.edit("ankh-morpork.yaml", "  revision: \"1-20\"\n  canary: \"1-21\"\n", "  revision: \"1-21\"\n  previous: \"1-20\"\n")
	r.edit("ankh-morpork.yaml", "    revision: \"1-21\"\n", "")
	r.edit("ankh-morpork.yaml", "# Ankh-Morpork is in the middle of a canary upgrade from Istio 1.20 to 1.21:\n# istiod 1-21 runs beside 1-20, and royal-bank has been migrated to it.\n",
		"# Ankh-Morpork runs Istio 1.21 (promoted from the 1-20 canary upgrade; istiod 1-20 stays as previous until retired).\n")
	r.commit("ankh-morpork: promote 1-21")
	golden, err := filepath.Abs("../../examples/review/ankh-morpork-promotion.md")
	require.NoError(t, err)
	res := r.run(Options{})
	got := Markdown(res, 0)
	if os.Getenv("MESHC_UPDATE") != "" {
		require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
		require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	require.Equal(t, string(want), got)
	rules := map[string]int{}
	for _, k := range res.Risks {
		rules[k.Rule]++
	}
	require.Equal(t, map[string]int{"revision-moved": 2, "revisions-moved-at-once": 1}, rules)
}

// TestOnlyChangedClustersAreCompiled: an edit to one cluster file compiles
// that cluster alone on both sides.
func TestOnlyChangedClustersAreCompiled(t *testing.T) {
	r := newRepo(t)
	r.copyExample()
	r.commit("example mesh")
	r.edit("quirm.cue", `team: "payments"`, `team: "payments-eu"`)
	dir := r.clusters()
	res, diags, err := Run(Options{ClustersDir: dir})
	require.NoError(t, err)
	require.Empty(t, diags)
	require.Len(t, res.Clusters, 1)
	require.Equal(t, "quirm", res.Clusters[0].Name)

	// a network change flips nothing here (three networks before, three
	// after), but a mesh file change compiles every cluster on both sides.
	r.edit("mesh.yaml", "branch: main", "branch: trunk")
	res = r.run(Options{})
	require.Len(t, res.Clusters, 3)
	for _, c := range res.Clusters {
		require.Equal(t, Changed, c.Change)
	}
}

func countAddedRemoved(r *Result) int {
	n := 0
	for _, c := range r.Clusters {
		a, rm, _ := c.Count()
		n += a + rm
	}
	return n
}

// TestMarkdownListsRisksWithinHalfTheLimit: a change that flags thousands
// of objects lists the first risks and counts the rest.
func TestMarkdownListsRisksWithinHalfTheLimit(t *testing.T) {
	res := &Result{Base: "main", Commit: strings.Repeat("ab", 20)}
	c := Cluster{Name: "big", Change: Changed}
	for i := range 2000 {
		name := "ns-" + itoa(i)
		res.Risks = append(res.Risks, review.Risk{Rule: "namespace-removed", Cluster: "big", Kind: "Namespace", Name: name,
			Before: "present", After: "removed", Message: "namespace " + name + " leaves the cluster file", Source: "clusters/big.yaml:" + itoa(i+10)})
		c.Objects = append(c.Objects, Object{Key: review.Key{Kind: "Namespace", Name: name}, Change: Removed})
	}
	res.Clusters = []Cluster{c}
	md := Markdown(res, 0)
	require.LessOrEqual(t, len(md), MarkdownLimit)
	listed := strings.Count(md, "| `namespace-removed` |")
	require.Greater(t, listed, 100)
	require.Less(t, listed, 2000)
	require.Contains(t, md, "\n"+itoa(2000-listed)+" more risks not listed, to keep this comment short; `meshc diff` lists them all.\n")
	require.Less(t, strings.Index(md, "namespace-removed"), strings.Index(md, "<details>"), "risks come first")
}
