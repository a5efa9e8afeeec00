package apicheck

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sigsyaml "sigs.k8s.io/yaml"
)

// checker is shared by the tests, as meshc shares the package's.
func checker(t testing.TB) *Checker {
	t.Helper()
	c, err := Default()
	require.NoError(t, err)
	return c
}

func problemsOf(t *testing.T, doc string) []*Error {
	t.Helper()
	var out []*Error
	for _, err := range checker(t).Stream("test.yaml", []byte(doc)) {
		var e *Error
		require.True(t, errors.As(err, &e), "error of type %T: %v", err, err)
		out = append(out, e)
	}
	return out
}

// requireProblem asserts that one of errs is at fieldPath and says reason.
func requireProblem(t *testing.T, errs []*Error, fieldPath, reason string) {
	t.Helper()
	var got []string
	for _, e := range errs {
		if e.Field == fieldPath && strings.Contains(e.Reason, reason) {
			return
		}
		got = append(got, e.Error())
	}
	t.Fatalf("no problem at %q saying %q; got:\n%s", fieldPath, reason, strings.Join(got, "\n"))
}

func requireValid(t *testing.T, doc string) {
	t.Helper()
	for _, e := range problemsOf(t, doc) {
		t.Errorf("unexpected problem: %v", e)
	}
}

// A case is a valid object and a one-spot mutation of it that must be caught.
type mutation struct {
	name     string
	doc      string
	from, to string // the broken object is doc with from replaced by to
	field    string // the field the problem must name
	reason   string // and a part of its reason
}

func (m mutation) run(t *testing.T) {
	t.Run(m.name, func(t *testing.T) {
		t.Run("valid", func(t *testing.T) { requireValid(t, m.doc) })
		t.Run("broken", func(t *testing.T) {
			require.Contains(t, m.doc, m.from, "the mutation must apply")
			broken := strings.Replace(m.doc, m.from, m.to, 1)
			requireProblem(t, problemsOf(t, broken), m.field, m.reason)
		})
	})
}

const namespace = `
apiVersion: v1
kind: Namespace
metadata:
  name: royal-bank
  labels:
    istio-injection: enabled
    team: payments
  annotations:
    kustomize.toolkit.fluxcd.io/prune: disabled
`

const resourceQuota = `
apiVersion: v1
kind: ResourceQuota
metadata:
  name: mesh-quota
  namespace: royal-bank
spec:
  hard:
    requests.cpu: "8"
    requests.memory: 16Gi
    limits.cpu: "32"
    limits.memory: 64Gi
    pods: "40"
`

const limitRange = `
apiVersion: v1
kind: LimitRange
metadata:
  name: mesh-defaults
  namespace: royal-bank
spec:
  limits:
  - type: Container
    defaultRequest: {cpu: 100m, memory: 128Mi}
    default: {cpu: 500m, memory: 512Mi}
`

const service = `
apiVersion: v1
kind: Service
metadata:
  name: istiod-1-20
  namespace: istio-system
spec:
  selector: {app: istiod, istio.io/rev: 1-20}
  ports:
  - {name: grpc-xds, port: 15010}
  - {name: https-webhook, port: 443, targetPort: 15017}
`

const mutatingWebhook = `
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: istio-revision-tag-default
  labels: {istio.io/rev: 1-20, istio.io/tag: default}
webhooks:
- name: rev.namespace.sidecar-injector.istio.io
  admissionReviewVersions: ["v1"]
  sideEffects: None
  failurePolicy: Fail
  clientConfig:
    service: {name: istiod-1-20, namespace: istio-system, path: /inject, port: 443}
  rules:
  - {operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"]}
  namespaceSelector:
    matchExpressions:
    - {key: istio-injection, operator: In, values: ["enabled"]}
`

const validatingWebhook = `
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: istio-validator-istio-system
webhooks:
- name: rev.validation.istio.io
  admissionReviewVersions: ["v1"]
  sideEffects: None
  failurePolicy: Ignore
  clientConfig:
    service: {name: istiod-1-20, namespace: istio-system, path: /validate}
  rules:
  - {operations: ["CREATE", "UPDATE"], apiGroups: ["security.istio.io"], apiVersions: ["*"], resources: ["*"]}
`

