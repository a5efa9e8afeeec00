// Package ci holds the CI templates the README shows; this test proves
// each one parses, validates the GitHub workflow and the pre-commit files
// against their published JSON Schemas (vendored from SchemaStore under
// testdata), checks what each template must do for meshc diff to work,
// and syntax-checks every shell script in them.
package ci

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	santhosh "github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// load parses a YAML template into plain JSON values.
func load(t *testing.T, path string) any {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var v any
	require.NoError(t, yaml.Unmarshal(data, &v), path)
	// Round-trip through JSON: the schema library takes JSON's types.
	js, err := json.Marshal(v)
	require.NoError(t, err, path)
	doc, err := santhosh.UnmarshalJSON(bytes.NewReader(js))
	require.NoError(t, err)
	return doc
}

// validate checks doc against a vendored schema (and the schemas it refers
// to, by their SchemaStore URLs).
func validate(t *testing.T, schema string, doc any) {
	t.Helper()
	c := santhosh.NewCompiler()
	for _, name := range []string{"github-workflow", "pre-commit-hooks"} {
		data, err := os.ReadFile("testdata/schemastore/" + name + ".json")
		require.NoError(t, err)
		s, err := santhosh.UnmarshalJSON(bytes.NewReader(data))
		require.NoError(t, err)
		require.NoError(t, c.AddResource("https://json.schemastore.org/"+name+".json", s))
	}
	sch, err := c.Compile("https://json.schemastore.org/" + schema + ".json")
	require.NoError(t, err)
	require.NoError(t, sch.Validate(doc))
}

func get(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// bashSyntax runs bash -n on a script, with GitHub's ${{ }} expressions
// replaced by a plain word.
func bashSyntax(t *testing.T, where, script string) {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	script = regexp.MustCompile(`\$\{\{[^}]*\}\}`).ReplaceAllString(script, "x")
	cmd := exec.Command("bash", "-n")
	cmd.Stdin = strings.NewReader(script)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s: %s\n%s", where, out, script)
}

func TestGitHubWorkflow(t *testing.T) {
	wf := load(t, "github/meshc.yaml")
	validate(t, "github-workflow", wf)

	steps, _ := get(wf, "jobs", "meshc", "steps").([]any)
	require.NotEmpty(t, steps)
	var uses, runs []string
	for i, s := range steps {
		if u, ok := get(s, "uses").(string); ok {
			uses = append(uses, u)
			if strings.HasPrefix(u, "actions/checkout@") {
				require.Equal(t, "0", fmt.Sprint(get(s, "with", "fetch-depth")), "meshc diff needs the history")
			}
		}
		if r, ok := get(s, "run").(string); ok {
			runs = append(runs, r)
			bashSyntax(t, "step "+strconv.Itoa(i), r)
		}
	}
	require.Contains(t, uses[0], "actions/checkout@")
	require.Contains(t, uses[1], "actions/setup-go@")
	all := strings.Join(runs, "\n")
	require.Contains(t, all, "go install \"github.com/golemtrust/meshc/cmd/meshc@")
	require.Contains(t, all, "meshc check")
	require.Contains(t, all, "meshc diff --base \"origin/${BASE_REF}\" --format markdown > meshc-diff.md")
	// One comment, updated: found by the marker meshc writes first.
	require.Contains(t, all, `startswith("<!-- meshc-diff -->")`)
	require.Contains(t, all, "--method PATCH")
	require.Equal(t, "write", get(wf, "permissions", "pull-requests"))
}

func TestGitLabJob(t *testing.T) {
	ci := load(t, "gitlab/meshc.gitlab-ci.yml")
	job := get(ci, "meshc")
	require.NotNil(t, job)
	require.Equal(t, "0", get(job, "variables", "GIT_DEPTH"), "meshc diff needs the history")
	rules, _ := get(job, "rules").([]any)
	require.Len(t, rules, 1)
	require.Equal(t, `$CI_PIPELINE_SOURCE == "merge_request_event"`, get(rules[0], "if"))
	var lines []string
	for _, part := range []string{"before_script", "script"} {
		list, _ := get(job, part).([]any)
		require.NotEmpty(t, list, part)
		for i, l := range list {
			s, ok := l.(string)
			require.True(t, ok, "%s[%d] is a string", part, i)
			bashSyntax(t, part+"["+strconv.Itoa(i)+"]", s)
			lines = append(lines, s)
		}
	}
	all := strings.Join(lines, "\n")
	require.Contains(t, all, `meshc diff --base "$CI_MERGE_REQUEST_DIFF_BASE_SHA" --format markdown > meshc-diff.md`)
	require.Contains(t, all, `startswith("<!-- meshc-diff -->")`)
	require.Contains(t, all, "-X PUT")
	require.Equal(t, "meshc check", lines[len(lines)-1], "the gate runs last, after the note is posted")
}

func TestPreCommit(t *testing.T) {
	hooks := load(t, "../../.pre-commit-hooks.yaml")
	validate(t, "pre-commit-hooks", hooks)
	list := hooks.([]any)
	require.Len(t, list, 1)
	require.Equal(t, "meshc-check", get(list[0], "id"))
	require.Equal(t, "meshc check", get(list[0], "entry"))
	require.Equal(t, false, get(list[0], "pass_filenames"))

	// (SchemaStore's pre-commit-config schema uses a look-ahead, which Go's
	// regexp cannot compile; its shape is checked by hand.)
	cfg := load(t, "pre-commit-config.yaml")
	repos := get(cfg, "repos").([]any)
	require.Equal(t, "https://github.com/golemtrust/meshc", get(repos[0], "repo"))
	require.Equal(t, "meshc-check", get(get(repos[0], "hooks").([]any)[0], "id"))
}
