package jsonschema_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	santhosh "github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/golemtrust/meshc/internal/build"
	"github.com/golemtrust/meshc/internal/emit"
	"github.com/golemtrust/meshc/internal/jsonschema"
)

const (
	repo      = "../.."
	clusters  = repo + "/clusters"
	schemaDir = repo + "/" + jsonschema.DefaultDir
)

// TestCommittedSchemaIsCurrent is the golden test of schema/: the
// committed files are exactly what the generator writes now, checked as
// meshc check does (emit.Check, index included). MESHC_UPDATE=1 (make
// golden) rewrites them instead.
func TestCommittedSchemaIsCurrent(t *testing.T) {
	files, err := jsonschema.Files()
	require.NoError(t, err)
	tree := &emit.Tree{Dir: schemaDir, Files: files}
	if os.Getenv("MESHC_UPDATE") != "" {
		require.NoError(t, emit.Write(tree))
		return
	}
	d, err := emit.Check(tree)
	require.NoError(t, err)
	assert.Empty(t, d, "schema/ is stale: run 'go run ./cmd/meshc schema' (or make golden) and read the diff")
}

// TestFilesAreStableJSON checks the form of the files: draft-07, valid
// JSON, sorted keys and two-space indentation (what encoding/json
// writes), one trailing newline.
func TestFilesAreStableJSON(t *testing.T) {
	files, err := jsonschema.Files()
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{jsonschema.MeshFile, jsonschema.ClusterFile}, keys(files))
	for name, data := range files {
		var doc map[string]any
		require.NoError(t, json.Unmarshal(data, &doc), name)
		assert.Equal(t, jsonschema.Draft, doc["$schema"], name)
		var again bytes.Buffer
		enc := json.NewEncoder(&again)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		var raw any
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		require.NoError(t, dec.Decode(&raw))
		require.NoError(t, enc.Encode(raw))
		assert.Equal(t, again.String(), string(data), "%s is in canonical form", name)
		assert.True(t, bytes.HasSuffix(data, []byte("}\n")), name)
		assert.NotContains(t, string(data), "$defs", "%s: draft-07 says definitions", name)
	}
}

// compiled compiles the generated schemas with an independent JSON Schema
// implementation (santhosh-tekuri/jsonschema, which also checks them
// against the draft-07 metaschema).
func compiled(t *testing.T) (mesh, cluster *santhosh.Schema) {
	t.Helper()
	files, err := jsonschema.Files()
	require.NoError(t, err)
	c := santhosh.NewCompiler()
	for _, name := range []string{jsonschema.MeshFile, jsonschema.ClusterFile} {
		doc, err := santhosh.UnmarshalJSON(bytes.NewReader(files[name]))
		require.NoError(t, err)
		require.NoError(t, c.AddResource("file:///schema/"+name, doc))
	}
	mesh, err = c.Compile("file:///schema/" + jsonschema.MeshFile)
	require.NoError(t, err)
	cluster, err = c.Compile("file:///schema/" + jsonschema.ClusterFile)
	require.NoError(t, err)
	return mesh, cluster
}

// instance turns a YAML or JSON document into what the validator takes.
func instance(t *testing.T, data []byte) any {
	t.Helper()
	js, err := yaml.YAMLToJSON(data)
	require.NoError(t, err)
	v, err := santhosh.UnmarshalJSON(bytes.NewReader(js))
	require.NoError(t, err)
	return v
}

// TestExamplesPass validates every example file in clusters/ against the
// generated schema: YAML and JSON files as they are, CUE files as the data
// they evaluate to.
func TestExamplesPass(t *testing.T) {
	mesh, cluster := compiled(t)
	entries, err := os.ReadDir(clusters)
	require.NoError(t, err)
	var n int
	for _, e := range entries {
		name := e.Name()
		ext := filepath.Ext(name)
		stem := strings.TrimSuffix(name, ext)
		data, err := os.ReadFile(filepath.Join(clusters, name))
		require.NoError(t, err)
		switch ext {
		case ".yaml", ".yml", ".json":
		case ".cue":
			v := cuecontext.New().CompileBytes(data, cue.Filename(filepath.Join("clusters", name)))
			require.NoError(t, v.Err(), name)
			data, err = v.MarshalJSON()
			require.NoError(t, err, name)
		default:
			continue
		}
		sch := cluster
		if stem == "mesh" {
			sch = mesh
		}
		n++
		t.Run(name, func(t *testing.T) {
			assert.NoError(t, sch.Validate(instance(t, data)))
		})
	}
	assert.GreaterOrEqual(t, n, 4, "the example mesh file and its clusters")
}