func TestBuiltins(t *testing.T) {
	for _, m := range []mutation{
		{"Namespace unknown field", namespace, "  labels:", "  lables:", "metadata.lables", `unknown field "lables"; did you mean "labels"?`},
		{"Namespace unknown spec field", namespace, "kind: Namespace\n", "kind: Namespace\nspec: {finalizer: [kubernetes]}\n", "spec.finalizer", `unknown field "finalizer"`},
		{"Namespace name not DNS-1123", namespace, "name: royal-bank", "name: Royal_Bank", "metadata.name", "RFC 1123 label"},
		{"Namespace name too long", namespace, "name: royal-bank", "name: " + strings.Repeat("a", 64), "metadata.name", "must be no more than 63 characters"},
		{"Namespace with a namespace", namespace, "  name: royal-bank", "  name: royal-bank\n  namespace: default", "metadata.namespace", "not allowed on this type"},
		{"label value invalid", namespace, "team: payments", `team: "pay ments!"`, "metadata.labels", "a valid label must be an empty string or consist of alphanumeric characters"},
		{"label key invalid", namespace, "team: payments", `"team/x/y": payments`, "metadata.labels", "a qualified name must consist of"},
		{"annotation key invalid", namespace, "kustomize.toolkit.fluxcd.io/prune", "kustomize..toolkit/prune", "metadata.annotations", "prefix part"},
		{"duplicate key", namespace, "    team: payments", "    team: payments\n    team: other", "", `key "team" already set in map`},
		{"ResourceQuota bad quantity", resourceQuota, `requests.cpu: "8"`, `requests.cpu: "8x"`, "spec.hard.requests.cpu", "quantities must match the regular expression"},
		{"ResourceQuota negative", resourceQuota, "limits.memory: 64Gi", "limits.memory: -64Gi", "spec.hard[limits.memory]", "must be greater than or equal to 0"},
		{"ResourceQuota fractional pods", resourceQuota, `pods: "40"`, `pods: 40500m`, "spec.hard[pods]", "must be an integer"},
		{"ResourceQuota unknown resource", resourceQuota, "requests.memory:", "request.memory:", "spec.hard[request.memory]", "must be a standard resource for quota"},
		{"ResourceQuota misspelled field", resourceQuota, "  hard:", "  hrad:", "spec.hrad", `unknown field "hrad"; did you mean "hard"?`},
		{"LimitRange bad quantity", limitRange, "memory: 512Mi", "memory: 512MB", "spec.limits[0].default.memory", "quantities must match"},
		{"LimitRange request above limit", limitRange, "cpu: 100m", "cpu: 800m", "spec.limits[0].defaultRequest[cpu]", "must be less than or equal to default value 500m"},
		{"LimitRange type", limitRange, "type: Container", "type: Containers", "spec.limits[0].type", `Unsupported value: "Containers"`},
		{"LimitRange misspelled field", limitRange, "defaultRequest:", "defaultRequests:", "spec.limits[0].defaultRequests", `did you mean "defaultRequest"?`},
		{"Service name not DNS-1035", service, "name: istiod-1-20\n", "name: 1-20-istiod\n", "metadata.name", "DNS-1035 label"},
		{"Service port out of range", service, "port: 443", "port: 70000", "spec.ports[1].port", "must be between 1 and 65535"},
		{"Service port name", service, "name: https-webhook", "name: HTTPS", "spec.ports[1].name", "RFC 1123 label"},
		{"Service misspelled field", service, "targetPort:", "targetport:", "spec.ports[1].targetport", `did you mean "targetPort"?`},
		{"Service number as string", service, "port: 443", `port: "443"`, "spec.ports[1].port", "must be an integer, not a string"},
		{"MutatingWebhook sideEffects", mutatingWebhook, "sideEffects: None", "sideEffects: Some", "webhooks[0].sideEffects", `Unsupported value: "Some"`},
		{"MutatingWebhook name", mutatingWebhook, "name: rev.namespace.sidecar-injector.istio.io", "name: injector", "webhooks[0].name", "should be a domain with at least three segments"},
		{"MutatingWebhook misspelled field", mutatingWebhook, "failurePolicy:", "failurePolicyy:", "webhooks[0].failurePolicyy", `did you mean "failurePolicy"?`},
		{"MutatingWebhook selector operator", mutatingWebhook, "operator: In", "operator: Inn", "webhooks[0].namespaceSelector.matchExpressions[0].operator", "not a valid selector operator"},
		{"ValidatingWebhook failurePolicy", validatingWebhook, "failurePolicy: Ignore", "failurePolicy: Ignored", "webhooks[0].failurePolicy", `Unsupported value: "Ignored"`},
		{"ValidatingWebhook clientConfig", validatingWebhook, "service: {name: istiod-1-20, namespace: istio-system, path: /validate}", "url: http://istiod", "webhooks[0].clientConfig.url", "'https' is the only allowed URL scheme"},
	} {
		m.run(t)
	}
}

const peerAuthentication = `
apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata:
  name: default
  namespace: istio-system
spec:
  mtls:
    mode: STRICT
`

const authorizationPolicy = `
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: numbers-api-authz
  namespace: royal-bank
spec:
  action: ALLOW
  selector:
    matchLabels: {app: numbers-api}
  rules:
  - from:
    - source:
        principals:
        - cluster.local/ns/royal-bank/sa/numbers-web
        - cluster.local/ns/istio-ingress/sa/istio-ingressgateway
    to:
    - operation:
        methods: ["GET"]
        paths: ["/api/*"]
`

const gateway = `
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata:
  name: cross-network-gateway
  namespace: istio-system
spec:
  selector:
    istio: eastwestgateway
  servers:
  - port: {number: 15443, name: tls, protocol: TLS}
    tls:
      mode: AUTO_PASSTHROUGH
    hosts: ["*.local"]
`

