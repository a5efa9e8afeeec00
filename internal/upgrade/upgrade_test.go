package upgrade

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/golemtrust/meshc/internal/mesh"
)

var versions = map[string]mesh.Version{
	"1-19": {Major: 1, Minor: 19},
	"1-20": {Major: 1, Minor: 20},
	"1-21": {Major: 1, Minor: 21},
	"1-24": {Major: 1, Minor: 24},
}

// cluster builds a cluster: cp is "revision[,canary=X][,previous=Y]"; each
// namespace is "name[=pin]" or "name!" (injection disabled).
func cluster(cp string, tags map[string]string, namespaces ...string) *mesh.Cluster {
	c := &mesh.Cluster{Name: "am", ControlPlane: mesh.ControlPlane{Profile: "default"}}
	for i, part := range strings.Split(cp, ",") {
		k, v, _ := strings.Cut(part, "=")
		if i == 0 {
			c.ControlPlane.Revision = mesh.Revision{Name: k, Version: versions[k]}
			continue
		}
		r := &mesh.Revision{Name: v, Version: versions[v]}
		if k == "canary" {
			c.ControlPlane.Canary = r
		} else {
			c.ControlPlane.Previous = r
		}
	}
	for _, name := range sortedKeys(tags) {
		c.ControlPlane.Tags = append(c.ControlPlane.Tags, mesh.Tag{Name: name, Revision: tags[name]})
	}
	for _, n := range namespaces {
		ns := &mesh.Namespace{Injection: true}
		ns.Name, ns.Revision, _ = strings.Cut(n, "=")
		if strings.HasSuffix(ns.Name, "!") {
			ns.Name, ns.Injection = strings.TrimSuffix(ns.Name, "!"), false
		}
		c.Namespaces = append(c.Namespaces, ns)
	}
	return c
}

// summary writes each step as one line: kind, subject, edits.
func summary(p *Plan) []string {
	var out []string
	for _, st := range p.Steps {
		line := string(st.Kind)
		if st.Namespace != "" {
			line += " " + st.Namespace
		}
		if st.Tag != "" {
			line += " tag " + st.Tag
		}
		var edits []string
		for _, e := range st.Edits {
			v := "-"
			if e.Value != nil {
				v = *e.Value
			}
			edits = append(edits, strings.Join(e.Path, ".")+"="+v)
		}
		out = append(out, line+": "+strings.Join(edits, " "))
	}
	return out
}

// replay applies the plan step by step and checks what every step must
// keep: each injected namespace and tag on an installed revision, at most
// one namespace changing revision unless a tag moves, no revision
// uninstalled while anything uses it, a canary newer than the revision.
func replay(t *testing.T, c *mesh.Cluster, p *Plan) *state {
	t.Helper()
	s := newState(c, versions)
	valid := func(n int) {
		for ns, inj := range s.injected {
			if inj {
				assert.True(t, s.runs(s.revisionOf(ns)), "step %d: namespace %s on %q, which is not installed", n, ns, s.revisionOf(ns))
			}
			if pin := s.pins[ns]; pin != "" && !s.isTag(pin) {
				assert.True(t, s.runs(pin), "step %d: namespace %s pins %q, not installed", n, ns, pin)
			}
		}
		for tag, rev := range s.tags {
			assert.True(t, s.runs(rev), "step %d: tag %s on %q, not installed", n, tag, rev)
		}
		assert.NotEqual(t, s.rev, s.canary, "step %d", n)
		assert.NotEqual(t, s.rev, s.previous, "step %d", n)
		if s.canary != "" {
			assert.NotEqual(t, s.canary, s.previous, "step %d", n)
			assert.True(t, versions[s.rev].Less(versions[s.canary]), "step %d: canary %s not newer than %s", n, s.canary, s.rev)
		}
	}
	valid(0)
	for i, st := range p.Steps {
		require.Equal(t, i+1, st.N)
		before := map[string]string{}
		for ns := range s.pins {
			if s.injected[ns] {
				before[ns] = s.revisionOf(ns)
			}
		}
		for _, e := range st.Edits {
			s.apply(e)
		}
		valid(st.N)
		moved := 0
		for ns, rev := range before {
			if s.revisionOf(ns) != rev {
				moved++
			}
		}
		if st.Tag == "" {
			assert.LessOrEqual(t, moved, 1, "step %d (%s) moves %d namespaces", st.N, st.Kind, moved)
		}
		if st.Kind == Promote || st.Kind == Install {
			assert.Zero(t, moved, "step %d (%s) moves a namespace", st.N, st.Kind)
		}
	}
	return s
}

