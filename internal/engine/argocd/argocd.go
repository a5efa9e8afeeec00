// Package argocd is the Argo CD delivery engine. Argo CD runs in a
// management cluster and reaches every mesh cluster through its API server
// (the cluster file's `server`). Per cluster, meshc writes an app-of-apps
// folder, overlays/_argocd/<cluster>/: an AppProject that may deploy only to
// that cluster, and one Application per step, ordered by sync waves:
//
//	wave -2  AppProject <cluster>-mesh
//	wave -1  <cluster>-mesh-ca        git: <ca.path>/<cluster> (with gitops.ca)
//	wave  0  <cluster>-control-plane  git: overlays/<cluster>/control-plane (namespaces, revision tags)
//	wave  1  <cluster>-istio-base     Helm: base (the CRDs)
//	wave  2  <cluster>-istiod-<rev>   Helm: istiod, one per revision
//	wave  3  <cluster>-istio-...gateway  Helm: gateway
//	wave  4  <cluster>-mesh-policy    git: overlays/<cluster>/policy
//
// The waves of Helm releases follow their dependsOn; the policy comes
// after the last. One ApplicationSet, overlays/_argocd/root.yaml, makes an
// app-of-apps Application for every folder there, so a new cluster file
// needs no hand-written Argo CD object.
package argocd

import (
	"strconv"

	"github.com/golemtrust/meshc/internal/compile"
	"github.com/golemtrust/meshc/internal/engine"
	"github.com/golemtrust/meshc/internal/mesh"
)

// Names and places in the management cluster.
const (
	// Namespace is where Argo CD and its Applications live.
	Namespace = "argocd"
	// InCluster is Argo CD's name for the cluster it runs in.
	InCluster = "https://kubernetes.default.svc"
	// Dir is overlays/_argocd; EntryFile is each cluster folder's
	// objects, RootFile the ApplicationSet.
	Dir       = "_argocd"
	EntryFile = "applications.yaml"
	RootFile  = "root.yaml"

	apiVersion = "argoproj.io/v1alpha1"
	// finalizer makes deleting an Application delete what it deployed:
	// an istiod Application dropped on retiring a revision uninstalls it.
	finalizer = "resources-finalizer.argocd.argoproj.io"
	syncWave  = "argocd.argoproj.io/sync-wave"
	// ignoreHealth keeps one object's health out of its Application's.
	ignoreHealth = "argocd.argoproj.io/ignore-healthcheck"
)

// Sync waves, see the package comment. Releases take waveControlPlane+1
// and later, by their dependsOn.
const (
	waveProject      = -2
	waveCA           = -1
	waveControlPlane = 0
)

// Engine is Argo CD.
type Engine struct{}

var _ engine.Engine = Engine{}

// Dir is overlays/_argocd.
func (Engine) Dir() string { return Dir }

// NeverPrune keeps a Namespace both from pruning (Prune=false: it left the
// output) and from cascade deletion (Delete=false: its Application was
// deleted, as when a cluster file is removed and the ApplicationSet
// deletes the cluster's app-of-apps). Argo CD's cascade deletion does not
// honour Prune=false (controller/appcontroller.go, shouldBeDeleted), and a
// deleted Namespace takes every tenant workload in it along.
func (Engine) NeverPrune() map[string]string {
	return map[string]string{"argocd.argoproj.io/sync-options": "Prune=false,Delete=false"}
}

// Release is nil: Argo CD installs a chart as an Application's Helm source
// from the management cluster, so nothing of it is in the overlay.
func (Engine) Release(*compile.Release) compile.Doc { return nil }

// Sources: none in the target cluster.
func (Engine) Sources() []compile.Doc { return nil }

