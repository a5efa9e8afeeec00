package apicheck

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	sigsjson "sigs.k8s.io/json"
)

// builtinChecker validates the kinds that Kubernetes itself serves, with
// their k8s.io/api Go types.
type builtinChecker struct {
	scheme *runtime.Scheme
}

func newBuiltinChecker() *builtinChecker {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		admissionregistrationv1.AddToScheme, appsv1.AddToScheme, autoscalingv1.AddToScheme,
		autoscalingv2.AddToScheme, batchv1.AddToScheme, certificatesv1.AddToScheme,
		coordinationv1.AddToScheme, corev1.AddToScheme, discoveryv1.AddToScheme,
		networkingv1.AddToScheme, nodev1.AddToScheme, policyv1.AddToScheme, rbacv1.AddToScheme,
		schedulingv1.AddToScheme, storagev1.AddToScheme, apiextensionsv1.AddToScheme,
	} {
		if err := add(s); err != nil {
			panic(err) // the registrations are static: a failure is a programming error
		}
	}
	return &builtinChecker{scheme: s}
}

func (b *builtinChecker) knows(k gvk) bool {
	if !b.scheme.Recognizes(k) || notAnObject(k.Kind) {
		return false
	}
	_, isObj := b.newObject(k)
	return isObj
}

// notAnObject tells the option and list kinds that every group version
// registers from the objects one can create.
func notAnObject(kind string) bool {
	return strings.HasSuffix(kind, "List") || strings.HasSuffix(kind, "Options") ||
		kind == "WatchEvent" || kind == "Status" || kind == "APIGroup" || kind == "APIVersions" ||
		kind == "APIGroupList" || kind == "APIResourceList" || kind == "Table" || kind == "PartialObjectMetadata"
}

// kinds lists the object kinds known, for messages.
func (b *builtinChecker) kinds() []gvk {
	var out []gvk
	for k := range b.scheme.AllKnownTypes() {
		if !notAnObject(k.Kind) && k.Version != runtime.APIVersionInternal {
			out = append(out, k)
		}
	}
	return out
}

func (b *builtinChecker) newObject(k gvk) (runtime.Object, bool) {
	obj, err := b.scheme.New(k)
	if err != nil {
		return nil, false
	}
	_, err = meta.Accessor(obj)
	return obj, err == nil
}

// clusterScoped lists the built-in kinds that live outside namespaces.
var clusterScoped = map[schema.GroupKind]bool{
	{Kind: "Namespace"}: true, {Kind: "Node"}: true, {Kind: "PersistentVolume"}: true,
	{Kind: "ComponentStatus"}:                                                         true,
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}:                         true,
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding"}:                  true,
	{Group: "admissionregistration.k8s.io", Kind: "MutatingWebhookConfiguration"}:     true,
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingWebhookConfiguration"}:   true,
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingAdmissionPolicy"}:        true,
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingAdmissionPolicyBinding"}: true,
	{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}:                 true,
	{Group: "storage.k8s.io", Kind: "StorageClass"}:                                   true,
	{Group: "storage.k8s.io", Kind: "CSIDriver"}:                                      true,
	{Group: "storage.k8s.io", Kind: "CSINode"}:                                        true,
	{Group: "storage.k8s.io", Kind: "VolumeAttachment"}:                               true,
	{Group: "scheduling.k8s.io", Kind: "PriorityClass"}:                               true,
	{Group: "networking.k8s.io", Kind: "IngressClass"}:                                true,
	{Group: "node.k8s.io", Kind: "RuntimeClass"}:                                      true,
	{Group: "certificates.k8s.io", Kind: "CertificateSigningRequest"}:                 true,
}

// nameRule is how the API server validates the metadata.name of a kind
// (k8s.io/kubernetes pkg/apis/*/validation); DNS-1123 subdomain unless listed.
func nameRule(gk schema.GroupKind) apivalidation.ValidateNameFunc {
	switch {
	case gk == schema.GroupKind{Kind: "Namespace"}:
		return apivalidation.NameIsDNSLabel
	case gk == schema.GroupKind{Kind: "Service"}:
		return apivalidation.NameIsDNS1035Label
	case gk.Group == "rbac.authorization.k8s.io":
		return path.ValidatePathSegmentName
	default:
		return apivalidation.NameIsDNSSubdomain
	}
}

