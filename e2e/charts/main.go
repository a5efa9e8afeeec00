// Command chartcheck renders Istio's published charts with the values meshc
// committed, as the GitOps engines would, and proves that every value has
// the effect it is for (e2e/README.md, "The chart render check").
//
//	chartcheck [-charts DIR] [-out DIR] REPO
//
// REPO is a meshc repository: its root and every examples/*/ with
// clusters/ and golden/ are checked. -out writes each release's rendered
// objects and each version's CRDs there, with an index.tsv, for the e2e
// harness to dry-run against the API server. The last line is
// "charts: N passed, M failed"; the exit status is 1 when anything failed.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout)) }

// tally counts the checks of a run, what was rendered, and writes the
// output lines.
type tally struct {
	w              io.Writer
	passed, failed int
	kinds          map[string]int // HelmRelease, Application
	versions       map[string]int
}

func (t *tally) ok(format string, a ...any) {
	t.passed++
	fmt.Fprintf(t.w, "ok   "+format+"\n", a...)
}

func (t *tally) fail(what string, why []string) {
	t.failed++
	fmt.Fprintf(t.w, "FAIL %s\n", what)
	for _, w := range why {
		fmt.Fprintf(t.w, "     %s\n", w)
	}
}

func run(args []string, w io.Writer) int {
	fs := flag.NewFlagSet("chartcheck", flag.ContinueOnError)
	chartsDir := fs.String("charts", "", "Istio's charts, <DIR>/<version>/{base,istiod,gateway} (default REPO/../shared/charts/istio)")
	outDir := fs.String("out", "", "write the rendered objects and CRDs here, with index.tsv, for the API server dry-run")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fmt.Fprintln(w, "usage: chartcheck [-charts DIR] [-out DIR] REPO")
		return 2
	}
	repo, _ := filepath.Abs(fs.Arg(0))
	if *chartsDir == "" {
		*chartsDir = filepath.Join(repo, "..", "shared", "charts", "istio")
	}
	t := &tally{w: w, kinds: map[string]int{}, versions: map[string]int{}}
	start := time.Now()
	if !isDir(*chartsDir) {
		msg := fmt.Sprintf("Istio's charts are not at %s: the chart render check cannot run (put the charts there, or pass -charts)", *chartsDir)
		if os.Getenv("CI") == "true" {
			t.fail(msg, []string{"CI=true: a check that cannot run fails"})
			fmt.Fprintf(w, "charts: %d passed, %d failed\n", t.passed, t.failed)
			return 1
		}
		fmt.Fprintf(w, "SKIP %s\n", msg)
		fmt.Fprintf(w, "SKIP !!! the chart render check did NOT run; under CI=true this fails !!!\n")
		return 0
	}
	meshes, err := findMeshes(repo)
	if err != nil {
		t.fail(err.Error(), nil)
		fmt.Fprintf(w, "charts: %d passed, %d failed\n", t.passed, t.failed)
		return 1
	}
	c := &checker{charts: newCharts(*chartsDir), t: t, out: *outDir}
	for _, m := range meshes {
		for _, cl := range m.clusters {
			c.cluster(m, cl)
		}
	}
	if c.out != "" {
		c.writeCRDs()
		if err := os.WriteFile(filepath.Join(c.out, "index.tsv"), []byte(strings.Join(c.index, "")), 0o644); err != nil {
			t.fail("writing index.tsv", []string{err.Error()})
		}
	}
	fmt.Fprintf(w, "rendered %s in %.1fs; by version: %s\n", counts(t.kinds), time.Since(start).Seconds(), counts(t.versions))
	fmt.Fprintf(w, "charts: %d passed, %d failed\n", t.passed, t.failed)
	if t.failed > 0 {
		return 1
	}
	return 0
}

func counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", m[k], k)
	}
	return strings.Join(parts, ", ")
}

// checker renders and checks the releases of one run.
type checker struct {
	charts *charts
	t      *tally
	out    string
	index  []string // version, namespace, file, objects, label: one line per rendered release
}

// cluster renders and checks every release of a cluster, then the
// cluster's tag webhooks and istioctl files.
func (c *checker) cluster(m *mesh, cl *cluster) {
	where := m.label + " " + cl.name
	for _, r := range cl.releases {
		label := fmt.Sprintf("%s %s (%s %s)", where, r.origin, r.chart, r.version)
		kind := map[string]string{"flux": "HelmRelease", "argocd": "Application"}[r.engine]
		c.t.kinds[kind+"s"]++
		c.t.versions[r.version]++
		x, err := c.render(r, r.values)
		if err != nil {
			c.t.fail(label+": render failed", []string{err.Error()})
			continue
		}
		n, fails := checkValues(x)
		switch r.chart {
		case "istiod":
			fails = append(fails, checkIstiod(cl, x)...)
		case "gateway":
			fails = append(fails, checkGateway(cl, x)...)
		}
		c.write(r, x, label)
		if len(fails) > 0 {
			c.t.fail(fmt.Sprintf("%s: %d of its checks failed", label, len(fails)), fails)
			continue
		}
		steps := "render"
		if r.postRender {
			steps += ", helm-controller post-render"
		}
		c.t.ok("%s, %d objects: %s, %d values proven, findings' checks", label, len(x.objects), steps, n)
	}
	c.tagWebhooks(m, cl)
	if cl.istioctl != "" {
		if fails := checkIstioctl(m, cl); len(fails) > 0 {
			c.t.fail(where+" overlays/_istioctl/"+cl.name, fails)
		} else {
			c.t.ok("%s overlays/_istioctl/%s: east-west gateway, gateway namespaces", where, cl.name)
		}
	}
}

