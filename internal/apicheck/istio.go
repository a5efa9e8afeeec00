package apicheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/golang/protobuf/jsonpb" //nolint:staticcheck // istio.io/api's operator types implement jsonpb's interfaces
	protov1 "github.com/golang/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	meshv1alpha1 "istio.io/api/mesh/v1alpha1"
	operatorv1alpha1 "istio.io/api/operator/v1alpha1"
)

// protoChecker validates JSON against the protobuf messages of istio.io/api
// (the module version in go.mod; see README.md).
type protoChecker struct {
	meshConfig   protoreflect.MessageDescriptor
	operatorSpec protoreflect.MessageDescriptor
}

func newProtoChecker() *protoChecker {
	return &protoChecker{
		meshConfig:   (&meshv1alpha1.MeshConfig{}).ProtoReflect().Descriptor(),
		operatorSpec: (&operatorv1alpha1.IstioOperatorSpec{}).ProtoReflect().Descriptor(),
	}
}

// freeMessages hold any JSON value; scalarMessages are messages written as a
// JSON scalar (jsonpb checks them).
var (
	freeMessages = map[protoreflect.FullName]bool{
		"google.protobuf.Struct": true, "google.protobuf.Value": true, "google.protobuf.ListValue": true,
		"google.protobuf.Any": true,
	}
	scalarMessages = map[protoreflect.FullName]bool{
		"google.protobuf.Duration": true, "google.protobuf.Timestamp": true, "google.protobuf.FieldMask": true,
		"google.protobuf.BoolValue": true, "google.protobuf.StringValue": true, "google.protobuf.BytesValue": true,
		"google.protobuf.Int32Value": true, "google.protobuf.Int64Value": true, "google.protobuf.UInt32Value": true,
		"google.protobuf.UInt64Value": true, "google.protobuf.FloatValue": true, "google.protobuf.DoubleValue": true,
		"istio.operator.v1alpha1.IntOrString": true,
	}
)

// checkMeshConfig validates a meshConfig value (Helm values or an
// IstioOperator) against istio.mesh.v1alpha1.MeshConfig.
func (pc *protoChecker) checkMeshConfig(p *problems, at string, v any) {
	if v == nil {
		return
	}
	pc.checkMessage(p, at, v, pc.meshConfig, func() protov1.Message { return &meshv1alpha1.MeshConfig{} })
}

// checkMessage reports the unknown fields of v with their paths, then, if
// there are none, decodes v strictly with jsonpb (as istioctl and istiod do)
// to catch values of the wrong type or enum.
func (pc *protoChecker) checkMessage(p *problems, at string, v any, md protoreflect.MessageDescriptor, newMsg func() protov1.Message) {
	n := len(p.errs)
	walkProto(p, at, v, md)
	if len(p.errs) > n {
		return
	}
	js, err := json.Marshal(v)
	if err != nil {
		p.add(at, err.Error())
		return
	}
	if err := (&jsonpb.Unmarshaler{}).Unmarshal(bytes.NewReader(js), newMsg()); err != nil {
		p.addf(at, "Invalid value: %v (as %s)", err, md.FullName())
	}
}

// walkProto reports the keys of v that are not fields of md, recursively.
// Like protojson it accepts a field's JSON name and its proto name.
func walkProto(p *problems, at string, v any, md protoreflect.MessageDescriptor) {
	if v == nil || freeMessages[md.FullName()] {
		return
	}
	if scalarMessages[md.FullName()] {
		checkScalarMessage(p, at, v, md)
		return
	}
	m, ok := v.(map[string]any)
	if !ok {
		p.addf(at, "Invalid value: must be an object (%s), not %s", md.FullName(), describe(v))
		return
	}
	fields := md.Fields()
	for _, key := range sortedMapKeys(m) {
		fp := joinPath(at, key)
		fd := fields.ByJSONName(key)
		if fd == nil {
			fd = fields.ByName(protoreflect.Name(key))
		}
		if fd == nil {
			var names []string
			for i := 0; i < fields.Len(); i++ {
				names = append(names, fields.Get(i).JSONName())
			}
			p.add(fp, unknownField(key, names)+fmt.Sprintf(" (not a field of %s)", md.FullName()))
			continue
		}
		val := m[key]
		switch {
		case val == nil:
		case fd.IsMap():
			mm, ok := val.(map[string]any)
			if !ok {
				p.addf(fp, "Invalid value: must be a map, not %s", describe(val))
				continue
			}
			for _, k := range sortedMapKeys(mm) {
				walkProtoValue(p, joinPath(fp, k), mm[k], fd.MapValue())
			}
		case fd.IsList():
			list, ok := val.([]any)
			if !ok {
				p.addf(fp, "Invalid value: must be a list, not %s", describe(val))
				continue
			}
			for i, item := range list {
				walkProtoValue(p, fmt.Sprintf("%s[%d]", fp, i), item, fd)
			}
		default:
			walkProtoValue(p, fp, val, fd)
		}
	}
}