var strictErrRE = regexp.MustCompile(`^(?:json: )?(unknown|duplicate) field "(.*)"$`)

// check decodes the object strictly into its Go type and validates it.
func (b *builtinChecker) check(p *problems) {
	o := p.obj
	obj, _ := b.newObject(o.gvk)
	strictErrs, err := sigsjson.UnmarshalStrict(o.json, obj)
	if err != nil {
		// A value that does not decode (a malformed quantity, a string for a
		// number) stops the decoder; find where it is.
		n := len(p.errs)
		reportUndecodable(p, reflect.TypeOf(obj), o.m, "")
		if len(p.errs) > n {
			return
		}
		p.addf("", "cannot be decoded as %s %s: %v", o.gvk.GroupVersion(), o.kind, err)
		return
	}
	for _, se := range strictErrs {
		reportStrictError(p, reflect.TypeOf(obj), se)
	}
	gk := o.gvk.GroupKind()
	accessor, _ := meta.Accessor(obj)
	requiresNamespace := !clusterScoped[gk] && accessor.GetNamespace() != ""
	p.addFieldErrors("", apivalidation.ValidateObjectMetaAccessor(accessor, requiresNamespace, nameRule(gk), field.NewPath("metadata")))
	switch obj := obj.(type) {
	case *corev1.Service:
		p.addFieldErrors("", validateService(obj))
	case *corev1.ResourceQuota:
		p.addFieldErrors("", validateResourceQuota(obj))
	case *corev1.LimitRange:
		p.addFieldErrors("", validateLimitRange(obj))
	case *admissionregistrationv1.MutatingWebhookConfiguration:
		p.addFieldErrors("", validateMutatingWebhooks(obj))
	case *admissionregistrationv1.ValidatingWebhookConfiguration:
		p.addFieldErrors("", validateValidatingWebhooks(obj))
	}
}

// reportStrictError reports an unknown or duplicate field found by the
// strict decoder, with a suggestion taken from the Go type.
func reportStrictError(p *problems, t reflect.Type, err error) {
	m := strictErrRE.FindStringSubmatch(err.Error())
	if m == nil {
		p.add("", err.Error())
		return
	}
	fieldPath := m[2]
	if m[1] == "duplicate" {
		p.add(fieldPath, "duplicate field")
		return
	}
	parts := strings.Split(indexRE.ReplaceAllString(fieldPath, ""), ".")
	name := parts[len(parts)-1]
	p.add(fieldPath, unknownField(name, jsonFieldsAt(t, parts[:len(parts)-1])))
}

