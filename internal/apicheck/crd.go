package apicheck

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// crdFiles lists the embedded CRD files, in order of precedence: a kind
// version found in an earlier file is validated against that file's schema.
// Istio 1.21 comes first because the example mesh runs it; Istio 1.22 only
// adds the apiVersions that 1.21 does not serve (PeerAuthentication
// security.istio.io/v1, networking.istio.io/v1, telemetry.istio.io/v1, ...;
// 1.21 serves AuthorizationPolicy and RequestAuthentication v1 already).
var crdFiles = []string{
	"schemas/istio.io/api@v1.21.6/kubernetes/customresourcedefinitions.gen.yaml",
	"schemas/istio.io/api@v1.22.5/kubernetes/customresourcedefinitions.gen.yaml",
	"schemas/github.com/fluxcd/source-controller@v1.9.6/config/crd/bases/source.toolkit.fluxcd.io_gitrepositories.yaml",
	"schemas/github.com/fluxcd/source-controller@v1.9.6/config/crd/bases/source.toolkit.fluxcd.io_helmrepositories.yaml",
	"schemas/github.com/fluxcd/source-controller@v1.9.6/config/crd/bases/source.toolkit.fluxcd.io_ocirepositories.yaml",
	"schemas/github.com/fluxcd/source-controller@v1.9.6/config/crd/bases/source.toolkit.fluxcd.io_helmcharts.yaml",
	"schemas/github.com/fluxcd/kustomize-controller@v1.9.6/config/crd/bases/kustomize.toolkit.fluxcd.io_kustomizations.yaml",
	"schemas/github.com/fluxcd/helm-controller@v1.6.0/config/crd/bases/helm.toolkit.fluxcd.io_helmreleases.yaml",
	"schemas/github.com/argoproj/argo-cd/v3@v3.5.7/manifests/crds/application-crd.yaml",
	"schemas/github.com/argoproj/argo-cd/v3@v3.5.7/manifests/crds/appproject-crd.yaml",
	"schemas/github.com/argoproj/argo-cd/v3@v3.5.7/manifests/crds/applicationset-crd.yaml",
}

// crdVersion is one served version of one CRD. Its validators are built on
// first use (sync.Once), so that New stays cheap.
type crdVersion struct {
	gvk        gvk
	source     string // module@version the CRD came from, for messages
	namespaced bool
	schema     *apiextensionsv1.JSONSchemaProps

	once       sync.Once
	structural *structuralschema.Structural
	validator  apiservervalidation.SchemaValidator
	cel        *cel.Validator
	// byShape: the kind's objects may be decided by shape (crdshape.go).
	byShape bool
	err     error
}

// crdFile is one embedded CRD file, parsed on first use of one of its API
// groups (parsing all of them takes most of New's time otherwise).
type crdFile struct {
	path     string
	groups   map[string]bool
	once     sync.Once
	versions map[gvk]*crdVersion
	err      error
}

// crdIndex finds the CRD version of a kind among the embedded files.
type crdIndex struct {
	files []*crdFile // in the order of crdFiles
}

var groupRE = regexp.MustCompile(`(?m)^  group: ['"]?([^'"\s]+)`)

// loadCRDs indexes the embedded CRD files by the API groups they define.
func loadCRDs() (*crdIndex, error) {
	ix := &crdIndex{}
	for _, file := range crdFiles {
		data, err := fs.ReadFile(schemaFS, file)
		if err != nil {
			return nil, err
		}
		f := &crdFile{path: file, groups: map[string]bool{}}
		for _, m := range groupRE.FindAllSubmatch(data, -1) {
			f.groups[string(m[1])] = true
		}
		if len(f.groups) == 0 {
			return nil, fmt.Errorf("%s: no CustomResourceDefinition found", file)
		}
		ix.files = append(ix.files, f)
	}
	return ix, nil
}

// lookup returns the definition of k (nil if none), from the first file
// that serves it.
func (ix *crdIndex) lookup(k gvk) (*crdVersion, error) {
	for _, f := range ix.files {
		if !f.groups[k.Group] {
			continue
		}
		if err := f.load(); err != nil {
			return nil, err
		}
		if v := f.versions[k]; v != nil {
			return v, nil
		}
	}
	return nil, nil
}

// kinds lists every kind version the files define, for messages.
func (ix *crdIndex) kinds() []gvk {
	var out []gvk
	for _, f := range ix.files {
		if f.load() == nil {
			for k := range f.versions {
				out = append(out, k)
			}
		}
	}
	return out
}

