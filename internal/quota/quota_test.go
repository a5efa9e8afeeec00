package quota

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/golemtrust/meshc/internal/mesh"
)

func q(s string) mesh.Quantity { return mesh.Quantity{Text: s, Value: resource.MustParse(s)} }

func cpuMem(cpu, mem string) mesh.CPUMemory { return mesh.CPUMemory{CPU: q(cpu), Memory: q(mem)} }

// testMesh is the runbook's situation: the Golem Trust sidecars (requests
// 100m/128Mi, limits 500m/256Mi) in merchants-guild's quota, beside a
// namespace without injection and one with a roomy quota.
func testMesh() *mesh.Mesh {
	sidecar := mesh.Resources{Requests: cpuMem("100m", "128Mi"), Limits: cpuMem("500m", "256Mi")}
	return &mesh.Mesh{Clusters: []*mesh.Cluster{
		{Name: "ankh-morpork", Sidecar: sidecar, Namespaces: []*mesh.Namespace{
			{Name: "merchants-guild", Injection: true, Quota: &mesh.Quota{
				Requests: cpuMem("6", "12Gi"), Limits: cpuMem("16", "32Gi"), Pods: 30}},
			{Name: "no-quota", Injection: true},
			{Name: "plain", Injection: false, Quota: &mesh.Quota{
				Requests: cpuMem("1", "1Gi"), Limits: cpuMem("2", "2Gi"), Pods: 50}},
		}},
		{Name: "quirm", Sidecar: mesh.Resources{Requests: cpuMem("10m", "40Mi"), Limits: cpuMem("1", "1Gi")}, Namespaces: []*mesh.Namespace{
			{Name: "big", Injection: true, Quota: &mesh.Quota{
				Requests: cpuMem("1500", "3000Gi"), Limits: cpuMem("100k", "100Ti"), Pods: 75000}},
		}},
	}}
}

func figures(n Namespace) [][4]string {
	var out [][4]string
	for _, r := range n.Resources {
		share := "-"
		if s := r.Share(); s != nil {
			share = s.String()
		}
		half := ""
		if r.OverHalf() {
			half = "over half"
		}
		out = append(out, [4]string{r.Name, r.Sidecars.String(), share, half})
	}
	return out
}

func TestReport(t *testing.T) {
	report := Report(testMesh())
	require.Len(t, report, 3, "namespaces without a quota are left out")

	mg := report[0]
	assert.Equal(t, "ankh-morpork", mg.Cluster)
	assert.Equal(t, "merchants-guild", mg.Namespace)
	assert.Equal(t, int64(30), mg.Pods)
	// 30 x 100m = 3 of 6 is exactly half: not more than half.
	// 30 x 128Mi = 3840Mi of 12Gi = 31.25%, rounded half up.
	// 30 x 500m = 15 of 16 = 93.75%: the sidecar limits are the problem.
	// 30 x 256Mi = 7680Mi of 32Gi = 23.4375%.
	assert.Equal(t, [][4]string{
		{RequestsCPU, "3", "50.0", ""},
		{RequestsMemory, "3840Mi", "31.3", ""},
		{LimitsCPU, "15", "93.8", "over half"},
		{LimitsMemory, "7680Mi", "23.4", ""},
	}, figures(mg))
	assert.True(t, mg.OverHalf())
	assert.Equal(t, "6", mg.Resources[0].Quota.Text, "the quota as written")

	plain := report[1]
	assert.False(t, plain.Injection)
	assert.Equal(t, [][4]string{
		{RequestsCPU, "0", "0.0", ""},
		{RequestsMemory, "0", "0.0", ""},
		{LimitsCPU, "0", "0.0", ""},
		{LimitsMemory, "0", "0.0", ""},
	}, figures(plain), "injection disabled: no sidecars, no overhead")
	assert.False(t, plain.OverHalf())

	// Large figures stay exact and keep their units: 75000 x 10m = 750,
	// 75000 x 40Mi = 3000000Mi (97.66% of 3000Gi), 75000 x 1 = 75k,
	// 75000 x 1Gi = 75000Gi (73.24% of 100Ti).
	big := report[2]
	assert.Equal(t, [][4]string{
		{RequestsCPU, "750", "50.0", ""},
		{RequestsMemory, "3000000Mi", "97.7", "over half"},
		{LimitsCPU, "75k", "75.0", "over half"},
		{LimitsMemory, "75000Gi", "73.2", "over half"},
	}, figures(big))
}