func TestForwardFromScratch(t *testing.T) {
	c := cluster("1-20", nil, "royal-bank", "patricians-office", "merchants-guild", "dark-side!")
	p, err := Make(c, versions, "1-21", Options{FileOrder: []string{"royal-bank", "patricians-office", "merchants-guild", "dark-side"}})
	require.NoError(t, err)
	assert.Equal(t, []string{
		"install: controlPlane.canary=1-21",
		"migrate royal-bank: namespaces.royal-bank.revision=1-21",
		"migrate patricians-office: namespaces.patricians-office.revision=1-21",
		"migrate merchants-guild: namespaces.merchants-guild.revision=1-21",
		"promote: controlPlane.revision=1-21 controlPlane.canary=- controlPlane.previous=1-20 namespaces.royal-bank.revision=- namespaces.patricians-office.revision=- namespaces.merchants-guild.revision=-",
		"retire: controlPlane.previous=-",
	}, summary(p))
	end := replay(t, c, p)
	assert.Equal(t, "1-21", end.rev)
	assert.Empty(t, end.canary+end.previous)
	assert.Equal(t, []string{"kubectl rollout restart deployment -n royal-bank"}, p.Steps[1].Restarts)
	assert.Equal(t, []string{"kubectl rollout restart deployment istio-ingressgateway -n istio-ingress"}, p.Steps[4].Restarts)
	require.NotNil(t, p.Steps[5].Check)
	assert.True(t, p.Steps[5].Check.Before)
	assert.Contains(t, p.Steps[5].Check.Text, "istioctl proxy-status shows no proxy on istiod-1-20")
}

func TestForwardMidWalkOrderAndGateways(t *testing.T) {
	// The example's ankh-morpork: canary installed, royal-bank moved.
	c := cluster("1-20,canary=1-21", nil, "merchants-guild", "patricians-office", "royal-bank=1-21")
	p, err := Make(c, versions, "1-21", Options{
		Order:        []string{"patricians-office"},
		FileOrder:    []string{"royal-bank", "patricians-office", "merchants-guild"},
		MultiNetwork: true,
	})
	require.NoError(t, err)
	assert.Equal(t, []string{
		"migrate patricians-office: namespaces.patricians-office.revision=1-21",
		"migrate merchants-guild: namespaces.merchants-guild.revision=1-21",
		"promote: controlPlane.revision=1-21 controlPlane.canary=- controlPlane.previous=1-20 namespaces.royal-bank.revision=- namespaces.patricians-office.revision=- namespaces.merchants-guild.revision=-",
		"retire: controlPlane.previous=-",
	}, summary(p))
	assert.Equal(t, []string{
		"kubectl rollout restart deployment istio-ingressgateway -n istio-ingress",
		"kubectl rollout restart deployment istio-eastwestgateway -n istio-system",
	}, p.Steps[2].Restarts)
	replay(t, c, p)
}

func TestRollbackFromEveryStep(t *testing.T) {
	c := cluster("1-20", nil, "a", "b", "c!=1-20")
	fwd, err := Make(c, versions, "1-21", Options{})
	require.NoError(t, err)
	// Walk forward step by step; from each state, the walk back to 1-20
	// must be valid and end on 1-20 alone.
	s := newState(c, versions)
	for i := 0; i <= len(fwd.Steps); i++ {
		if i > 0 {
			for _, e := range fwd.Steps[i-1].Edits {
				s.apply(e)
			}
		}
		mid := s.cluster(c)
		back, err := Make(mid, versions, "1-20", Options{})
		if i == len(fwd.Steps) {
			// 1-20 is uninstalled once retired: no way back by canary.
			require.Error(t, err, "after step %d", i)
			continue
		}
		require.NoError(t, err, "after step %d", i)
		end := replay(t, mid, back)
		assert.Equal(t, "1-20", end.rev, "after step %d", i)
		assert.Empty(t, end.canary+end.previous, "after step %d", i)
		for _, st := range back.Steps {
			assert.NotEqual(t, Install, st.Kind, "after step %d: 1-20 is still installed", i)
		}
	}
}