// v1 returns an Istio object at apiVersion v1 (served from Istio 1.22).
func v1(doc string) string {
	return strings.Replace(doc, "istio.io/v1beta1", "istio.io/v1", 1)
}

func TestIstioCRDs(t *testing.T) {
	for _, m := range []mutation{
		{"PeerAuthentication enum", peerAuthentication, "mode: STRICT", "mode: STRICTT", "spec.mtls.mode", `Unsupported value: "STRICTT": supported values: "UNSET", "DISABLE", "PERMISSIVE", "STRICT"`},
		{"PeerAuthentication v1 enum", v1(peerAuthentication), "mode: STRICT", "mode: strict", "spec.mtls.mode", `Unsupported value: "strict"`},
		{"PeerAuthentication unknown field", peerAuthentication, "  mtls:", "  mtsl:", "spec.mtsl", `unknown field "mtsl"; did you mean "mtls"?`},
		{"PeerAuthentication metadata", peerAuthentication, "  namespace: istio-system", "  namespce: istio-system", "metadata.namespce", `unknown field "namespce"; did you mean "namespace"?`},
		{"PeerAuthentication name", peerAuthentication, "name: default", "name: Default", "metadata.name", "RFC 1123 subdomain"},
		{"AuthorizationPolicy unknown field under rules", authorizationPolicy, "  - from:", "  - form:", "spec.rules[0].form", `unknown field "form"; did you mean "from"?`},
		{"AuthorizationPolicy unknown field under source", authorizationPolicy, "principals:", "principal:", "spec.rules[0].from[0].source.principal", `did you mean "principals"?`},
		{"AuthorizationPolicy v1 unknown field under rules", v1(authorizationPolicy), "    to:", "    too:", "spec.rules[0].too", `unknown field "too"; did you mean "to"?`},
		{"AuthorizationPolicy action enum", authorizationPolicy, "action: ALLOW", "action: PERMIT", "spec.action", `Unsupported value: "PERMIT"`},
		{"AuthorizationPolicy type", authorizationPolicy, `methods: ["GET"]`, `methods: GET`, "spec.rules[0].to[0].operation.methods", "Invalid value: \"string\": spec.rules[0].to[0].operation.methods in body must be of type array"},
		{"Gateway unknown field", gateway, "mode: AUTO_PASSTHROUGH", "mode: AUTO_PASSTHROUGH\n      credentialNmae: x", "spec.servers[0].tls.credentialNmae", `did you mean "credentialName"?`},
		{"Gateway v1 unknown field", v1(gateway), "  servers:", "  server:", "spec.server", `did you mean "servers"?`},
		{"Gateway tls mode enum", gateway, "mode: AUTO_PASSTHROUGH", "mode: PASSTHROUGH_AUTO", "spec.servers[0].tls.mode", `Unsupported value: "PASSTHROUGH_AUTO"`},
		{"unknown top-level field", gateway, "spec:", "specs: {}\nspec:", "specs", `unknown field "specs"; did you mean "spec"?`},
	} {
		m.run(t)
	}
}

func TestIstioV1NeedsIstio122(t *testing.T) {
	// Objects are validated against Istio 1.21's CRDs, except the apiVersions
	// that 1.21 does not serve (PeerAuthentication and Gateway v1), which
	// are validated against 1.22's.
	c := checker(t)
	for k, source := range map[gvk]string{
		{Group: "security.istio.io", Version: "v1beta1", Kind: "PeerAuthentication"}: "istio.io/api@v1.21.6",
		{Group: "security.istio.io", Version: "v1", Kind: "PeerAuthentication"}:      "istio.io/api@v1.22.5",
		{Group: "security.istio.io", Version: "v1", Kind: "AuthorizationPolicy"}:     "istio.io/api@v1.21.6", // 1.21 serves it already
		{Group: "networking.istio.io", Version: "v1beta1", Kind: "Gateway"}:          "istio.io/api@v1.21.6",
		{Group: "networking.istio.io", Version: "v1", Kind: "Gateway"}:               "istio.io/api@v1.22.5",
		{Group: "helm.toolkit.fluxcd.io", Version: "v2", Kind: "HelmRelease"}:        "github.com/fluxcd/helm-controller@v1.6.0",
		{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Kind: "Kustomization"}: "github.com/fluxcd/kustomize-controller@v1.9.6",
		{Group: "source.toolkit.fluxcd.io", Version: "v1", Kind: "GitRepository"}:    "github.com/fluxcd/source-controller@v1.9.6",
		{Group: "source.toolkit.fluxcd.io", Version: "v1", Kind: "HelmRepository"}:   "github.com/fluxcd/source-controller@v1.9.6",
		{Group: "argoproj.io", Version: "v1alpha1", Kind: "Application"}:             "github.com/argoproj/argo-cd/v3@v3.5.7",
	} {
		v, err := c.crds().lookup(k)
		require.NoError(t, err)
		require.NotNil(t, v, k.String())
		assert.Equal(t, source, v.source, k.String())
	}
}

