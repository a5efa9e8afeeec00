package compile

import (
	"github.com/golemtrust/meshc/internal/mesh"
)

// istioOperators are the files for teams that install with `istioctl
// install -f`: one IstioOperator per revision with the control plane only
// (profile minimal), one per gateway (profile empty), so installing a
// canary never switches a gateway in place, and the Namespaces to apply
// before them.
func istioOperators(m *mesh.Mesh, c *mesh.Cluster) map[string]Doc {
	out := map[string]Doc{}
	cp := c.ControlPlane
	for _, rev := range cp.Revisions() {
		v := merge(istiodSharedValues(m, rev.Name), istiodValues(c, rev.Version))
		meshConfig := v["meshConfig"]
		delete(v, "meshConfig")
		delete(v, "revision")
		pilot := v["pilot"].(Doc)
		out[IstiodRelease(rev.Name)+".yaml"] = object("install.istio.io/v1alpha1", "IstioOperator", meta(IstiodRelease(rev.Name), IstioSystem), Doc{
			"spec": Doc{
				"profile":    "minimal",
				"revision":   rev.Name,
				"tag":        rev.Version.String(),
				"meshConfig": meshConfig,
				"components": Doc{"pilot": Doc{"k8s": Doc{
					"resources": pilot["resources"],
					"hpaSpec":   Doc{"minReplicas": pilot["autoscaleMin"], "maxReplicas": pilot["autoscaleMax"]},
				}}},
				"values": v,
			},
		})
	}
	// istioctl creates istio-system but no gateway namespace, and labels
	// no namespace with its network: these are applied first (README).
	out["namespace-istio-system.yaml"] = object("v1", "Namespace", Doc{
		"name": IstioSystem, "labels": Doc{"topology.istio.io/network": c.Network},
	}, nil)
	if cp.Profile == "default" {
		out["namespace-istio-ingress.yaml"] = object("v1", "Namespace", meta(IstioIngress, ""), nil)
		k8s := Doc{
			// The legacy gateway chart names the service account
			// <name>-service-account; rename it so the gateway's identity,
			// and with it every authorization policy naming
			// istio-ingress/istio-ingressgateway, is the same as with Helm.
			"overlays": []any{
				Doc{"kind": "ServiceAccount", "name": IngressGateway + "-service-account", "patches": []any{
					Doc{"path": "metadata.name", "value": IngressGateway},
				}},
				Doc{"kind": "Deployment", "name": IngressGateway, "patches": []any{
					Doc{"path": "spec.template.spec.serviceAccountName", "value": IngressGateway},
				}},
				Doc{"kind": "RoleBinding", "name": IngressGateway + "-sds", "patches": []any{
					Doc{"path": "subjects.[name:" + IngressGateway + "-service-account].name", "value": IngressGateway},
				}},
			},
		}
		if len(cp.IngressServiceAnnotations) > 0 {
			k8s["serviceAnnotations"] = strMap(cp.IngressServiceAnnotations)
		}
		out["ingress-gateway.yaml"] = gatewayOperator("ingress-gateway", cp.Revision.Version, cp.IngressGateway, Doc{
			"name":      IngressGateway,
			"namespace": IstioIngress,
			"enabled":   true,
			"k8s":       k8s,
		}, nil)
	}
	if m.MultiNetwork() {
		// As Istio's multicluster guide generates it
		// (samples/multicluster/gen-eastwest-gateway.sh): labels the
		// cross-network-gateway Gateway selects, the network label, the
		// requested network view and the four network gateway ports.
		out["eastwest-gateway.yaml"] = gatewayOperator("eastwest-gateway", cp.Revision.Version, cp.EastWestGateway, Doc{
			"name":    EastWestGateway,
			"enabled": true,
			"label": Doc{
				"istio":                     "eastwestgateway",
				"app":                       EastWestGateway,
				"topology.istio.io/network": c.Network,
			},
			"k8s": Doc{
				"env": []any{Doc{"name": "ISTIO_META_REQUESTED_NETWORK_VIEW", "value": c.Network}},
				"service": Doc{"ports": []any{
					Doc{"name": "status-port", "port": 15021, "targetPort": 15021},
					Doc{"name": "tls", "port": 15443, "targetPort": 15443},
					Doc{"name": "tls-istiod", "port": 15012, "targetPort": 15012},
					Doc{"name": "tls-webhook", "port": 15017, "targetPort": 15017},
				}},
			},
		}, Doc{"network": c.Network})
	}
	return out
}

// gatewayOperator is an IstioOperator with one gateway component (profile
// empty), in the default revision's version. No revision: like the Helm
// gateways it is injected by the default tag and follows the default
// revision. Its Service type and replica bounds are the legacy gateway
// chart's values (gateways.istio-ingressgateway holds them for every
// ingress gateway component), and its PodDisruptionBudget that chart's own
// (global.defaultPodDisruptionBudget, minAvailable 1), on only when the
// gateway runs at least two replicas, as with Helm.
func gatewayOperator(name string, v mesh.Version, g mesh.Gateway, component, global Doc) Doc {
	return object("install.istio.io/v1alpha1", "IstioOperator", meta(name, IstioSystem), Doc{
		"spec": Doc{
			"profile":    "empty",
			"tag":        v.String(),
			"components": Doc{"ingressGateways": []any{component}},
			"values": Doc{
				"gateways": Doc{IngressGateway: Doc{
					"injectionTemplate": "gateway",
					"type":              g.ServiceType,
					"autoscaleEnabled":  true,
					"autoscaleMin":      g.AutoscaleMin,
					"autoscaleMax":      g.AutoscaleMax,
				}},
				"global": merge(Doc{"defaultPodDisruptionBudget": Doc{"enabled": g.PodDisruptionBudget()}}, global),
			},
		},
	})
}
