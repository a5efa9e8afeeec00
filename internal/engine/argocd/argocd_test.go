package argocd_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/itchyny/gojq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	yaml "go.yaml.in/yaml/v3"

	"github.com/golemtrust/meshc/internal/apicheck"
	"github.com/golemtrust/meshc/internal/build"
	"github.com/golemtrust/meshc/internal/compile"
	"github.com/golemtrust/meshc/internal/engine/argocd"
	"github.com/golemtrust/meshc/internal/engine/engines"
	"github.com/golemtrust/meshc/internal/mesh"
)

// These tests read the Argo CD example mesh (examples/argocd) as meshc
// builds it: the files, decoded, not the engine's intermediate maps.

const example = "../../../examples/argocd"

type obj = map[string]any

// built is one build of a mesh: overlays/ and golden/ files.
type built struct {
	m        *mesh.Mesh
	overlays map[string][]byte
	golden   map[string][]byte
}

func buildDir(t *testing.T, clusters string) built {
	t.Helper()
	opts := build.Options{ClustersDir: clusters, OutDir: t.TempDir(), GoldenDir: t.TempDir()}
	m, diags := build.Validate(opts)
	require.NotNil(t, m, diags.String())
	out, err := build.Compile(m, opts)
	require.NoError(t, err)
	return built{m: m, overlays: out.Overlays.Files, golden: out.Golden.Files}
}

func decode(t *testing.T, data []byte) []obj {
	t.Helper()
	var out []obj
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var o obj
		if err := dec.Decode(&o); err != nil {
			break
		}
		if o != nil {
			out = append(out, o)
		}
	}
	require.NotEmpty(t, out)
	return out
}

func get(o any, keys ...any) any {
	cur := o
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, _ := cur.(obj)
			cur = m[k]
		case int:
			l, _ := cur.([]any)
			if k >= len(l) {
				return nil
			}
			cur = l[k]
		}
	}
	return cur
}

func byName(t *testing.T, objs []obj, kind, name string) obj {
	t.Helper()
	for _, o := range objs {
		if o["kind"] == kind && get(o, "metadata", "name") == name {
			return o
		}
	}
	t.Fatalf("no %s %s", kind, name)
	return nil
}

func wave(o obj) string {
	s, _ := get(o, "metadata", "annotations", "argocd.argoproj.io/sync-wave").(string)
	return s
}

