package review

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/golemtrust/meshc/internal/mesh"
)

// Namespaces meshc itself owns in every cluster; the others are tenants'.
const (
	istioSystem  = "istio-system"
	istioIngress = "istio-ingress"
)

// ClusterRemoved flags a cluster file that is gone: its engine entry point
// goes with it, and the engine prunes what that entry point applied (the
// control plane and the mesh policy; namespaces are never pruned).
func ClusterRemoved(c *Cluster) []Risk {
	if c.Before == nil || c.After != nil {
		return nil
	}
	k := Key{Kind: "Cluster", Name: c.Name}
	if len(c.EntryPoint) > 0 {
		k = c.EntryPoint[0]
	}
	var names []string
	for _, e := range c.EntryPoint {
		names = append(names, e.String())
	}
	return []Risk{c.risk("cluster-removed", k, "present", "removed",
		fmt.Sprintf("the cluster file is removed: its entry point (%s) goes, and the engine prunes the control plane and mesh policy it applied (namespaces and workloads stay, without istiod)", strings.Join(names, ", ")),
		c.File)}
}

// mtlsStrength orders PeerAuthentication modes; UNSET inherits, so it is
// not given a strength of its own.
func mtlsStrength(mode string) int {
	switch mode {
	case "STRICT":
		return 3
	case "PERMISSIVE":
		return 2
	case "DISABLE":
		return 1
	}
	return 0
}

// meshWideMTLS is the root namespace's mode; Istio's own default, with no
// PeerAuthentication, is PERMISSIVE.
func meshWideMTLS(objs map[Key]Doc) string {
	if d, ok := objs[Key{"PeerAuthentication", istioSystem, "default"}]; ok {
		return str(d, "spec", "mtls", "mode")
	}
	return "PERMISSIVE"
}

// effectiveMTLS is the mode a namespace's workloads get.
func effectiveMTLS(objs map[Key]Doc, ns string) string {
	if d, ok := objs[Key{"PeerAuthentication", ns, "default"}]; ok {
		if m := str(d, "spec", "mtls", "mode"); mtlsStrength(m) > 0 {
			return m
		}
	}
	return meshWideMTLS(objs)
}

// MTLSWeakened flags the mesh-wide mode going weaker (STRICT ->
// PERMISSIVE -> DISABLE), and a namespace whose workloads get a weaker mode
// because its own PeerAuthentication changed, was added, or was removed
// under a weaker mesh-wide mode.
func MTLSWeakened(c *Cluster) []Risk {
	if !c.both() {
		return nil
	}
	var out []Risk
	root := Key{"PeerAuthentication", istioSystem, "default"}
	if b, a := meshWideMTLS(c.Before), meshWideMTLS(c.After); mtlsStrength(a) < mtlsStrength(b) {
		out = append(out, c.risk("mtls-weakened", root, b, a,
			fmt.Sprintf("mesh-wide mTLS goes %s -> %s: every namespace without its own mode accepts %s", b, a, plaintext(a)),
			c.where("mtls")))
	}
	for _, k := range ofKind(c.After, "Namespace") {
		ns := k.Name
		if _, ok := c.Before[k]; !ok || ns == istioSystem {
			continue
		}
		pa := Key{"PeerAuthentication", ns, "default"}
		_, hadOwn := c.Before[pa]
		_, hasOwn := c.After[pa]
		if !hadOwn && !hasOwn {
			continue // follows the mesh-wide mode, flagged above
		}
		b, a := effectiveMTLS(c.Before, ns), effectiveMTLS(c.After, ns)
		if mtlsStrength(a) >= mtlsStrength(b) {
			continue
		}
		msg := fmt.Sprintf("namespace %s's mTLS goes %s -> %s: its workloads accept %s", ns, b, a, plaintext(a))
		if hadOwn && !hasOwn {
			msg = fmt.Sprintf("namespace %s's %s override is removed: it now follows the mesh-wide %s and its workloads accept %s", ns, b, a, plaintext(a))
		}
		out = append(out, c.risk("mtls-weakened", pa, b, a, msg, c.where("namespaces", ns, "mtls")))
	}
	return out
}

