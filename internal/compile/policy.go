package compile

import (
	"github.com/golemtrust/meshc/internal/mesh"
)

// Names of the per-namespace objects meshc owns.
const (
	PeerAuthenticationName = "default"
	QuotaName              = "mesh-quota"
	LimitRangeName         = "mesh-defaults"
	CrossNetworkGateway    = "cross-network-gateway"
)

// policy is the mesh policy part: tenant namespaces and the Istio and
// Kubernetes policy objects in them. It needs Istio's CRDs, so engines apply
// it after the control plane.
func policy(m *mesh.Mesh, c *mesh.Cluster) []*Object {
	var out []*Object
	add := func(d Doc) { out = append(out, &Object{Doc: d}) }
	security := istioAPI(c, "security.istio.io")

	add(peerAuthentication(security, IstioSystem, c.MTLS))
	if m.MultiNetwork() {
		add(crossNetworkGateway(istioAPI(c, "networking.istio.io")))
	}
	for _, ns := range c.Namespaces {
		add(namespace(c, ns))
		if ns.MTLS != "" {
			add(peerAuthentication(security, ns.Name, ns.MTLS))
		}
		if q := ns.Quota; q != nil {
			hard := Doc{
				"requests.cpu":    q.Requests.CPU.Text,
				"requests.memory": q.Requests.Memory.Text,
				"pods":            itoa(q.Pods),
			}
			if q.Limits.CPU.Text != "" {
				hard["limits.cpu"] = q.Limits.CPU.Text
			}
			if q.Limits.Memory.Text != "" {
				hard["limits.memory"] = q.Limits.Memory.Text
			}
			add(object("v1", "ResourceQuota", meta(QuotaName, ns.Name), Doc{"spec": Doc{"hard": hard}}))
		}
		if d := ns.ContainerDefaults; d != nil {
			add(object("v1", "LimitRange", meta(LimitRangeName, ns.Name), Doc{"spec": Doc{"limits": []any{Doc{
				"type":           "Container",
				"defaultRequest": cpuMemory(d.Requests),
				"default":        cpuMemory(d.Limits),
			}}}}))
		}
		for _, p := range ns.Authorization {
			add(authorizationPolicy(m, security, ns.Name, p))
		}
	}
	return out
}

// namespace labels a tenant namespace for injection. A pinned namespace gets
// istio.io/rev and no istio-injection label, which would win over it.
func namespace(c *mesh.Cluster, ns *mesh.Namespace) Doc {
	labels := strMap(ns.Labels)
	switch {
	case !ns.Injection:
		labels["istio-injection"] = "disabled"
	case ns.Revision != "":
		labels["istio.io/rev"] = ns.Revision
	default:
		labels["istio-injection"] = "enabled"
	}
	return object("v1", "Namespace", Doc{
		"name":   ns.Name,
		"labels": labels,
	}, nil)
}

func peerAuthentication(apiVersion, namespace, mode string) Doc {
	return object(apiVersion, "PeerAuthentication", meta(PeerAuthenticationName, namespace), Doc{
		"spec": Doc{"mtls": Doc{"mode": mode}},
	})
}

// authorizationPolicy allows the listed workload identities, and only them.
func authorizationPolicy(m *mesh.Mesh, apiVersion, namespace string, p mesh.Policy) Doc {
	principals := make([]any, len(p.From))
	for i, s := range p.From {
		ns := s.Namespace
		if ns == "" {
			ns = namespace
		}
		principals[i] = m.TrustDomain + "/ns/" + ns + "/sa/" + s.ServiceAccount
	}
	rule := Doc{"from": []any{Doc{"source": Doc{"principals": principals}}}}
	op := Doc{}
	if len(p.Methods) > 0 {
		op["methods"] = strList(p.Methods)
	}
	if len(p.Paths) > 0 {
		op["paths"] = strList(p.Paths)
	}
	if len(op) > 0 {
		rule["to"] = []any{Doc{"operation": op}}
	}
	spec := Doc{"action": "ALLOW", "rules": []any{rule}}
	if len(p.Selector) > 0 {
		spec["selector"] = Doc{"matchLabels": strMap(p.Selector)}
	}
	return object(apiVersion, "AuthorizationPolicy", meta(p.Name, namespace), Doc{"spec": spec})
}

// crossNetworkGateway exposes the cluster's services to other networks
// through the east-west gateway, as Istio's multi-network guide does.
func crossNetworkGateway(apiVersion string) Doc {
	return object(apiVersion, "Gateway", meta(CrossNetworkGateway, IstioSystem), Doc{"spec": Doc{
		"selector": Doc{"istio": "eastwestgateway"},
		"servers": []any{Doc{
			"port":  Doc{"number": 15443, "name": "tls", "protocol": "TLS"},
			"tls":   Doc{"mode": "AUTO_PASSTHROUGH"},
			"hosts": []any{"*.local"},
		}},
	}})
}

func itoa(n int64) string {
	const digits = "0123456789"
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = digits[n%10]
		n /= 10
	}
	return string(b[i:])
}
