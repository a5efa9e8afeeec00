// Package upgrade plans a cluster's canary upgrade from one control-plane
// revision to another as Istio runs it: install the new istiod beside the
// old one, move namespaces (or the tags they pin) one step at a time,
// promote, then retire the old istiod. It is pure: a validated cluster in,
// steps out. Each step is a set of edits to the cluster file that leaves a
// valid cluster whose build keeps every proxy served by an installed
// istiod; rollback is the same walk towards the old revision.
package upgrade

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/golemtrust/meshc/internal/mesh"
)

// Kind is what a step does.
type Kind string

// The kinds of step, in the order a walk takes them.
const (
	Install Kind = "install" // a canary istiod beside the default one
	Migrate Kind = "migrate" // one namespace, or one tag, moves revision
	Promote Kind = "promote" // the default tag moves; the old default stays as previous
	Retire  Kind = "retire"  // a revision no proxy uses is uninstalled
)

// Edit sets one field of the cluster file, or removes it (Value nil).
type Edit struct {
	// Path is the field's path from the top of the cluster file.
	Path  []string
	Value *string
}

// String shows the edit as a reviewer reads it.
func (e Edit) String() string {
	if e.Value == nil {
		return "remove " + strings.Join(e.Path, ".")
	}
	return fmt.Sprintf("set %s: %q", strings.Join(e.Path, "."), *e.Value)
}

// Check is what to verify around a step: Before merging it, or After it
// has been applied (and its restarts done).
type Check struct {
	Before bool
	Text   string
}

// Step is one reviewed commit of the walk.
type Step struct {
	N    int
	Kind Kind
	// Namespace is the namespace a migrate step moves; Tag the tag it
	// moves instead (every namespace pinning it moves with it).
	Namespace string
	Tag       string
	Edits     []Edit
	// Restarts are the commands that make running pods follow the step:
	// injection applies only to pods created after it.
	Restarts []string
	Check    *Check
}

// Plan is the walk of one cluster to a revision.
type Plan struct {
	Cluster string
	From    string // the cluster's default revision now
	// Canary and Previous are the cluster's other revisions now, if any.
	Canary, Previous string
	To               string
	Steps            []Step
}

// Options tune a plan.
type Options struct {
	// Order lists namespaces to migrate first, in this order; the others
	// follow in FileOrder.
	Order []string
	// FileOrder is the order of the namespaces in the cluster file.
	FileOrder []string
	// MultiNetwork says the cluster runs an east-west gateway.
	MultiNetwork bool
}

// Error is a request the planner cannot turn into a walk.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func errorf(format string, args ...any) error { return &Error{Msg: fmt.Sprintf(format, args...)} }

// Make plans the walk of cluster c to the revision to, which revisions (the
// mesh's) must declare.
func Make(c *mesh.Cluster, revisions map[string]mesh.Version, to string, opts Options) (*Plan, error) {
	var bad error
	if _, ok := revisions[to]; !ok {
		bad = errorf("revision %q is not declared in the mesh file; it declares %s", to, strings.Join(sortedKeys(revisions), ", "))
	}
	order, err := migrationOrder(c, opts)
	if bad != nil || err != nil {
		// Every mistake in the request at once.
		return nil, errors.Join(bad, err)
	}
	s := newState(c, revisions)
	files, _ := migrationOrder(c, Options{FileOrder: opts.FileOrder})
	p := &planner{s: s, plan: &Plan{Cluster: c.Name, From: s.rev, Canary: s.canary, Previous: s.previous, To: to}, opts: opts, order: order, files: files, to: to}
	if err := p.walk(); err != nil {
		return nil, err
	}
	return p.plan, nil
}

// Done reports whether the cluster already runs only the plan's revision.
func (p *Plan) Done() bool { return len(p.Steps) == 0 }

// migrationOrder is --order, then every other namespace in file order.
func migrationOrder(c *mesh.Cluster, opts Options) ([]string, error) {
	known := map[string]bool{}
	for _, ns := range c.Namespaces {
		known[ns.Name] = true
	}
	var order []string
	seen := map[string]bool{}
	var unknown []string
	for _, n := range opts.Order {
		if !known[n] {
			unknown = append(unknown, fmt.Sprintf("%q", n))
			continue
		}
		if !seen[n] {
			seen[n] = true
			order = append(order, n)
		}
	}
	if len(unknown) > 0 {
		names := make([]string, len(c.Namespaces))
		for i, ns := range c.Namespaces {
			names[i] = ns.Name
		}
		return nil, errorf("--order: cluster %s has no namespace %s; its namespaces are %s", c.Name, strings.Join(unknown, ", "), strings.Join(names, ", "))
	}
	rest := opts.FileOrder
	if len(rest) == 0 {
		for _, ns := range c.Namespaces {
			rest = append(rest, ns.Name)
		}
	}
	for _, n := range rest {
		if known[n] && !seen[n] {
			seen[n] = true
			order = append(order, n)
		}
	}
	// A namespace missing from FileOrder still gets its turn.
	for _, ns := range c.Namespaces {
		if !seen[ns.Name] {
			order = append(order, ns.Name)
		}
	}
	return order, nil
}