func TestRollbackAfterPromote(t *testing.T) {
	c := cluster("1-21,previous=1-20", nil, "a", "b")
	p, err := Make(c, versions, "1-20", Options{})
	require.NoError(t, err)
	assert.Equal(t, []string{
		"migrate a: namespaces.a.revision=1-20",
		"migrate b: namespaces.b.revision=1-20",
		"promote: controlPlane.revision=1-20 controlPlane.previous=1-21 namespaces.a.revision=- namespaces.b.revision=-",
		"retire: controlPlane.previous=-",
	}, summary(p))
	replay(t, c, p)
}

func TestRollbackMidMigration(t *testing.T) {
	c := cluster("1-20,canary=1-21", nil, "a=1-21", "b", "c=1-21")
	p, err := Make(c, versions, "1-20", Options{})
	require.NoError(t, err)
	assert.Equal(t, []string{
		"migrate a: namespaces.a.revision=-",
		"migrate c: namespaces.c.revision=-",
		"retire: controlPlane.canary=-",
	}, summary(p))
	replay(t, c, p)
}

func TestTagsMoveInsteadOfNamespaces(t *testing.T) {
	// Istio's stable revision labels: prod-canary already on the canary.
	c := cluster("1-20,canary=1-21", map[string]string{"prod-stable": "1-20", "prod-canary": "1-21"},
		"a=prod-stable", "b=prod-stable", "c=prod-canary", "d")
	p, err := Make(c, versions, "1-21", Options{})
	require.NoError(t, err)
	assert.Equal(t, []string{
		"migrate d: namespaces.d.revision=1-21",
		"migrate tag prod-stable: controlPlane.tags.prod-stable=1-21",
		"promote: controlPlane.revision=1-21 controlPlane.canary=- controlPlane.previous=1-20 namespaces.d.revision=-",
		"retire: controlPlane.previous=-",
	}, summary(p))
	assert.Equal(t, []string{"kubectl rollout restart deployment -n a", "kubectl rollout restart deployment -n b"}, p.Steps[1].Restarts)
	replay(t, c, p)

	// From scratch: both tags on 1-20; the one fewer namespaces pin moves
	// first.
	c = cluster("1-20", map[string]string{"prod-stable": "1-20", "prod-canary": "1-20"}, "a=prod-stable", "b=prod-stable", "c=prod-canary")
	p, err = Make(c, versions, "1-21", Options{})
	require.NoError(t, err)
	assert.Equal(t, []string{
		"install: controlPlane.canary=1-21",
		"migrate tag prod-canary: controlPlane.tags.prod-canary=1-21",
		"migrate tag prod-stable: controlPlane.tags.prod-stable=1-21",
		"promote: controlPlane.revision=1-21 controlPlane.canary=- controlPlane.previous=1-20",
		"retire: controlPlane.previous=-",
	}, summary(p))
	replay(t, c, p)

	// And back from after the promotion: the tags move back to previous.
	c = cluster("1-21,previous=1-20", map[string]string{"prod-stable": "1-21", "prod-canary": "1-21"}, "a=prod-stable", "c=prod-canary")
	p, err = Make(c, versions, "1-20", Options{})
	require.NoError(t, err)
	assert.Equal(t, []string{
		"migrate tag prod-canary: controlPlane.tags.prod-canary=1-20",
		"migrate tag prod-stable: controlPlane.tags.prod-stable=1-20",
		"promote: controlPlane.revision=1-20 controlPlane.previous=1-21",
		"retire: controlPlane.previous=-",
	}, summary(p))
	replay(t, c, p)
}

func TestPreviousFinishedBeforeTheNextUpgrade(t *testing.T) {
	c := cluster("1-20,previous=1-19", nil, "a=1-19", "b")
	p, err := Make(c, versions, "1-21", Options{})
	require.NoError(t, err)
	assert.Equal(t, []string{
		"migrate a: namespaces.a.revision=-",
		"retire: controlPlane.previous=-",
		"install: controlPlane.canary=1-21",
		"migrate a: namespaces.a.revision=1-21",
		"migrate b: namespaces.b.revision=1-21",
		"promote: controlPlane.revision=1-21 controlPlane.canary=- controlPlane.previous=1-20 namespaces.a.revision=- namespaces.b.revision=-",
		"retire: controlPlane.previous=-",
	}, summary(p))
	replay(t, c, p)
}

