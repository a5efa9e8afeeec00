// Package apicheck validates rendered Kubernetes objects against the real API definitions of their kinds.
//
// It works offline: every definition it uses is embedded from files vendored
// under schemas/ (see README.md and schemas/VERSIONS for where each came from).
//
//   - Kubernetes built-ins (Namespace, Service, ResourceQuota, LimitRange,
//     webhook configurations, ...) are decoded strictly into their k8s.io/api
//     types (unknown and duplicate fields are errors, quantities must parse) and
//     checked with apimachinery's validation: metadata names as the kind
//     requires them, label keys and values, annotations, and a few per-kind
//     rules (quota and limit-range quantities, service ports, webhooks).
//   - Custom resources (Istio, Flux, Argo CD) are validated as the API server
//     validates them, with k8s.io/apiextensions-apiserver: pruning against the
//     CRD's structural schema (an unknown field is an error), the OpenAPI v3
//     schema (types, enums, patterns, ...), list types and CEL
//     x-kubernetes-validations rules.
//   - IstioOperator (which has no useful CRD) is checked against the
//     IstioOperatorSpec and MeshConfig protobuf definitions of istio.io/api, and
//     its spec.values against Istio's chart values.
//   - The Helm values of Istio's charts (base, istiod, gateway) set by Flux
//     HelmReleases and Argo CD Applications must name keys that exist in the
//     chart's values.yaml for that Istio version; meshConfig must hold
//     MeshConfig fields; the gateway chart's values.schema.json applies.
//
// Use [Stream] for the shared, lazily built checker, or [New] for one of your
// own. Both are safe for concurrent use.
package apicheck

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Error is one problem found in one object of a stream.
type Error struct {
	// Source is the stream's name as given to Stream, e.g. "golden/ankh-morpork.yaml".
	Source string
	// Line is the 1-based line of the stream where the object's document starts, 0 if unknown.
	Line int
	// Kind, Namespace and Name identify the object (any of them may be empty when the
	// document is too broken to tell).
	Kind, Namespace, Name string
	// Field is the path of the offending field, e.g. "spec.mtls.mode" or
	// "spec.values.pilot.autoscaleMinn"; empty when the problem is the whole object.
	Field string
	// Reason says what is wrong, in the API's own words where it has them.
	Reason string
}

// Error formats the problem as "source:line: Kind namespace/name: field: reason".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Source)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if id := e.Object(); id != "" {
		b.WriteString(id)
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// Object names the object as "Kind namespace/name" (or "Kind name" when it has no namespace).
func (e *Error) Object() string {
	id := e.Name
	if e.Namespace != "" {
		id = e.Namespace + "/" + e.Name
	}
	switch {
	case e.Kind != "" && id != "":
		return e.Kind + " " + id
	case e.Kind != "":
		return e.Kind
	default:
		return id
	}
}

// Checker validates objects. Build it once with New (loading the embedded
// definitions is the expensive part) and reuse it; it is safe for concurrent
// use. The schemas of custom resources are compiled on first use of each kind.
type Checker struct {
	builtins *builtinChecker
	// The CRD index and the chart snapshots load on first use (Default)
	// or at once (New): a rebuild that checks only built-in kinds, or
	// nothing at all, should not pay for them.
	loadCRDs   func() (*crdIndex, error)
	loadCharts func() ([]*chartSet, error) // newest first
	protos     *protoChecker
	// valid remembers documents that passed, by content hash: a mesh
	// repeats the same objects (tenant namespaces, quotas, policies, the
	// chart repository) across many clusters, and a verdict depends only
	// on a document's bytes. Failures are never cached.
	valid sync.Map // [sha256.Size]byte -> struct{}
}

// New loads the embedded API definitions.
func New() (*Checker, error) {
	c := newLazy()
	if _, err := c.loadCRDs(); err != nil {
		return nil, err
	}
	if _, err := c.loadCharts(); err != nil {
		return nil, err
	}
	return c, nil
}

// newLazy is New with the CRDs and charts loaded when first needed.
func newLazy() *Checker {
	return &Checker{
		builtins:   newBuiltinChecker(),
		protos:     newProtoChecker(),
		loadCRDs:   sync.OnceValues(loadCRDs),
		loadCharts: sync.OnceValues(loadCharts),
	}
}