func TestEveryEmbeddedSchemaCompiles(t *testing.T) {
	c := checker(t)
	kinds := c.crds().kinds()
	assert.Greater(t, len(kinds), 30)
	for _, k := range kinds {
		v, err := c.crds().lookup(k)
		require.NoError(t, err)
		assert.NoError(t, v.build(), k.String())
	}
}

const gitRepository = `
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: mesh
  namespace: flux-system
spec:
  interval: 1m
  url: https://git.example.com/platform/mesh.git
  ref:
    branch: main
`

const helmRepository = `
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: istio
  namespace: flux-system
spec:
  interval: 1h
  url: https://istio-release.storage.googleapis.com/charts
`

const kustomization = `
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: ankh-morpork-mesh-policy
  namespace: flux-system
spec:
  interval: 10m
  path: ./overlays/ankh-morpork/mesh-policy
  prune: true
  wait: true
  dependsOn:
  - name: ankh-morpork-control-plane
  sourceRef:
    kind: GitRepository
    name: mesh
`

const application = `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: ankh-morpork-mesh-policy
  namespace: argocd
  annotations:
    argocd.argoproj.io/sync-wave: "3"
spec:
  project: default
  destination:
    server: https://am.example:6443
  source:
    repoURL: https://git.example.com/platform/mesh.git
    targetRevision: main
    path: overlays/ankh-morpork/mesh-policy
  syncPolicy:
    automated: {prune: true, selfHeal: true}
    syncOptions:
    - SkipDryRunOnMissingResource=true
  ignoreDifferences:
  - group: admissionregistration.k8s.io
    kind: ValidatingWebhookConfiguration
    jqPathExpressions:
    - .webhooks[]?.failurePolicy
`

func TestGitOpsCRDs(t *testing.T) {
	for _, m := range []mutation{
		{"GitRepository misspelled field", gitRepository, "    branch: main", "    brnach: main", "spec.ref.brnach", `did you mean "branch"?`},
		{"GitRepository duration", gitRepository, "interval: 1m", "interval: 1 minute", "spec.interval", "should match"},
		{"HelmRepository misspelled field", helmRepository, "  url:", "  uri:", "spec.uri", `did you mean "url"?`},
		{"HelmRepository enum", helmRepository, "  interval: 1h", "  interval: 1h\n  type: helm", "spec.type", `Unsupported value: "helm"`},
		{"Kustomization misspelled field", kustomization, "  prune: true", "  prun: true", "spec.prun", `unknown field "prun"; did you mean "prune"?`},
		{"Kustomization required field", kustomization, "  sourceRef:\n    kind: GitRepository\n    name: mesh\n", "", "spec.sourceRef", "Required value"},
		{"Kustomization sourceRef enum", kustomization, "kind: GitRepository", "kind: GitRepo", "spec.sourceRef.kind", `Unsupported value: "GitRepo"`},
		{"Application misspelled field", application, "  destination:", "  destinaton:", "spec.destinaton", `unknown field "destinaton"; did you mean "destination"?`},
		{"Application misspelled nested field", application, "selfHeal: true", "selfheal: true", "spec.syncPolicy.automated.selfheal", `did you mean "selfHeal"?`},
		{"Application type", application, "targetRevision: main", "targetRevision: [main]", "spec.source.targetRevision", "must be of type string"},
	} {
		m.run(t)
	}
}

// helmRelease returns a HelmRelease of an Istio chart with the given values (indented by 4).
func helmRelease(chart, version, values string) string {
	return fmt.Sprintf(`
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: %[1]s
  namespace: istio-system
spec:
  interval: 10m
  releaseName: %[1]s
  chart:
    spec:
      chart: %[1]s
      version: %[2]s
      sourceRef:
        kind: HelmRepository
        name: istio
        namespace: flux-system
  values:
%[3]s`, chart, version, values)
}

// The values meshc sets, per chart.
const (
	baseValues = `    defaultRevision: 1-20
`
	istiodValues = `    revision: 1-20
    revisionTags: [default]
    global:
      meshID: golemtrust-mesh
      multiCluster:
        clusterName: ankh-morpork
      network: network-am
      proxy:
        resources:
          requests: {cpu: 100m, memory: 128Mi}
          limits: {cpu: 500m, memory: 256Mi}
    pilot:
      autoscaleMin: 2
      autoscaleMax: 5
      traceSampling: 1.0
      resources:
        requests: {cpu: 500m, memory: 2Gi}
        limits: {cpu: "2", memory: 4Gi}
    meshConfig:
      accessLogFile: /dev/stdout
      trustDomain: cluster.local
      enableTracing: true
      defaultProviders:
        tracing: [opentelemetry]
      extensionProviders:
      - name: opentelemetry
        opentelemetry:
          service: jaeger-collector.observability.svc.cluster.local
          port: 4317
`
	gatewayValues = `    revision: 1-20
    networkGateway: network-am
    labels:
      istio: eastwestgateway
      topology.istio.io/network: network-am
    service:
      annotations:
        service.beta.kubernetes.io/aws-load-balancer-type: nlb
      ports:
      - {name: tls, port: 15443, targetPort: 15443}
`
)

