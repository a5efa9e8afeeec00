package validate

import (
	"fmt"
	"sort"
	"strings"

	"cuelang.org/go/cue"
	"gopkg.in/inf.v0"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/golemtrust/meshc/internal/diag"
	"github.com/golemtrust/meshc/internal/mesh"
)

// MaxReleaseName is Helm's limit on a release name.
const MaxReleaseName = 53

// Namespaces meshc itself manages; a cluster file may not declare them.
const (
	IstioSystem  = "istio-system"
	IstioIngress = "istio-ingress"
)

// ownedLabels are the Namespace labels meshc sets; a user label may not
// fight them.
var ownedLabels = []string{"istio-injection", "istio.io/rev", "topology.istio.io/network"}

// rules applies the checks that need Go to one cluster, collecting
// diagnostics positioned through the cluster's raw data value.
type rules struct {
	m     *mesh.Mesh
	raw   cue.Value
	file  string
	stem  string
	diags diag.List
}

func (r *rules) errorf(p []string, format string, args ...any) {
	r.diags.Errorf(valuePosOf(r.raw, r.file, p...), "%s: %s", dotted(p), fmt.Sprintf(format, args...))
}

func (r *rules) warnf(p []string, format string, args ...any) {
	r.diags.Warnf(valuePosOf(r.raw, r.file, p...), "%s: %s", dotted(p), fmt.Sprintf(format, args...))
}

func field(p ...string) []string { return p }

func (r *rules) cluster(d *clusterDoc) *mesh.Cluster {
	c := &mesh.Cluster{
		Name:        d.Name,
		Network:     d.Network,
		Environment: d.Environment,
		Server:      d.Server,
		MTLS:        d.MTLS,
	}
	if d.Name != r.stem {
		r.errorf(field("name"), "%q differs from the file's name %q; a cluster file is named after its cluster: rename the file to %s%s or set name: %s",
			d.Name, r.stem, d.Name, extOf(r.file), r.stem)
	}
	if r.m.GitOps.Engine == mesh.ArgoCD && d.Server == "" {
		r.errorf(field("server"), "missing; Argo CD runs in a management cluster and needs each cluster's API server URL (gitops.engine is argocd)")
	}
	r.mtls(field("mtls"), d.MTLS, c.Production())

	r.controlPlane(d, c)
	c.Sidecar = r.resources(field("sidecar"), d.Sidecar)

	names := make([]string, 0, len(d.Namespaces))
	for n := range d.Namespaces {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		nd := d.Namespaces[n]
		c.Namespaces = append(c.Namespaces, r.namespace(c, n, &nd))
	}
	byName := map[string]*mesh.Namespace{}
	for _, ns := range c.Namespaces {
		byName[ns.Name] = ns
	}
	for _, ns := range c.Namespaces {
		r.authorization(c, ns, byName)
	}
	return c
}

func extOf(file string) string {
	if i := strings.LastIndexByte(file, '.'); i >= 0 {
		return file[i:]
	}
	return ""
}

func (r *rules) mtls(p []string, mode string, production bool) {
	switch {
	case mode == "DISABLE" && production:
		r.errorf(p, "DISABLE is not allowed in a production cluster: it sends service traffic in plain text; use STRICT, or PERMISSIVE while migrating")
	case mode == "PERMISSIVE" && production:
		r.warnf(p, "PERMISSIVE in a production cluster accepts plain-text traffic; switch to STRICT once every client has a sidecar")
	}
}

