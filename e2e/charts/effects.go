package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// effect proves what one value (or every value under a path) is for: it
// looks for the value's effect in the rendered objects. sub is the value's
// path below the effect's path.
type effect struct {
	chart string
	path  string
	check func(x *rendering, sub []string, v any) error
}

// effects is every value path meshc may set, per chart, with the check of
// its effect. A value meshc sets that no entry covers fails the check: add
// an entry, so nothing meshc sets goes unproven.
var effects = []effect{
	// istiod
	{"istiod", "revision", revisionEffect},
	{"istiod", "global.meshID", func(x *rendering, _ []string, v any) error {
		if err := inMesh(x, []string{"defaultConfig", "meshId"}, v); err != nil {
			return err
		}
		return inInjector(x, []string{"global", "meshID"}, v)
	}},
	{"istiod", "global.network", func(x *rendering, _ []string, v any) error {
		return inInjector(x, []string{"global", "network"}, v)
	}},
	{"istiod", "global.multiCluster.clusterName", func(x *rendering, _ []string, v any) error {
		if err := istiodEnv(x, "CLUSTER_ID", v); err != nil {
			return err
		}
		return inInjector(x, []string{"global", "multiCluster", "clusterName"}, v)
	}},
	{"istiod", "global.proxy", func(x *rendering, sub []string, v any) error {
		return inInjector(x, append([]string{"global", "proxy"}, sub...), v)
	}},
	{"istiod", "meshConfig", func(x *rendering, sub []string, v any) error {
		return inMesh(x, sub, v)
	}},
	{"istiod", "pilot.autoscaleEnabled", func(x *rendering, _ []string, v any) error {
		return hpaPresent(x, x.istiodName(), v)
	}},
	{"istiod", "pilot.autoscaleMin", func(x *rendering, _ []string, v any) error {
		return atField(x, "HorizontalPodAutoscaler", x.istiodName(), []string{"spec", "minReplicas"}, v)
	}},
	{"istiod", "pilot.autoscaleMax", func(x *rendering, _ []string, v any) error {
		return atField(x, "HorizontalPodAutoscaler", x.istiodName(), []string{"spec", "maxReplicas"}, v)
	}},
	{"istiod", "pilot.replicaCount", func(x *rendering, _ []string, v any) error {
		return atField(x, "Deployment", x.istiodName(), []string{"spec", "replicas"}, v)
	}},
	{"istiod", "pilot.resources", func(x *rendering, sub []string, v any) error {
		return inContainer(x, x.istiodName(), "discovery", append([]string{"resources"}, sub...), v)
	}},
	{"istiod", "pilot.traceSampling", traceSamplingEffect},
	{"istiod", "telemetry.v2.prometheus.enabled", prometheusEffect},
	{"istiod", "pilot.env", func(x *rendering, sub []string, v any) error {
		return istiodEnv(x, strings.Join(sub, "."), v)
	}},
	{"istiod", "revisionTags", func(x *rendering, _ []string, v any) error {
		tags, _ := v.([]any)
		for _, t := range tags {
			if _, err := x.get("MutatingWebhookConfiguration", "istio-revision-tag-"+fmt.Sprint(t)); err != nil {
				return err
			}
		}
		return nil
	}},

	// base
	{"base", "defaultRevision", func(x *rendering, _ []string, v any) error {
		want := suffixed("istiod", fmt.Sprint(v))
		return atField(x, "ValidatingWebhookConfiguration", "istiod-default-validator",
			[]string{"webhooks", "0", "clientConfig", "service", "name"}, want)
	}},

	// gateway
	{"gateway", "labels", func(x *rendering, sub []string, v any) error {
		n := x.gatewayName()
		key := sub[0]
		if key == "app" || key == "istio" {
			// The chart's selector labels: the pods and the Service selector.
			if err := atField(x, "Deployment", n, []string{"spec", "template", "metadata", "labels", key}, v); err != nil {
				return err
			}
			return atField(x, "Service", n, []string{"spec", "selector", key}, v)
		}
		return atField(x, "Service", n, []string{"metadata", "labels", key}, v)
	}},
	{"gateway", "networkGateway", networkGatewayEffect},
	{"gateway", "service.type", func(x *rendering, _ []string, v any) error {
		return atField(x, "Service", x.gatewayName(), []string{"spec", "type"}, v)
	}},
	{"gateway", "service.annotations", func(x *rendering, sub []string, v any) error {
		return atField(x, "Service", x.gatewayName(), append([]string{"metadata", "annotations"}, sub...), v)
	}},
	{"gateway", "annotations", func(x *rendering, sub []string, v any) error {
		return atField(x, "Service", x.gatewayName(), append([]string{"metadata", "annotations"}, sub...), v)
	}},
	{"gateway", "service.ports", func(x *rendering, _ []string, v any) error {
		return atField(x, "Service", x.gatewayName(), []string{"spec", "ports"}, v)
	}},
	{"gateway", "autoscaling.enabled", func(x *rendering, _ []string, v any) error {
		return hpaPresent(x, x.gatewayName(), v)
	}},
	{"gateway", "autoscaling.minReplicas", func(x *rendering, _ []string, v any) error {
		return atField(x, "HorizontalPodAutoscaler", x.gatewayName(), []string{"spec", "minReplicas"}, v)
	}},
	{"gateway", "autoscaling.maxReplicas", func(x *rendering, _ []string, v any) error {
		return atField(x, "HorizontalPodAutoscaler", x.gatewayName(), []string{"spec", "maxReplicas"}, v)
	}},
	{"gateway", "replicaCount", func(x *rendering, _ []string, v any) error {
		return atField(x, "Deployment", x.gatewayName(), []string{"spec", "replicas"}, v)
	}},
	{"gateway", "podDisruptionBudget", func(x *rendering, sub []string, v any) error {
		return atField(x, "PodDisruptionBudget", x.gatewayName(), append([]string{"spec"}, sub...), v)
	}},
	{"gateway", "resources", func(x *rendering, sub []string, v any) error {
		return inContainer(x, x.gatewayName(), "istio-proxy", append([]string{"resources"}, sub...), v)
	}},
}