// render renders a release as its engine does: Flux with helm-controller's
// post-renderer, Argo CD (helm template) without.
func (c *checker) render(r release, values map[string]any) (*rendering, error) {
	var pr interface {
		Run(*bytes.Buffer) (*bytes.Buffer, error)
	}
	if r.postRender {
		pr = originLabels{name: name(r.owner), namespace: namespace(r.owner)}
	}
	var manifest []byte
	var err error
	if pr != nil {
		manifest, err = c.charts.render(r, values, pr)
	} else {
		manifest, err = c.charts.render(r, values, nil)
	}
	if err != nil {
		return nil, err
	}
	objs, err := decodeObjects(manifest)
	if err != nil {
		return nil, fmt.Errorf("the rendered manifest does not parse: %w", err)
	}
	return &rendering{release: r, objects: objs}, nil
}

// tagWebhooks compares each revision tag webhook meshc wrote with what
// the istiod chart renders for that tag at the tagged revision's version.
func (c *checker) tagWebhooks(m *mesh, cl *cluster) {
	for _, hook := range ofKind(cl.golden, "MutatingWebhookConfiguration") {
		tag := str(hook, "metadata", "labels", "istio.io/tag")
		if tag == "" {
			continue
		}
		rev := str(hook, "metadata", "labels", "istio.io/rev")
		label := fmt.Sprintf("%s %s %s %s (tag %s -> revision %s)", m.label, cl.name, cl.goldenFile, id(hook), tag, rev)
		var istiod *release
		for i, r := range cl.releases {
			if r.chart == "istiod" && str(r.values, "revision") == rev {
				istiod = &cl.releases[i]
				break
			}
		}
		if istiod == nil {
			c.t.fail(label, []string{fmt.Sprintf("no istiod release of revision %s: the tag points at an istiod that is not installed", rev)})
			continue
		}
		values := normal(istiod.values).(map[string]any)
		values["revisionTags"] = []any{tag}
		r := *istiod
		r.postRender = false
		x, err := c.render(r, values)
		if err != nil {
			c.t.fail(label, []string{"rendering the istiod chart with revisionTags: " + err.Error()})
			continue
		}
		want := find(x.objects, "MutatingWebhookConfiguration", name(hook))
		if want == nil {
			c.t.fail(label, []string{fmt.Sprintf("the istiod chart %s renders no %s for tag %s", istiod.version, name(hook), tag)})
			continue
		}
		if fails := compareTagWebhook(hook, want); len(fails) > 0 {
			for i := range fails {
				fails[i] = fmt.Sprintf("chart istiod %s revision-tags template: %s", istiod.version, fails[i])
			}
			c.t.fail(label, fails)
			continue
		}
		c.t.ok("%s: as the istiod chart %s renders it", label, istiod.version)
	}
}

// write saves a release's rendered objects for the API server dry-run.
func (c *checker) write(r release, x *rendering, label string) {
	if c.out == "" {
		return
	}
	data, err := x.manifest()
	if err == nil {
		dir := filepath.Join(c.out, r.version)
		err = os.MkdirAll(dir, 0o755)
		file := filepath.Join(dir, fmt.Sprintf("%03d.yaml", len(c.index)))
		if err == nil {
			err = os.WriteFile(file, data, 0o644)
		}
		c.index = append(c.index, fmt.Sprintf("%s\t%s\t%s\t%d\t%s\n", r.version, r.namespace, file, len(x.objects), label))
	}
	if err != nil {
		c.t.fail(label+": writing the rendered objects", []string{err.Error()})
	}
}

// writeCRDs writes, per version rendered, the CRDs that version's base
// chart installs (crds/ before 1.24, templates from 1.24 on): what the
// API server needs before the rendered objects can be dry-run.
func (c *checker) writeCRDs() {
	for v := range c.t.versions {
		r := release{chart: "base", version: v, name: "istio-base", namespace: "istio-system", crds: true}
		x, err := c.render(r, nil)
		if err != nil {
			c.t.fail("base chart "+v+" CRDs", []string{err.Error()})
			continue
		}
		crds := &rendering{release: r, objects: ofKind(x.objects, "CustomResourceDefinition")}
		data, err := crds.manifest()
		if err == nil {
			err = os.WriteFile(filepath.Join(c.out, "crds-"+v+".yaml"), data, 0o644)
		}
		if err != nil {
			c.t.fail("base chart "+v+" CRDs", []string{err.Error()})
		}
	}
}