// state is the control plane and pins of the cluster file as the walk
// edits it.
type state struct {
	versions map[string]mesh.Version
	rev      string
	canary   string // "" when none
	previous string // "" when none
	tags     map[string]string
	tagNames []string // sorted
	pins     map[string]string
	injected map[string]bool
	profile  string
}

func newState(c *mesh.Cluster, versions map[string]mesh.Version) *state {
	cp := &c.ControlPlane
	s := &state{versions: versions, rev: cp.Revision.Name, tags: map[string]string{}, pins: map[string]string{}, injected: map[string]bool{}, profile: cp.Profile}
	if cp.Canary != nil {
		s.canary = cp.Canary.Name
	}
	if cp.Previous != nil {
		s.previous = cp.Previous.Name
	}
	for _, t := range cp.Tags {
		s.tags[t.Name] = t.Revision
		s.tagNames = append(s.tagNames, t.Name)
	}
	for _, ns := range c.Namespaces {
		s.pins[ns.Name] = ns.Revision
		s.injected[ns.Name] = ns.Injection
	}
	return s
}

func (s *state) runs(rev string) bool {
	return rev != "" && (rev == s.rev || rev == s.canary || rev == s.previous)
}

// isTag reports whether a pin names a tag.
func (s *state) isTag(pin string) bool { _, ok := s.tags[pin]; return ok && pin != "" }

// revisionOf is the revision a namespace's pods are injected by.
func (s *state) revisionOf(ns string) string {
	pin := s.pins[ns]
	switch {
	case pin == "":
		return s.rev
	case s.isTag(pin):
		return s.tags[pin]
	}
	return pin
}

// apply makes an edit to the state.
func (s *state) apply(e Edit) {
	v := ""
	if e.Value != nil {
		v = *e.Value
	}
	switch {
	case len(e.Path) == 2 && e.Path[0] == "controlPlane":
		switch e.Path[1] {
		case "revision":
			s.rev = v
		case "canary":
			s.canary = v
		case "previous":
			s.previous = v
		}
	case len(e.Path) == 3 && e.Path[0] == "controlPlane" && e.Path[1] == "tags":
		s.tags[e.Path[2]] = v
	case len(e.Path) == 3 && e.Path[0] == "namespaces" && e.Path[2] == "revision":
		s.pins[e.Path[1]] = v
	}
}

type planner struct {
	s    *state
	plan *Plan
	opts Options
	// order is the migration order; files the file's order, for edits
	// that move no namespace.
	order, files []string
	to           string
}

func (p *planner) add(st Step) {
	st.N = len(p.plan.Steps) + 1
	for _, e := range st.Edits {
		p.s.apply(e)
	}
	p.plan.Steps = append(p.plan.Steps, st)
}

func set(v string) *string { return &v }

func field(path ...string) []string { return path }

// walk plans every step from the current state to "only p.to, as the
// default revision".
func (p *planner) walk() error {
	s, to := p.s, p.to
	if !s.runs(to) {
		if s.canary != "" {
			return errorf("cluster %s is in the middle of an upgrade to %s (canary: %q); finish it first (--to %s) or roll it back (--to %s)", p.plan.Cluster, s.canary, s.canary, s.canary, s.rev)
		}
		if s.previous != "" {
			// Finish the upgrade that left previous behind before
			// installing another revision: at most two istiods.
			p.moveAll(s.previous, s.rev)
			p.retire(s.previous)
		}
		if err := p.install(); err != nil {
			return err
		}
	}
	p.moveAll("", to)
	for _, x := range []string{s.canary, s.previous} {
		if x != "" && x != s.rev && x != to {
			p.retire(x)
		}
	}
	if s.rev != to {
		p.promote()
	}
	for _, x := range []string{s.canary, s.previous} {
		if x != "" && x != to {
			p.retire(x)
		}
	}
	return nil
}

// install adds p.to as the canary: Istio upgrades a control plane forward
// only, by at most two minor versions.
func (p *planner) install() error {
	s, to := p.s, p.to
	from, want := s.versions[s.rev], s.versions[to]
	switch {
	case !from.Less(want):
		return errorf("revision %s (Istio %s) is not newer than cluster %s's revision %s (Istio %s) and is not installed there; a control plane moves forward by canary upgrade, and back only to its previous revision while it is still installed",
			to, want, p.plan.Cluster, s.rev, from)
	case want.Major != from.Major || want.Minor-from.Minor > 2:
		return errorf("revision %s (Istio %s) is more than two minor versions ahead of cluster %s's revision %s (Istio %s); Istio supports canary upgrades of at most two minor versions: upgrade through a revision in between first",
			to, want, p.plan.Cluster, s.rev, from)
	}
	p.add(Step{
		Kind:  Install,
		Edits: []Edit{{Path: field("controlPlane", "canary"), Value: set(to)}},
		Check: &Check{Text: fmt.Sprintf("kubectl -n istio-system rollout status deployment/istiod-%s reports istiod %s ready before any namespace moves", to, to)},
	})
	return nil
}