func TestReportSelectsClusters(t *testing.T) {
	report := Report(testMesh(), "quirm")
	require.Len(t, report, 1)
	assert.Equal(t, "big", report[0].Namespace)
	assert.Empty(t, Report(testMesh(), "nowhere"))
}

// Exactness where float64 would not be: a sidecar request of 1m over a
// quota of 3 pods' worth, and a quota just above twice the sidecars.
func TestOverHalfIsExact(t *testing.T) {
	r := Resource{Name: RequestsCPU, Quota: q("2001m"), Sidecars: resource.MustParse("1"), Set: true}
	assert.False(t, r.OverHalf(), "1 of 2.001 is less than half")
	r.Quota = q("1999m")
	assert.True(t, r.OverHalf())
	assert.Equal(t, "50.0", r.Share().String())
}

func TestUnsetAndZero(t *testing.T) {
	r := Resource{Name: LimitsCPU, Quota: mesh.Quantity{}, Sidecars: resource.MustParse("1"), Set: true}
	assert.Nil(t, r.Share(), "the quota does not set it")
	assert.False(t, r.OverHalf())
	r = Resource{Name: LimitsCPU, Quota: q("0"), Set: true}
	assert.Nil(t, r.Share(), "a zero quota has no share")
	r = Resource{Name: LimitsCPU, Quota: q("1"), Set: false}
	assert.Nil(t, r.Share(), "the cluster sets no sidecar value")
	assert.False(t, r.OverHalf())
}

func TestTable(t *testing.T) {
	var b strings.Builder
	require.NoError(t, Table(&b, Report(testMesh(), "ankh-morpork")))
	assert.Equal(t, `CLUSTER       NAMESPACE        PODS  RESOURCE         QUOTA  SIDECARS  SHARE  NOTE
ankh-morpork  merchants-guild  30    requests.cpu     6      3         50.0%
ankh-morpork  merchants-guild  30    requests.memory  12Gi   3840Mi    31.3%
ankh-morpork  merchants-guild  30    limits.cpu       16     15        93.8%  sidecars take more than half
ankh-morpork  merchants-guild  30    limits.memory    32Gi   7680Mi    23.4%
ankh-morpork  plain            50    requests.cpu     1      0         0.0%   injection disabled: no sidecars
ankh-morpork  plain            50    requests.memory  1Gi    0         0.0%   injection disabled: no sidecars
ankh-morpork  plain            50    limits.cpu       2      0         0.0%   injection disabled: no sidecars
ankh-morpork  plain            50    limits.memory    2Gi    0         0.0%   injection disabled: no sidecars
`, b.String())

	b.Reset()
	require.NoError(t, Table(&b, nil))
	assert.Equal(t, "CLUSTER  NAMESPACE  PODS  RESOURCE  QUOTA  SIDECARS  SHARE  NOTE\n", b.String())
}

// Beyond int64: 16 x 1Ei is 2^64 bytes; resource.Quantity falls back to
// exact decimals rather than wrap. (A quota itself cannot exceed 2^63-1:
// Kubernetes' parser caps it there.)
func TestNoOverflow(t *testing.T) {
	c := &mesh.Cluster{Name: "c", Sidecar: mesh.Resources{Requests: cpuMem("1", "1Ei"), Limits: cpuMem("1", "1Ei")}}
	n := namespace(c, &mesh.Namespace{Name: "n", Injection: true, Quota: &mesh.Quota{
		Requests: cpuMem("64", "7Ei"), Limits: cpuMem("64", "7Ei"), Pods: 16}})
	assert.Equal(t, "16Ei", n.Resources[1].Sidecars.String())
	assert.Equal(t, "228.6", n.Resources[1].Share().String())
	assert.True(t, n.Resources[1].OverHalf())
}
