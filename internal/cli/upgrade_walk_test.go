package cli_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/golemtrust/meshc/internal/cli"
	"github.com/golemtrust/meshc/internal/mesh"
)

// The walk-through tests drive a cluster through a whole upgrade with the
// real commands, `meshc upgrade next` until it has nothing to do, and
// after every step build the mesh and check in the rendered objects that
// the step keeps the mesh serving.

// walker runs meshc in a copy of the example mesh.
type walker struct {
	t       *testing.T
	dir     string
	cluster string
	last    *served // what the previous step's build served
}

func newWalker(t *testing.T, cluster, file string, content []byte) *walker {
	t.Helper()
	dir := t.TempDir()
	clusters := filepath.Join(dir, "clusters")
	require.NoError(t, os.MkdirAll(clusters, 0o755))
	entries, err := os.ReadDir("../../clusters")
	require.NoError(t, err)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join("../../clusters", e.Name()))
		require.NoError(t, err)
		if strings.HasPrefix(e.Name(), cluster+".") {
			continue
		}
		require.NoError(t, os.WriteFile(filepath.Join(clusters, e.Name()), data, 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(clusters, file), content, 0o644))
	w := &walker{t: t, dir: dir, cluster: cluster}
	w.last = w.build("start")
	return w
}

func (w *walker) run(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := cli.Main(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// build compiles the mesh and reads what the cluster's golden file serves.
func (w *walker) build(step string) *served {
	w.t.Helper()
	code, _, stderr := w.run("build", "--clusters", filepath.Join(w.dir, "clusters"),
		"--out", filepath.Join(w.dir, "overlays"), "--golden", filepath.Join(w.dir, "golden"), "--schema", filepath.Join(w.dir, "schema"))
	require.Equal(w.t, 0, code, "%s: build failed:\n%s", step, stderr)
	data, err := os.ReadFile(filepath.Join(w.dir, "golden", w.cluster+".yaml"))
	require.NoError(w.t, err)
	return readServed(w.t, step, data)
}

// walk runs upgrade next towards rev until it has nothing to do, checking
// every step; it returns the kinds of the steps taken.
func (w *walker) walk(rev string, maxSteps int) []string {
	w.t.Helper()
	var kinds []string
	for i := 0; ; i++ {
		require.Less(w.t, i, maxSteps, "the walk to %s does not end", rev)
		code, stdout, stderr := w.run("upgrade", "next", "--clusters", filepath.Join(w.dir, "clusters"), w.cluster, "--to", rev)
		require.Equal(w.t, 0, code, "upgrade next: %s", stderr)
		if strings.Contains(stdout, "nothing to do") {
			return kinds
		}
		lines := strings.Split(stdout, "\n")
		require.Greater(w.t, len(lines), 1, stdout)
		title := lines[1] // "1. migrate namespace x"
		kind := strings.Fields(title)[1]
		kinds = append(kinds, kind)
		now := w.build(title)
		w.check(title, kind, strings.Contains(title, " tag "), now)
		w.last = now
	}
}

// check compares one step's build with the previous one's.
func (w *walker) check(step, kind string, tagMove bool, now *served) {
	t := w.t
	t.Helper()
	moved := 0
	for ns, rev := range now.namespaces {
		if before, ok := w.last.namespaces[ns]; ok && before != rev {
			moved++
		}
	}
	if !tagMove {
		require.LessOrEqual(t, moved, 1, "%s: %d namespaces change revision in one step", step, moved)
	}
	if kind == "promote" || kind == "install" || kind == "retire" {
		require.Zero(t, moved, "%s: a namespace changes revision", step)
	}
	for rev := range w.last.istiods {
		if !now.istiods[rev] {
			require.Equal(t, "retire", kind, "%s: istiod %s uninstalled by a step that is not a retire", step, rev)
		}
	}
}

// served is what a cluster's rendered objects serve.
type served struct {
	istiods    map[string]bool   // installed istiod revisions
	namespaces map[string]string // injected namespace -> the revision injecting it
}

func readServed(t *testing.T, step string, golden []byte) *served {
	t.Helper()
	nodes, err := kio.FromBytes(golden)
	require.NoError(t, err)
	s := &served{istiods: map[string]bool{}, namespaces: map[string]string{}}
	versions := map[string]mesh.Version{}
	tags := map[string]string{} // tag -> the revision its webhook serves
	var base mesh.Version
	var gatewayDep []string
	var nsNodes []*yaml.RNode
	str := func(n *yaml.RNode, path ...string) string {
		v, err := n.Pipe(yaml.Lookup(path...))
		require.NoError(t, err)
		if v == nil {
			return ""
		}
		return yaml.GetValue(v)
	}
	for _, n := range nodes {
		switch n.GetKind() {
		case "HelmRelease":
			v, err := mesh.ParseVersion(str(n, "spec", "chart", "spec", "version"))
			require.NoError(t, err)
			switch name := n.GetName(); {
			case strings.HasPrefix(name, "istiod-"):
				rev := strings.TrimPrefix(name, "istiod-")
				s.istiods[rev] = true
				versions[rev] = v
			case name == "istio-base":
				base = v
			case name == "istio-ingressgateway" || name == "istio-eastwestgateway":
				deps, err := n.Pipe(yaml.Lookup("spec", "dependsOn"))
				require.NoError(t, err)
				elems, err := deps.Elements()
				require.NoError(t, err)
				for _, d := range elems {
					gatewayDep = append(gatewayDep, strings.TrimPrefix(str(d, "name"), "istiod-"))
				}
			}
		case "MutatingWebhookConfiguration":
			tag := n.GetLabels()["istio.io/tag"]
			service := str(n, "webhooks", "[name=rev.namespace.sidecar-injector.istio.io]", "clientConfig", "service", "name")
			require.Equal(t, "istiod-"+n.GetLabels()["istio.io/rev"], service, "%s: tag %s", step, tag)
			_, dup := tags[tag]
			require.False(t, dup, "%s: two webhooks for tag %s", step, tag)
			tags[tag] = strings.TrimPrefix(service, "istiod-")
		case "Namespace":
			nsNodes = append(nsNodes, n)
		}
	}
	def, ok := tags["default"]
	require.True(t, ok, "%s: no default tag", step)
	require.True(t, s.istiods[def], "%s: the default tag points at istiod-%s, which is not installed", step, def)
	for tag, rev := range tags {
		require.True(t, s.istiods[rev], "%s: tag %s points at istiod-%s, which is not installed", step, tag, rev)
	}
	for _, rev := range gatewayDep {
		require.Equal(t, def, rev, "%s: a gateway waits for istiod-%s, not the default tag's", step, rev)
	}
	for rev, v := range versions {
		require.False(t, base.Less(v), "%s: the base chart %s is older than istiod-%s (%s)", step, base, rev, v)
	}
	for _, n := range nsNodes {
		labels := n.GetLabels()
		var rev string
		switch {
		case labels["istio-injection"] == "enabled":
			rev = def
		case labels["istio.io/rev"] != "":
			pin := labels["istio.io/rev"]
			if r, ok := tags[pin]; ok {
				rev = r
			} else {
				rev = pin
			}
		default:
			continue
		}
		require.True(t, s.istiods[rev], "%s: namespace %s is injected by istiod-%s, which is not installed", step, n.GetName(), rev)
		if n.GetName() != "istio-ingress" {
			s.namespaces[n.GetName()] = rev
		}
	}
	return s
}

func (w *walker) file(name string) string {
	data, err := os.ReadFile(filepath.Join(w.dir, "clusters", name))
	require.NoError(w.t, err)
	return string(data)
}

// comments lists a file's comments.
func comments(s string) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if i := strings.Index(line, "# "); i >= 0 && !strings.Contains(line[:i], `"`) {
			out = append(out, strings.TrimSpace(line[i:]))
		}
	}
	return out
}

