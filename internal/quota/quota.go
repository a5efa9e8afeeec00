// Package quota reports how much of each namespace's ResourceQuota its own
// Envoy sidecars take: every injected pod carries one sidecar with the
// cluster's sidecar resources, charged to the namespace's quota. It answers
// the runbook's question when a namespace nears its quota ceiling: is it
// the sidecars? It reads only the mesh model and computes with
// resource.Quantity, exactly.
package quota

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"gopkg.in/inf.v0"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/golemtrust/meshc/internal/mesh"
)

// Resource names, in the order of a ResourceQuota's spec.hard.
const (
	RequestsCPU    = "requests.cpu"
	RequestsMemory = "requests.memory"
	LimitsCPU      = "limits.cpu"
	LimitsMemory   = "limits.memory"
)

// Namespace is one namespace with a quota.
type Namespace struct {
	Cluster   string
	Namespace string
	// Injection is false when the namespace runs no sidecars.
	Injection bool
	Pods      int64
	// Resources are requests.cpu, requests.memory, limits.cpu and
	// limits.memory, in that order.
	Resources []Resource
}

// Resource is one quota resource and what the sidecars take of it.
type Resource struct {
	Name string
	// Quota is the quota's value as written; its Text is "" when the quota
	// does not set it.
	Quota mesh.Quantity
	// Sidecars is pods x the cluster's per-sidecar value; zero when
	// injection is disabled. Set is false when the cluster sets no value.
	Sidecars resource.Quantity
	Set      bool
}

// Share is the sidecars' share of the quota in percent, or nil when there
// is nothing to compare (a value not set, or a zero quota).
func (r Resource) Share() *inf.Dec {
	if !r.Set || r.Quota.Text == "" || r.Quota.Value.IsZero() {
		return nil
	}
	part, whole := r.Sidecars.DeepCopy(), r.Quota.Value.DeepCopy()
	return new(inf.Dec).QuoRound(new(inf.Dec).Mul(part.AsDec(), inf.NewDec(100, 0)), whole.AsDec(), 1, inf.RoundHalfUp)
}

// OverHalf reports whether the sidecars take more than half of the quota.
func (r Resource) OverHalf() bool {
	if !r.Set || r.Quota.Text == "" {
		return false
	}
	twice := r.Sidecars.DeepCopy()
	twice.Mul(2)
	return twice.Cmp(r.Quota.Value) > 0
}

// OverHalf reports whether the sidecars take more than half of any of the
// namespace's quota resources.
func (n Namespace) OverHalf() bool {
	for _, r := range n.Resources {
		if r.OverHalf() {
			return true
		}
	}
	return false
}

// Report lists every namespace with a quota, by cluster and then by
// namespace, both sorted as in the mesh model. Only the named clusters are
// reported; none means all.
func Report(m *mesh.Mesh, clusters ...string) []Namespace {
	want := map[string]bool{}
	for _, c := range clusters {
		want[c] = true
	}
	var out []Namespace
	for _, c := range m.Clusters {
		if len(want) > 0 && !want[c.Name] {
			continue
		}
		for _, ns := range c.Namespaces {
			if ns.Quota != nil {
				out = append(out, namespace(c, ns))
			}
		}
	}
	return out
}

func namespace(c *mesh.Cluster, ns *mesh.Namespace) Namespace {
	q := ns.Quota
	n := Namespace{Cluster: c.Name, Namespace: ns.Name, Injection: ns.Injection, Pods: q.Pods}
	add := func(name string, quota, per mesh.Quantity) {
		r := Resource{Name: name, Quota: quota, Set: per.Text != ""}
		// Namespaces with injection disabled run no sidecars: they take
		// nothing (a zero Quantity).
		if r.Set && ns.Injection {
			r.Sidecars = per.Value.DeepCopy()
			r.Sidecars.Mul(q.Pods) // exact: falls back to inf.Dec on overflow
		}
		n.Resources = append(n.Resources, r)
	}
	add(RequestsCPU, q.Requests.CPU, c.Sidecar.Requests.CPU)
	add(RequestsMemory, q.Requests.Memory, c.Sidecar.Requests.Memory)
	add(LimitsCPU, q.Limits.CPU, c.Sidecar.Limits.CPU)
	add(LimitsMemory, q.Limits.Memory, c.Sidecar.Limits.Memory)
	return n
}

// Table writes the report as an aligned table, one line per namespace and
// resource, so that grep by cluster or namespace keeps whole lines. A
// resource the sidecars take more than half of is flagged in NOTE.
func Table(w io.Writer, report []Namespace) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CLUSTER\tNAMESPACE\tPODS\tRESOURCE\tQUOTA\tSIDECARS\tSHARE\tNOTE")
	for _, n := range report {
		for _, r := range n.Resources {
			quota, sidecars, share, note := dash(r.Quota.Text), "-", "-", ""
			if r.Set {
				sidecars = r.Sidecars.String()
			}
			if s := r.Share(); s != nil {
				share = s.String() + "%"
			}
			switch {
			case !n.Injection:
				note = "injection disabled: no sidecars"
			case r.OverHalf():
				note = "sidecars take more than half"
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", n.Cluster, n.Namespace, n.Pods, r.Name, quota, sidecars, share, note)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// tabwriter pads every cell but the last, so a line with no note ends
	// in spaces.
	var out strings.Builder
	for _, line := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		out.WriteString(strings.TrimRight(line, " "))
		out.WriteByte('\n')
	}
	_, err := io.WriteString(w, out.String())
	return err
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