// load parses the file's CRDs and indexes their served versions.
func (f *crdFile) load() error {
	f.once.Do(func() {
		data, err := fs.ReadFile(schemaFS, f.path)
		if err != nil {
			f.err = err
			return
		}
		f.versions = map[gvk]*crdVersion{}
		source := moduleOf(f.path)
		for _, d := range splitDocuments(data) {
			if len(strings.TrimSpace(string(stripComments(d.data)))) == 0 {
				continue
			}
			var crd apiextensionsv1.CustomResourceDefinition
			if err := yaml.Unmarshal(d.data, &crd); err != nil {
				f.err = fmt.Errorf("%s:%d: %w", f.path, d.line, err)
				return
			}
			if crd.Kind != "CustomResourceDefinition" {
				continue
			}
			for i := range crd.Spec.Versions {
				v := &crd.Spec.Versions[i]
				k := gvk{Group: crd.Spec.Group, Version: v.Name, Kind: crd.Spec.Names.Kind}
				if !v.Served {
					continue
				}
				if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
					f.err = fmt.Errorf("%s: %s has no schema", f.path, k)
					return
				}
				f.versions[k] = &crdVersion{
					gvk: k, source: source, namespaced: crd.Spec.Scope == apiextensionsv1.NamespaceScoped,
					schema: v.Schema.OpenAPIV3Schema,
				}
			}
		}
	})
	if f.err != nil {
		return fmt.Errorf("the embedded CRDs do not load: %w", f.err)
	}
	return nil
}

// moduleOf returns the module@version part of an embedded file's path.
func moduleOf(file string) string {
	parts := strings.Split(strings.TrimPrefix(file, "schemas/"), "/")
	for i, p := range parts {
		if strings.Contains(p, "@") {
			return path.Join(parts[:i+1]...)
		}
	}
	return file
}

// build compiles the version's schema as the API server does.
func (v *crdVersion) build() error {
	v.once.Do(func() {
		var internal apiextensions.JSONSchemaProps
		if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v.schema, &internal, nil); err != nil {
			v.err = err
			return
		}
		if v.structural, v.err = structuralschema.NewStructural(&internal); v.err != nil {
			return
		}
		if v.validator, _, v.err = apiservervalidation.NewSchemaValidator(&internal); v.err != nil {
			return
		}
		v.cel = cel.NewValidator(v.structural, true, celconfig.PerCallLimit)
		v.byShape = shapeEligible(v.structural)
	})
	if v.err != nil {
		return fmt.Errorf("the embedded schema of %s (%s) does not compile: %w", v.gvk, v.source, v.err)
	}
	return nil
}

// checkCustom validates a custom resource against its CRD version, like the
// API server's create path: metadata, pruning (unknown fields), OpenAPI
// schema, list types and CEL rules; then the Helm values it carries.
func (c *Checker) checkCustom(p *problems, v *crdVersion) {
	if err := v.build(); err != nil {
		p.add("", err.Error())
		return
	}
	o := p.obj
	checkObjectMeta(p, v.namespaced)

	obj := runtime.DeepCopyJSON(o.m)
	for _, unknown := range pruning.PruneWithOptions(obj, v.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true}) {
		parent, name := splitFieldPath(unknown)
		p.add(unknown, unknownField(name, propertiesAt(v.structural, parent)))
	}
	// The API server validates what pruning kept; so do we, so that one
	// misspelled field gives one error.
	var errs field.ErrorList
	errs = append(errs, apiservervalidation.ValidateCustomResource(nil, obj, v.validator)...)
	errs = append(errs, schemaobjectmeta.Validate(nil, obj, v.structural, false)...)
	errs = append(errs, listtype.ValidateListSetsAndMaps(nil, v.structural, obj)...)
	if v.cel != nil && !hasBlockingErrors(errs) {
		celErrs, _ := v.cel.Validate(context.Background(), nil, v.structural, obj, nil, celconfig.RuntimeCELCostBudget)
		errs = append(errs, celErrs...)
	}
	p.addFieldErrors("", errs)
	c.checkValuesOf(p)
}

// checkValuesOf checks the Helm values a custom resource carries.
func (c *Checker) checkValuesOf(p *problems) {
	o := p.obj
	switch {
	case o.gvk.Group == "helm.toolkit.fluxcd.io" && o.kind == "HelmRelease":
		c.checkHelmRelease(p)
	case o.gvk.Group == "argoproj.io" && o.kind == "Application":
		c.checkArgoApplication(p)
	}
}