// EntryPoint is the cluster's app-of-apps folder.
func (Engine) EntryPoint(m *mesh.Mesh, c *mesh.Cluster, cc *compile.Cluster) engine.Entry {
	a := apps{m: m, c: c}
	docs := []compile.Doc{a.project()}
	if ca := m.GitOps.CA; ca != nil {
		// Before anything runs istiod, so that istiod finds the mesh's
		// root in cacerts instead of minting its own. istio-system may
		// not exist yet: this Application creates it (bare; the control
		// plane's Namespace object labels it next). No automatic prune
		// and no resources finalizer: Argo CD never deletes the live
		// cacerts, neither when files leave the folder nor when the
		// Application goes.
		docs = append(docs, a.app("mesh-ca", waveCA, compile.IstioSystem, a.git(ca.Folder(c.Name)), syncSpec{
			options: []string{"CreateNamespace=true", "SkipDryRunOnMissingResource=true"},
			keep:    true,
		}))
	}
	// The control plane's plain objects: the namespaces the charts
	// install into and the revision tags' webhooks, whose caBundle istiod
	// patches at run time (it selects them by istio.io/rev).
	docs = append(docs, a.app("control-plane", waveControlPlane, compile.IstioSystem,
		a.git("overlays/"+c.Name+"/control-plane"), syncSpec{options: []string{"RespectIgnoreDifferences=true"}, ignore: mutatingCABundle()}))

	waves := map[string]int{}
	last := waveControlPlane
	for _, o := range cc.ControlPlane {
		if o.Release == nil {
			continue
		}
		r := o.Release
		w := waveControlPlane + 1
		for _, d := range r.DependsOn {
			w = max(w, waves[d]+1)
		}
		waves[r.Name] = w
		last = max(last, w)
		docs = append(docs, a.release(r, w))
	}
	// Tenant policy needs Istio's CRDs (base) and is applied last; it
	// never waits for a gateway's address (see release).
	docs = append(docs, a.app("mesh-policy", last+1, compile.IstioSystem,
		a.git("overlays/"+c.Name+"/policy"), syncSpec{options: []string{"SkipDryRunOnMissingResource=true"}}))
	return engine.Entry{File: EntryFile, Docs: docs}
}

// Root is the ApplicationSet that makes one app-of-apps Application per
// cluster folder in overlays/_argocd: a team applies it once to the
// management cluster (kubectl apply -n argocd -f overlays/_argocd/root.yaml).
// Its git generator lists directories only, so this file itself is no
// cluster.
func (Engine) Root(m *mesh.Mesh) map[string][]compile.Doc {
	set := object("ApplicationSet", m.ID, nil, compile.Doc{"spec": compile.Doc{
		// Deleting the root (or a broken generator) must never uninstall
		// Istio from every cluster at once: the ApplicationSet deletes an
		// app-of-apps without cascading to what its children deployed.
		// A removed cluster's children stay until someone deletes them.
		"syncPolicy":        compile.Doc{"preserveResourcesOnDeletion": true},
		"goTemplate":        true,
		"goTemplateOptions": []any{"missingkey=error"},
		"generators": []any{compile.Doc{"git": compile.Doc{
			"repoURL":     m.GitOps.RepoURL,
			"revision":    m.GitOps.Branch,
			"directories": []any{compile.Doc{"path": "overlays/" + Dir + "/*"}},
		}}},
		"template": compile.Doc{
			"metadata": compile.Doc{
				"name":       "{{.path.basename}}-mesh",
				"labels":     managedBy(),
				"finalizers": []any{finalizer},
			},
			"spec": compile.Doc{
				// The app-of-apps deploys only Applications and an
				// AppProject into this namespace; each cluster's own
				// AppProject then confines its children to that cluster.
				"project": "default",
				"source": compile.Doc{
					"repoURL":        m.GitOps.RepoURL,
					"targetRevision": m.GitOps.Branch,
					"path":           "{{.path.path}}",
				},
				"destination": compile.Doc{"server": InCluster, "namespace": Namespace},
				"syncPolicy":  compile.Doc{"automated": compile.Doc{"prune": true, "selfHeal": true}},
			},
		},
	}})
	return map[string][]compile.Doc{RootFile: {set}}
}

// apps makes one cluster's Argo CD objects.
type apps struct {
	m *mesh.Mesh
	c *mesh.Cluster
}

// ProjectName is the cluster's AppProject (and app-of-apps) name.
func ProjectName(cluster string) string { return cluster + "-mesh" }

// AppName is the name of a cluster's Application for one step.
func AppName(cluster, step string) string { return cluster + "-" + step }

// project confines the cluster's Applications to this repository, Istio's
// chart repository and the cluster's API server.
func (a apps) project() compile.Doc {
	return object("AppProject", ProjectName(a.c.Name), compile.Doc{syncWave: strconv.Itoa(waveProject)}, compile.Doc{"spec": compile.Doc{
		"description":              "meshc: the Istio mesh " + a.m.ID + " on cluster " + a.c.Name,
		"sourceRepos":              []any{a.m.GitOps.RepoURL, compile.ChartRepository},
		"destinations":             []any{compile.Doc{"server": a.c.Server, "namespace": "*"}},
		"clusterResourceWhitelist": []any{compile.Doc{"group": "*", "kind": "*"}},
	}})
}

// git is a source in this repository.
func (a apps) git(path string) compile.Doc {
	return compile.Doc{"repoURL": a.m.GitOps.RepoURL, "targetRevision": a.m.GitOps.Branch, "path": path}
}

