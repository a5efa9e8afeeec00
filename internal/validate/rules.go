package validate

import (
	"fmt"
	"sort"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
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
var ownedLabels = map[string]string{
	"istio-injection":           "it sets it from injection (and leaves it off when the namespace pins a revision): remove it and use injection instead",
	"istio.io/rev":              "it sets it from revision: remove it and use revision instead",
	"topology.istio.io/network": "it comes from the cluster's network: remove it",
}

// istiodRelease is the Helm release name of a revision's istiod; it must
// match compile.IstiodRelease (a test checks that it does).
func istiodRelease(rev string) string { return "istiod-" + rev }

// rules applies the checks that need Go to one cluster, collecting
// diagnostics positioned through the cluster's raw data value (with the
// mesh's defaults merged in, so a wrong default is reported in the mesh
// file).
type rules struct {
	info *meshInfo
	raw  cue.Value
	ast  *ast.File // the cluster file's syntax; nil on the fast path
	file string
	stem string
	name string // what a DNS-1123 label is, in words
	// revisionsOK reports whether the cluster's revisions are all valid,
	// so that a namespace's pin can be checked against them.
	revisionsOK bool
	diags       diag.List
	// uses collects, per revision the mesh declares but the cluster does
	// not run, the namespaces and tags that still select it: one error per
	// revision names them all (revisionUses).
	uses map[string][]use
	// bad lists paths the schema found invalid: rules say nothing more
	// about them.
	bad [][]cue.Selector
}

// where returns the position of a path and its name in messages: a value
// that comes from the mesh's defaults is named defaults.<path>.
func (r *rules) where(p []cue.Selector) (diag.Pos, string) {
	pos := valuePosOf(r.raw, r.file, p...)
	name := dotted(p)
	if pos.File != r.file && r.info.file != nil && pos.File == r.info.file.Path {
		name = "defaults." + name
	}
	return pos, name
}

func (r *rules) errorf(p []cue.Selector, format string, args ...any) {
	if isBad(r.bad, p) {
		return
	}
	pos, name := r.where(p)
	r.diags.Errorf(pos, "%s: %s", name, fmt.Sprintf(format, args...))
}

// keyErrorf reports an error about a map key at the key itself.
func (r *rules) keyErrorf(p []cue.Selector, format string, args ...any) {
	if isBad(r.bad, p) {
		return
	}
	_, name := r.where(p)
	r.diags.Errorf(posOf(r.raw, r.file, p...), "%s: %s", name, fmt.Sprintf(format, args...))
}

// qualifiedName says what a Kubernetes label or annotation key is.
const qualifiedName = "at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit, after an optional DNS prefix and '/', such as example.com/team"

func (r *rules) warnf(p []cue.Selector, format string, args ...any) {
	if isBad(r.bad, p) {
		return
	}
	pos, name := r.where(p)
	r.diags.Warnf(pos, "%s: %s", name, fmt.Sprintf(format, args...))
}

// field builds a path: strings are field names, ints list indices.
func field(parts ...any) []cue.Selector {
	return appendField(make([]cue.Selector, 0, len(parts)), parts)
}

func appendField(p []cue.Selector, parts []any) []cue.Selector {
	for _, x := range parts {
		switch x := x.(type) {
		case int:
			p = append(p, cue.Index(x))
		case string:
			p = append(p, cue.Str(x))
		case cue.Selector:
			p = append(p, x)
		}
	}
	return p
}

// sub extends a path (a new slice: p is shared by its siblings). Every
// field the rules look at gets one, errors or not, so it is one
// allocation.
func sub(p []cue.Selector, parts ...any) []cue.Selector {
	return appendField(append(make([]cue.Selector, 0, len(p)+len(parts)), p...), parts)
}

func (r *rules) cluster(d *clusterDoc) *mesh.Cluster {
	c := &mesh.Cluster{
		Name:        d.Name,
		Network:     d.Network,
		Environment: d.Environment,
		Server:      d.Server,
		MTLS:        d.MTLS,
	}
	if d.Name != "" && d.Name != r.stem {
		r.errorf(field("name"), "%q differs from the file's name %q; a cluster file is named after its cluster: rename the file to %s%s or set name: %s",
			d.Name, r.stem, d.Name, extOf(r.file), r.stem)
	}
	if r.info.m != nil && r.info.m.GitOps.Engine == mesh.ArgoCD && d.Server == "" {
		r.errorf(field("server"), "missing; Argo CD runs in a management cluster and needs each cluster's API server URL (gitops.engine is argocd)")
	}
	if r.info.known() {
		// Without the mesh file the cluster's environment, mtls, control
		// plane and sidecar may all come from defaults meshc cannot see:
		// rules about them would judge the wrong values.
		r.mtls(field("mtls"), d.MTLS, c.Production())
		r.controlPlane(d, c)
		c.Sidecar = r.resources(field("sidecar"), d.Sidecar)
	}

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
	r.revisionUses(c)
	for _, k := range sortedKeys(d.ControlPlane.IngressGateway.ServiceAnnotations) {
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			r.keyErrorf(field("controlPlane", "ingressGateway", "serviceAnnotations", k), "%q is not a valid annotation key; use %s", k, qualifiedName)
		}
	}
	return c
}