func requireComments(t *testing.T, want []string, file string) {
	t.Helper()
	for _, c := range want {
		require.Contains(t, file, c, "a comment is lost")
	}
}

// amWithComments is the example's ankh-morpork before its upgrade, with
// comments in every place a step edits.
const amWithComments = `# yaml-language-server: $schema=../schema/cluster.schema.json
# Ankh-Morpork, on Istio 1.20.
name: ankh-morpork
network: network-am
environment: production
controlPlane:
  revision: "1-20"   # the default tag points here
namespaces:
  royal-bank:
    labels: {team: payments}   # payments team
    quota:
      requests: {cpu: "8", memory: 16Gi}
      limits: {cpu: "32", memory: 64Gi}
      pods: 40
    containerDefaults:
      requests: {cpu: 100m, memory: 128Mi}
      limits: {cpu: 500m, memory: 512Mi}
  # Governance: move last.
  patricians-office:
    labels: {team: governance}
  merchants-guild: {labels: {team: trade}}   # flow style
  unseen-university:
    injection: disabled   # no sidecars
`

func TestUpgradeWalkForwardAndBack(t *testing.T) {
	w := newWalker(t, "ankh-morpork", "ankh-morpork.yaml", []byte(amWithComments))
	kinds := w.walk("1-21", 10)
	require.Equal(t, []string{"install", "migrate", "migrate", "migrate", "promote", "retire"}, kinds)
	require.Equal(t, map[string]bool{"1-21": true}, w.last.istiods)
	end := w.file("ankh-morpork.yaml")
	requireComments(t, comments(amWithComments), end)
	require.Equal(t, strings.Replace(amWithComments, `revision: "1-20"`, `revision: "1-21"`, 1), end,
		"the end state is the start state with 1-20 replaced by 1-21")

	// Back from the middle: after the canary and two namespaces.
	for _, mid := range []int{1, 3, 5} {
		w := newWalker(t, "ankh-morpork", "ankh-morpork.yaml", []byte(amWithComments))
		for i := 0; i < mid; i++ {
			code, _, stderr := w.run("upgrade", "next", "--clusters", filepath.Join(w.dir, "clusters"), "ankh-morpork", "--to", "1-21")
			require.Equal(t, 0, code, stderr)
		}
		w.last = w.build("middle")
		w.walk("1-20", 10)
		require.Equal(t, map[string]bool{"1-20": true}, w.last.istiods, "back after %d steps", mid)
		end := w.file("ankh-morpork.yaml")
		requireComments(t, comments(amWithComments), end)
		require.Equal(t, amWithComments, end, "back after %d steps: the walk back restores the file", mid)
	}
}