// TestApplications asserts the spec's Argo CD rows on each cluster's
// app-of-apps folder.
func TestApplications(t *testing.T) {
	b := buildDir(t, filepath.Join(example, "clusters"))
	require.True(t, b.m.MultiNetwork(), "the example spans two networks")
	for _, c := range b.m.Clusters {
		t.Run(c.Name, func(t *testing.T) {
			dir := "_argocd/" + c.Name
			assert.Contains(t, string(b.overlays[dir+"/kustomization.yaml"]), "- applications.yaml")
			objs := decode(t, b.overlays[dir+"/applications.yaml"])
			cc := compile.Compile(b.m, c)

			proj := byName(t, objs, "AppProject", c.Name+"-mesh")
			assert.Equal(t, []any{obj{"namespace": "*", "server": c.Server}}, get(proj, "spec", "destinations"), "the project reaches this cluster only")
			assert.Equal(t, []any{b.m.GitOps.RepoURL, compile.ChartRepository}, get(proj, "spec", "sourceRepos"))

			var apps []obj
			for _, o := range objs {
				md := o["metadata"].(obj)
				assert.Equal(t, "argocd", md["namespace"], "every object lives in Argo CD's namespace")
				if o["kind"] != "Application" {
					continue
				}
				apps = append(apps, o)
				assert.Equal(t, c.Server, get(o, "spec", "destination", "server"), "%s: the cluster's server is the destination", md["name"])
				assert.Equal(t, c.Name+"-mesh", get(o, "spec", "project"))
				assert.Equal(t, obj{"prune": true, "selfHeal": true}, get(o, "spec", "syncPolicy", "automated"))
				assert.Equal(t, []any{"resources-finalizer.argocd.argoproj.io"}, md["finalizers"], "deleting an Application uninstalls what it deployed")
				assert.NotEmpty(t, wave(o))
			}

			// Helm sources: one per release, values inline, as compile
			// made them; the same waves as the releases' dependsOn.
			releases := 0
			for _, o := range cc.ControlPlane {
				r := o.Release
				if r == nil {
					continue
				}
				releases++
				app := byName(t, objs, "Application", c.Name+"-"+r.Name)
				src := get(app, "spec", "source").(obj)
				assert.Equal(t, compile.ChartRepository, src["repoURL"])
				assert.Equal(t, r.Chart, src["chart"])
				assert.Equal(t, r.Version, src["targetRevision"])
				assert.Equal(t, r.Name, get(src, "helm", "releaseName"))
				if r.SkipSchemaValidation {
					assert.Equal(t, true, get(src, "helm", "skipSchemaValidation"), "%s: the chart's broken schema is skipped, as Flux's disableSchemaValidation", r.Name)
				} else {
					assert.Nil(t, get(src, "helm", "skipSchemaValidation"))
				}
				assert.Equal(t, r.Namespace, get(app, "spec", "destination", "namespace"))
				values := get(src, "helm", "valuesObject")
				if r.Wait == compile.WaitNoAddress {
					assert.Equal(t, "true", get(values, "service", "annotations", "argocd.argoproj.io/ignore-healthcheck"),
						"a gateway's Service without an address holds nothing back")
					stripHealthAnnotation(values)
				}
				assert.Equal(t, roundTrip(t, r.Values), roundTrip(t, values), "%s: the values are compile's", r.Name)
				opts := get(app, "spec", "syncPolicy", "syncOptions").([]any)
				assert.Contains(t, opts, "RespectIgnoreDifferences=true")
				if r.CRDs {
					assert.Contains(t, opts, "ServerSideApply=true", "the base chart's CRDs need server-side apply")
				}
				requireWebhookIgnores(t, app)
			}
			assert.GreaterOrEqual(t, releases, 4, "base, istiod, ingress and east-west gateways")

			// Waves: base before istiod before gateways before policy;
			// the control plane's plain objects before the charts.
			w := func(step string) string { return wave(byName(t, objs, "Application", c.Name+"-"+step)) }
			assert.Equal(t, "0", w("control-plane"))
			assert.Equal(t, "1", w("istio-base"))
			for _, rev := range c.ControlPlane.Revisions() {
				assert.Equal(t, "2", w("istiod-"+rev.Name))
			}
			assert.Equal(t, "3", w("istio-ingressgateway"))
			assert.Equal(t, "3", w("istio-eastwestgateway"))
			assert.Equal(t, "4", w("mesh-policy"))
			assert.Equal(t, "-2", wave(proj))

			// Git sources: this repository's overlay parts.
			for step, part := range map[string]string{"control-plane": "control-plane", "mesh-policy": "policy"} {
				app := byName(t, objs, "Application", c.Name+"-"+step)
				assert.Equal(t, obj{"repoURL": b.m.GitOps.RepoURL, "targetRevision": b.m.GitOps.Branch, "path": "overlays/" + c.Name + "/" + part},
					get(app, "spec", "source"))
				assert.Contains(t, b.overlays, "overlays/"[len("overlays/"):]+c.Name+"/"+part+"/kustomization.yaml")
			}
			policy := byName(t, objs, "Application", c.Name+"-mesh-policy")
			assert.Equal(t, []any{"SkipDryRunOnMissingResource=true"}, get(policy, "spec", "syncPolicy", "syncOptions"))
			assert.Len(t, apps, releases+2)

			// Namespaces carry Argo CD's never-prune mark, in the golden
			// file (what the cluster receives).
			var namespaces int
			for _, o := range decode(t, b.golden[c.Name+".yaml"]) {
				if o["kind"] == "Namespace" {
					namespaces++
					assert.Equal(t, "Prune=false,Delete=false", get(o, "metadata", "annotations", "argocd.argoproj.io/sync-options"), "%v", get(o, "metadata", "name"))
					assert.Nil(t, get(o, "metadata", "annotations", "kustomize.toolkit.fluxcd.io/prune"))
				}
				assert.NotContains(t, o["apiVersion"], "fluxcd.io", "no Flux object under argocd")
			}
			assert.Equal(t, len(c.Namespaces)+2, namespaces)
		})
	}
	assert.NotContains(t, strings.Join(keys(b.overlays), " "), "_flux")
}

// requireWebhookIgnores checks an Application's ignoreDifferences for the
// fields istiod patches, in the form Argo CD's diff applies.
func requireWebhookIgnores(t *testing.T, app obj) {
	t.Helper()
	want := map[string][]any{
		"ValidatingWebhookConfiguration": {".webhooks[]?.clientConfig.caBundle", ".webhooks[]?.failurePolicy"},
		"MutatingWebhookConfiguration":   {".webhooks[]?.clientConfig.caBundle"},
	}
	got := map[string][]any{}
	for _, e := range get(app, "spec", "ignoreDifferences").([]any) {
		assert.Equal(t, "admissionregistration.k8s.io", get(e, "group"), "without the group an entry matches only the core group")
		got[get(e, "kind").(string)] = get(e, "jqPathExpressions").([]any)
	}
	assert.Equal(t, want, got)
}