// jsonFieldsAt returns the JSON field names of the struct found by following
// the JSON field names in fieldPath from t (through pointers, slices and maps).
func jsonFieldsAt(t reflect.Type, fieldPath []string) []string {
	for {
		t = elemType(t)
		if len(fieldPath) == 0 {
			break
		}
		if t.Kind() == reflect.Map {
			t = t.Elem()
			fieldPath = fieldPath[1:]
			continue
		}
		if t.Kind() != reflect.Struct {
			return nil
		}
		f, ok := structFields(t)[fieldPath[0]]
		if !ok {
			return nil
		}
		t, fieldPath = f.Type, fieldPath[1:]
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var names []string
	for n := range structFields(t) {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// elemType follows pointers and slices to the element type.
func elemType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	return t
}

// structFields maps the JSON names of t's fields (inlined structs flattened) to the fields.
func structFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if f.Anonymous && (name == "" || strings.Contains(opts, "inline")) {
			for n, sf := range structFields(elemType(f.Type)) {
				out[n] = sf
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f
	}
	return out
}

var (
	quantityType    = reflect.TypeOf(resource.Quantity{})
	intOrStringType = reflect.TypeOf(intstr.IntOrString{})
	timeType        = reflect.TypeOf(metav1.Time{})
)

// reportUndecodable walks the decoded document along the Go type t and
// reports the values that the type cannot hold, with their paths.
func reportUndecodable(p *problems, t reflect.Type, v any, at string) {
	if v == nil {
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case quantityType:
		switch q := v.(type) {
		case string:
			if _, err := resource.ParseQuantity(q); err != nil {
				p.addf(at, "Invalid value: %q: %v", q, err)
			}
		case int64, float64:
		default:
			p.addf(at, "Invalid value: a quantity must be a string or a number, not %s", describe(v))
		}
		return
	case intOrStringType:
		switch v.(type) {
		case string, int64:
		default:
			p.addf(at, "Invalid value: must be an integer or a string, not %s", describe(v))
		}
		return
	case timeType:
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			p.addf(at, "Invalid value: must be an object, not %s", describe(v))
			return
		}
		fields := structFields(t)
		for k, fv := range m {
			if f, ok := fields[k]; ok {
				reportUndecodable(p, f.Type, fv, joinPath(at, k))
			}
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 { // []byte: base64 string
			return
		}
		l, ok := v.([]any)
		if !ok {
			p.addf(at, "Invalid value: must be a list, not %s", describe(v))
			return
		}
		for i, item := range l {
			reportUndecodable(p, t.Elem(), item, fmt.Sprintf("%s[%d]", at, i))
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			p.addf(at, "Invalid value: must be a map, not %s", describe(v))
			return
		}
		for k, mv := range m {
			reportUndecodable(p, t.Elem(), mv, joinPath(at, k))
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			p.addf(at, "Invalid value: must be a string, not %s", describe(v))
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			p.addf(at, "Invalid value: must be a boolean, not %s", describe(v))
		}
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint32, reflect.Uint64:
		if _, ok := v.(int64); !ok {
			p.addf(at, "Invalid value: must be an integer, not %s", describe(v))
		}
	case reflect.Float32, reflect.Float64:
		switch v.(type) {
		case int64, float64:
		default:
			p.addf(at, "Invalid value: must be a number, not %s", describe(v))
		}
	}
}

// validateService applies the API server's main Service rules.
func validateService(s *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	switch s.Spec.Type {
	case "", corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer:
	case corev1.ServiceTypeExternalName:
		for _, msg := range validation.IsDNS1123Subdomain(s.Spec.ExternalName) {
			errs = append(errs, field.Invalid(spec.Child("externalName"), s.Spec.ExternalName, msg))
		}
	default:
		errs = append(errs, field.NotSupported(spec.Child("type"), s.Spec.Type, []string{"ClusterIP", "NodePort", "LoadBalancer", "ExternalName"}))
	}
	if len(s.Spec.Ports) == 0 && s.Spec.Type != corev1.ServiceTypeExternalName && s.Spec.ClusterIP != corev1.ClusterIPNone {
		errs = append(errs, field.Required(spec.Child("ports"), ""))
	}
	names := map[string]bool{}
	for i, port := range s.Spec.Ports {
		pp := spec.Child("ports").Index(i)
		if port.Name == "" && len(s.Spec.Ports) > 1 {
			errs = append(errs, field.Required(pp.Child("name"), "a name is required when a Service has more than one port"))
		} else if port.Name != "" {
			for _, msg := range validation.IsDNS1123Label(port.Name) {
				errs = append(errs, field.Invalid(pp.Child("name"), port.Name, msg))
			}
			if names[port.Name] {
				errs = append(errs, field.Duplicate(pp.Child("name"), port.Name))
			}
			names[port.Name] = true
		}
		for _, msg := range validation.IsValidPortNum(int(port.Port)) {
			errs = append(errs, field.Invalid(pp.Child("port"), port.Port, msg))
		}
		switch port.Protocol {
		case "", corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
		default:
			errs = append(errs, field.NotSupported(pp.Child("protocol"), port.Protocol, []string{"TCP", "UDP", "SCTP"}))
		}
		if port.TargetPort.Type == intstr.String {
			for _, msg := range validation.IsValidPortName(port.TargetPort.StrVal) {
				errs = append(errs, field.Invalid(pp.Child("targetPort"), port.TargetPort.StrVal, msg))
			}
		} else if port.TargetPort.IntVal != 0 {
			for _, msg := range validation.IsValidPortNum(int(port.TargetPort.IntVal)) {
				errs = append(errs, field.Invalid(pp.Child("targetPort"), port.TargetPort.IntVal, msg))
			}
		}
		if port.NodePort != 0 {
			for _, msg := range validation.IsValidPortNum(int(port.NodePort)) {
				errs = append(errs, field.Invalid(pp.Child("nodePort"), port.NodePort, msg))
			}
		}
	}
	errs = append(errs, metav1validation.ValidateLabels(s.Spec.Selector, spec.Child("selector"))...)
	switch s.Spec.ExternalTrafficPolicy {
	case "", corev1.ServiceExternalTrafficPolicyCluster, corev1.ServiceExternalTrafficPolicyLocal:
	default:
		errs = append(errs, field.NotSupported(spec.Child("externalTrafficPolicy"), s.Spec.ExternalTrafficPolicy, []string{"Cluster", "Local"}))
	}
	return errs
}

// standardQuotaResources are the resource names a ResourceQuota may use
// without a domain prefix (k8s.io/kubernetes pkg/apis/core/helper).
var standardQuotaResources = map[string]bool{
	"pods": true, "services": true, "replicationcontrollers": true, "resourcequotas": true,
	"secrets": true, "configmaps": true, "persistentvolumeclaims": true,
	"services.nodeports": true, "services.loadbalancers": true,
	"cpu": true, "memory": true, "storage": true, "ephemeral-storage": true,
	"requests.cpu": true, "requests.memory": true, "requests.storage": true, "requests.ephemeral-storage": true,
	"limits.cpu": true, "limits.memory": true, "limits.ephemeral-storage": true,
}

// integerQuotaResources must be whole numbers.
var integerQuotaResources = map[string]bool{
	"pods": true, "services": true, "replicationcontrollers": true, "resourcequotas": true,
	"secrets": true, "configmaps": true, "persistentvolumeclaims": true,
	"services.nodeports": true, "services.loadbalancers": true,
}

func validateResourceQuota(q *corev1.ResourceQuota) field.ErrorList {
	var errs field.ErrorList
	hard := field.NewPath("spec", "hard")
	for _, name := range sortedKeys(q.Spec.Hard) {
		qty := q.Spec.Hard[name]
		fp := hard.Key(string(name))
		errs = append(errs, validateResourceName(string(name), fp)...)
		isStandard := standardQuotaResources[string(name)] ||
			strings.HasPrefix(string(name), "hugepages-") || strings.HasPrefix(string(name), "requests.hugepages-") ||
			strings.HasPrefix(string(name), "count/")
		if !strings.Contains(string(name), "/") && !isStandard {
			errs = append(errs, field.Invalid(fp, string(name), "must be a standard resource for quota"))
		}
		errs = append(errs, nonNegative(qty, fp)...)
		if (integerQuotaResources[string(name)] || strings.HasPrefix(string(name), "count/")) && qty.MilliValue()%1000 != 0 {
			errs = append(errs, field.Invalid(fp, qty.String(), "must be an integer"))
		}
	}
	return errs
}

func validateLimitRange(lr *corev1.LimitRange) field.ErrorList {
	var errs field.ErrorList
	for i, item := range lr.Spec.Limits {
		ip := field.NewPath("spec", "limits").Index(i)
		switch item.Type {
		case corev1.LimitTypePod, corev1.LimitTypeContainer, corev1.LimitTypePersistentVolumeClaim:
		case "":
			errs = append(errs, field.Required(ip.Child("type"), ""))
		default:
			errs = append(errs, field.NotSupported(ip.Child("type"), item.Type, []string{"Pod", "Container", "PersistentVolumeClaim"}))
		}
		lists := []struct {
			name string
			list corev1.ResourceList
		}{{"max", item.Max}, {"min", item.Min}, {"default", item.Default}, {"defaultRequest", item.DefaultRequest}, {"maxLimitRequestRatio", item.MaxLimitRequestRatio}}
		for _, l := range lists {
			for _, name := range sortedKeys(l.list) {
				fp := ip.Child(l.name).Key(string(name))
				errs = append(errs, validateResourceName(string(name), fp)...)
				errs = append(errs, nonNegative(l.list[name], fp)...)
			}
		}
		if item.Type == corev1.LimitTypePod && (len(item.Default) > 0 || len(item.DefaultRequest) > 0) {
			errs = append(errs, field.Forbidden(ip.Child("default"), "may not be set when type is Pod"))
		}
		// The order the API server enforces: min <= defaultRequest <= default <= max.
		chain := []struct {
			name string
			list corev1.ResourceList
		}{{"min", item.Min}, {"defaultRequest", item.DefaultRequest}, {"default", item.Default}, {"max", item.Max}}
		for a := 0; a < len(chain); a++ {
			for b := a + 1; b < len(chain); b++ {
				for _, name := range sortedKeys(chain[a].list) {
					lo := chain[a].list[name]
					hi, ok := chain[b].list[name]
					if ok && lo.Cmp(hi) > 0 {
						errs = append(errs, field.Invalid(ip.Child(chain[a].name).Key(string(name)), lo.String(),
							fmt.Sprintf("must be less than or equal to %s value %s", chain[b].name, hi.String())))
					}
				}
			}
		}
	}
	return errs
}

func validateResourceName(name string, fp *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(name) {
		errs = append(errs, field.Invalid(fp, name, msg))
	}
	return errs
}

func nonNegative(q resource.Quantity, fp *field.Path) field.ErrorList {
	if q.Sign() < 0 {
		return field.ErrorList{field.Invalid(fp, q.String(), "must be greater than or equal to 0")}
	}
	return nil
}

func sortedKeys(l corev1.ResourceList) []corev1.ResourceName {
	keys := make([]corev1.ResourceName, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}

// webhook is what mutating and validating webhooks share.
type webhook struct {
	name                    string
	clientConfig            admissionregistrationv1.WebhookClientConfig
	rules                   []admissionregistrationv1.RuleWithOperations
	failurePolicy           *admissionregistrationv1.FailurePolicyType
	matchPolicy             *admissionregistrationv1.MatchPolicyType
	namespaceSelector       *metav1.LabelSelector
	objectSelector          *metav1.LabelSelector
	sideEffects             *admissionregistrationv1.SideEffectClass
	timeoutSeconds          *int32
	admissionReviewVersions []string
}

func validateMutatingWebhooks(c *admissionregistrationv1.MutatingWebhookConfiguration) field.ErrorList {
	var errs field.ErrorList
	hooks := make([]webhook, len(c.Webhooks))
	for i, w := range c.Webhooks {
		hooks[i] = webhook{w.Name, w.ClientConfig, w.Rules, w.FailurePolicy, w.MatchPolicy, w.NamespaceSelector,
			w.ObjectSelector, w.SideEffects, w.TimeoutSeconds, w.AdmissionReviewVersions}
		if p := w.ReinvocationPolicy; p != nil && *p != admissionregistrationv1.NeverReinvocationPolicy && *p != admissionregistrationv1.IfNeededReinvocationPolicy {
			errs = append(errs, field.NotSupported(field.NewPath("webhooks").Index(i).Child("reinvocationPolicy"), *p, []string{"Never", "IfNeeded"}))
		}
	}
	return append(errs, validateWebhooks(hooks)...)
}

func validateValidatingWebhooks(c *admissionregistrationv1.ValidatingWebhookConfiguration) field.ErrorList {
	hooks := make([]webhook, len(c.Webhooks))
	for i, w := range c.Webhooks {
		hooks[i] = webhook{w.Name, w.ClientConfig, w.Rules, w.FailurePolicy, w.MatchPolicy, w.NamespaceSelector,
			w.ObjectSelector, w.SideEffects, w.TimeoutSeconds, w.AdmissionReviewVersions}
	}
	return validateWebhooks(hooks)
}

// validateWebhooks applies the API server's admissionregistration/v1 rules.
func validateWebhooks(hooks []webhook) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, w := range hooks {
		wp := field.NewPath("webhooks").Index(i)
		errs = append(errs, validation.IsFullyQualifiedName(wp.Child("name"), w.name)...)
		if seen[w.name] {
			errs = append(errs, field.Duplicate(wp.Child("name"), w.name))
		}
		seen[w.name] = true
		cc := wp.Child("clientConfig")
		switch {
		case w.clientConfig.URL == nil && w.clientConfig.Service == nil:
			errs = append(errs, field.Required(cc, "exactly one of url or service is required"))
		case w.clientConfig.URL != nil && w.clientConfig.Service != nil:
			errs = append(errs, field.Required(cc, "exactly one of url or service is required"))
		case w.clientConfig.URL != nil:
			if !strings.HasPrefix(*w.clientConfig.URL, "https://") {
				errs = append(errs, field.Invalid(cc.Child("url"), *w.clientConfig.URL, "'https' is the only allowed URL scheme"))
			}
		default:
			svc := w.clientConfig.Service
			if svc.Name == "" {
				errs = append(errs, field.Required(cc.Child("service", "name"), "service name is required"))
			}
			if svc.Namespace == "" {
				errs = append(errs, field.Required(cc.Child("service", "namespace"), "service namespace is required"))
			}
			if svc.Port != nil {
				for _, msg := range validation.IsValidPortNum(int(*svc.Port)) {
					errs = append(errs, field.Invalid(cc.Child("service", "port"), *svc.Port, msg))
				}
			}
		}
		for j, r := range w.rules {
			rp := wp.Child("rules").Index(j)
			if len(r.Operations) == 0 {
				errs = append(errs, field.Required(rp.Child("operations"), ""))
			}
			for k, op := range r.Operations {
				switch op {
				case admissionregistrationv1.OperationAll, admissionregistrationv1.Create, admissionregistrationv1.Update,
					admissionregistrationv1.Delete, admissionregistrationv1.Connect:
				default:
					errs = append(errs, field.NotSupported(rp.Child("operations").Index(k), op, []string{"*", "CREATE", "UPDATE", "DELETE", "CONNECT"}))
				}
			}
			if len(r.APIGroups) == 0 {
				errs = append(errs, field.Required(rp.Child("apiGroups"), ""))
			}
			if len(r.APIVersions) == 0 {
				errs = append(errs, field.Required(rp.Child("apiVersions"), ""))
			}
			if len(r.Resources) == 0 {
				errs = append(errs, field.Required(rp.Child("resources"), ""))
			}
			if r.Scope != nil {
				switch *r.Scope {
				case admissionregistrationv1.AllScopes, admissionregistrationv1.ClusterScope, admissionregistrationv1.NamespacedScope:
				default:
					errs = append(errs, field.NotSupported(rp.Child("scope"), *r.Scope, []string{"*", "Cluster", "Namespaced"}))
				}
			}
		}
		if p := w.failurePolicy; p != nil && *p != admissionregistrationv1.Ignore && *p != admissionregistrationv1.Fail {
			errs = append(errs, field.NotSupported(wp.Child("failurePolicy"), *p, []string{"Ignore", "Fail"}))
		}
		if p := w.matchPolicy; p != nil && *p != admissionregistrationv1.Exact && *p != admissionregistrationv1.Equivalent {
			errs = append(errs, field.NotSupported(wp.Child("matchPolicy"), *p, []string{"Exact", "Equivalent"}))
		}
		switch {
		case w.sideEffects == nil:
			errs = append(errs, field.Required(wp.Child("sideEffects"), "must specify one of None, NoneOnDryRun"))
		case *w.sideEffects != admissionregistrationv1.SideEffectClassNone && *w.sideEffects != admissionregistrationv1.SideEffectClassNoneOnDryRun:
			errs = append(errs, field.NotSupported(wp.Child("sideEffects"), *w.sideEffects, []string{"None", "NoneOnDryRun"}))
		}
		if t := w.timeoutSeconds; t != nil && (*t < 1 || *t > 30) {
			errs = append(errs, field.Invalid(wp.Child("timeoutSeconds"), *t, "the timeout value must be between 1 and 30 seconds"))
		}
		known := false
		for j, v := range w.admissionReviewVersions {
			if v == "v1" || v == "v1beta1" {
				known = true
			}
			for _, msg := range validation.IsDNS1035Label(v) {
				errs = append(errs, field.Invalid(wp.Child("admissionReviewVersions").Index(j), v, msg))
			}
		}
		if !known {
			errs = append(errs, field.Invalid(wp.Child("admissionReviewVersions"), w.admissionReviewVersions, "must include at least one of v1, v1beta1"))
		}
		opts := metav1validation.LabelSelectorValidationOptions{}
		if w.namespaceSelector != nil {
			errs = append(errs, metav1validation.ValidateLabelSelector(w.namespaceSelector, opts, wp.Child("namespaceSelector"))...)
		}
		if w.objectSelector != nil {
			errs = append(errs, metav1validation.ValidateLabelSelector(w.objectSelector, opts, wp.Child("objectSelector"))...)
		}
	}
	return errs
}