func TestHelmValues(t *testing.T) {
	for _, version := range []string{"1.20.0", "1.21.0", "1.22.3", "1.24.1"} {
		t.Run(version, func(t *testing.T) {
			for _, m := range []mutation{
				{"base defaultRevision", helmRelease("base", version, baseValues), "defaultRevision:", "defaultRevison:", "spec.values.defaultRevison", `did you mean "defaultRevision"?`},
				{"istiod pilot.autoscaleMinn", helmRelease("istiod", version, istiodValues), "autoscaleMin:", "autoscaleMinn:", "spec.values.pilot.autoscaleMinn", `unknown field "autoscaleMinn"; did you mean "autoscaleMin"?`},
				{"istiod global.meshId", helmRelease("istiod", version, istiodValues), "meshID:", "meshId:", "spec.values.global.meshId", `did you mean "meshID"?`},
				{"istiod multiCluster.clustername", helmRelease("istiod", version, istiodValues), "clusterName:", "clustername:", "spec.values.global.multiCluster.clustername", `did you mean "clusterName"?`},
				{"istiod unknown meshConfig key", helmRelease("istiod", version, istiodValues), "accessLogFile:", "accessLogFil:", "spec.values.meshConfig.accessLogFil", `unknown field "accessLogFil"; did you mean "accessLogFile"?`},
				{"istiod meshConfig nested key", helmRelease("istiod", version, istiodValues), "          port: 4317", "          prot: 4317", "spec.values.meshConfig.extensionProviders[0].opentelemetry.prot", `did you mean "port"?`},
				{"istiod meshConfig type", helmRelease("istiod", version, istiodValues), "enableTracing: true", "enableTracing: yes please", "spec.values.meshConfig.enableTracing", "must be a boolean"},
				{"istiod resources field", helmRelease("istiod", version, istiodValues), "requests: {cpu: 500m", "request: {cpu: 500m", "spec.values.pilot.resources.request", `did you mean "requests"?`},
				{"istiod resources quantity", helmRelease("istiod", version, istiodValues), "memory: 4Gi", "memory: 4GB", "spec.values.pilot.resources.limits.memory", "quantities must match"},
				{"istiod proxy resources order", helmRelease("istiod", version, istiodValues), "limits: {cpu: 500m", "limits: {cpu: 50m", "spec.values.global.proxy.resources.requests.cpu", "must be less than or equal to cpu limit of 50m"},
				{"istiod map for a scalar", helmRelease("istiod", version, istiodValues), "network: network-am", "network: {name: network-am}", "spec.values.global.network", "must be a string like its default"},
				{"gateway networkGateway", helmRelease("gateway", version, gatewayValues), "networkGateway:", "networkgateway:", "spec.values.networkgateway", `did you mean "networkGateway"?`},
				{"gateway service.annotations", helmRelease("gateway", version, gatewayValues), "    service:\n      annotations:", "    service:\n      annotation:", "spec.values.service.annotation", `did you mean "annotations"?`},
				{"gateway annotation key", helmRelease("gateway", version, gatewayValues), "service.beta.kubernetes.io/aws-load-balancer-type", "service.beta.kubernetes.io/aws/lb", "spec.values.service.annotations", "a qualified name must consist of"},
				{"gateway label value", helmRelease("gateway", version, gatewayValues), "istio: eastwestgateway", "istio: east west", "spec.values.labels", "a valid label must be"},
				{"gateway values.schema.json", helmRelease("gateway", version, gatewayValues), "revision: 1-20", "revision: 1-20\n    kind: Deploy", "spec.values.kind", "value must be one of 'Deployment', 'DaemonSet'"},
			} {
				m.run(t)
			}
		})
	}
}