// TestExamplesCarryModeline checks that every example YAML file names its
// schema on its first line, for yaml-language-server.
func TestExamplesCarryModeline(t *testing.T) {
	for _, pattern := range []string{"*.yaml", "*.yml"} {
		names, err := filepath.Glob(filepath.Join(clusters, pattern))
		require.NoError(t, err)
		for _, p := range names {
			f, err := os.Open(p)
			require.NoError(t, err)
			first, _ := bufio.NewReader(f).ReadString('\n')
			f.Close()
			want := jsonschema.ClusterFile
			if strings.HasPrefix(filepath.Base(p), "mesh.") {
				want = jsonschema.MeshFile
			}
			assert.Equal(t, "# yaml-language-server: $schema=../schema/"+want+"\n", first, p)
		}
	}
}

// mutation is one edit of an example file, and what it does.
type mutation struct {
	name string
	file string // in clusters/
	edit func(doc map[string]any)
	// at is the instance location the schema reports ("" for the root);
	// empty ok means the schema, and meshc, accept the file.
	at string
	ok bool
	// msg is in the schema's message, when at cannot tell enough (a bad
	// map key is reported at the map's parent).
	msg string
}

func obj(doc map[string]any, path ...string) map[string]any {
	for _, p := range path {
		doc = doc[p].(map[string]any)
	}
	return doc
}

var mutations = []mutation{
	// Cluster files.
	{name: "unknown field mtsl", file: "genua.yaml", at: "", edit: func(d map[string]any) { d["mtsl"] = "STRICT" }},
	{name: "unknown field in a namespace", file: "genua.yaml", at: "/namespaces/royal-bank", edit: func(d map[string]any) {
		obj(d, "namespaces", "royal-bank")["injecton"] = "enabled"
	}},
	{name: "bad enum environment", file: "genua.yaml", at: "/environment", edit: func(d map[string]any) { d["environment"] = "prod" }},
	{name: "bad enum mtls", file: "genua.yaml", at: "/mtls", edit: func(d map[string]any) { d["mtls"] = "STRICTT" }},
	{name: "bad DNS name", file: "genua.yaml", at: "/network", edit: func(d map[string]any) { d["network"] = "Network_Genua" }},
	{name: "DNS name too long", file: "genua.yaml", at: "/network", edit: func(d map[string]any) { d["network"] = strings.Repeat("n", 64) }},
	{name: "bad quantity", file: "genua.yaml", at: "/namespaces/royal-bank/quota/requests/cpu", edit: func(d map[string]any) {
		obj(d, "namespaces", "royal-bank", "quota", "requests")["cpu"] = "4 cores"
	}},
	{name: "negative quantity", file: "genua.yaml", at: "/sidecar/limits/memory", edit: func(d map[string]any) {
		d["sidecar"] = map[string]any{"limits": map[string]any{"memory": -1}}
	}},
	{name: "missing required name", file: "genua.yaml", at: "", edit: func(d map[string]any) { delete(d, "name") }},
	{name: "missing required network", file: "genua.yaml", at: "", edit: func(d map[string]any) { delete(d, "network") }},
	{name: "missing required pods", file: "genua.yaml", at: "/namespaces/royal-bank/quota", edit: func(d map[string]any) {
		delete(obj(d, "namespaces", "royal-bank", "quota"), "pods")
	}},
	{name: "pods not a whole number", file: "genua.yaml", at: "/namespaces/royal-bank/quota/pods", edit: func(d map[string]any) {
		obj(d, "namespaces", "royal-bank", "quota")["pods"] = 2.5
	}},
	{name: "autoscale below 1", file: "genua.yaml", at: "/controlPlane/pilot/autoscale/min", edit: func(d map[string]any) {
		obj(d, "controlPlane")["pilot"] = map[string]any{"autoscale": map[string]any{"min": 0}}
	}},
	{name: "bad revision name", file: "genua.yaml", at: "/controlPlane/revision", edit: func(d map[string]any) { obj(d, "controlPlane")["revision"] = "1.21" }},
	{name: "server not https", file: "genua.yaml", at: "/server", edit: func(d map[string]any) { d["server"] = "http://genua.example" }},
	// Cluster files that need the mesh's defaults: the schema cannot see
	// them, so it requires nothing they can provide.
	{name: "environment from the mesh defaults", file: "genua.yaml", ok: true, edit: func(d map[string]any) { delete(d, "environment") }},
	{name: "revision from the mesh defaults", file: "ankh-morpork.yaml", ok: true, edit: func(d map[string]any) {
		delete(obj(d, "controlPlane"), "revision")
		delete(obj(d, "controlPlane"), "canary")
		delete(obj(d, "namespaces", "royal-bank"), "revision")
	}},
	// The mesh file.
	{name: "mesh unknown field", file: "mesh.yaml", at: "", edit: func(d map[string]any) { d["meshId"] = "x" }},
	{name: "mesh missing meshID", file: "mesh.yaml", at: "", edit: func(d map[string]any) { delete(d, "meshID") }},
	{name: "mesh bad version", file: "mesh.yaml", at: "/revisions/1-21", edit: func(d map[string]any) { obj(d, "revisions")["1-21"] = "1.21" }},
	{name: "mesh bad revision name", file: "mesh.yaml", at: "", msg: "invalid propertyName '1_22'", edit: func(d map[string]any) { obj(d, "revisions")["1_22"] = "1.22.0" }},
	{name: "mesh bad engine", file: "mesh.yaml", at: "/gitops/engine", edit: func(d map[string]any) { obj(d, "gitops")["engine"] = "fluxcd" }},
	{name: "mesh bad repo URL", file: "mesh.yaml", at: "/gitops/repoURL", edit: func(d map[string]any) { obj(d, "gitops")["repoURL"] = "git.example/mesh.git" }},
	{name: "mesh defaults hold a cluster's own field", file: "mesh.yaml", at: "/defaults", edit: func(d map[string]any) { obj(d, "defaults")["network"] = "network-all" }},
	{name: "mesh defaults bad quantity", file: "mesh.yaml", at: "/defaults/controlPlane/pilot/resources/limits/cpu", edit: func(d map[string]any) {
		obj(d, "defaults", "controlPlane", "pilot", "resources", "limits")["cpu"] = "two"
	}},
	{name: "mesh defaults unknown field", file: "mesh.yaml", at: "/defaults/controlPlane/pilot", edit: func(d map[string]any) {
		obj(d, "defaults", "controlPlane", "pilot")["autoscal"] = map[string]any{"min": 2}
	}},
	{name: "mesh defaults need not be complete", file: "mesh.yaml", ok: true, edit: func(d map[string]any) {
		// The example's defaults have a controlPlane without a revision
		// already; these leave out more.
		obj(d, "defaults")["environment"] = "staging"
		delete(obj(d, "defaults", "controlPlane", "pilot", "resources"), "requests")
		delete(obj(d, "defaults", "controlPlane", "tracing"), "sampling")
	}},
}