func extOf(file string) string {
	if i := strings.LastIndexByte(file, '.'); i >= 0 {
		return file[i:]
	}
	return ""
}

func (r *rules) mtls(p []cue.Selector, mode string, production bool) {
	switch {
	case mode == "DISABLE" && production:
		r.errorf(p, "DISABLE is not allowed in a production cluster: it sends service traffic in plain text; use STRICT, or PERMISSIVE while migrating")
	case mode == "PERMISSIVE" && production:
		r.warnf(p, "PERMISSIVE in a production cluster accepts plain-text traffic; switch to STRICT once every client has a sidecar")
	}
}

// revision looks a revision up in the mesh. ok is false when it is not
// declared there, or declared with an invalid version (the mesh file's
// error), or when there is no valid mesh file to look in.
func (r *rules) revision(p []cue.Selector, name string) (mesh.Revision, bool) {
	if name == "" || !r.info.known() || len(r.info.declared) == 0 {
		// A mesh that declares no revisions is the mesh file's error.
		return mesh.Revision{Name: name}, false
	}
	v, ok := r.info.m.Revisions[name]
	if ok {
		return mesh.Revision{Name: name, Version: v}, true
	}
	if !r.info.declared[name] {
		r.errorf(p, "revision %q is not declared in the mesh file; use one it declares: %s", name, strings.Join(sortedKeys(r.info.declared), ", "))
	}
	return mesh.Revision{Name: name}, false
}