// TestHelmValuesPerVersion: each release's values are checked against the
// chart of its own version; a version between the embedded ones uses the
// one of the same minor, else the newest older one.
func TestHelmValuesPerVersion(t *testing.T) {
	c := checker(t)
	for version, want := range map[string]string{
		"1.20.0": "1.20.0", "1.21.4": "1.21.0", "~1.22.0": "1.22.0", "1.23.1": "1.22.0", "1.25.3": "1.24.2",
		"1.27.9": "1.24.2", "1.28.0": "1.28.10", "1.29.6": "1.29.6", "1.30.0": "1.30.3", "1.31.0": "1.30.3",
		"1.19.9": "1.20.0", "": "1.20.0",
	} {
		assert.Equal(t, want, c.chartsFor(version).about, "chart for %q", version)
	}
	// A key a version does not read is an error at that version.
	ports := "    networkGateway: net\n    networkGatewayPorts: {tls: {port: 15443}}\n"
	requireValid(t, helmRelease("gateway", "1.30.3", ports))
	requireProblem(t, problemsOf(t, helmRelease("gateway", "1.29.6", ports)), "spec.values.networkGatewayPorts", "unknown field")
	jwt := "    global: {jwtPolicy: third-party-jwt}\n"
	requireValid(t, helmRelease("istiod", "1.20.0", jwt))
	requireProblem(t, problemsOf(t, helmRelease("istiod", "1.30.3", jwt)), "spec.values.global.jwtPolicy", "unknown field")
	// An IstioOperator's values too, by its tag.
	iop := "apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata: {name: x, namespace: istio-system}\nspec:\n  tag: %s\n  values: {global: {jwtPolicy: third-party-jwt}}\n"
	requireValid(t, fmt.Sprintf(iop, "1.20.0"))
	requireProblem(t, problemsOf(t, fmt.Sprintf(iop, "1.30.3")), "spec.values.global.jwtPolicy", "unknown field")
	// The newer istiod chart takes the pilot settings at the top level too.
	requireValid(t, helmRelease("istiod", "1.25.0", "    autoscaleMin: 2\n    pilot: {autoscaleMax: 3}\n"))
	requireProblem(t, problemsOf(t, helmRelease("istiod", "1.25.0", "    autoscaleMinn: 2\n")), "spec.values.autoscaleMinn", `did you mean "autoscaleMin"?`)
	// Another chart's values are not checked.
	requireValid(t, strings.Replace(helmRelease("podinfo", "6.0.0", "    anything: {goes: here}\n"), "chart: podinfo", "chart: podinfo", 1))
}

func TestHelmReleaseCEL(t *testing.T) {
	// helm-controller's x-kubernetes-validations: exactly one of chart and chartRef.
	doc := helmRelease("base", "1.21.0", baseValues)
	broken := strings.Replace(doc, "  chart:\n", "  chartRef: {kind: OCIRepository, name: istio}\n  chart:\n", 1)
	requireProblem(t, problemsOf(t, broken), "spec", "either chart or chartRef must be set")
}

func TestArgoApplicationHelmValues(t *testing.T) {
	app := `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: ankh-morpork-istiod-1-20
  namespace: argocd
spec:
  project: default
  destination:
    server: https://am.example:6443
    namespace: istio-system
  source:
    repoURL: https://istio-release.storage.googleapis.com/charts
    chart: istiod
    targetRevision: 1.20.0
    helm:
      releaseName: istiod-1-20
      valuesObject:
        pilot: {autoscaleMin: 2}
        meshConfig: {accessLogFile: /dev/stdout}
      values: |
        global:
          meshID: golemtrust-mesh
      parameters:
      - name: global.multiCluster.clusterName
        value: ankh-morpork
`
	for _, m := range []mutation{
		{"valuesObject", app, "autoscaleMin", "autoscaleMinn", "spec.source.helm.valuesObject.pilot.autoscaleMinn", `did you mean "autoscaleMin"?`},
		{"valuesObject meshConfig", app, "accessLogFile", "accessLogFille", "spec.source.helm.valuesObject.meshConfig.accessLogFille", `did you mean "accessLogFile"?`},
		{"values string", app, "meshID:", "meshIDD:", "spec.source.helm.values.global.meshIDD", `did you mean "meshID"?`},
		{"parameters", app, "global.multiCluster.clusterName", "global.multicluster.clusterName", "spec.source.helm.parameters[0].name", `global.multicluster: unknown field "multicluster"`},
	} {
		m.run(t)
	}
}

const istioOperator = `
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata:
  name: control-plane-1-20
  namespace: istio-system
spec:
  profile: minimal
  revision: 1-20
  tag: 1.20.0
  meshConfig:
    accessLogFile: /dev/stdout
    trustDomain: cluster.local
    outboundTrafficPolicy: {mode: ALLOW_ANY}
  components:
    pilot:
      k8s:
        resources:
          requests: {cpu: 500m, memory: 2Gi}
        hpaSpec: {minReplicas: 2, maxReplicas: 5}
    ingressGateways:
    - name: istio-ingressgateway
      namespace: istio-ingress
      enabled: true
      label: {istio: ingressgateway}
      k8s:
        serviceAnnotations: {service.beta.kubernetes.io/aws-load-balancer-type: nlb}
        strategy:
          rollingUpdate: {maxSurge: 100%, maxUnavailable: 25%}
  values:
    global:
      meshID: golemtrust-mesh
      multiCluster: {clusterName: ankh-morpork}
      network: network-am
      proxy:
        resources:
          requests: {cpu: 100m, memory: 128Mi}
    pilot:
      autoscaleMin: 2
    gateways:
      istio-ingressgateway:
        injectionTemplate: gateway
`