func TestDisabledNamespacePinsMoveWhenTheirRevisionLeaves(t *testing.T) {
	c := cluster("1-20", nil, "a", "off!=1-20")
	p, err := Make(c, versions, "1-21", Options{})
	require.NoError(t, err)
	last := summary(p)[len(p.Steps)-1]
	assert.Equal(t, "retire: controlPlane.previous=- namespaces.off.revision=-", last)
	replay(t, c, p)
}

func TestDone(t *testing.T) {
	p, err := Make(cluster("1-21", map[string]string{"stable": "1-21"}, "a", "b=stable", "c=1-21"), versions, "1-21", Options{})
	require.NoError(t, err)
	assert.True(t, p.Done())
	var b bytes.Buffer
	require.NoError(t, p.WriteText(&b))
	assert.Equal(t, "cluster am already runs only revision 1-21; nothing to do\n", b.String())
}

func TestErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		c    *mesh.Cluster
		to   string
		opts Options
		want string
	}{
		"undeclared": {cluster("1-20", nil), "1-22", Options{}, `revision "1-22" is not declared in the mesh file; it declares 1-19, 1-20, 1-21, 1-24`},
		"order":      {cluster("1-20", nil, "a", "b"), "1-21", Options{Order: []string{"b", "x", "y"}}, `--order: cluster am has no namespace "x", "y"; its namespaces are a, b`},
		"in flight":  {cluster("1-19,canary=1-20", nil), "1-21", Options{}, `cluster am is in the middle of an upgrade to 1-20 (canary: "1-20"); finish it first (--to 1-20) or roll it back (--to 1-19)`},
		"downgrade":  {cluster("1-21", nil), "1-20", Options{}, `revision 1-20 (Istio 1.20.0) is not newer than cluster am's revision 1-21 (Istio 1.21.0) and is not installed there; a control plane moves forward by canary upgrade, and back only to its previous revision while it is still installed`},
		"too far":    {cluster("1-21", nil), "1-24", Options{}, `revision 1-24 (Istio 1.24.0) is more than two minor versions ahead of cluster am's revision 1-21 (Istio 1.21.0); Istio supports canary upgrades of at most two minor versions: upgrade through a revision in between first`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Make(tc.c, versions, tc.to, tc.opts)
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
		})
	}
}

func TestJSON(t *testing.T) {
	p, err := Make(cluster("1-20,canary=1-21", nil, "a=1-21", "b"), versions, "1-21", Options{})
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, p.WriteJSON(&b))
	var got struct {
		Cluster, From, To string
		Steps             []struct {
			N         int
			Kind      string
			Namespace *string
			Edits     []struct {
				Path  string
				Value *string
			}
			Restarts []string
		}
	}
	require.NoError(t, json.Unmarshal(b.Bytes(), &got))
	assert.Equal(t, "am", got.Cluster)
	assert.Equal(t, "1-20", got.From)
	assert.Equal(t, "1-21", got.To)
	require.Len(t, got.Steps, 3)
	assert.Equal(t, "migrate", got.Steps[0].Kind)
	assert.Equal(t, "b", *got.Steps[0].Namespace)
	assert.Nil(t, got.Steps[1].Namespace, "promote has no namespace")
	assert.Equal(t, "controlPlane.canary", got.Steps[1].Edits[1].Path)
	assert.Nil(t, got.Steps[1].Edits[1].Value, "a removed field is null")
	assert.Equal(t, []string{}, got.Steps[2].Restarts)
	assert.Contains(t, b.String(), `"restarts": []`)
}

// cluster turns the state back into a cluster, for planning from the
// middle of a walk.
func (s *state) cluster(base *mesh.Cluster) *mesh.Cluster {
	c := cluster(s.rev, s.tags)
	if s.canary != "" {
		c.ControlPlane.Canary = &mesh.Revision{Name: s.canary, Version: versions[s.canary]}
	}
	if s.previous != "" {
		c.ControlPlane.Previous = &mesh.Revision{Name: s.previous, Version: versions[s.previous]}
	}
	for _, ns := range base.Namespaces {
		c.Namespaces = append(c.Namespaces, &mesh.Namespace{Name: ns.Name, Injection: s.injected[ns.Name], Revision: s.pins[ns.Name]})
	}
	return c
}