// crds is the CRD index. The embedded definitions are compiled into the
// binary and proven loadable by the tests (TestEveryEmbeddedSchemaCompiles),
// so failing to load them here is a meshc bug.
func (c *Checker) crds() *crdIndex {
	idx, err := c.loadCRDs()
	if err != nil {
		panic("meshc bug: apicheck: loading the embedded CRDs: " + err.Error())
	}
	return idx
}

// charts are the chart snapshots, newest first; see crds.
func (c *Checker) charts() []*chartSet {
	sets, err := c.loadCharts()
	if err != nil {
		panic("meshc bug: apicheck: loading the embedded chart values: " + err.Error())
	}
	return sets
}

var (
	defaultOnce    sync.Once
	defaultChecker *Checker
)

// Default returns the package's shared Checker, made on the first call; it
// loads the CRDs and chart values when an object first needs them (New
// loads them at once and reports a failure; the tests prove they load).
func Default() (*Checker, error) {
	defaultOnce.Do(func() { defaultChecker = newLazy() })
	return defaultChecker, nil
}

// Stream validates every document of a multi-document YAML stream. name is used in messages (e.g. "golden/ankh-morpork.yaml").
// It returns one error per problem found, each naming the object (kind namespace/name), the field path and the reason.
//
// It uses the shared Checker of Default, built once (safe for concurrent use).
func Stream(name string, data []byte) []error {
	c, err := Default()
	if err != nil {
		return []error{fmt.Errorf("%s: apicheck: loading the embedded API definitions: %w", name, err)}
	}
	return c.Stream(name, data)
}

// Stream validates every document of a multi-document YAML stream; see the package-level Stream.
func (c *Checker) Stream(name string, data []byte) []error {
	var errs []error
	for _, d := range splitDocuments(data) {
		key := sha256.Sum256(d.data)
		if _, ok := c.valid.Load(key); ok {
			continue
		}
		found := c.document(d)
		for _, e := range found {
			e.Source = name
			e.Line = d.line
			errs = append(errs, e)
		}
		if len(found) == 0 {
			c.valid.Store(key, struct{}{})
		}
	}
	return errs
}

// Verdicts is a build's memory of which objects passed the check, by a
// key of their content (the hash of their rendered bytes): an object
// with a known key is not checked again, within the run or, seeded from
// the build cache, across runs of the same meshc binary (the same API
// definitions). The caller owns it; apicheck keeps no memo of its own
// for objects. Safe for concurrent use.
type Verdicts struct {
	// seeded are the keys an earlier run passed, sorted: thousands on a
	// rebuild that checks a few dozen objects, so they are searched, not
	// loaded into passed.
	seeded [][32]byte
	passed sync.Map // [32]byte -> struct{}: passed in this run, not seeded
	// shapes holds the shapes of objects that passed: an object of a
	// known shape whose only new values are label values is decided by
	// checking those values alone (shape.go); a custom resource of a
	// known shape (crdshape.go, keys apart: they start "crd\x00") by
	// its metadata and Helm values alone.
	shapes sync.Map // [sha256.Size]byte -> struct{}
	// noCustomShapes turns the custom resources' shapes off (the
	// benchmark's "before").
	noCustomShapes bool
}

// NewVerdicts returns Verdicts that know keys passed already.
func NewVerdicts(keys [][32]byte) *Verdicts {
	if !slices.IsSortedFunc(keys, compareKeys) { // the build cache keeps them sorted
		keys = slices.SortedFunc(slices.Values(keys), compareKeys)
	}
	return &Verdicts{seeded: slices.CompactFunc(keys, func(a, b [32]byte) bool { return a == b })}
}

func compareKeys(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) }

// known reports whether the object with key passed, now or before.
func (v *Verdicts) known(key [32]byte) bool {
	if _, ok := slices.BinarySearchFunc(v.seeded, key, compareKeys); ok {
		return true
	}
	_, ok := v.passed.Load(key)
	return ok
}