func (r *rules) revision(p []string, name string) (mesh.Revision, bool) {
	v, ok := r.m.Revisions[name]
	if !ok {
		r.errorf(p, "revision %q is not declared in the mesh file; declared revisions: %s", name, strings.Join(sortedKeys(r.m.Revisions), ", "))
		return mesh.Revision{}, false
	}
	if rel := "istiod-" + name; len(rel) > MaxReleaseName {
		r.errorf(p, "the Helm release name %q is %d characters; Helm allows at most %d: use a shorter revision name", rel, len(rel), MaxReleaseName)
	}
	return mesh.Revision{Name: name, Version: v}, true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (r *rules) controlPlane(d *clusterDoc, c *mesh.Cluster) {
	dcp := &d.ControlPlane
	cp := &c.ControlPlane
	cp.Profile = dcp.Profile
	cp.AccessLogFile = dcp.AccessLogFile
	cp.IngressServiceAnnotations = dcp.IngressGateway.ServiceAnnotations
	rev, revOK := r.revision(field("controlPlane", "revision"), dcp.Revision)
	cp.Revision = rev
	if dcp.Canary != nil {
		canaryPath := field("controlPlane", "canary")
		canary, ok := r.revision(canaryPath, *dcp.Canary)
		switch {
		case !ok:
		case canary.Name == rev.Name:
			r.errorf(canaryPath, "the canary %q equals the revision; a canary is a second, newer revision installed beside it: remove canary or name another revision", canary.Name)
		case revOK && !rev.Version.Less(canary.Version):
			r.errorf(canaryPath, "canary %s runs Istio %s, which is not newer than revision %s (Istio %s); a canary upgrade installs a newer version",
				canary.Name, canary.Version, rev.Name, rev.Version)
		case revOK && (canary.Version.Major != rev.Version.Major || canary.Version.Minor-rev.Version.Minor > 2):
			r.errorf(canaryPath, "canary %s runs Istio %s, more than two minor versions ahead of revision %s (Istio %s); Istio supports canary upgrades of at most two minor versions",
				canary.Name, canary.Version, rev.Name, rev.Version)
		}
		cp.Canary = &canary
	}
	cp.Pilot.Resources = r.resources(field("controlPlane", "pilot", "resources"), dcp.Pilot.Resources)
	as := dcp.Pilot.Autoscale
	cp.Pilot.AutoscaleMin, cp.Pilot.AutoscaleMax = as.Min, as.Max
	if as.Min > as.Max {
		r.errorf(field("controlPlane", "pilot", "autoscale", "min"), "min %d is above max %d; min must not exceed max", as.Min, as.Max)
	}
	if c.Production() && as.Min < 2 {
		r.warnf(field("controlPlane", "pilot", "autoscale", "min"), "min %d in a production cluster: with one istiod replica, istiod's PodDisruptionBudget blocks node drains; use at least 2", as.Min)
	}
	if t := dcp.Tracing; t != nil {
		cp.Tracing = &mesh.Tracing{Provider: t.Provider, Service: t.Service, Port: t.Port, Sampling: t.Sampling}
		if t.Provider != "none" {
			if t.Service == "" {
				r.errorf(field("controlPlane", "tracing", "service"), "missing; provider %s needs the collector's service, such as jaeger-collector.observability.svc.cluster.local", t.Provider)
			}
			if t.Port == 0 {
				r.errorf(field("controlPlane", "tracing", "port"), "missing; provider %s needs the collector's port, such as 4317 (OTLP) or 9411 (Zipkin)", t.Provider)
			}
		}
	}
}

// quantity parses a quantity with Kubernetes' own rules.
func (r *rules) quantity(p []string, text quantityText) mesh.Quantity {
	if text == "" {
		return mesh.Quantity{}
	}
	q, err := resource.ParseQuantity(string(text))
	if err != nil {
		r.errorf(p, "%q is not a valid quantity; use a Kubernetes quantity such as 500m, 2, 128Mi or 4Gi", string(text))
		return mesh.Quantity{}
	}
	return mesh.Quantity{Text: string(text), Value: q}
}

func (r *rules) cpuMemory(p []string, d *cpuMemoryDoc) mesh.CPUMemory {
	if d == nil {
		return mesh.CPUMemory{}
	}
	return mesh.CPUMemory{
		CPU:    r.quantity(append(p, "cpu"), d.CPU),
		Memory: r.quantity(append(p, "memory"), d.Memory),
	}
}

// resources reads requests and limits and checks that no request is above
// its limit (the API server would reject such a container).
func (r *rules) resources(p []string, d resourcesDoc) mesh.Resources {
	res := mesh.Resources{
		Requests: r.cpuMemory(append(p[:len(p):len(p)], "requests"), d.Requests),
		Limits:   r.cpuMemory(append(p[:len(p):len(p)], "limits"), d.Limits),
	}
	r.notAbove(p, "cpu", res.Requests.CPU, res.Limits.CPU)
	r.notAbove(p, "memory", res.Requests.Memory, res.Limits.Memory)
	return res
}

func (r *rules) notAbove(p []string, what string, req, lim mesh.Quantity) {
	if req.Text == "" || lim.Text == "" || req.Value.Cmp(lim.Value) <= 0 {
		return
	}
	r.errorf(append(p[:len(p):len(p)], "requests", what), "%s is above limits.%s %s; requests must not exceed limits", req.Text, what, lim.Text)
}

func (r *rules) namespace(c *mesh.Cluster, name string, d *namespaceDoc) *mesh.Namespace {
	p := field("namespaces", name)
	at := func(s ...string) []string { return append(p[:len(p):len(p)], s...) }
	ns := &mesh.Namespace{
		Name:      name,
		Injection: d.Injection == "enabled",
		Revision:  d.Revision,
		MTLS:      d.MTLS,
		Labels:    d.Labels,
	}
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		r.errorf(p, "%q is not a valid namespace name: %s", name, strings.Join(errs, "; "))
	}
	if name == IstioSystem || name == IstioIngress || strings.HasPrefix(name, "kube-") {
		r.errorf(p, "%q is reserved: meshc manages istio-system and istio-ingress, and kube-* belong to Kubernetes; declare only tenant namespaces", name)
	}
	if d.Revision != "" {
		var running []string
		for _, rev := range c.ControlPlane.Revisions() {
			running = append(running, rev.Name)
		}
		if !contains(running, d.Revision) {
			r.errorf(at("revision"), "revision %q does not run on cluster %s; pin to one it runs: %s", d.Revision, c.Name, strings.Join(running, " or "))
		}
	}
	if d.MTLS != "" {
		r.mtls(at("mtls"), d.MTLS, c.Production())
	}
	for _, k := range sortedKeys(d.Labels) {
		if contains(ownedLabels, k) {
			r.errorf(at("labels", k), "the label %s is meshc's: it sets it from injection and revision; remove it and use injection or revision instead", k)
			continue
		}
		r.label(at("labels", k), k, d.Labels[k])
	}
	if !ns.Injection {
		if d.MTLS != "" {
			r.warnf(at("mtls"), "has no effect: injection is disabled, so the namespace runs no sidecars to enforce it")
		}
		if len(d.Authorization) > 0 {
			r.warnf(at("authorization"), "has no effect: injection is disabled, so the namespace runs no sidecars to enforce it")
		}
	}
	if d.ContainerDefaults != nil {
		cd := r.resources(at("containerDefaults"), *d.ContainerDefaults)
		ns.ContainerDefaults = &cd
	}
	if q := d.Quota; q != nil {
		ns.Quota = &mesh.Quota{
			Requests: r.cpuMemory(at("quota", "requests"), &q.Requests),
			Limits:   r.cpuMemory(at("quota", "limits"), q.Limits),
			Pods:     q.Pods,
		}
		r.notAbove(at("quota"), "cpu", ns.Quota.Requests.CPU, ns.Quota.Limits.CPU)
		r.notAbove(at("quota"), "memory", ns.Quota.Requests.Memory, ns.Quota.Limits.Memory)
		if q.Limits != nil && d.ContainerDefaults == nil {
			r.warnf(at("quota", "limits"), "the quota sets limits but the namespace has no containerDefaults: pods whose containers set no limits will be rejected; add containerDefaults")
		}
		if ns.Injection {
			r.sidecarQuota(at("quota"), c.Sidecar, ns.Quota)
		}
	}
	for i, pd := range d.Authorization {
		pol := mesh.Policy{Name: pd.Name, Selector: pd.Selector, Methods: pd.Methods, Paths: pd.Paths}
		for _, f := range pd.From {
			pol.From = append(pol.From, mesh.Source{Namespace: f.Namespace, ServiceAccount: f.ServiceAccount})
		}
		for _, k := range sortedKeys(pd.Selector) {
			r.label(at("authorization", fmt.Sprint(i), "selector", k), k, pd.Selector[k])
		}
		ns.Authorization = append(ns.Authorization, pol)
	}
	return ns
}

