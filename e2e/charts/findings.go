package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// The checks below are about what the values are for, beyond each value's
// own effect: the findings of issue 10, each a way meshc's output can be
// accepted by every schema and still not do what the cluster file asks.

// checkIstiod: metrics stay on, the sampling rate is the cluster's, and
// meshc's tracing leaves no legacy zipkin tracer on the proxies.
func checkIstiod(c *cluster, x *rendering) []string {
	var fails []string
	mc, err := x.meshConfig()
	if err != nil {
		return []string{err.Error()}
	}
	cm := "ConfigMap " + suffixed("istio", x.rev())

	// Finding 2: the chart configures prometheus only when defaultProviders
	// is unset, so whoever sets it must name prometheus too.
	if dp, ok := mc["defaultProviders"].(map[string]any); ok {
		metrics, _ := dp["metrics"].([]any)
		if !slices.Contains(metrics, any("prometheus")) {
			fails = append(fails, fmt.Sprintf("Prometheus metrics are off: %s mesh defaultProviders is %s; with defaultProviders set the chart adds no metrics provider, want defaultProviders.metrics to include prometheus", cm, show(dp)))
		}
	}

	if c.tracing == nil {
		return fails
	}
	provider := str(c.tracing, "provider")

	// Finding 3: the rate istiod applies is defaultConfig.tracing.sampling
	// when non-zero, else PILOT_TRACE_SAMPLING, else 1 % (istiod's own
	// default): pilot/pkg/networking/core/tracing.go proxyConfigSamplingValue.
	if provider != "none" {
		want := 1.0
		if s, ok := c.tracing["sampling"]; ok {
			want, _ = strconv.ParseFloat(fmt.Sprint(s), 64)
		}
		got, from := effectiveSampling(x, mc)
		if got != want {
			fails = append(fails, fmt.Sprintf("trace sampling is %g %% (%s), want the cluster's tracing.sampling %g %%", got, from, want))
		}
	}

	// Finding 4: meshc's tracing goes through an extension provider (or is
	// off); the chart's legacy proxy tracer must not stay on zipkin.
	iv, err := x.injectorValues()
	if err != nil {
		return append(fails, err.Error())
	}
	if t := str(iv, "global", "proxy", "tracer"); t == "zipkin" {
		fails = append(fails, fmt.Sprintf("the proxies keep the legacy zipkin tracer: ConfigMap %s values global.proxy.tracer is \"zipkin\" with tracing provider %q, want \"none\"", suffixed("istio-sidecar-injector", x.rev()), provider))
	}
	if z := field(mc, "defaultConfig", "tracing", "zipkin"); z != nil {
		fails = append(fails, fmt.Sprintf("every proxy's bootstrap traces to zipkin: %s mesh defaultConfig.tracing.zipkin is %s with tracing provider %q, want no zipkin tracer", cm, show(z), provider))
	}
	return fails
}

func effectiveSampling(x *rendering, mc map[string]any) (float64, string) {
	if s, ok := field(mc, "defaultConfig", "tracing", "sampling").(float64); ok && s != 0 {
		return s, "mesh defaultConfig.tracing.sampling"
	}
	c, err := x.container(x.istiodName(), "discovery")
	if err == nil {
		if v, ok := env(c, "PILOT_TRACE_SAMPLING"); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f, fmt.Sprintf("Deployment %s env PILOT_TRACE_SAMPLING=%q", x.istiodName(), v)
		}
	}
	return 1.0, fmt.Sprintf("Deployment %s sets no PILOT_TRACE_SAMPLING: istiod's default", x.istiodName())
}

// checkGateway, finding 6: a production gateway survives a node drain (two
// replicas at least and a PodDisruptionBudget), and no gateway holds back
// the Flux Kustomization that waits for it while its LoadBalancer Service
// has no address.
func checkGateway(c *cluster, x *rendering) []string {
	var fails []string
	n := x.gatewayName()
	if c.environment == "production" {
		if r, from := x.replicas(n); r < 2 {
			fails = append(fails, fmt.Sprintf("production gateway runs %d replica (%s), want at least 2", r, from))
		}
		if find(x.objects, "PodDisruptionBudget", n) == nil {
			fails = append(fails, fmt.Sprintf("production gateway has no PodDisruptionBudget %s, want one", n))
		}
	}
	svc := find(x.objects, "Service", n)
	if x.engine == "flux" && str(svc, "spec", "type") == "LoadBalancer" && x.waits {
		if k, ok := c.waited[name(x.owner)]; ok {
			fails = append(fails, fmt.Sprintf("Flux Kustomization %s (wait: true) waits on this HelmRelease, and Helm waits until Service %s (type LoadBalancer) has an address: on a cluster without LoadBalancers nothing after it applies; want spec.install.disableWait and spec.upgrade.disableWait true, or the gateway outside %s", k, n, k))
		}
	}
	return fails
}

// tagWebhookIgnored are the chart's labels a webhook owned by no Helm
// release does not carry: they name a Helm release or istioctl's operator
// resource, not the tag.
var tagWebhookIgnored = []string{
	"release", "app.kubernetes.io/managed-by", "app.kubernetes.io/instance",
	"install.operator.istio.io/owning-resource", "helm.sh/chart",
}