func plaintext(mode string) string {
	if mode == "DISABLE" {
		return "only plaintext"
	}
	return "plaintext"
}

// AuthzRemoved flags an AuthorizationPolicy that goes: the workloads it
// selected lose their ALLOW list (with no ALLOW policy left, Istio allows
// every caller).
func AuthzRemoved(c *Cluster) []Risk {
	if !c.both() {
		return nil
	}
	var out []Risk
	for _, k := range ofKind(c.Before, "AuthorizationPolicy") {
		if _, ok := c.After[k]; ok {
			continue
		}
		sel := labelsText(strMap(c.Before[k], "spec", "selector", "matchLabels"))
		out = append(out, c.risk("authz-removed", k, "ALLOW "+strings.Join(principals(c.Before[k]), ", "), "removed",
			fmt.Sprintf("ALLOW policy %s is removed: workloads %s accept every caller unless another ALLOW policy selects them", k.Name, sel),
			c.where("namespaces", k.Namespace, "authorization")))
	}
	return out
}

func labelsText(m map[string]string) string {
	if len(m) == 0 {
		return "in the namespace"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+m[k])
	}
	return "selected by " + strings.Join(parts, ",")
}

// operations collects what an AuthorizationPolicy's rules allow.
type operations struct {
	principals, methods, paths []string
	// anyMethod and anyPath: some rule does not restrict them.
	anyMethod, anyPath bool
}

func principals(d Doc) []string { return ops(d).principals }

func ops(d Doc) operations {
	var o operations
	for _, r := range list(d, "spec", "rules") {
		for _, f := range list(r, "from") {
			for _, p := range list(f, "source", "principals") {
				if s, ok := p.(string); ok {
					o.principals = append(o.principals, s)
				}
			}
		}
		var methods, paths []string
		for _, t := range list(r, "to") {
			for _, m := range list(t, "operation", "methods") {
				if s, ok := m.(string); ok {
					methods = append(methods, s)
				}
			}
			for _, p := range list(t, "operation", "paths") {
				if s, ok := p.(string); ok {
					paths = append(paths, s)
				}
			}
		}
		o.anyMethod = o.anyMethod || len(methods) == 0
		o.anyPath = o.anyPath || len(paths) == 0
		o.methods = append(o.methods, methods...)
		o.paths = append(o.paths, paths...)
	}
	return o
}

// AuthzWidened flags an AuthorizationPolicy that lets more in: a new
// principal, a methods or paths restriction dropped, or a new method or
// path.
func AuthzWidened(c *Cluster) []Risk {
	if !c.both() {
		return nil
	}
	var out []Risk
	for _, k := range ofKind(c.After, "AuthorizationPolicy") {
		bd, ok := c.Before[k]
		if !ok {
			continue
		}
		b, a := ops(bd), ops(c.After[k])
		idx := policyIndex(c.Model, k)
		at := func(field string) string {
			return c.where("namespaces", k.Namespace, "authorization", idx, field)
		}
		if p := added(identities(b.principals), identities(a.principals)); len(p) > 0 {
			out = append(out, c.risk("authz-widened", k, strings.Join(b.principals, ", "), strings.Join(a.principals, ", "),
				fmt.Sprintf("policy %s now also allows %s", k.Name, strings.Join(p, ", ")), at("from")))
		}
		for _, w := range []struct {
			what          string
			before, after []string
			anyB, anyA    bool
		}{
			{"methods", b.methods, a.methods, b.anyMethod, a.anyMethod},
			{"paths", b.paths, a.paths, b.anyPath, a.anyPath},
		} {
			switch {
			case !w.anyB && w.anyA:
				out = append(out, c.risk("authz-widened", k, strings.Join(w.before, ", "), "any",
					fmt.Sprintf("policy %s no longer restricts %s (was %s): its callers may use any", k.Name, w.what, strings.Join(w.before, ", ")), at(w.what)))
			case !w.anyB:
				if n := added(w.before, w.after); len(n) > 0 {
					out = append(out, c.risk("authz-widened", k, strings.Join(w.before, ", "), strings.Join(w.after, ", "),
						fmt.Sprintf("policy %s now also allows %s %s", k.Name, w.what, strings.Join(n, ", ")), at(w.what)))
				}
			}
		}
	}
	return out
}