func (r *rules) label(p []string, key, value string) {
	if errs := validation.IsQualifiedName(key); len(errs) > 0 {
		r.errorf(p, "%q is not a valid label key: %s", key, strings.Join(errs, "; "))
	}
	if errs := validation.IsValidLabelValue(value); len(errs) > 0 {
		r.errorf(p, "%q is not a valid label value: %s", value, strings.Join(errs, "; "))
	}
}

// sidecarQuota checks that a quota leaves room for the sidecars of its own
// pods: every injected pod carries one Envoy with the cluster's sidecar
// resources, charged to the namespace's quota.
func (r *rules) sidecarQuota(p []string, sidecar mesh.Resources, q *mesh.Quota) {
	check := func(kind, what string, per, quota mesh.Quantity) {
		if per.Text == "" || quota.Text == "" {
			return
		}
		total := times(per.Value, q.Pods)
		qp := append(p[:len(p):len(p)], kind, what)
		switch {
		case total.Cmp(quota.Value) > 0:
			r.errorf(qp, "%s is too small for the namespace's own sidecars: %d pods x %s sidecar %s = %s; raise it to at least %s, lower quota.pods, or lower the cluster's sidecar %s",
				quota.Text, q.Pods, per.Text, kind, total.String(), total.String(), kind)
		case kind == "requests" && twice(total).Cmp(quota.Value) > 0:
			r.warnf(qp, "sidecars take %s of %s (%s) at %d pods; more than half of the quota goes to sidecars",
				total.String(), quota.Text, percent(total, quota.Value), q.Pods)
		}
	}
	check("requests", "cpu", sidecar.Requests.CPU, q.Requests.CPU)
	check("requests", "memory", sidecar.Requests.Memory, q.Requests.Memory)
	check("limits", "cpu", sidecar.Limits.CPU, q.Limits.CPU)
	check("limits", "memory", sidecar.Limits.Memory, q.Limits.Memory)
}