func (r *rules) controlPlane(d *clusterDoc, c *mesh.Cluster) {
	dcp := &d.ControlPlane
	cp := &c.ControlPlane
	cp.Profile = dcp.Profile
	cp.AccessLogFile = dcp.AccessLogFile
	cp.IngressServiceAnnotations = dcp.IngressGateway.ServiceAnnotations
	rev, revOK := r.revision(field("controlPlane", "revision"), dcp.Revision)
	cp.Revision = rev
	r.revisionsOK = revOK
	if dcp.Canary != nil {
		canaryPath := field("controlPlane", "canary")
		canary, ok := r.revision(canaryPath, *dcp.Canary)
		switch {
		case canary.Name == rev.Name && canary.Name != "":
			r.errorf(canaryPath, "the canary %q equals the revision; a canary is a second, newer revision installed beside it: remove canary or name another revision", canary.Name)
		case !ok || !revOK:
		case !rev.Version.Less(canary.Version):
			r.errorf(canaryPath, "canary %s runs Istio %s, which is not newer than revision %s (Istio %s); a canary upgrade installs a newer version",
				canary.Name, canary.Version, rev.Name, rev.Version)
		case canary.Version.Major != rev.Version.Major:
			r.errorf(canaryPath, "canary %s runs Istio %s, a new major version after revision %s (Istio %s); Istio supports canary upgrades of at most two minor versions within a major version",
				canary.Name, canary.Version, rev.Name, rev.Version)
		case canary.Version.Minor-rev.Version.Minor > 2:
			r.errorf(canaryPath, "canary %s runs Istio %s, more than two minor versions ahead of revision %s (Istio %s); Istio supports canary upgrades of at most two minor versions",
				canary.Name, canary.Version, rev.Name, rev.Version)
		}
		cp.Canary = &canary
		r.revisionsOK = r.revisionsOK && ok
	}
	if dcp.Previous != nil {
		prevPath := field("controlPlane", "previous")
		prev, ok := r.revision(prevPath, *dcp.Previous)
		switch {
		case prev.Name == "":
		case prev.Name == rev.Name:
			r.errorf(prevPath, "previous %q equals the revision; previous is the revision a promotion replaced, kept installed until every proxy has left it: remove previous or name the replaced revision", prev.Name)
		case cp.Canary != nil && prev.Name == cp.Canary.Name:
			r.errorf(prevPath, "previous %q equals the canary; a revision is either the canary being rolled out or the previous one being retired: remove previous or canary", prev.Name)
		}
		cp.Previous = &prev
		r.revisionsOK = r.revisionsOK && ok
	}
	r.tags(dcp.Tags, cp)
	cp.Pilot.Resources = r.resources(field("controlPlane", "pilot", "resources"), dcp.Pilot.Resources)
	as := dcp.Pilot.Autoscale
	cp.Pilot.AutoscaleMin, cp.Pilot.AutoscaleMax = as.Min, as.Max
	if as.Min > as.Max && as.Max > 0 {
		r.errorf(field("controlPlane", "pilot", "autoscale", "min"), "min %d is above max %d; min must not exceed max", as.Min, as.Max)
	}
	if c.Production() && as.Min < 2 && as.Min > 0 {
		r.warnf(field("controlPlane", "pilot", "autoscale", "min"), "min %d in a production cluster: with one istiod replica, istiod's PodDisruptionBudget blocks node drains; use at least 2", as.Min)
	}
	cp.IngressGateway = r.gateway("ingressGateway", c, dcp.IngressGateway.gatewayDoc)
	cp.EastWestGateway = r.gateway("eastWestGateway", c, dcp.EastWestGateway)
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

// tags checks the revision tags: a tag's name must not shadow the default
// tag or a revision (namespaces select both by istio.io/rev), and it must
// point at a revision the mesh declares; one the cluster does not run is
// reported with the other uses of that revision (revisionUses).
func (r *rules) tags(tags map[string]string, cp *mesh.ControlPlane) {
	for _, name := range sortedKeys(tags) {
		p := field("controlPlane", "tags", name)
		target := tags[name]
		switch {
		case name == "default":
			r.keyErrorf(p, "the default tag always points at revision (%s); name this tag otherwise, such as prod-stable", cp.Revision.Name)
			continue
		case r.info.declared[name]:
			r.keyErrorf(p, "%q is the name of a revision of the mesh; namespaces pin tags and revisions with the same istio.io/rev label, so a tag may not take a revision's name: choose another, such as prod-stable", name)
			continue
		}
		cp.Tags = append(cp.Tags, mesh.Tag{Name: name, Revision: target})
		rev, ok := r.revision(p, target)
		if ok && r.revisionsOK && !cp.Runs(rev.Name) {
			r.use(rev.Name, "tag", name, p)
		}
	}
}

// topKeyPos is the position of a top-level field's name in the cluster
// file (posOf gives a struct's first field instead), or else of the file.
func (r *rules) topKeyPos(name string) diag.Pos {
	if r.ast != nil {
		decls := r.ast.Decls
		for _, d := range decls {
			if e, ok := d.(*ast.EmbedDecl); ok {
				if s, ok := e.Expr.(*ast.StructLit); ok {
					decls = s.Elts // a JSON file is one struct
				}
			}
		}
		for _, d := range decls {
			if f, ok := d.(*ast.Field); ok {
				if n, _, err := ast.LabelName(f.Label); err == nil && n == name {
					if pos := diag.FromToken(f.Label.Pos()); pos.Line > 0 {
						return pos
					}
				}
			}
		}
	}
	return posOf(r.raw, r.file, field(name)...)
}

// use is one namespace or tag that selects a revision.
type use struct {
	kind, name string // "namespace" or "tag"
	pos        diag.Pos
}

func (r *rules) use(rev, kind, name string, p []cue.Selector) {
	if isBad(r.bad, p) {
		return
	}
	if r.uses == nil {
		r.uses = map[string][]use{}
	}
	pos, _ := r.where(p)
	r.uses[rev] = append(r.uses[rev], use{kind: kind, name: name, pos: pos})
}

// revisionUses reports, once per revision, the namespaces and tags that
// select a revision the mesh declares but the cluster does not run. A
// revision older than the default one is one the cluster has left (a
// promotion replaced it, and previous was dropped too soon): the error is
// at controlPlane, where previous keeps it installed. Any other (one never
// installed) is reported at its first use, where the pin must change.
func (r *rules) revisionUses(c *mesh.Cluster) {
	cp := &c.ControlPlane
	var running []string
	for _, rev := range cp.Revisions() {
		running = append(running, rev.Name)
	}
	for _, rev := range sortedKeys(r.uses) {
		uses := r.uses[rev]
		sort.SliceStable(uses, func(i, j int) bool { return uses[i].pos.Line < uses[j].pos.Line })
		var nss, tags []string
		for _, u := range uses {
			where := fmt.Sprintf("%s (line %d)", u.name, u.pos.Line)
			if u.pos.File != r.file {
				where = fmt.Sprintf("%s (%s)", u.name, u.pos)
			}
			if u.kind == "namespace" {
				nss = append(nss, where)
			} else {
				tags = append(tags, where)
			}
		}
		var who []string
		if len(nss) > 0 {
			who = append(who, plural(len(nss), "namespace", "namespaces")+" "+andList(nss))
		}
		if len(tags) > 0 {
			who = append(who, plural(len(tags), "tag", "tags")+" "+andList(tags))
		}
		users := strings.Join(who, " and ")
		var fix []string
		if len(nss) > 0 {
			fix = append(fix, fmt.Sprintf("unpin %s (%s then %s revision %q)", plural(len(nss), "the namespace", "those namespaces"), plural(len(nss), "it", "they"), plural(len(nss), "follows", "follow"), cp.Revision.Name))
		}
		if len(tags) > 0 {
			fix = append(fix, fmt.Sprintf("point %s at a revision the cluster runs (%s)", plural(len(tags), "the tag", "those tags"), strings.Join(running, ", ")))
		}
		v, declared := r.info.m.Revisions[rev]
		if declared && v.Less(cp.Revision.Version) && cp.Previous == nil {
			r.diags.Errorf(r.topKeyPos("controlPlane"), "controlPlane: cluster %s does not run revision %q, yet %s still %s it; keep previous: %q until none does: %s",
				c.Name, rev, users, plural(len(uses), "uses", "use"), rev, strings.Join(fix, ", and "))
			continue
		}
		first := uses[0]
		what := "namespaces." + first.name + ".revision"
		if first.kind == "tag" {
			what = "controlPlane.tags." + first.name
		}
		also := ""
		if len(uses) > 1 {
			also = fmt.Sprintf(", yet %s use it", users)
		}
		install := ""
		if declared && cp.Canary == nil && cp.Revision.Version.Less(v) {
			install = fmt.Sprintf(", or install %q first (canary: %q)", rev, rev)
		}
		r.diags.Errorf(first.pos, "%s: revision %q does not run on cluster %s%s; select one it runs (%s)%s",
			what, rev, c.Name, also, strings.Join(running, ", "), install)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// andList joins "a", "a and b", "a, b and c".
func andList(s []string) string {
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// gateway applies a gateway's defaults and checks its replica bounds: by
// default 2..5 in production, so a node drain never takes the only gateway
// down, else 1..5 (the chart's own).
func (r *rules) gateway(name string, c *mesh.Cluster, d gatewayDoc) mesh.Gateway {
	g := mesh.Gateway{ServiceType: d.ServiceType, AutoscaleMin: d.Autoscale.Min, AutoscaleMax: d.Autoscale.Max}
	if g.ServiceType == "" {
		g.ServiceType = "LoadBalancer"
	}
	if g.AutoscaleMin == 0 {
		g.AutoscaleMin = 1
		if c.Production() {
			g.AutoscaleMin = 2
		}
	}
	if g.AutoscaleMax == 0 {
		g.AutoscaleMax = 5
	}
	p := field("controlPlane", name, "autoscale")
	if g.AutoscaleMin > g.AutoscaleMax {
		at := sub(p, "min")
		if d.Autoscale.Min == 0 {
			at = sub(p, "max") // min is the default: the max given is the problem
		}
		r.errorf(at, "min %d is above max %d; min must not exceed max", g.AutoscaleMin, g.AutoscaleMax)
	}
	if c.Production() && g.AutoscaleMin < 2 {
		r.warnf(sub(p, "min"), "min %d in a production cluster: a node drain takes the only gateway down, and it gets no PodDisruptionBudget; use at least 2", g.AutoscaleMin)
	}
	return g
}

// quantity parses a quantity with Kubernetes' own rules.
func (r *rules) quantity(p []cue.Selector, text quantityText) mesh.Quantity {
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

func (r *rules) cpuMemory(p []cue.Selector, d *cpuMemoryDoc) mesh.CPUMemory {
	if d == nil {
		return mesh.CPUMemory{}
	}
	return mesh.CPUMemory{
		CPU:    r.quantity(sub(p, "cpu"), d.CPU),
		Memory: r.quantity(sub(p, "memory"), d.Memory),
	}
}

// resources reads requests and limits and checks that no request is above
// its limit (the API server would reject such a container).
func (r *rules) resources(p []cue.Selector, d resourcesDoc) mesh.Resources {
	res := mesh.Resources{
		Requests: r.cpuMemory(sub(p, "requests"), d.Requests),
		Limits:   r.cpuMemory(sub(p, "limits"), d.Limits),
	}
	r.notAbove(p, "cpu", res.Requests.CPU, res.Limits.CPU)
	r.notAbove(p, "memory", res.Requests.Memory, res.Limits.Memory)
	return res
}

func (r *rules) notAbove(p []cue.Selector, what string, req, lim mesh.Quantity) {
	if req.Text == "" || lim.Text == "" || req.Value.Cmp(lim.Value) <= 0 {
		return
	}
	rp, lp := sub(p, "requests", what), sub(p, "limits", what)
	if isBad(r.bad, lp) {
		return
	}
	reqPos, _ := r.where(rp)
	limPos, limName := r.where(lp)
	from := ""
	if limPos.File != reqPos.File {
		from = fmt.Sprintf(" (%s, set at %s)", limName, limPos)
	}
	r.errorf(rp, "%s is above limits.%s %s%s; requests must not exceed limits", req.Text, what, lim.Text, from)
}

func (r *rules) namespace(c *mesh.Cluster, name string, d *namespaceDoc) *mesh.Namespace {
	p := field("namespaces", name)
	at := func(s ...any) []cue.Selector { return sub(p, s...) }
	ns := &mesh.Namespace{
		Name:      name,
		Injection: d.Injection == "enabled",
		Revision:  d.Revision,
		MTLS:      d.MTLS,
		Labels:    d.Labels,
	}
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		r.errorf(p, "%q is not a valid namespace name; use %s", name, r.name)
	}
	if name == IstioSystem || name == IstioIngress || strings.HasPrefix(name, "kube-") {
		r.errorf(p, "%q is reserved: meshc manages istio-system and istio-ingress, and kube-* belong to Kubernetes; declare only tenant namespaces", name)
	}
	if d.Revision != "" && r.revisionsOK {
		r.pin(c, at("revision"), name, d.Revision)
	}
	if d.MTLS != "" {
		if r.info.known() {
			r.mtls(at("mtls"), d.MTLS, c.Production())
		}
	}
	for _, k := range sortedKeys(d.Labels) {
		if why, owned := ownedLabels[k]; owned {
			r.keyErrorf(at("labels", k), "the label %s is meshc's: %s", k, why)
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
		if ns.Injection && r.info.known() {
			r.sidecarQuota(at("quota"), c.Sidecar, ns.Quota)
		}
	}
	for i, pd := range d.Authorization {
		pol := mesh.Policy{Name: pd.Name, Selector: pd.Selector, Methods: pd.Methods, Paths: pd.Paths}
		for _, f := range pd.From {
			pol.From = append(pol.From, mesh.Source{Namespace: f.Namespace, ServiceAccount: f.ServiceAccount})
		}
		for _, k := range sortedKeys(pd.Selector) {
			r.label(at("authorization", i, "selector", k), k, pd.Selector[k])
		}
		ns.Authorization = append(ns.Authorization, pol)
	}
	return ns
}

// pin checks a namespace's pin: a tag the cluster declares, or a revision
// it runs. A declared revision it does not run is reported with that
// revision's other uses (revisionUses).
func (r *rules) pin(c *mesh.Cluster, p []cue.Selector, ns, pin string) {
	cp := &c.ControlPlane
	if _, ok := cp.Tag(pin); ok || cp.Runs(pin) {
		return
	}
	if _, ok := r.info.m.Revisions[pin]; ok {
		r.use(pin, "namespace", ns, p)
		return
	}
	if r.info.declared[pin] {
		return // declared with an invalid version: the mesh file's error
	}
	if pin == "default" {
		r.errorf(p, "\"default\" is the default tag, which namespaces follow without a pin: remove revision (the namespace then follows revision %q)", cp.Revision.Name)
		return
	}
	var running, tags []string
	for _, rev := range cp.Revisions() {
		running = append(running, rev.Name)
	}
	for _, t := range cp.Tags {
		tags = append(tags, t.Name)
	}
	tagHint := "; it declares no tags (controlPlane.tags)"
	if len(tags) > 0 {
		tagHint = " or one of its tags (" + strings.Join(tags, ", ") + ")"
	}
	r.errorf(p, "%q is neither a revision of the mesh nor a tag of cluster %s; pin to a revision it runs (%s)%s", pin, c.Name, strings.Join(running, ", "), tagHint)
}

func (r *rules) label(p []cue.Selector, key, value string) {
	if errs := validation.IsQualifiedName(key); len(errs) > 0 {
		r.keyErrorf(p, "%q is not a valid label key; use %s", key, qualifiedName)
	}
	if errs := validation.IsValidLabelValue(value); len(errs) > 0 {
		r.errorf(p, "%q is not a valid label value; use at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (or nothing)", value)
	}
}

// sidecarQuota checks that a quota leaves room for the sidecars of its own
// pods: every injected pod carries one Envoy with the cluster's sidecar
// resources, charged to the namespace's quota.
func (r *rules) sidecarQuota(p []cue.Selector, sidecar mesh.Resources, q *mesh.Quota) {
	check := func(kind, what string, per, quota mesh.Quantity) {
		if per.Text == "" || quota.Text == "" {
			return
		}
		total := times(per.Value, q.Pods)
		qp := sub(p, kind, what)
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
		p := field("namespaces", ns.Name, "authorization", i)
		if j, dup := seen[pol.Name]; dup && pol.Name != "" {
			r.errorf(sub(p, "name"), "a policy named %q is already declared in namespace %s (authorization[%d]); policy names must be unique within a namespace", pol.Name, ns.Name, j)
		}
		seen[pol.Name] = i
		for k, src := range pol.From {
			sp := sub(p, "from", k)
			name := src.Namespace
			if name == "" {
				name = ns.Name
			}
			if name == IstioSystem || name == IstioIngress {
				continue
			}
			target, ok := byName[name]
			if !ok {
				r.errorf(sub(sp, "namespace"), "namespace %q is not declared on cluster %s, so no workload there can call; declare it under namespaces, or use one of: %s",
					name, c.Name, strings.Join(append(sortedNamespaceNames(byName), IstioSystem, IstioIngress), ", "))
				continue
			}
			if !target.Injection {
				field := "namespace"
				if src.Namespace == "" {
					field = "serviceAccount"
				}
				r.errorf(sub(sp, field), "namespace %q has injection disabled: its pods run no sidecar, never present a principal and are always denied; enable injection there or remove this source", name)
			}
		}
	}
}

func sortedNamespaceNames(m map[string]*mesh.Namespace) []string {
	return sortedKeys(m)
}