// identities drops the trust domain from principals: a mesh-wide trust
// domain change renames every principal without letting anyone new in.
func identities(principals []string) []string {
	out := make([]string, len(principals))
	for i, p := range principals {
		if j := strings.Index(p, "/ns/"); j >= 0 {
			p = p[j+1:]
		}
		out[i] = p
	}
	return out
}

// policyIndex finds a policy's position in its namespace's list in the
// working tree's model, for its source line; "" when not found.
func policyIndex(m *mesh.Cluster, k Key) string {
	if m == nil {
		return ""
	}
	for _, ns := range m.Namespaces {
		if ns.Name != k.Namespace {
			continue
		}
		for i, p := range ns.Authorization {
			if p.Name == k.Name {
				return strconv.Itoa(i)
			}
		}
	}
	return ""
}

// tenants lists the tenant namespaces on a side.
func tenants(objs map[Key]Doc) []Key {
	var out []Key
	for _, k := range ofKind(objs, "Namespace") {
		if k.Name != istioSystem && k.Name != istioIngress {
			out = append(out, k)
		}
	}
	return out
}

// revisionTags maps each revision tag (default included) to the revision
// its injection webhook points at.
func revisionTags(objs map[Key]Doc) map[string]string {
	out := map[string]string{}
	for _, k := range ofKind(objs, "MutatingWebhookConfiguration") {
		l := strMap(objs[k], "metadata", "labels")
		if tag, rev := l["istio.io/tag"], l["istio.io/rev"]; tag != "" && rev != "" {
			out[tag] = rev
		}
	}
	return out
}

// effectiveRevision is the revision whose istiod injects a namespace's new
// pods; "" when nothing injects them.
func effectiveRevision(objs map[Key]Doc, tags map[string]string, ns Key) string {
	l := strMap(objs[ns], "metadata", "labels")
	if rev := l["istio.io/rev"]; rev != "" && l["istio-injection"] != "disabled" {
		if r, ok := tags[rev]; ok {
			return r
		}
		return rev
	}
	if l["istio-injection"] == "enabled" {
		return tags["default"]
	}
	return ""
}

// moved lists the namespaces injected on both sides whose revision
// changes, with before and after.
func moved(c *Cluster) [][3]string {
	if !c.both() {
		return nil
	}
	bt, at := revisionTags(c.Before), revisionTags(c.After)
	var out [][3]string
	for _, k := range tenants(c.After) {
		if _, ok := c.Before[k]; !ok {
			continue
		}
		b, a := effectiveRevision(c.Before, bt, k), effectiveRevision(c.After, at, k)
		if b != "" && a != "" && b != a {
			out = append(out, [3]string{k.Name, b, a})
		}
	}
	return out
}

// RevisionMoved flags a namespace whose pods will be injected by another
// istiod: pinned, unpinned, or the default tag moving under it. Nothing
// moves until its workloads restart, and then all of them move at once.
func RevisionMoved(c *Cluster) []Risk {
	var out []Risk
	for _, m := range moved(c) {
		ns, b, a := m[0], m[1], m[2]
		k := Key{"Namespace", "", ns}
		bl := strMap(c.Before[k], "metadata", "labels")["istio.io/rev"]
		al := strMap(c.After[k], "metadata", "labels")["istio.io/rev"]
		var why, src string
		switch {
		case al != "" && al != bl:
			why, src = "pinned to "+al, c.where("namespaces", ns, "revision")
		case al != "":
			why, src = "tag "+al+" moves under it", c.where("controlPlane", "tags", al)
		case bl != "":
			why, src = "unpinned: it follows the default revision", c.where("namespaces", ns)
		default:
			why, src = "the default revision moves under it", c.where("controlPlane", "revision")
		}
		out = append(out, c.risk("revision-moved", k, b, a,
			fmt.Sprintf("namespace %s moves from istiod %s to %s (%s); its pods change revision when restarted: kubectl rollout restart deployment -n %s", ns, b, a, why, ns),
			src))
	}
	return out
}