// checkValues runs the effect check of every value meshc set in the
// release; a value without one is a failure of its own.
func checkValues(x *rendering) (checked int, failures []string) {
	for _, l := range leaves(nil, x.values) {
		if len(l.path) == 0 {
			continue
		}
		e, sub := effectFor(x.chart, l.path)
		if e == nil {
			failures = append(failures, fmt.Sprintf("no effect check for values.%s (chart %s): add one to effects in e2e/charts/effects.go", dotted(l.path), x.chart))
			continue
		}
		checked++
		if err := e.check(x, sub, l.value); err != nil {
			failures = append(failures, fmt.Sprintf("values.%s = %s: %v", dotted(l.path), show(l.value), err))
		}
	}
	return checked, failures
}

// effectFor is the entry with the longest path that is a prefix of the
// value's path, and the rest of the value's path below it.
func effectFor(chart string, path []string) (*effect, []string) {
	var best *effect
	var bestLen int
	for i := range effects {
		e := &effects[i]
		p := strings.Split(e.path, ".")
		if e.chart == chart && len(p) <= len(path) && slices.Equal(p, path[:len(p)]) && len(p) > bestLen {
			best, bestLen = e, len(p)
		}
	}
	if best == nil {
		return nil, nil
	}
	return best, path[bestLen:]
}

// atField: the object's field at path holds want (list indexes as numbers).
func atField(x *rendering, k, n string, path []string, want any) error {
	o, err := x.get(k, n)
	if err != nil {
		return err
	}
	got := walk(o, path)
	if !same(want, got) {
		return fmt.Errorf("%s %s %s is %s, want %s", k, n, strings.Join(path, "."), show(got), show(want))
	}
	return nil
}

