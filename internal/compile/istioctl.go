package compile

import (
	"github.com/golemtrust/meshc/internal/mesh"
)

// istioOperators are IstioOperator files for teams that install with
// `istioctl install -f`: one per revision with the control plane only
// (profile minimal), and one for the ingress gateway (profile empty), so
// installing a canary never switches the gateway in place.
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
	if cp.Profile == "default" {
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
		out["ingress-gateway.yaml"] = object("install.istio.io/v1alpha1", "IstioOperator", meta("ingress-gateway", IstioSystem), Doc{
			"spec": Doc{
				"profile": "empty",
				"tag":     cp.Revision.Version.String(),
				"components": Doc{"ingressGateways": []any{Doc{
					"name":      IngressGateway,
					"namespace": IstioIngress,
					"enabled":   true,
					"k8s":       k8s,
				}}},
				// No revision: injected by the default tag, like the Helm
				// gateway, so it follows the default revision.
				"values": Doc{"gateways": Doc{IngressGateway: Doc{"injectionTemplate": "gateway"}}},
			},
		})
	}
	return out
}
