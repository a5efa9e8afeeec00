package main

import (
	"encoding/json"
	"fmt"
	"strconv"

	"sigs.k8s.io/yaml"
)

// rendering is one release rendered: the objects Helm would apply, with
// lookups of the objects Istio's charts name after the release.
type rendering struct {
	release
	objects []object
}

// rev is the istiod revision the release is for ("" for none).
func (x *rendering) rev() string { return str(x.values, "revision") }

// istiodName is istiod's Deployment, Service and HPA name for the revision.
func (x *rendering) istiodName() string { return suffixed("istiod", x.rev()) }

func suffixed(base, rev string) string {
	if rev == "" || rev == "default" {
		return base
	}
	return base + "-" + rev
}

// gatewayName is the gateway chart's name for its objects: values.name or
// the release name.
func (x *rendering) gatewayName() string {
	if n := str(x.values, "name"); n != "" {
		return n
	}
	return x.name
}

// get is the rendered object of that kind and name, or an error saying it
// is missing.
func (x *rendering) get(k, n string) (object, error) {
	if o := find(x.objects, k, n); o != nil {
		return o, nil
	}
	return nil, fmt.Errorf("the chart rendered no %s %s", k, n)
}

// meshConfig is the mesh config istiod reads: the `mesh` key of the
// istio-<rev> ConfigMap.
func (x *rendering) meshConfig() (map[string]any, error) {
	return x.embedded("ConfigMap", suffixed("istio", x.rev()), "mesh")
}

// injectorValues are the values the sidecar injector templates see: the
// `values` key of the istio-sidecar-injector-<rev> ConfigMap (JSON).
func (x *rendering) injectorValues() (map[string]any, error) {
	return x.embedded("ConfigMap", suffixed("istio-sidecar-injector", x.rev()), "values")
}

func (x *rendering) embedded(k, n, key string) (map[string]any, error) {
	cm, err := x.get(k, n)
	if err != nil {
		return nil, err
	}
	text := str(cm, "data", key)
	var v map[string]any
	if err := yaml.Unmarshal([]byte(text), &v); err != nil {
		return nil, fmt.Errorf("%s %s data.%s is not YAML: %w", k, n, key, err)
	}
	return v, nil
}

// container is a container of a Deployment's pod template.
func (x *rendering) container(deployment, container string) (object, error) {
	d, err := x.get("Deployment", deployment)
	if err != nil {
		return nil, err
	}
	cs, _ := field(d, "spec", "template", "spec", "containers").([]any)
	for _, c := range cs {
		if str(c, "name") == container {
			return c.(map[string]any), nil
		}
	}
	return nil, fmt.Errorf("Deployment %s has no container %s", deployment, container)
}

// env is a container's environment variable (ok false when unset).
func env(c object, n string) (string, bool) {
	vars, _ := field(c, "env").([]any)
	for _, v := range vars {
		if str(v, "name") == n {
			return fmt.Sprint(field(v, "value")), true
		}
	}
	return "", false
}

// replicas is how many pods a workload runs at least: its HPA's
// minReplicas when it has one, else the Deployment's replicas (1 unset).
func (x *rendering) replicas(n string) (int, string) {
	if h := find(x.objects, "HorizontalPodAutoscaler", n); h != nil {
		v, _ := strconv.Atoi(fmt.Sprint(field(h, "spec", "minReplicas")))
		if field(h, "spec", "minReplicas") == nil {
			v = 1
		}
		return v, "HorizontalPodAutoscaler " + n + " spec.minReplicas"
	}
	d := find(x.objects, "Deployment", n)
	if r := field(d, "spec", "replicas"); r != nil {
		v, _ := strconv.Atoi(fmt.Sprint(r))
		return v, "Deployment " + n + " spec.replicas"
	}
	return 1, "Deployment " + n + " (no replicas, no HPA: 1)"
}

// manifest is the objects as one YAML stream, for the API server.
func (x *rendering) manifest() ([]byte, error) {
	var out []byte
	for _, o := range x.objects {
		b, err := json.Marshal(o)
		if err != nil {
			return nil, err
		}
		y, err := yaml.JSONToYAML(b)
		if err != nil {
			return nil, err
		}
		out = append(out, "---\n"...)
		out = append(out, y...)
	}
	return out, nil
}
