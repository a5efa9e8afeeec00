package main

import (
	"bytes"

	"sigs.k8s.io/kustomize/api/builtins"
	"sigs.k8s.io/kustomize/api/provider"
	"sigs.k8s.io/kustomize/api/resmap"
	kustypes "sigs.k8s.io/kustomize/api/types"
)

// fluxGroup is helm-controller's API group, the prefix of its origin labels.
const fluxGroup = "helm.toolkit.fluxcd.io"

// originLabels is the post-renderer helm-controller always runs (v1.4,
// internal/postrender: OriginLabels): the rendered manifests are read into
// a kustomize resource map, labelled with the HelmRelease's name and
// namespace, and written out again. The round trip is what rejects a
// document kustomize cannot read, such as one with a mapping key twice.
type originLabels struct {
	name, namespace string
}

func (p originLabels) Run(rendered *bytes.Buffer) (*bytes.Buffer, error) {
	resMap, err := resmap.NewFactory(provider.NewDefaultDepProvider().GetResourceFactory()).
		NewResMapFromBytes(rendered.Bytes())
	if err != nil {
		return nil, err
	}
	labels := &builtins.LabelTransformerPlugin{
		Labels: map[string]string{
			fluxGroup + "/name":      p.name,
			fluxGroup + "/namespace": p.namespace,
		},
		FieldSpecs: []kustypes.FieldSpec{{Path: "metadata/labels", CreateIfNotPresent: true}},
	}
	if err := labels.Transform(resMap); err != nil {
		return nil, err
	}
	out, err := resMap.AsYaml()
	if err != nil {
		return nil, err
	}
	return bytes.NewBuffer(out), nil
}