// customShape returns the shape key of the custom resource o and its
// definition; false when o is not a custom resource of a kind decided by
// shape, or its shape cannot be told (crdshape.go).
func (c *Checker) customShape(o *object) (key [32]byte, v *crdVersion, ok bool) {
	if o.gvk.Kind == "" || o.gvk.Group == "install.istio.io" && o.gvk.Kind == "IstioOperator" || c.builtins.knows(o.gvk) {
		return key, nil, false
	}
	v, err := c.crds().lookup(o.gvk)
	if err != nil || v == nil || v.build() != nil || !v.byShape {
		return key, nil, false
	}
	key, ok = crdShape(o.m, v.structural)
	return key, v, ok
}

// byShapeKind reports whether doc, as meshc built it, is of a custom kind
// whose objects are decided by shape (customShape), from its apiVersion
// and kind alone.
func (c *Checker) byShapeKind(doc map[string]any) bool {
	apiVersion, _ := doc["apiVersion"].(string)
	kind, _ := doc["kind"].(string)
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil || kind == "" {
		return false
	}
	k := gv.WithKind(kind)
	if k.Group == "install.istio.io" && k.Kind == "IstioOperator" || c.builtins.knows(k) {
		return false
	}
	v, err := c.crds().lookup(k)
	return err == nil && v != nil && v.build() == nil && v.byShape
}

// perObject runs the parts of checkCustom that a shape leaves out: the
// metadata and the Helm values. true when they find nothing.
func (c *Checker) perObject(o *object, v *crdVersion) bool {
	p := &problems{obj: o}
	checkObjectMeta(p, v.namespaced)
	if len(p.errs) == 0 {
		c.checkValuesOf(p)
	}
	return len(p.errs) == 0
}

// hasBlockingErrors tells errors after which the API server does not run
// the CEL rules (k8s.io/apiextensions-apiserver pkg/registry/customresource).
func hasBlockingErrors(errs field.ErrorList) bool {
	for _, e := range errs {
		switch e.Type {
		case field.ErrorTypeNotSupported, field.ErrorTypeRequired, field.ErrorTypeTooLong,
			field.ErrorTypeTooMany, field.ErrorTypeTypeInvalid:
			return true
		}
	}
	return false
}

// checkObjectMeta decodes metadata strictly into ObjectMeta (an unknown
// field such as metadata.lables is an error, as with built-in kinds) and
// validates it as the API server validates a custom resource's metadata.
func checkObjectMeta(p *problems, namespaced bool) {
	raw, ok := p.obj.m["metadata"]
	if !ok {
		p.add("metadata.name", "Required value: name or generateName is required")
		return
	}
	js, err := jsonMarshal(raw)
	if err != nil {
		p.add("metadata", err.Error())
		return
	}
	var om metav1.ObjectMeta
	strictErrs, err := sigsjson.UnmarshalStrict(js, &om)
	if err != nil {
		n := len(p.errs)
		reportUndecodable(p, metaType, raw, "metadata")
		if len(p.errs) == n {
			p.addf("metadata", "cannot be decoded as ObjectMeta: %v", err)
		}
		return
	}
	for _, se := range strictErrs {
		m := strictErrRE.FindStringSubmatch(se.Error())
		if m == nil {
			p.add("metadata", se.Error())
			continue
		}
		if m[1] == "duplicate" {
			p.add("metadata."+m[2], "duplicate field")
			continue
		}
		parts := strings.Split(indexRE.ReplaceAllString(m[2], ""), ".")
		p.add("metadata."+m[2], unknownField(parts[len(parts)-1], jsonFieldsAt(metaType, parts[:len(parts)-1])))
	}
	requiresNamespace := namespaced && om.Namespace != ""
	p.addFieldErrors("", apivalidation.ValidateObjectMeta(&om, requiresNamespace, apivalidation.NameIsDNSSubdomain, field.NewPath("metadata")))
}

var indexRE = regexp.MustCompile(`\[(\d+)\]`)

// splitFieldPath splits "spec.a[0].b" into its parent "spec.a[0]" and "b".
func splitFieldPath(p string) (parent, name string) {
	i := strings.LastIndexByte(p, '.')
	if i < 0 {
		return "", p
	}
	return p[:i], p[i+1:]
}

// propertiesAt lists the properties the schema allows at a field path, for suggestions.
func propertiesAt(s *structuralschema.Structural, fieldPath string) []string {
	if fieldPath != "" {
		for _, part := range strings.Split(indexRE.ReplaceAllString(fieldPath, ".[$1]"), ".") {
			if s == nil {
				return nil
			}
			if _, err := strconv.Atoi(strings.Trim(part, "[]")); err == nil && strings.HasPrefix(part, "[") {
				s = s.Items
				continue
			}
			if prop, ok := s.Properties[part]; ok {
				s = &prop
			} else if s.AdditionalProperties != nil {
				s = s.AdditionalProperties.Structural
			} else {
				return nil
			}
		}
	}
	if s == nil {
		return nil
	}
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