func TestIstioOperator(t *testing.T) {
	for _, m := range []mutation{
		{"unknown top-level spec key", istioOperator, "  profile: minimal", "  profil: minimal", "spec.profil", `unknown field "profil"; did you mean "profile"?`},
		{"unknown component field", istioOperator, "hpaSpec:", "hpaSpecs:", "spec.components.pilot.k8s.hpaSpecs", `did you mean "hpaSpec"?`},
		{"wrong type", istioOperator, "enabled: true", "enabled: [true]", "spec.components.ingressGateways[0].enabled", "Invalid value: must be a boolean, not a list"},
		{"meshConfig key", istioOperator, "trustDomain: cluster.local", "trustDomian: cluster.local", "spec.meshConfig.trustDomian", `did you mean "trustDomain"?`},
		{"meshConfig enum", istioOperator, "mode: ALLOW_ANY", "mode: ALLOW_ALL", "spec.meshConfig.outboundTrafficPolicy.mode", `Unsupported value: "ALLOW_ALL"`},
		{"values key", istioOperator, "autoscaleMin: 2", "autoscaleMinn: 2", "spec.values.pilot.autoscaleMinn", `did you mean "autoscaleMin"?`},
		{"gateway values key", istioOperator, "injectionTemplate: gateway", "injectionTemplat: gateway", "spec.values.gateways.istio-ingressgateway.injectionTemplat", `did you mean "injectionTemplate"?`},
		{"apiVersion", istioOperator, "install.istio.io/v1alpha1", "install.istio.io/v1", "apiVersion", "Unsupported value"},
		{"top-level key", istioOperator, "spec:", "sepc: {}\nspec:", "sepc", `did you mean "spec"?`},
		{"metadata", istioOperator, "  namespace: istio-system", "  namespaces: istio-system", "metadata.namespaces", `did you mean "namespace"?`},
	} {
		m.run(t)
	}
}

func TestUnknownKinds(t *testing.T) {
	requireProblem(t, problemsOf(t, strings.Replace(peerAuthentication, "kind: PeerAuthentication", "kind: PeerAuthenticaton", 1)),
		"", `no API definition for apiVersion "security.istio.io/v1beta1", kind "PeerAuthenticaton"; did you mean "PeerAuthentication"?`)
	requireProblem(t, problemsOf(t, strings.Replace(peerAuthentication, "security.istio.io/v1beta1", "security.istio.io/v2", 1)),
		"", "PeerAuthentication is served as security.istio.io/v1, security.istio.io/v1beta1")
	requireProblem(t, problemsOf(t, strings.Replace(namespace, "apiVersion: v1", "apiVersion: v2", 1)),
		"", `no API definition for apiVersion "v2", kind "Namespace": Namespace is served as v1`)
	requireProblem(t, problemsOf(t, "kind: Namespace\nmetadata: {name: x}\n"), "apiVersion", "Required value")
	requireProblem(t, problemsOf(t, "- a\n- b\n"), "", "a Kubernetes object must be a mapping, not a list")
	requireProblem(t, problemsOf(t, "a: [b\n"), "", "invalid YAML")
}

func TestStream(t *testing.T) {
	data, err := os.ReadFile("testdata/valid.yaml")
	require.NoError(t, err)
	assert.Empty(t, Stream("testdata/valid.yaml", data))

	stream := "# leading comment\n---\n" + namespace + "---\n# only a comment\n---\n" +
		strings.Replace(peerAuthentication, "STRICT", "STRICTT", 1) + "...\n"
	errs := Stream("golden/ankh-morpork.yaml", []byte(stream))
	require.Len(t, errs, 1)
	var e *Error
	require.True(t, errors.As(errs[0], &e))
	assert.Equal(t, "golden/ankh-morpork.yaml", e.Source)
	assert.Equal(t, 17, e.Line, "the line of the document's first line")
	assert.Equal(t, "PeerAuthentication", e.Kind)
	assert.Equal(t, "istio-system", e.Namespace)
	assert.Equal(t, "default", e.Name)
	assert.Equal(t, "spec.mtls.mode", e.Field)
	assert.Equal(t, `golden/ankh-morpork.yaml:17: PeerAuthentication istio-system/default: spec.mtls.mode: Unsupported value: "STRICTT": supported values: "UNSET", "DISABLE", "PERMISSIVE", "STRICT"`, e.Error())

	assert.Empty(t, Stream("empty.yaml", nil))
	assert.Empty(t, Stream("comments.yaml", []byte("# nothing\n---\n---\n")))
}

func TestConcurrentUse(t *testing.T) {
	c, err := New()
	require.NoError(t, err)
	data, err := os.ReadFile("testdata/valid.yaml")
	require.NoError(t, err)
	broken := []byte(strings.Replace(string(data), "mode: STRICT", "mode: STRICTT", 1))
	var wg sync.WaitGroup
	results := make([][]error, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				results[i] = c.Stream("valid.yaml", data)
			} else {
				results[i] = c.Stream("broken.yaml", broken)
			}
		}()
	}
	wg.Wait()
	for i, errs := range results {
		if i%2 == 0 {
			assert.Empty(t, errs)
		} else {
			assert.Len(t, errs, 1)
		}
	}
}

func TestSuggestion(t *testing.T) {
	assert.Equal(t, `; did you mean "prune"?`, suggestion("prun", []string{"prune", "path"}))
	assert.Equal(t, `; did you mean "from"?`, suggestion("form", []string{"from", "to"}))
	assert.Equal(t, "", suggestion("spec", []string{"apiVersion", "kind"}))
}

