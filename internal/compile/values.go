package compile

import (
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

// istiodValues are the cluster's own istiod values.
func istiodValues(c *mesh.Cluster) Doc {
	cp := c.ControlPlane
	proxy := Doc{"resources": resources(c.Sidecar)}
	pilot := Doc{
		"resources":    resources(cp.Pilot.Resources),
		"autoscaleMin": cp.Pilot.AutoscaleMin,
		"autoscaleMax": cp.Pilot.AutoscaleMax,
	}
	meshConfig := Doc{"accessLogFile": cp.AccessLogFile}
	if t := cp.Tracing; t != nil {
		if t.Provider == "none" {
			// Older releases trace to zipkin unless told otherwise.
			meshConfig["enableTracing"] = false
			proxy["tracer"] = "none"
		} else {
			// Istio has no built-in jaeger or zipkin provider: a
			// provider is an extension provider named as the default.
			meshConfig["enableTracing"] = true
			meshConfig["extensionProviders"] = []any{Doc{
				"name":     t.Provider,
				t.Provider: Doc{"service": t.Service, "port": t.Port},
			}}
			meshConfig["defaultProviders"] = Doc{"tracing": []any{t.Provider}}
			pilot["traceSampling"] = t.Sampling
		}
	}
	return Doc{
		"global": Doc{
			"multiCluster": Doc{"clusterName": c.Name},
			"network":      c.Network,
			"proxy":        proxy,
		},
		"pilot":      pilot,
		"meshConfig": meshConfig,
	}
}

// ingressValues are the cluster's ingress gateway values.
func ingressValues(c *mesh.Cluster) Doc {
	if len(c.ControlPlane.IngressServiceAnnotations) == 0 {
		return Doc{}
	}
	return Doc{"service": Doc{"annotations": strMap(c.ControlPlane.IngressServiceAnnotations)}}
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
	return Doc{"networkGateway": c.Network}
}
