package compile

// Release is one Helm release of Istio's charts, as any delivery engine
// needs it: which chart at which version, under which release name in which
// namespace, with which values, after which other releases. compile says
// nothing about how it is delivered; an engine (internal/engine/...) turns
// it into what it applies (a Flux HelmRelease, an Argo CD Application with
// a Helm source).
type Release struct {
	// Name is the Helm release name; engines name their object after it.
	Name  string
	Chart string // base, istiod or gateway
	// Version is the chart's version (the Istio version); "" in a shared
	// part that leaves it to each cluster.
	Version string
	// Namespace is where the chart's objects and the Helm release live.
	Namespace string
	Values    Doc
	// DependsOn names the releases that must be installed and ready
	// before this one is installed or upgraded.
	DependsOn []string
	// CRDs: the chart carries CustomResourceDefinitions, to be created and
	// replaced on install and upgrade (Helm itself never upgrades them).
	CRDs bool
	// Wait says what ready means for what is ordered after this release.
	Wait Wait
	// SkipSchemaValidation: Helm must not check the values against the
	// chart's values.schema.json, which at this version refuses valid
	// values (meshc checks them against it itself, internal/apicheck).
	SkipSchemaValidation bool
}

// Wait is what a release's readiness waits for.
type Wait int

const (
	// WaitReady: every object of the release is ready (CRDs established,
	// Deployments available, Services with a cluster IP).
	WaitReady Wait = iota
	// WaitNoAddress: as WaitReady, but a LoadBalancer Service's external
	// address is never waited for. A gateway's address depends on the
	// cloud (and never comes on clusters without a load-balancer
	// controller), and tenant policy must never be held back by it.
	WaitNoAddress
)

// mergeRelease returns shared completed by own: own's non-empty fields win,
// values merge key by key. An engine's object for shared is then a part of
// its object for the result, which is what the overlay's base/patch split
// needs.
func mergeRelease(shared, own Release) *Release {
	r := shared
	if own.Version != "" {
		r.Version = own.Version
	}
	if len(own.DependsOn) > 0 {
		r.DependsOn = own.DependsOn
	}
	if len(own.Values) > 0 {
		r.Values = merge(shared.Values, own.Values)
	}
	r.SkipSchemaValidation = shared.SkipSchemaValidation || own.SkipSchemaValidation
	return &r
}