// walkProtoValue checks one value (a singular field, a list item or a map
// value) of the field fd.
func walkProtoValue(p *problems, at string, v any, fd protoreflect.FieldDescriptor) {
	if v == nil {
		return
	}
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		walkProto(p, at, v, fd.Message())
	case protoreflect.BoolKind:
		if _, ok := v.(bool); !ok {
			p.addf(at, "Invalid value: must be a boolean, not %s", describe(v))
		}
	case protoreflect.StringKind, protoreflect.BytesKind:
		if _, ok := v.(string); !ok {
			p.addf(at, "Invalid value: must be a string, not %s", describe(v))
		}
	case protoreflect.EnumKind:
		switch e := v.(type) {
		case string:
			values := fd.Enum().Values()
			if values.ByName(protoreflect.Name(e)) == nil {
				names := make([]string, values.Len())
				for i := range names {
					names[i] = strconv.Quote(string(values.Get(i).Name()))
				}
				p.addf(at, "Unsupported value: %q: supported values: %s", e, strings.Join(names, ", "))
			}
		case int64:
		default:
			p.addf(at, "Invalid value: must be one of the names of %s, not %s", fd.Enum().FullName(), describe(v))
		}
	default: // numbers; protojson also takes them quoted
		switch n := v.(type) {
		case int64, float64:
		case string:
			if _, err := strconv.ParseFloat(n, 64); err != nil && n != "NaN" && n != "Infinity" && n != "-Infinity" {
				p.addf(at, "Invalid value: %q: must be a number", n)
			}
		default:
			p.addf(at, "Invalid value: must be a number, not %s", describe(v))
		}
	}
}

// iopTopLevel are the fields of an IstioOperator object.
var iopTopLevel = []string{"apiVersion", "kind", "metadata", "spec", "status"}

// checkIstioOperator validates an install.istio.io/v1alpha1 IstioOperator:
// its spec against IstioOperatorSpec (istio.io/api operator/v1alpha1),
// spec.meshConfig and spec.values.meshConfig against MeshConfig, and
// spec.values against the values of the charts istioctl installs from.
func (c *Checker) checkIstioOperator(p *problems) {
	o := p.obj
	if o.gvk.Version != "v1alpha1" {
		p.addf("apiVersion", "Unsupported value: %q: supported values: \"install.istio.io/v1alpha1\"", o.apiVersion)
		return
	}
	for _, k := range sortedMapKeys(o.m) {
		if !slices.Contains(iopTopLevel, k) {
			p.add(k, unknownField(k, iopTopLevel))
		}
	}
	checkObjectMeta(p, true)
	spec, ok := o.m["spec"]
	if !ok || spec == nil {
		return
	}
	specMap, ok := spec.(map[string]any)
	if !ok {
		p.addf("spec", "Invalid value: must be an object, not %s", describe(spec))
		return
	}
	c.protos.checkMessage(p, "spec", specMap, c.protos.operatorSpec, func() protov1.Message { return &operatorv1alpha1.IstioOperatorSpec{} })
	c.protos.checkMeshConfig(p, "spec.meshConfig", specMap["meshConfig"])
	if values, ok := specMap["values"].(map[string]any); ok {
		// The tag, when it is an Istio version, tells which charts istioctl renders.
		tag, _ := specMap["tag"].(string)
		c.chartsFor(tag).operator.check(p, c.protos, "spec.values", values)
	}
}

// checkScalarMessage checks the JSON type of a message written as a scalar.
func checkScalarMessage(p *problems, at string, v any, md protoreflect.MessageDescriptor) {
	switch md.FullName() {
	case "google.protobuf.BoolValue":
		if _, ok := v.(bool); !ok {
			p.addf(at, "Invalid value: must be a boolean, not %s", describe(v))
		}
	case "google.protobuf.StringValue", "google.protobuf.BytesValue", "google.protobuf.Duration",
		"google.protobuf.Timestamp", "google.protobuf.FieldMask":
		if _, ok := v.(string); !ok {
			p.addf(at, "Invalid value: must be a string, not %s", describe(v))
		}
	case "istio.operator.v1alpha1.IntOrString":
		switch v.(type) {
		case string, int64:
		default:
			p.addf(at, "Invalid value: must be an integer or a string, not %s", describe(v))
		}
	default: // the numeric wrappers
		switch n := v.(type) {
		case int64, float64:
		case string:
			if _, err := strconv.ParseFloat(n, 64); err != nil {
				p.addf(at, "Invalid value: %q: must be a number", n)
			}
		default:
			p.addf(at, "Invalid value: must be a number, not %s", describe(v))
		}
	}
}