// TestIgnoreDifferencesApply runs each jq path as Argo CD's diff
// normalizer does (util/argo/normalizers: gojq, del(<path>)) on webhooks
// as istiod leaves them, and checks that exactly the patched fields go.
func TestIgnoreDifferencesApply(t *testing.T) {
	b := buildDir(t, filepath.Join(example, "clusters"))
	objs := decode(t, b.overlays["_argocd/lancre/applications.yaml"])
	app := byName(t, objs, "Application", "lancre-istiod-1-22")
	live := func(kind string) obj {
		hook := func(name string) obj {
			return obj{"name": name, "failurePolicy": "Fail", "sideEffects": "None",
				"clientConfig": obj{"caBundle": "LS0tLS1CRUdJTi...", "service": obj{"name": "istiod-1-22", "namespace": "istio-system"}}}
		}
		return obj{"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind, "metadata": obj{"name": "w"},
			"webhooks": []any{hook("a.istio.io"), hook("b.istio.io")}}
	}
	for _, e := range get(app, "spec", "ignoreDifferences").([]any) {
		kind := get(e, "kind").(string)
		o := roundTrip(t, live(kind))
		for _, p := range get(e, "jqPathExpressions").([]any) {
			q, err := gojq.Parse("del(" + p.(string) + ")")
			require.NoError(t, err)
			code, err := gojq.Compile(q)
			require.NoError(t, err)
			v, ok := code.Run(o).Next()
			require.True(t, ok)
			require.NotImplements(t, (*error)(nil), v)
			o = v.(map[string]any)
		}
		for i, h := range get(o, "webhooks").([]any) {
			assert.Nil(t, get(h, "clientConfig", "caBundle"), "%s webhook %d: caBundle ignored", kind, i)
			assert.Equal(t, "istiod-1-22", get(h, "clientConfig", "service", "name"), "the rest of clientConfig stays compared")
			assert.Equal(t, "None", get(h, "sideEffects"))
			if kind == "ValidatingWebhookConfiguration" {
				assert.Nil(t, get(h, "failurePolicy"), "failurePolicy ignored on the validator istiod flips to Fail")
			} else {
				assert.Equal(t, "Fail", get(h, "failurePolicy"), "the injector's failurePolicy stays compared")
			}
		}
	}
}

// TestNewClusterNeedsNoEdit: adding a cluster file adds files for that
// cluster only; the root is unchanged and its generator finds the new
// folder (and no file as a cluster).
func TestNewClusterNeedsNoEdit(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"mesh.yaml", "lancre.yaml", "uberwald.yaml"} {
		data, err := os.ReadFile(filepath.Join(example, "clusters", f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), data, 0o644))
	}
	before := buildDir(t, dir)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "skund.yaml"), []byte(
		"name: skund\nnetwork: network-skund\nenvironment: staging\nserver: https://skund.example:6443\ncontrolPlane:\n  revision: \"1-24\"\n"), 0o644))
	after := buildDir(t, dir)

	for p, data := range before.overlays {
		if strings.HasPrefix(p, "_base/") || strings.HasPrefix(p, "_argocd/root") {
			assert.Equal(t, string(data), string(after.overlays[p]), "%s changed", p)
		}
	}
	for p := range after.overlays {
		if _, ok := before.overlays[p]; ok {
			continue
		}
		first := strings.SplitN(p, "/", 3)
		cluster := first[0]
		if strings.HasPrefix(cluster, "_") {
			cluster = first[1]
		}
		assert.Equal(t, "skund", cluster, "%s is new", p)
	}
	var set obj
	for _, o := range decode(t, after.overlays["_argocd/root.yaml"]) {
		set = o
	}
	require.Equal(t, "ApplicationSet", set["kind"])
	glob := get(set, "spec", "generators", 0, "git", "directories", 0, "path").(string)
	dirs := map[string]bool{}
	for p := range after.overlays {
		full := path.Join("overlays", p)
		for d := path.Dir(full); d != "." && d != "overlays"; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	var matched []string
	for d := range dirs {
		if ok, _ := path.Match(glob, d); ok {
			matched = append(matched, d)
		}
	}
	sort.Strings(matched)
	assert.Equal(t, []string{"overlays/_argocd/lancre", "overlays/_argocd/skund", "overlays/_argocd/uberwald"}, matched)
	assert.Equal(t, "{{.path.path}}", get(set, "spec", "template", "spec", "source", "path"))
	assert.Equal(t, true, get(set, "spec", "syncPolicy", "preserveResourcesOnDeletion"), "deleting the root never uninstalls every cluster's mesh")
	assert.Equal(t, "https://kubernetes.default.svc", get(set, "spec", "template", "spec", "destination", "server"), "the app-of-apps lives in the management cluster")
}