// TestMutations checks that the schema rejects known-bad files, each at
// the field that is wrong, and accepts files that are valid only with the
// mesh's defaults; and that meshc validate agrees on every one, so the
// schema is neither stricter nor looser than meshc on them.
func TestMutations(t *testing.T) {
	mesh, cluster := compiled(t)
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(clusters, m.file))
			require.NoError(t, err)
			var doc map[string]any
			require.NoError(t, yaml.Unmarshal(data, &doc))
			m.edit(doc)
			edited, err := yaml.Marshal(doc)
			require.NoError(t, err)

			sch := cluster
			if m.file == "mesh.yaml" {
				sch = mesh
			}
			err = sch.Validate(instance(t, edited))
			if m.ok {
				assert.NoError(t, err)
			} else {
				require.Error(t, err)
				ve, ok := err.(*santhosh.ValidationError)
				require.True(t, ok, "%v", err)
				assert.Contains(t, leafLocations(ve), m.at, "%v", err)
				assert.Contains(t, err.Error(), m.msg)
			}

			// meshc validate on the example mesh with the edited file.
			dir := t.TempDir()
			entries, err := os.ReadDir(clusters)
			require.NoError(t, err)
			for _, e := range entries {
				src, err := os.ReadFile(filepath.Join(clusters, e.Name()))
				require.NoError(t, err)
				if e.Name() == m.file {
					src = edited
				}
				require.NoError(t, os.WriteFile(filepath.Join(dir, e.Name()), src, 0o644))
			}
			if m.ok && m.file != "mesh.yaml" {
				// What the edit left out, the mesh's defaults provide.
				meshDoc := map[string]any{}
				meshData, err := os.ReadFile(filepath.Join(clusters, "mesh.yaml"))
				require.NoError(t, err)
				require.NoError(t, yaml.Unmarshal(meshData, &meshDoc))
				obj(meshDoc, "defaults")["environment"] = "staging"
				obj(meshDoc, "defaults", "controlPlane")["revision"] = "1-21"
				meshData, err = yaml.Marshal(meshDoc)
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(filepath.Join(dir, "mesh.yaml"), meshData, 0o644))
			}
			got, diags := build.Validate(build.Options{ClustersDir: dir})
			if m.ok {
				assert.NotNil(t, got, "meshc validate accepts it too:\n%s", diags)
			} else {
				assert.True(t, diags.Failed(false), "meshc validate rejects it too")
				if m.at != "" {
					// ... at the same field.
					field := strings.ReplaceAll(strings.TrimPrefix(m.at, "/"), "/", ".")
					assert.Contains(t, diags.String(), field)
				}
			}
		})
	}
}