// RevisionsMovedAtOnce flags a change that moves more than one namespace
// of a cluster to another revision: a canary upgrade moves one namespace
// per reviewed step, so a bad revision hurts one tenant, not all.
func RevisionsMovedAtOnce(c *Cluster) []Risk {
	m := moved(c)
	if len(m) < 2 {
		return nil
	}
	var names, before, after []string
	for _, x := range m {
		names = append(names, x[0])
		before = append(before, x[0]+"="+x[1])
		after = append(after, x[0]+"="+x[2])
	}
	return []Risk{c.risk("revisions-moved-at-once", Key{Kind: "Namespace", Name: strings.Join(names, ", ")},
		strings.Join(before, ", "), strings.Join(after, ", "),
		fmt.Sprintf("%d namespaces change revision in one change (%s); a canary upgrade moves one namespace per step (meshc upgrade plan)", len(m), strings.Join(names, ", ")),
		c.where("controlPlane", "revision"))}
}

// chart reads a Helm chart release object (Flux HelmRelease or Argo CD
// Application): its chart, version and values.
func chart(d Doc) (name, version string, values any) {
	switch str(d, "kind") {
	case "HelmRelease":
		return str(d, "spec", "chart", "spec", "chart"), str(d, "spec", "chart", "spec", "version"), get(d, "spec", "values")
	case "Application":
		return str(d, "spec", "source", "chart"), str(d, "spec", "source", "targetRevision"), get(d, "spec", "source", "helm", "valuesObject")
	}
	return "", "", nil
}

// charts lists a side's releases of one chart.
func charts(objs map[Key]Doc, want string) map[Key]Doc {
	out := map[Key]Doc{}
	for k, d := range objs {
		if name, _, _ := chart(d); name == want {
			out[k] = d
		}
	}
	return out
}

// RevisionRemoved flags an istiod revision that is uninstalled: proxies
// still connected to it lose their control plane.
func RevisionRemoved(c *Cluster) []Risk {
	if !c.both() {
		return nil
	}
	revs := func(objs map[Key]Doc) map[string]Key {
		out := map[string]Key{}
		for k, d := range charts(objs, "istiod") {
			_, _, v := chart(d)
			out[str(v, "revision")] = k
		}
		return out
	}
	b, a := revs(c.Before), revs(c.After)
	var out []Risk
	for _, rev := range slices.Sorted(maps.Keys(b)) {
		if _, ok := a[rev]; ok {
			continue
		}
		out = append(out, c.risk("revision-removed", b[rev], rev, "removed",
			fmt.Sprintf("istiod %s is uninstalled: proxies not yet restarted onto another revision lose their control plane (check istioctl proxy-status first)", rev),
			c.where("controlPlane")))
	}
	return out
}

// CRDsDowngraded flags the base chart, which carries Istio's CRDs, moving
// to an older version: CRDs are upgraded first and only stay backward
// compatible, so a downgrade can drop fields that stored objects use.
func CRDsDowngraded(c *Cluster) []Risk {
	if !c.both() {
		return nil
	}
	var out []Risk
	for k, bd := range charts(c.Before, "base") {
		ad, ok := c.After[k]
		if !ok {
			continue
		}
		_, bs, _ := chart(bd)
		_, as, _ := chart(ad)
		bv, err1 := mesh.ParseVersion(bs)
		av, err2 := mesh.ParseVersion(as)
		if err1 == nil && err2 == nil && av.Less(bv) {
			out = append(out, c.risk("crds-downgraded", k, bs, as,
				fmt.Sprintf("the base chart (Istio's CRDs) goes down from %s to %s: CRDs only stay backward compatible, so newer fields in stored objects may be dropped", bs, as),
				c.where("controlPlane", "revision")))
		}
	}
	return out
}