// TestEngineSwitch: switching the repository's example mesh from flux to
// argocd changes the entry points (and with them how charts arrive) and
// the namespaces' mark, and nothing else a cluster receives.
func TestEngineSwitch(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join("..", "..", "..", "clusters")
	entries, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644))
	}
	flux := buildDir(t, dir)
	mesh, err := os.ReadFile(filepath.Join(dir, "mesh.yaml"))
	require.NoError(t, err)
	require.Contains(t, string(mesh), "engine: flux")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "mesh.yaml"), bytes.Replace(mesh, []byte("engine: flux"), []byte("engine: argocd"), 1), 0o644))
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		stem := strings.TrimSuffix(e.Name(), filepath.Ext(e.Name()))
		if stem == "mesh" {
			continue
		}
		line := "server: https://" + stem + ".example:6443\n"
		if strings.HasSuffix(e.Name(), ".cue") {
			line = "server: \"https://" + stem + ".example:6443\"\n"
		}
		require.NoError(t, os.WriteFile(p, append(data, line...), 0o644))
	}
	argo := buildDir(t, dir)

	for _, c := range flux.m.Clusters {
		f := decode(t, flux.golden[c.Name+".yaml"])
		a := decode(t, argo.golden[c.Name+".yaml"])
		var fluxValues = map[string]any{}
		var rest []obj
		for _, o := range f {
			if strings.Contains(o["apiVersion"].(string), "fluxcd.io") {
				if o["kind"] == "HelmRelease" {
					fluxValues[get(o, "metadata", "name").(string)] = get(o, "spec", "values")
				}
				continue
			}
			if o["kind"] == "Namespace" {
				ann := get(o, "metadata", "annotations").(obj)
				assert.Equal(t, "disabled", ann["kustomize.toolkit.fluxcd.io/prune"])
				ann["argocd.argoproj.io/sync-options"] = "Prune=false,Delete=false"
				delete(ann, "kustomize.toolkit.fluxcd.io/prune")
			}
			rest = append(rest, o)
		}
		assert.Equal(t, rest, a, "%s: the same objects but Flux's, with Argo CD's mark", c.Name)

		// The charts come with the same values.
		apps := decode(t, argo.overlays["_argocd/"+c.Name+"/applications.yaml"])
		require.NotEmpty(t, fluxValues)
		for name, values := range fluxValues {
			app := byName(t, apps, "Application", c.Name+"-"+name)
			got := get(app, "spec", "source", "helm", "valuesObject")
			stripHealthAnnotation(got)
			if values == nil {
				assert.Empty(t, got, "%s/%s", c.Name, name)
				continue
			}
			assert.Equal(t, values, got, "%s/%s", c.Name, name)
		}
	}
	for p := range argo.overlays {
		assert.False(t, strings.HasPrefix(p, "_flux/"), p)
	}
	for p := range flux.overlays {
		if strings.HasPrefix(p, "_flux/") || strings.HasPrefix(p, "_base/") {
			continue
		}
		if strings.HasSuffix(p, "/policy/resources.yaml") {
			// Only the namespaces' mark differs in the policy part.
			assert.Equal(t, strings.ReplaceAll(string(flux.overlays[p]), "kustomize.toolkit.fluxcd.io/prune: disabled", "argocd.argoproj.io/sync-options: Prune=false,Delete=false"),
				string(argo.overlays[p]), p)
		}
		if strings.HasPrefix(p, "_istioctl/") {
			assert.Equal(t, string(flux.overlays[p]), string(argo.overlays[p]), "%s: the istioctl path does not depend on the engine", p)
		}
	}
}