// compareTagWebhook, finding 7: meshc's revision tag webhook is what the
// istiod chart's revision-tags template renders for the tag: the same
// webhooks with the same selectors, rules, review versions and target, and
// the chart's labels. caBundle is istiod's to patch; defaults the API
// server fills in count as set.
func compareTagWebhook(meshc, chart object) []string {
	var fails []string
	for k, v := range field(chart, "metadata", "labels").(map[string]any) {
		if slices.Contains(tagWebhookIgnored, k) {
			continue
		}
		if got := field(meshc, "metadata", "labels", k); !same(v, got) {
			fails = append(fails, fmt.Sprintf("label %s is %s, the chart's is %s", k, show(got), show(v)))
		}
	}
	hooks := func(o object) map[string]any {
		out := map[string]any{}
		list, _ := field(o, "webhooks").([]any)
		for _, h := range list {
			out[str(h, "name")] = h
		}
		return out
	}
	mine, theirs := hooks(meshc), hooks(chart)
	names := func(m map[string]any) []string {
		var s []string
		for k := range m {
			s = append(s, k)
		}
		sort.Strings(s)
		return s
	}
	if !slices.Equal(names(mine), names(theirs)) {
		fails = append(fails, fmt.Sprintf("webhooks are %v, the chart's are %v", names(mine), names(theirs)))
	}
	defaults := map[string]any{"reinvocationPolicy": "Never", "matchPolicy": "Equivalent", "timeoutSeconds": 10.0}
	for _, hn := range names(theirs) {
		m, ok := mine[hn]
		if !ok {
			continue
		}
		for _, f := range []string{"admissionReviewVersions", "clientConfig.service", "rules", "namespaceSelector", "objectSelector", "failurePolicy", "sideEffects", "reinvocationPolicy", "matchPolicy", "timeoutSeconds"} {
			p := strings.Split(f, ".")
			want, got := walk(theirs[hn], p), walk(m, p)
			if want == nil {
				want = defaults[f]
			}
			if got == nil {
				got = defaults[f]
			}
			if !same(want, got) {
				fails = append(fails, fmt.Sprintf("webhook %s %s is %s, the chart's is %s", hn, f, show(got), show(want)))
			}
		}
	}
	return fails
}

// checkIstioctl, finding 5: on the istioctl path a multi-network cluster
// gets its east-west gateway (an IstioOperator gateway the
// cross-network-gateway Gateway selects), and every gateway namespace other
// than istio-system is created by something applied before the
// IstioOperator that installs into it: a plain Kubernetes file of the
// folder (kubectl apply; istioctl install -f takes IstioOperators only), or
// a Namespace earlier in the IstioOperator's own file.
func checkIstioctl(m *mesh, c *cluster) []string {
	files, err := filepath.Glob(filepath.Join(c.istioctl, "*.yaml"))
	if err != nil {
		return []string{err.Error()}
	}
	sort.Strings(files)
	var fails []string
	// Namespaces a plain Kubernetes file creates (kubectl apply, before any
	// istioctl install), and, per IstioOperator file, those created earlier
	// in the same file.
	created := map[string]bool{}
	var gateways []object // IstioOperator gateways: spec.components.*Gateways[]
	type pending struct{ file, gateway, ns string }
	var missing []pending
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return []string{err.Error()}
		}
		objs, err := decodeObjects(data)
		if err != nil {
			return []string{fmt.Sprintf("%s: %v", f, err)}
		}
		rel, _ := filepath.Rel(m.dir, f)
		inFile := map[string]bool{}
		for _, o := range objs {
			switch kind(o) {
			case "Namespace":
				inFile[name(o)] = true
				if len(ofKind(objs, "IstioOperator")) == 0 {
					created[name(o)] = true
				}
			case "IstioOperator":
				for _, k := range []string{"ingressGateways", "egressGateways"} {
					list, _ := field(o, "spec", "components", k).([]any)
					for _, g := range list {
						gw := g.(map[string]any)
						if e, ok := gw["enabled"].(bool); ok && !e {
							continue
						}
						gateways = append(gateways, gw)
						ns := str(gw, "namespace")
						if ns != "" && ns != "istio-system" && ns != str(o, "spec", "namespace") && !inFile[ns] {
							missing = append(missing, pending{filepath.ToSlash(rel), str(gw, "name"), ns})
						}
					}
				}
			}
		}
	}
	for _, p := range missing {
		if !created[p.ns] {
			fails = append(fails, fmt.Sprintf("%s installs gateway %s into namespace %s, and nothing in overlays/_istioctl/%s creates that namespace (istioctl install does not): want a Namespace %s file to kubectl apply first", p.file, p.gateway, p.ns, c.name, p.ns))
		}
	}
	if len(m.networks) < 2 {
		return fails
	}
	for _, g := range ofKind(c.golden, "Gateway") {
		sel, _ := field(g, "spec", "selector").(map[string]any)
		if !hasPort(g, 15443) || len(sel) == 0 {
			continue
		}
		matched := false
		for _, gw := range gateways {
			labels, _ := gw["label"].(map[string]any)
			ok := true
			for k, v := range sel {
				if !same(v, labels[k]) {
					ok = false
				}
			}
			matched = matched || ok
		}
		if !matched {
			fails = append(fails, fmt.Sprintf("the mesh spans %d networks, and no IstioOperator in overlays/_istioctl/%s installs the east-west gateway that %s selects (%s): want one with those labels and networkGateway's settings", len(m.networks), c.name, id(g), show(sel)))
		}
	}
	return fails
}

func hasPort(gw object, port int) bool {
	servers, _ := field(gw, "spec", "servers").([]any)
	for _, s := range servers {
		if fmt.Sprint(field(s, "port", "number")) == strconv.Itoa(port) {
			return true
		}
	}
	return false
}