// times multiplies a quantity exactly (no int64 overflow for big pod counts).
func times(q resource.Quantity, n int64) resource.Quantity {
	d := new(inf.Dec).Mul(q.AsDec(), inf.NewDec(n, 0))
	return *resource.NewDecimalQuantity(*d, q.Format)
}

func twice(q resource.Quantity) *resource.Quantity {
	t := times(q, 2)
	return &t
}

// percent renders part/whole as a whole percentage.
func percent(part, whole resource.Quantity) string {
	if whole.IsZero() {
		return "all"
	}
	ratio := new(inf.Dec).QuoRound(new(inf.Dec).Mul(part.AsDec(), inf.NewDec(100, 0)), whole.AsDec(), 0, inf.RoundHalfUp)
	return ratio.String() + "%"
}

func (r *rules) authorization(c *mesh.Cluster, ns *mesh.Namespace, byName map[string]*mesh.Namespace) {
	seen := map[string]int{}
	for i, pol := range ns.Authorization {
		p := field("namespaces", ns.Name, "authorization", fmt.Sprint(i))
		if j, dup := seen[pol.Name]; dup {
			r.errorf(append(p, "name"), "a policy named %q is already declared in namespace %s (authorization[%d]); policy names must be unique within a namespace", pol.Name, ns.Name, j)
		}
		seen[pol.Name] = i
		for k, src := range pol.From {
			sp := append(p[:len(p):len(p)], "from", fmt.Sprint(k))
			name := src.Namespace
			if name == "" {
				name = ns.Name
			}
			if name == IstioSystem || name == IstioIngress {
				continue
			}
			target, ok := byName[name]
			if !ok {
				r.errorf(append(sp, "namespace"), "namespace %q is not declared on cluster %s, so no workload there can call; declare it under namespaces, or use one of: %s",
					name, c.Name, strings.Join(append(sortedNamespaceNames(byName), IstioSystem, IstioIngress), ", "))
				continue
			}
			if !target.Injection {
				field := "namespace"
				if src.Namespace == "" {
					field = "serviceAccount"
				}
				r.errorf(append(sp, field), "namespace %q has injection disabled: its pods run no sidecar, never present a principal and are always denied; enable injection there or remove this source", name)
			}
		}
	}
}

func sortedNamespaceNames(m map[string]*mesh.Namespace) []string {
	return sortedKeys(m)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