// leafLocations lists where the innermost errors are, as JSON pointers.
func leafLocations(e *santhosh.ValidationError) []string {
	var out []string
	var walk func(e *santhosh.ValidationError)
	walk = func(e *santhosh.ValidationError) {
		if len(e.Causes) == 0 {
			p := ""
			for _, s := range e.InstanceLocation {
				p += "/" + s
			}
			out = append(out, p)
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(e)
	sort.Strings(out)
	return out
}

// TestDefaultsAndDescriptions spot-checks what the generator drops and
// the post-processing puts back.
func TestDefaultsAndDescriptions(t *testing.T) {
	files, err := jsonschema.Files()
	require.NoError(t, err)
	var cluster, mesh map[string]any
	require.NoError(t, json.Unmarshal(files[jsonschema.ClusterFile], &cluster))
	require.NoError(t, json.Unmarshal(files[jsonschema.MeshFile], &mesh))
	at := func(doc map[string]any, path ...string) map[string]any {
		t.Helper()
		cur := doc
		for _, p := range path {
			next, ok := cur[p].(map[string]any)
			require.True(t, ok, "%s: no %s", strings.Join(path, "."), p)
			cur = next
		}
		return cur
	}
	assert.Equal(t, "STRICT", at(cluster, "properties", "mtls")["default"])
	assert.Equal(t, "#/definitions/MTLSMode", at(cluster, "properties", "mtls")["$ref"], "the default's own arm is gone")
	assert.Equal(t, []any{"name", "network"}, cluster["required"])
	cp := at(cluster, "definitions", "ControlPlane")
	assert.Nil(t, cp["required"], "a cluster's revision may come from the mesh's defaults")
	assert.Equal(t, "default", at(cp, "properties", "profile")["default"])
	minimum := at(cp, "properties", "pilot", "properties", "autoscale", "properties", "min")
	assert.Equal(t, map[string]any{
		"type": "integer", "minimum": 1.0, "default": 1.0,
		"description": "Allowed: a whole number of replicas, at least 1.",
	}, minimum)
	assert.Contains(t, at(cluster, "definitions", "Name")["description"], "Allowed: a DNS-1123 label")
	assert.Contains(t, at(cluster, "properties", "network")["description"], "the Istio network the cluster is on")
	assert.Equal(t, []any{"limits", "pods", "requests"}, at(cluster, "definitions", "Namespace", "properties", "quota")["required"])

	branch := at(mesh, "properties", "gitops", "properties", "branch")
	assert.Equal(t, "main", branch["default"])
	assert.NotEmpty(t, branch["pattern"], "a defaulted field keeps its constraint")
	assert.Equal(t, "#/definitions/Defaults", at(mesh, "properties", "defaults")["$ref"])
	assert.Equal(t, false, at(mesh, "definitions", "Defaults")["additionalProperties"])
	revs := at(mesh, "properties", "revisions")
	assert.Equal(t, "#/definitions/Version", at(revs, "additionalProperties")["$ref"])
	assert.NotEmpty(t, at(revs, "propertyNames")["pattern"])
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestBuildChecksSchema checks the wiring meshc check relies on: with
// Options.SchemaDir, the build output holds the schema tree, so a stale or
// hand-edited schema file fails the check with a diff.
func TestBuildChecksSchema(t *testing.T) {
	dir := t.TempDir()
	opts := build.Options{
		ClustersDir: clusters,
		OutDir:      filepath.Join(dir, "overlays"),
		GoldenDir:   filepath.Join(dir, "golden"),
		SchemaDir:   filepath.Join(dir, "schema"),
	}
	m, diags := build.Validate(opts)
	require.NotNil(t, m, diags.String())
	out, err := build.Compile(m, opts)
	require.NoError(t, err)
	require.NotNil(t, out.Schema)
	assert.Contains(t, out.Trees(), out.Schema)
	require.NoError(t, emit.Write(out.Trees()...))
	d, err := emit.Check(out.Trees()...)
	require.NoError(t, err)
	assert.Empty(t, d)

	stale := filepath.Join(opts.SchemaDir, jsonschema.ClusterFile)
	require.NoError(t, os.WriteFile(stale, []byte("{}\n"), 0o644))
	d, err = emit.Check(out.Trees()...)
	require.NoError(t, err)
	assert.Contains(t, d, "+++ b/"+filepath.ToSlash(stale))

	opts.SchemaDir = ""
	out, err = build.Compile(m, opts)
	require.NoError(t, err)
	assert.Nil(t, out.Schema, "no SchemaDir, no schema tree")
	assert.Len(t, out.Trees(), 2)
}