func TestUpgradeWalkTheExample(t *testing.T) {
	example, err := os.ReadFile("../../clusters/ankh-morpork.yaml")
	require.NoError(t, err)
	w := newWalker(t, "ankh-morpork", "ankh-morpork.yaml", example)
	require.Equal(t, []string{"migrate", "migrate", "promote", "retire"}, w.walk("1-21", 10))
	require.Equal(t, map[string]bool{"1-21": true}, w.last.istiods)
	requireComments(t, comments(string(example)), w.file("ankh-morpork.yaml"))
}

// amWithTags uses Istio's stable revision labels: namespaces pin tags,
// and the walk moves the tags instead of relabelling namespaces.
const amWithTags = `# Ankh-Morpork, on stable revision labels.
name: ankh-morpork
network: network-am
environment: production
controlPlane:
  revision: "1-20"
  tags:
    prod-stable: "1-20"   # most namespaces
    prod-canary: "1-20"   # the brave ones
namespaces:
  royal-bank:
    revision: prod-stable
  patricians-office:
    revision: prod-stable
  merchants-guild:
    revision: prod-canary
  unseen-university: {}   # follows the default tag
`

func TestUpgradeWalkWithTags(t *testing.T) {
	w := newWalker(t, "ankh-morpork", "ankh-morpork.yaml", []byte(amWithTags))
	kinds := w.walk("1-21", 10)
	require.Equal(t, []string{"install", "migrate", "migrate", "migrate", "promote", "retire"}, kinds)
	end := w.file("ankh-morpork.yaml")
	requireComments(t, comments(amWithTags), end)
	// No namespace pinning a tag was relabelled.
	require.Equal(t, 2, strings.Count(end, "revision: prod-stable"))
	require.Equal(t, 1, strings.Count(end, "revision: prod-canary"))
	require.Equal(t, strings.ReplaceAll(amWithTags, `"1-20"`, `"1-21"`), end)

	// And back from after the promotion: the tags move back to previous.
	w = newWalker(t, "ankh-morpork", "ankh-morpork.yaml", []byte(amWithTags))
	for i := 0; i < 5; i++ {
		code, _, stderr := w.run("upgrade", "next", "--clusters", filepath.Join(w.dir, "clusters"), "ankh-morpork", "--to", "1-21")
		require.Equal(t, 0, code, stderr)
	}
	w.last = w.build("promoted")
	kinds = w.walk("1-20", 10)
	require.Equal(t, []string{"migrate", "migrate", "migrate", "promote", "retire"}, kinds)
	require.Equal(t, map[string]bool{"1-20": true}, w.last.istiods)
	require.Equal(t, amWithTags, w.file("ankh-morpork.yaml"))
}