// TestAPIs: every Argo CD object meshc writes passes its CRD (Argo CD
// v3.5.7), and the check is real: a broken one fails.
func TestAPIs(t *testing.T) {
	b := buildDir(t, filepath.Join(example, "clusters"))
	var n int
	kinds := map[string]bool{}
	for _, p := range keys(b.overlays) {
		if !strings.HasPrefix(p, argocd.Dir+"/") || strings.HasSuffix(p, "kustomization.yaml") {
			continue
		}
		assert.Empty(t, apicheck.Stream(p, b.overlays[p]), p)
		for _, o := range decode(t, b.overlays[p]) {
			kinds[o["kind"].(string)] = true
			n++
		}
	}
	assert.Equal(t, map[string]bool{"AppProject": true, "Application": true, "ApplicationSet": true}, kinds)
	assert.Greater(t, n, 10)

	bad := b.overlays["_argocd/lancre/applications.yaml"]
	bad = bytes.Replace(bad, []byte("selfHeal: true"), []byte("selfHeal: always"), 1)
	assert.NotEmpty(t, apicheck.Stream("bad.yaml", bad), "a wrong type fails the Application CRD")
	root := bytes.Replace(b.overlays["_argocd/root.yaml"], []byte("goTemplate: true"), []byte("goTemplate: yes please"), 1)
	assert.NotEmpty(t, apicheck.Stream("bad-root.yaml", root), "a wrong type fails the ApplicationSet CRD")
}

// TestSeam: the engine is chosen by gitops.engine.
func TestSeam(t *testing.T) {
	assert.Equal(t, "_argocd", engines.For(&mesh.Mesh{GitOps: mesh.GitOps{Engine: mesh.ArgoCD}}).Dir())
	assert.Equal(t, "_flux", engines.For(&mesh.Mesh{GitOps: mesh.GitOps{Engine: mesh.Flux}}).Dir())
	assert.True(t, reflect.DeepEqual(argocd.Engine{}.Release(&compile.Release{Name: "x"}), compile.Doc(nil)), "Argo CD puts no chart object in the overlay")
}

func roundTrip(t *testing.T, v any) map[string]any {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	out := map[string]any{}
	require.NoError(t, json.Unmarshal(data, &out))
	if out == nil { // null: no values
		out = map[string]any{}
	}
	return out
}

func keys(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestCA: with gitops.ca the cluster's folder is an Application at the
// earliest wave, before any istiod; it creates istio-system if need be and
// never deletes the live cacerts.
func TestCA(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"mesh.yaml", "lancre.yaml", "uberwald.yaml"} {
		data, err := os.ReadFile(filepath.Join(example, "clusters", f))
		require.NoError(t, err)
		if f == "mesh.yaml" {
			data = bytes.Replace(data, []byte("  branch: main\n"), []byte("  branch: main\n  ca:\n    path: ca\n"), 1)
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), data, 0o644))
	}
	b := buildDir(t, dir)
	for _, c := range b.m.Clusters {
		p := "_argocd/" + c.Name + "/applications.yaml"
		assert.Empty(t, apicheck.Stream(p, b.overlays[p]))
		objs := decode(t, b.overlays[p])
		ca := byName(t, objs, "Application", c.Name+"-mesh-ca")
		assert.Equal(t, "-1", wave(ca))
		for _, o := range objs {
			if o["kind"] == "Application" && o["metadata"].(obj)["name"] != c.Name+"-mesh-ca" {
				assert.Greater(t, atoi(t, wave(o)), -1, "%v comes after the CA", get(o, "metadata", "name"))
			}
		}
		assert.Equal(t, obj{"repoURL": b.m.GitOps.RepoURL, "targetRevision": "main", "path": "ca/" + c.Name}, get(ca, "spec", "source"))
		assert.Equal(t, obj{"server": c.Server, "namespace": "istio-system"}, get(ca, "spec", "destination"))
		assert.Equal(t, []any{"CreateNamespace=true", "SkipDryRunOnMissingResource=true"}, get(ca, "spec", "syncPolicy", "syncOptions"))
		assert.Equal(t, obj{"prune": false, "selfHeal": true}, get(ca, "spec", "syncPolicy", "automated"))
		assert.Nil(t, get(ca, "metadata", "finalizers"), "deleting the Application leaves cacerts in place")
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}

// stripHealthAnnotation removes the Argo CD health annotation the engine
// adds to a gateway's Service, and the maps it leaves empty.
func stripHealthAnnotation(values any) {
	svc, _ := get(values, "service").(obj)
	ann, _ := svc["annotations"].(obj)
	if ann == nil {
		return
	}
	delete(ann, "argocd.argoproj.io/ignore-healthcheck")
	if len(ann) == 0 {
		delete(svc, "annotations")
	}
	if len(svc) == 0 {
		delete(values.(obj), "service")
	}
}