// BenchmarkNew measures loading the embedded definitions (what Default does once).
func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		if _, err := New(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFirstStream measures New plus a first Stream over every kind meshc
// emits, which compiles the schemas of the custom resources used.
func BenchmarkFirstStream(b *testing.B) {
	data, err := os.ReadFile("testdata/valid.yaml")
	require.NoError(b, err)
	for b.Loop() {
		c, err := New()
		if err != nil {
			b.Fatal(err)
		}
		if errs := c.Stream("valid.yaml", data); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}

// BenchmarkStream measures checking a stream with a warm Checker.
func BenchmarkStream(b *testing.B) {
	c := checker(b)
	data, err := os.ReadFile("testdata/valid.yaml")
	require.NoError(b, err)
	c.Stream("valid.yaml", data)
	b.ResetTimer()
	for b.Loop() {
		if errs := c.Stream("valid.yaml", data); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}

// TestVersionsFile checks that schemas/VERSIONS lists every embedded file
// with its current checksum, so the provenance record cannot go stale.
func TestVersionsFile(t *testing.T) {
	data, err := fs.ReadFile(schemaFS, "schemas/VERSIONS")
	require.NoError(t, err)
	listed := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		require.Len(t, cols, 4, line)
		assert.True(t, strings.HasPrefix(cols[0], cols[1]+"/"+cols[2]) || cols[0] == cols[1]+"/"+cols[2], line)
		listed["schemas/"+cols[0]] = cols[3]
	}
	embedded := 0
	require.NoError(t, fs.WalkDir(schemaFS, "schemas", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == "schemas/VERSIONS" {
			return err
		}
		embedded++
		content, err := fs.ReadFile(schemaFS, p)
		require.NoError(t, err)
		sum := sha256.Sum256(content)
		assert.Equal(t, listed[p], hex.EncodeToString(sum[:]), "%s: checksum in schemas/VERSIONS", p)
		return nil
	}))
	assert.Equal(t, len(listed), embedded, "files listed in schemas/VERSIONS")
}

// TestChartsVersionsFile checks that charts/VERSIONS lists every embedded
// chart file with its checksum, as charts/gen.sh writes it.
func TestChartsVersionsFile(t *testing.T) {
	data, err := fs.ReadFile(chartFS, "charts/VERSIONS")
	require.NoError(t, err)
	listed := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		require.Len(t, cols, 3, line)
		assert.True(t, strings.HasPrefix(cols[1], cols[0]+"/"), line)
		listed["charts/"+cols[1]] = cols[2]
	}
	embedded := 0
	require.NoError(t, fs.WalkDir(chartFS, "charts", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == "charts/VERSIONS" {
			return err
		}
		embedded++
		content, err := fs.ReadFile(chartFS, p)
		require.NoError(t, err)
		sum := sha256.Sum256(content)
		assert.Equal(t, listed[p], hex.EncodeToString(sum[:]), "%s: checksum in charts/VERSIONS", p)
		return nil
	}))
	assert.Equal(t, len(listed), embedded, "files listed in charts/VERSIONS")
	assert.Equal(t, 7*4, embedded, "base, istiod and gateway (values and schema) at seven versions")
}

// TestObjectAgreesWithStream: checking an object as meshc's map gives the
// same verdict as checking the YAML it renders to, for every object of the
// example mesh's golden files and for broken ones.
func TestObjectAgreesWithStream(t *testing.T) {
	var docs []string
	for _, g := range []string{"ankh-morpork", "genua", "quirm"} {
		data, err := os.ReadFile("../../golden/" + g + ".yaml")
		require.NoError(t, err)
		for _, d := range splitDocuments(data) {
			docs = append(docs, string(d.data))
		}
	}
	require.Greater(t, len(docs), 20)
	broken := []string{
		"apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: x}\nspec:\n  mtls: {mode: BOGUS}\n",
		"apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\nspec: {finalizers: [kubernetes], colour: blue}\n",
		"apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: q, namespace: x}\nspec: {hard: {pods: lots}}\n",
		"apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
	}
	docs = append(docs, broken...)
	c := checker(t)
	for i, doc := range docs {
		var m map[string]any
		require.NoError(t, sigsyaml.Unmarshal([]byte(doc), &m))
		// Distinct keys: neither call may answer from the other's cache.
		fromStream := c.Stream("s.yaml", []byte(fmt.Sprintf("# %d\n%s", i, doc)))
		fromObject := c.Object("s.yaml", sha256.Sum256([]byte(fmt.Sprintf("object %d", i))), m)
		assert.Equal(t, reasons(fromStream), reasons(fromObject), "document %d:\n%s", i, doc)
		if i >= len(docs)-len(broken) {
			assert.NotEmpty(t, fromObject, "broken document %d passed:\n%s", i, doc)
		}
	}
}

func reasons(errs []error) []string {
	var out []string
	for _, err := range errs {
		var e *Error
		if errors.As(err, &e) {
			out = append(out, e.Field+": "+e.Reason)
		} else {
			out = append(out, err.Error())
		}
	}
	return out
}