// Object validates one object meshc built, as the map it rendered to
// YAML, without parsing that YAML again, unless its key passed before.
// source names where the object is written, for messages.
func (v *Verdicts) Object(source string, key [32]byte, doc map[string]any) []error {
	if v.known(key) {
		return nil // before loading any definitions: a rebuild may need none
	}
	c, err := Default()
	if err != nil {
		return []error{fmt.Errorf("%s: apicheck: loading the embedded API definitions: %w", source, err)}
	}
	// A custom resource of a kind decided by shape needs no label shape:
	// its own shape leaves all of metadata out, labels included, and
	// computing one for each of a fleet's Applications showed in profiles.
	var shape [32]byte
	var values []string
	shaped := false
	if v.noCustomShapes || !c.byShapeKind(doc) {
		shape, values, shaped = labelShape(doc)
	}
	if shaped {
		if _, ok := v.shapes.Load(shape); ok && validLabelValues(values) {
			v.passed.Store(key, struct{}{})
			return nil
		}
	}
	o, perr := objectOf(doc)
	if perr != nil {
		return withSource(source, []*Error{perr})
	}
	// A custom resource of a known shape: only its metadata and Helm
	// values are checked (crdshape.go). The full check runs otherwise,
	// and on any problem, for its messages.
	var custom [32]byte
	var cv *crdVersion
	customShaped := false
	if !v.noCustomShapes {
		custom, cv, customShaped = c.customShape(o)
	}
	if customShaped {
		if _, ok := v.shapes.Load(custom); ok && c.perObject(o, cv) {
			v.passed.Store(key, struct{}{})
			return nil
		}
	}
	errs := withSource(source, c.object(o))
	if len(errs) == 0 {
		v.passed.Store(key, struct{}{})
		if shaped {
			v.shapes.Store(shape, struct{}{})
		}
		if customShaped {
			v.shapes.Store(custom, struct{}{})
		}
	}
	return errs
}

// Sorted returns the keys of every object that passed, sorted, for the
// build cache.
func (v *Verdicts) Sorted() [][32]byte {
	var now [][32]byte
	v.passed.Range(func(k, _ any) bool {
		now = append(now, k.([32]byte))
		return true
	})
	slices.SortFunc(now, compareKeys)
	// Both sorted, and apart (a seeded key is never checked again): merge.
	out := make([][32]byte, 0, len(v.seeded)+len(now))
	i, j := 0, 0
	for i < len(v.seeded) || j < len(now) {
		if j == len(now) || i < len(v.seeded) && compareKeys(v.seeded[i], now[j]) < 0 {
			out, i = append(out, v.seeded[i]), i+1
		} else {
			out, j = append(out, now[j]), j+1
		}
	}
	return out
}

// Object validates one object against its API definition; remembering
// verdicts is the caller's (Verdicts).
func (c *Checker) Object(source string, doc map[string]any) []error {
	o, perr := objectOf(doc)
	if perr != nil {
		return withSource(source, []*Error{perr})
	}
	return withSource(source, c.object(o))
}

// withSource sets found's source, as errors.
func withSource(source string, found []*Error) []error {
	var errs []error
	for _, e := range found {
		e.Source = source
		errs = append(errs, e)
	}
	return errs
}

// problems collects the errors found in one object.
type problems struct {
	obj  *object
	errs []*Error
}

func (p *problems) add(fieldPath, reason string) {
	p.errs = append(p.errs, &Error{
		Kind: p.obj.kind, Namespace: p.obj.namespace, Name: p.obj.name,
		Field: fieldPath, Reason: reason,
	})
}

func (p *problems) addf(fieldPath, format string, args ...any) {
	p.add(fieldPath, fmt.Sprintf(format, args...))
}

// addFieldErrors adds apimachinery field errors; prefix is prepended to their paths.
func (p *problems) addFieldErrors(prefix string, list field.ErrorList) {
	for _, fe := range list {
		p.add(joinPath(prefix, fe.Field), fe.ErrorBody())
	}
}

// joinPath joins two field paths ("spec" + "values.x", "spec" + "[0].x").
func joinPath(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "" || b == "<nil>":
		return a
	case strings.HasPrefix(b, "["):
		return a + b
	default:
		return a + "." + b
	}
}