// QuotaReduced flags a ResourceQuota whose hard limit goes down, loses a
// resource, or goes away: pods that fitted may no longer be admitted.
func QuotaReduced(c *Cluster) []Risk {
	if !c.both() {
		return nil
	}
	var out []Risk
	for _, k := range ofKind(c.Before, "ResourceQuota") {
		b := strMap(c.Before[k], "spec", "hard")
		ad, ok := c.After[k]
		if !ok {
			if _, nsStays := c.After[Key{"Namespace", "", k.Namespace}]; nsStays {
				out = append(out, c.risk("quota-reduced", k, hardText(b, nil), "removed",
					fmt.Sprintf("namespace %s's quota is removed: nothing bounds what its tenants consume", k.Namespace),
					c.where("namespaces", k.Namespace, "quota")))
			}
			continue
		}
		a := strMap(ad, "spec", "hard")
		var keys []string
		for _, res := range slices.Sorted(maps.Keys(b)) {
			bq, err1 := resource.ParseQuantity(b[res])
			as, present := a[res]
			if !present {
				keys = append(keys, res)
				continue
			}
			aq, err2 := resource.ParseQuantity(as)
			if err1 == nil && err2 == nil && aq.Cmp(bq) < 0 {
				keys = append(keys, res)
			}
		}
		if len(keys) == 0 {
			continue
		}
		path := append([]string{"namespaces", k.Namespace, "quota"}, strings.Split(keys[0], ".")...)
		out = append(out, c.risk("quota-reduced", k, hardText(b, keys), hardText(a, keys),
			fmt.Sprintf("namespace %s's quota goes down (%s): pods that fit today may not be admitted", k.Namespace, strings.Join(keys, ", ")),
			c.where(path...)))
	}
	return out
}

// hardText prints the chosen (or all) hard limits.
func hardText(hard map[string]string, keys []string) string {
	if keys == nil {
		keys = slices.Sorted(maps.Keys(hard))
	}
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+orNone(hard[k]))
	}
	return strings.Join(parts, ", ")
}

// InjectionDisabled flags a namespace whose new pods get no sidecar: they
// leave the mesh, fail STRICT peers and present no principal.
func InjectionDisabled(c *Cluster) []Risk {
	if !c.both() {
		return nil
	}
	bt, at := revisionTags(c.Before), revisionTags(c.After)
	var out []Risk
	for _, k := range tenants(c.After) {
		if _, ok := c.Before[k]; !ok {
			continue
		}
		b, a := effectiveRevision(c.Before, bt, k), effectiveRevision(c.After, at, k)
		if b != "" && a == "" {
			out = append(out, c.risk("injection-disabled", k, "injected ("+b+")", "not injected",
				fmt.Sprintf("namespace %s's new pods get no sidecar: they leave the mesh, are refused by STRICT peers and fail every ALLOW policy that names them", k.Name),
				c.where("namespaces", k.Name, "injection")))
		}
	}
	return out
}

// NamespaceRemoved flags a tenant namespace that leaves a cluster file.
// meshc never prunes a namespace, so its workloads keep running, but its
// policy (mTLS override, quota, limits, authorization) is deleted.
func NamespaceRemoved(c *Cluster) []Risk {
	if !c.both() {
		return nil
	}
	var out []Risk
	for _, k := range tenants(c.Before) {
		if _, ok := c.After[k]; ok {
			continue
		}
		var gone []string
		for pk := range c.Before {
			if pk.Namespace == k.Name && pk.Kind != "Namespace" {
				gone = append(gone, pk.Kind+" "+pk.Name)
			}
		}
		slices.Sort(gone)
		what := "no policy of its own"
		if len(gone) > 0 {
			what = strings.Join(gone, ", ")
		}
		out = append(out, c.risk("namespace-removed", k, "present", "removed",
			fmt.Sprintf("namespace %s leaves the cluster file: it is never pruned, so its workloads keep running, but its policy goes (%s)", k.Name, what),
			c.where("namespaces", k.Name)))
	}
	return out
}