// moveAll moves every user of revision from (every revision but target,
// when from is "") to target: one namespace per step, in order, then one
// tag per step. Namespaces that pin a tag move with their tag; namespaces
// with injection disabled run no proxy and move only where a revision
// leaves (retire).
func (p *planner) moveAll(from, target string) {
	s := p.s
	leaves := func(rev string) bool { return rev != target && (from == "" || rev == from) }
	for _, ns := range p.order {
		if !s.injected[ns] || s.isTag(s.pins[ns]) || !leaves(s.revisionOf(ns)) {
			continue
		}
		p.add(Step{
			Kind:      Migrate,
			Namespace: ns,
			Edits:     []Edit{p.pinEdit(ns, target)},
			Restarts:  []string{restart(ns)},
			Check:     &Check{Text: proxiesOn(target, "every proxy in "+ns)},
		})
	}
	tags := slices.Clone(s.tagNames)
	// Smallest first: a tag's move restarts every namespace that pins it.
	slices.SortStableFunc(tags, func(a, b string) int { return len(p.pinning(a)) - len(p.pinning(b)) })
	for _, t := range tags {
		if !leaves(s.tags[t]) {
			continue
		}
		var restarts []string
		for _, ns := range p.pinning(t) {
			if s.injected[ns] {
				restarts = append(restarts, restart(ns))
			}
		}
		check := &Check{Text: tagPoints(t, target)}
		if len(restarts) > 0 {
			check.Text = proxiesOn(target, "every proxy in the namespaces pinning "+t)
		}
		p.add(Step{
			Kind:     Migrate,
			Tag:      t,
			Edits:    []Edit{{Path: field("controlPlane", "tags", t), Value: set(target)}},
			Restarts: restarts,
			Check:    check,
		})
	}
}

// pinEdit moves a namespace to target: a pin, or no pin when target is the
// default revision (it follows the default tag).
func (p *planner) pinEdit(ns, target string) Edit {
	path := field("namespaces", ns, "revision")
	if target == p.s.rev {
		return Edit{Path: path}
	}
	return Edit{Path: path, Value: set(target)}
}

// pinning lists the namespaces that pin a tag, in migration order.
func (p *planner) pinning(tag string) []string {
	var out []string
	for _, ns := range p.order {
		if p.s.pins[ns] == tag {
			out = append(out, ns)
		}
	}
	return out
}

// promote makes p.to the default revision: the default tag and the
// gateways move to it, the old default stays installed as previous, and
// namespaces pinned to p.to are unpinned (they follow the default tag,
// which now points there, so none changes revision).
func (p *planner) promote() {
	s, to := p.s, p.to
	edits := []Edit{{Path: field("controlPlane", "revision"), Value: set(to)}}
	if s.canary == to {
		edits = append(edits, Edit{Path: field("controlPlane", "canary")})
	}
	edits = append(edits, Edit{Path: field("controlPlane", "previous"), Value: set(s.rev)})
	for _, ns := range p.files {
		if s.pins[ns] == to {
			edits = append(edits, Edit{Path: field("namespaces", ns, "revision")})
		}
	}
	var restarts []string
	if s.profile == "default" {
		restarts = append(restarts, "kubectl rollout restart deployment istio-ingressgateway -n istio-ingress")
	}
	if p.opts.MultiNetwork {
		restarts = append(restarts, "kubectl rollout restart deployment istio-eastwestgateway -n istio-system")
	}
	p.add(Step{
		Kind:     Promote,
		Edits:    edits,
		Restarts: restarts,
		Check:    &Check{Text: tagPoints("default", to) + "; " + proxiesOn(to, "the gateways' proxies")},
	})
}

// retire uninstalls revision rev, which no injected namespace, tag or
// gateway uses any more; namespaces with injection disabled that still pin
// it are unpinned in the same step (they run no proxy).
func (p *planner) retire(rev string) {
	s := p.s
	var edits []Edit
	switch rev {
	case s.canary:
		edits = append(edits, Edit{Path: field("controlPlane", "canary")})
	case s.previous:
		edits = append(edits, Edit{Path: field("controlPlane", "previous")})
	default:
		return
	}
	for _, ns := range p.files {
		if s.pins[ns] == rev {
			edits = append(edits, Edit{Path: field("namespaces", ns, "revision")})
		}
	}
	p.add(Step{
		Kind:  Retire,
		Edits: edits,
		Check: &Check{Before: true, Text: fmt.Sprintf("istioctl proxy-status shows no proxy on istiod-%s (restart the workloads of any that still is)", rev)},
	})
}

// tagPoints is the check that a tag's webhook has moved.
func tagPoints(tag, rev string) string {
	return fmt.Sprintf("kubectl get mutatingwebhookconfiguration istio-revision-tag-%s -o jsonpath='{.webhooks[0].clientConfig.service.name}' prints istiod-%s", tag, rev)
}

func restart(ns string) string { return "kubectl rollout restart deployment -n " + ns }

func proxiesOn(rev, who string) string {
	return fmt.Sprintf("istioctl proxy-status shows %s on istiod-%s", who, rev)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