// walk follows a path through maps and lists (a number picks a list item).
func walk(v any, path []string) any {
	for _, k := range path {
		switch t := v.(type) {
		case map[string]any:
			v = t[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i >= len(t) {
				return nil
			}
			v = t[i]
		default:
			return nil
		}
	}
	return v
}

func inMesh(x *rendering, path []string, want any) error {
	m, err := x.meshConfig()
	if err != nil {
		return err
	}
	if got := walk(m, path); !same(want, got) {
		return fmt.Errorf("the mesh config (ConfigMap %s data.mesh) has %s = %s, want %s", suffixed("istio", x.rev()), strings.Join(path, "."), show(got), show(want))
	}
	return nil
}

func inInjector(x *rendering, path []string, want any) error {
	m, err := x.injectorValues()
	if err != nil {
		return err
	}
	if got := walk(m, path); !same(want, got) {
		return fmt.Errorf("the sidecar injector's values (ConfigMap %s data.values) have %s = %s, want %s", suffixed("istio-sidecar-injector", x.rev()), strings.Join(path, "."), show(got), show(want))
	}
	return nil
}

func inContainer(x *rendering, deployment, container string, path []string, want any) error {
	c, err := x.container(deployment, container)
	if err != nil {
		return err
	}
	if got := walk(c, path); !same(want, got) {
		return fmt.Errorf("Deployment %s container %s %s is %s, want %s", deployment, container, strings.Join(path, "."), show(got), show(want))
	}
	return nil
}

func istiodEnv(x *rendering, n string, want any) error {
	c, err := x.container(x.istiodName(), "discovery")
	if err != nil {
		return err
	}
	got, ok := env(c, n)
	if !ok {
		return fmt.Errorf("Deployment %s container discovery has no env %s, want %s", x.istiodName(), n, show(want))
	}
	if !same(fmt.Sprint(want), got) && !sameNumber(want, got) {
		return fmt.Errorf("Deployment %s container discovery env %s is %q, want %s", x.istiodName(), n, got, show(want))
	}
	return nil
}

func sameNumber(want any, got string) bool {
	w, err1 := strconv.ParseFloat(fmt.Sprint(want), 64)
	g, err2 := strconv.ParseFloat(got, 64)
	return err1 == nil && err2 == nil && w == g
}

func hpaPresent(x *rendering, n string, want any) error {
	has := find(x.objects, "HorizontalPodAutoscaler", n) != nil
	if w, _ := want.(bool); w != has {
		return fmt.Errorf("HorizontalPodAutoscaler %s rendered: %v, want %v", n, has, w)
	}
	return nil
}

// revisionEffect: istiod's objects carry the revision in their names and
// istio.io/rev labels.
func revisionEffect(x *rendering, _ []string, v any) error {
	rev := fmt.Sprint(v)
	for _, o := range []struct{ kind, name string }{
		{"Deployment", suffixed("istiod", rev)},
		{"Service", suffixed("istiod", rev)},
		{"ConfigMap", suffixed("istio", rev)},
		{"ConfigMap", suffixed("istio-sidecar-injector", rev)},
		{"MutatingWebhookConfiguration", suffixed("istio-sidecar-injector", rev) + "-" + x.namespace},
	} {
		if o.kind == "MutatingWebhookConfiguration" && find(x.objects, o.kind, o.name) == nil {
			o.name = suffixed("istio-sidecar-injector", rev)
		}
		if err := atField(x, o.kind, o.name, []string{"metadata", "labels", "istio.io/rev"}, rev); err != nil {
			return err
		}
	}
	return nil
}

// networkGatewayEffect: the gateway is the network's east-west gateway:
// the Service carries the network label and the cross-network ports, the
// proxy asks for the network's view.
func networkGatewayEffect(x *rendering, _ []string, v any) error {
	n := x.gatewayName()
	if err := atField(x, "Service", n, []string{"metadata", "labels", "topology.istio.io/network"}, v); err != nil {
		return err
	}
	svc, _ := x.get("Service", n)
	ports, _ := field(svc, "spec", "ports").([]any)
	var have []int
	for _, p := range ports {
		i, _ := strconv.Atoi(fmt.Sprint(field(p, "port")))
		have = append(have, i)
	}
	for _, want := range []int{15021, 15443, 15012, 15017} {
		if !slices.Contains(have, want) {
			return fmt.Errorf("Service %s ports are %v, want 15021, 15443, 15012 and 15017", n, have)
		}
	}
	c, err := x.container(n, "istio-proxy")
	if err != nil {
		return err
	}
	if got, _ := env(c, "ISTIO_META_REQUESTED_NETWORK_VIEW"); got != fmt.Sprint(v) {
		return fmt.Errorf("Deployment %s container istio-proxy env ISTIO_META_REQUESTED_NETWORK_VIEW is %q, want %s", n, got, show(v))
	}
	return nil
}

// traceSamplingEffect: the chart sets PILOT_TRACE_SAMPLING from
// traceSampling only when it is true in a template, so 0 means "the chart
// sets none" (meshc then sets the variable itself, through pilot.env);
// either way istiod gets the variable once.
func traceSamplingEffect(x *rendering, _ []string, v any) error {
	c, err := x.container(x.istiodName(), "discovery")
	if err != nil {
		return err
	}
	vars, _ := field(c, "env").([]any)
	n := 0
	for _, e := range vars {
		if str(e, "name") == "PILOT_TRACE_SAMPLING" {
			n++
		}
	}
	if n > 1 {
		return fmt.Errorf("Deployment %s container discovery has PILOT_TRACE_SAMPLING %d times, want once", x.istiodName(), n)
	}
	if f, _ := strconv.ParseFloat(fmt.Sprint(v), 64); f == 0 {
		return nil
	}
	return istiodEnv(x, "PILOT_TRACE_SAMPLING", v)
}

// prometheusEffect: with telemetry.v2.prometheus.enabled the proxies
// export Prometheus metrics, from the mesh config's default metrics
// provider or (before 1.21, with no default provider) the chart's stats
// EnvoyFilters; without it the chart renders no stats EnvoyFilter.
func prometheusEffect(x *rendering, _ []string, v any) error {
	var filters []string
	for _, f := range ofKind(x.objects, "EnvoyFilter") {
		if strings.Contains(name(f), "stats-filter") {
			filters = append(filters, name(f))
		}
	}
	if on, _ := v.(bool); !on {
		if len(filters) > 0 {
			return fmt.Errorf("the chart still renders the stats EnvoyFilters %v, want none", filters)
		}
		return nil
	}
	mc, err := x.meshConfig()
	if err != nil {
		return err
	}
	metrics, _ := field(mc, "defaultProviders", "metrics").([]any)
	if len(filters) == 0 && !slices.Contains(metrics, any("prometheus")) {
		return fmt.Errorf("neither a stats EnvoyFilter nor defaultProviders.metrics prometheus in the mesh config")
	}
	return nil
}
