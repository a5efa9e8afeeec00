package compile

import (
	"strconv"

	"github.com/golemtrust/meshc/internal/mesh"
)

// Helm values for Istio's charts. Shared values depend only on the mesh
// file; cluster values on the cluster file. Both install paths (Helm and
// istioctl) use the same settings.

// resources renders requests and limits, leaving out what is not set.
func resources(r mesh.Resources) Doc {
	out := Doc{}
	if d := cpuMemory(r.Requests); len(d) > 0 {
		out["requests"] = d
	}
	if d := cpuMemory(r.Limits); len(d) > 0 {
		out["limits"] = d
	}
	return out
}

func cpuMemory(c mesh.CPUMemory) Doc {
	out := Doc{}
	if c.CPU.Text != "" {
		out["cpu"] = c.CPU.Text
	}
	if c.Memory.Text != "" {
		out["memory"] = c.Memory.Text
	}
	return out
}

// istiodSharedValues are the istiod values every cluster running rev shares.
func istiodSharedValues(m *mesh.Mesh, rev string) Doc {
	return Doc{
		"revision":   rev,
		"global":     Doc{"meshID": m.ID},
		"meshConfig": Doc{"trustDomain": m.TrustDomain},
	}
}

// istiodValues are the cluster's own istiod values for a revision running
// Istio version v.
func istiodValues(c *mesh.Cluster, v mesh.Version) Doc {
	cp := c.ControlPlane
	proxy := Doc{"resources": resources(c.Sidecar)}
	pilot := Doc{
		"resources":    resources(cp.Pilot.Resources),
		"autoscaleMin": cp.Pilot.AutoscaleMin,
		"autoscaleMax": cp.Pilot.AutoscaleMax,
	}
	meshConfig := Doc{"accessLogFile": cp.AccessLogFile}
	out := Doc{
		"global": Doc{
			"multiCluster": Doc{"clusterName": c.Name},
			"network":      c.Network,
			"proxy":        proxy,
		},
		"pilot":      pilot,
		"meshConfig": meshConfig,
	}
	if t := cp.Tracing; t != nil {
		// No proxy-level tracer either way: up to 1.21 the chart's default
		// global.proxy.tracer is zipkin, which gives every proxy a zipkin
		// cluster and a bootstrap pointing at zipkin.istio-system:9411
		// beside the extension provider. "none" is the chart's own value
		// for "no tracer" on every version (the default from 1.22).
		proxy["tracer"] = "none"
		if t.Provider == "none" {
			meshConfig["enableTracing"] = false
		} else {
			// Istio has no built-in jaeger or zipkin provider: a
			// provider is an extension provider named as the default.
			meshConfig["enableTracing"] = true
			meshConfig["extensionProviders"] = []any{Doc{
				"name":     t.Provider,
				t.Provider: Doc{"service": t.Service, "port": t.Port},
			}}
			// The chart configures metrics: [prometheus] only while
			// meshConfig.defaultProviders is unset (its default-prometheus
			// helper, "prometheus" in 1.20): naming a tracing provider
			// alone turns Prometheus metrics off, so name it too.
			meshConfig["defaultProviders"] = Doc{
				"metrics": []any{"prometheus"},
				"tracing": []any{t.Provider},
			}
			if !v.AtLeast(1, 21) {
				// 1.20 then also renders its deprecated stats
				// EnvoyFilters (telemetryv2_1.1x.yaml), which would count
				// every request twice beside the Telemetry API's
				// prometheus provider; without them 1.20 collects metrics
				// as its default install does.
				out["telemetry"] = Doc{"v2": Doc{"prometheus": Doc{"enabled": false}}}
			}
			// The sampling rate goes in istiod's PILOT_TRACE_SAMPLING
			// through pilot.env, on every version: the chart sets that
			// variable from pilot.traceSampling only `if` it is non-zero,
			// so 0 would leave Istio's default of 1 %, and
			// meshConfig.defaultConfig.tracing.sampling is read only when
			// non-zero too (proxyConfigSamplingValue in pilot's
			// tracing.go, 1.20 to 1.30). The environment variable is read
			// as given, 0 included; pilot.env reaches the container on
			// every chart (copied to env by zzy_descope_legacy.yaml from
			// 1.24). traceSampling: 0 keeps the chart from adding its own
			// PILOT_TRACE_SAMPLING (its default is 1.0): a second entry of
			// the same name is refused by server-side apply.
			pilot["traceSampling"] = 0
			pilot["env"] = Doc{"PILOT_TRACE_SAMPLING": strconv.FormatFloat(t.Sampling, 'f', -1, 64)}
		}
	}
	return out
}

// ingressValues are the cluster's ingress gateway values.
func ingressValues(c *mesh.Cluster) Doc {
	v := gatewayValues(c.ControlPlane.IngressGateway)
	if len(c.ControlPlane.IngressServiceAnnotations) > 0 {
		v["service"].(Doc)["annotations"] = strMap(c.ControlPlane.IngressServiceAnnotations)
	}
	return v
}

// gatewayValues are a gateway's Service type, HPA bounds and, with at least
// two replicas, a PodDisruptionBudget: the gateway chart's own values for
// them are the same on every version from 1.20 to 1.30 (service.type,
// autoscaling.minReplicas/maxReplicas, podDisruptionBudget). From 1.28 the
// chart renders the budget only when minReplicas > 1; meshc asks for it on
// the same condition on every version, since a budget of minAvailable 1
// over a single replica blocks every node drain.
func gatewayValues(g mesh.Gateway) Doc {
	v := Doc{
		"service":     Doc{"type": g.ServiceType},
		"autoscaling": Doc{"minReplicas": g.AutoscaleMin, "maxReplicas": g.AutoscaleMax},
	}
	if g.PodDisruptionBudget() {
		v["podDisruptionBudget"] = Doc{"minAvailable": 1}
	}
	return v
}

// eastWestSharedValues labels the east-west gateway the way Istio's multi-network
// guide does, so the cross-network Gateway selects it.
func eastWestSharedValues() Doc {
	return Doc{"labels": Doc{"istio": "eastwestgateway", "app": EastWestGateway}}
}

// eastWestValues make the gateway the cluster's network gateway. On every
// chart version from 1.20 to 1.30, networkGateway alone gives the Service
// and the pods the topology.istio.io/network label, the ports
// 15021/15443/15012/15017 and ISTIO_META_REQUESTED_NETWORK_VIEW. The label
// must not be in labels as well: the chart's gateway.labels helper copies
// every key of labels but app and istio onto the Service, service.yaml adds
// topology.istio.io/network again from networkGateway, and the duplicate
// key makes helm-controller's post-render (a kustomize round trip) refuse
// the release.
func eastWestValues(c *mesh.Cluster) Doc {
	v := gatewayValues(c.ControlPlane.EastWestGateway)
	v["networkGateway"] = c.Network
	return v
}