// release is the Application of one Helm release: the chart from Istio's
// repository with the values inline. Argo CD renders it with helm
// template, so the Helm release name is given explicitly.
func (a apps) release(r *compile.Release, wave int) compile.Doc {
	values := r.Values
	if r.Wait == compile.WaitNoAddress {
		// Argo CD counts a LoadBalancer Service without an address as
		// Progressing, and a Progressing gateway Application would hold
		// back the next wave, tenant policy, for as long as the cloud
		// takes (forever without a load-balancer controller). The
		// gateway's Deployment still counts.
		values = compile.Merge(values, compile.Doc{"service": compile.Doc{"annotations": compile.Doc{ignoreHealth: "true"}}})
	}
	helm := compile.Doc{"releaseName": r.Name}
	if r.SkipSchemaValidation {
		// The chart's values.schema.json refuses valid values at this
		// version; meshc checks them against it itself (apicheck).
		helm["skipSchemaValidation"] = true
	}
	if len(values) > 0 {
		helm["valuesObject"] = values
	}
	src := compile.Doc{
		"repoURL":        compile.ChartRepository,
		"chart":          r.Chart,
		"targetRevision": r.Version,
		"helm":           helm,
	}
	var opts []string
	if r.CRDs {
		// The base chart's CRDs are too large for client-side apply's
		// last-applied-configuration annotation.
		opts = append(opts, "ServerSideApply=true")
	}
	// base and istiod render the webhooks istiod patches at run time
	// (caBundle; failurePolicy Ignore -> Fail once it serves); a sync
	// keeps istiod's values (RespectIgnoreDifferences) instead of
	// blanking the caBundle until istiod patches it again. The same for
	// every chart: on one without webhooks it matches nothing.
	opts = append(opts, "RespectIgnoreDifferences=true")
	return a.app(r.Name, wave, r.Namespace, src, syncSpec{options: opts, ignore: append(validatingWebhooks(), mutatingCABundle()...)})
}

// syncSpec is how an Application syncs.
type syncSpec struct {
	options []string
	ignore  []any // ignoreDifferences entries
	// keep: nothing it deployed is ever deleted by Argo CD (no automatic
	// prune, no resources finalizer): for the CA.
	keep bool
}

// app is one child Application of the cluster's app-of-apps.
func (a apps) app(step string, wave int, namespace string, source compile.Doc, s syncSpec) compile.Doc {
	policy := compile.Doc{
		"automated": compile.Doc{"prune": !s.keep, "selfHeal": true},
		// A step that fails (a webhook not serving yet) is tried again
		// rather than left failed until the next commit.
		"retry": compile.Doc{"limit": 5, "backoff": compile.Doc{"duration": "10s", "factor": 2, "maxDuration": "3m"}},
	}
	if len(s.options) > 0 {
		policy["syncOptions"] = strList(s.options)
	}
	spec := compile.Doc{
		"project":     ProjectName(a.c.Name),
		"destination": compile.Doc{"server": a.c.Server, "namespace": namespace},
		"source":      source,
		"syncPolicy":  policy,
	}
	if len(s.ignore) > 0 {
		spec["ignoreDifferences"] = s.ignore
	}
	d := object("Application", AppName(a.c.Name, step), compile.Doc{syncWave: strconv.Itoa(wave)}, compile.Doc{"spec": spec})
	if !s.keep {
		d["metadata"].(compile.Doc)["finalizers"] = []any{finalizer}
	}
	return d
}

// The webhook fields istiod writes at run time (istio#52785, istio#44285),
// left out of Argo CD's diff. The group must be named: an entry without
// one matches only the core group, which is why the entries in
// argo-cd#9323 changed nothing. jq paths, not JSON pointers: a pointer
// names one webhook index, and these objects hold several.
func validatingWebhooks() []any {
	return []any{compile.Doc{
		"group":             "admissionregistration.k8s.io",
		"kind":              "ValidatingWebhookConfiguration",
		"jqPathExpressions": []any{".webhooks[]?.clientConfig.caBundle", ".webhooks[]?.failurePolicy"},
	}}
}

func mutatingCABundle() []any {
	return []any{compile.Doc{
		"group":             "admissionregistration.k8s.io",
		"kind":              "MutatingWebhookConfiguration",
		"jqPathExpressions": []any{".webhooks[]?.clientConfig.caBundle"},
	}}
}

func managedBy() compile.Doc { return compile.Doc{"app.kubernetes.io/managed-by": "meshc"} }

func object(kind, name string, annotations, rest compile.Doc) compile.Doc {
	md := compile.Doc{"name": name, "namespace": Namespace, "labels": managedBy()}
	if len(annotations) > 0 {
		md["annotations"] = annotations
	}
	d := compile.Doc{"apiVersion": apiVersion, "kind": kind, "metadata": md}
	for k, v := range rest {
		d[k] = v
	}
	return d
}

func strList(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
