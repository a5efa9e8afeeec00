package build_test

// Tests of the Guarantees in SPEC.md about output: a killed build never
// leaves a half-written file and the next build repairs the tree; two
// builds never interleave; the same input gives byte-identical output
// whatever the file order, the number of cores or the parallelism. The
// index rules (user files, stale files, symlinks, names) are tested in
// internal/emit and in the emit_*.txtar scripts.

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	yaml "go.yaml.in/yaml/v3"

	"github.com/golemtrust/meshc/internal/build"
	"github.com/golemtrust/meshc/internal/cli"
	"github.com/golemtrust/meshc/internal/emit"
	"github.com/golemtrust/meshc/internal/state"
)

// genMesh returns the files of a generated mesh: mesh.yaml and one file per
// cluster in clusters, each with namespaces namespaces. variant changes a
// value in every cluster's control plane and every namespace, so that a
// build of one variant over the other rewrites nearly every file. Every
// fourth cluster is written in CUE and every fourth in JSON, to exercise
// each loader. reversed lists namespaces and labels in reverse order,
// which must not change the output.
func genMesh(clusters []int, namespaces, variant int, reversed bool) map[string]string {
	files := map[string]string{"mesh.yaml": fmt.Sprintf(`meshID: gen-mesh-%d
revisions:
  "1-20": 1.20.0
  "1-21": 1.21.0
gitops:
  engine: flux
  repoURL: https://git.example.com/platform/mesh.git
defaults:
  controlPlane:
    pilot:
      autoscale: {min: 2, max: 5}
  sidecar:
    requests: {cpu: %dm, memory: 128Mi}
    limits: {cpu: 500m, memory: 256Mi}
`, variant, 100+variant)}
	for _, i := range clusters {
		name := fmt.Sprintf("c%03d", i)
		var b strings.Builder
		fmt.Fprintf(&b, "name: %s\nnetwork: net-%d\nenvironment: staging\n", name, i%2)
		b.WriteString("controlPlane:\n")
		if i%3 == 0 {
			b.WriteString("  revision: \"1-20\"\n  canary: \"1-21\"\n")
		} else {
			b.WriteString("  revision: \"1-21\"\n")
		}
		fmt.Fprintf(&b, "  ingressGateway:\n    serviceAnnotations: {example.com/zone: zone-%d, example.com/owner: team-%d}\n", i%4, variant)
		b.WriteString("namespaces:\n")
		for k := 0; k < namespaces; k++ {
			j := k
			if reversed {
				j = namespaces - 1 - k
			}
			fmt.Fprintf(&b, "  ns-%02d:\n", j)
			if j%5 == 4 {
				fmt.Fprintf(&b, "    injection: disabled\n    labels: {team: t%d, variant: v%d}\n", j, variant)
				continue
			}
			if i%3 == 0 && j%2 == 0 {
				b.WriteString("    revision: \"1-21\"\n")
			}
			if j%3 == 0 {
				b.WriteString("    mtls: PERMISSIVE\n")
			}
			if reversed {
				fmt.Fprintf(&b, "    labels: {cost-center: cc%d, zone: z%d, variant: v%d, team: t%d}\n", j%7, j%3, variant, j)
			} else {
				fmt.Fprintf(&b, "    labels: {team: t%d, variant: v%d, zone: z%d, cost-center: cc%d}\n", j, variant, j%3, j%7)
			}
			b.WriteString("    quota:\n      requests: {cpu: \"8\", memory: 16Gi}\n      limits: {cpu: \"32\", memory: 64Gi}\n      pods: 20\n")
			b.WriteString("    containerDefaults:\n      requests: {cpu: 100m, memory: 128Mi}\n      limits: {cpu: 500m, memory: 512Mi}\n")
			b.WriteString("    authorization:\n")
			b.WriteString("      - {name: api-authz, selector: {app: api}, from: [{serviceAccount: web}], methods: [GET, POST], paths: [\"/api/*\"]}\n")
			b.WriteString("      - {name: web-authz, selector: {app: web}, from: [{namespace: istio-ingress, serviceAccount: istio-ingressgateway}]}\n")
		}
		switch i % 4 {
		case 1:
			files[name+".json"] = yamlToJSON(b.String())
		case 2:
			files[name+".cue"] = yamlToCUE(b.String())
		default:
			files[name+".yaml"] = b.String()
		}
	}
	return files
}

// yamlToJSON and yamlToCUE turn a generated cluster file, YAML, into the
// same fields as JSON and as plain CUE (JSON values are CUE values).
func yamlToJSON(y string) string {
	data, err := json.MarshalIndent(decodeYAML(y), "", "  ")
	if err != nil {
		panic(err)
	}
	return string(data) + "\n"
}

func yamlToCUE(y string) string {
	doc := decodeYAML(y)
	var b strings.Builder
	b.WriteString("// Generated in CUE.\n")
	for _, k := range slices.Sorted(maps.Keys(doc)) {
		v, err := json.Marshal(doc[k])
		if err != nil {
			panic(err)
		}
		fmt.Fprintf(&b, "%s: %s\n", k, v)
	}
	return b.String()
}

func decodeYAML(y string) map[string]any {
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(y), &doc); err != nil {
		panic(err)
	}
	return doc
}

// writeMesh writes files into dir in the order given by order: directory
// entry order then differs between folders written in different orders.
func writeMesh(t testing.TB, dir string, files map[string]string, order func([]string)) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	names := slices.Sorted(maps.Keys(files))
	if order != nil {
		order(names)
	}
	for _, n := range names {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), []byte(files[n]), 0o644))
	}
}

// TestBinary runs the guarantees that need a real meshc process, built
// once: determinism across cores, and builds killed at any moment.
func TestBinary(t *testing.T) {
	bin := meshcBinary(t)
	t.Run("Deterministic", func(t *testing.T) { testDeterministic(t, bin) })
	t.Run("KilledBuild", func(t *testing.T) { testKilledBuild(t, bin) })
}

// meshcBinary builds meshc into a temporary folder.
func meshcBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "meshc")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/golemtrust/meshc/cmd/meshc")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// meshc runs the binary in dir and fails the test unless it exits 0.
func meshc(t *testing.T, bin, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "meshc %s: %s", strings.Join(args, " "), stderr.String())
	return stdout.String()
}

// tree reads every file under dir into a map keyed by slash path: all of
// it, since meshc's own state lives elsewhere (internal/state).
func tree(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(data)
		return nil
	})
	require.NoError(t, err)
	return out
}

// outputs reads overlays/ and golden/ under root into one map.
func outputs(t testing.TB, root string) map[string]string {
	out := map[string]string{}
	for _, d := range []string{"overlays", "golden"} {
		for p, c := range tree(t, filepath.Join(root, d)) {
			out[d+"/"+p] = c
		}
	}
	return out
}

// digest is one hash over a whole tree, for comparing trees in messages.
func digest(files map[string]string) string {
	h := sha256.New()
	for _, p := range slices.Sorted(maps.Keys(files)) {
		fmt.Fprintf(h, "%s\x00%x\n", p, sha256.Sum256([]byte(files[p])))
	}
	return fmt.Sprintf("%x", h.Sum(nil))[:16]
}

func indexLines(content string) []string {
	var out []string
	for _, l := range strings.Split(content, "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

const userFile = "overlays/README.md"

// The kill test's mesh. Every kill costs a real build and so does every
// repair, compile time dominating (a 60 x 20 mesh takes 2 s to build on
// two idle cores, several times that on busy ones, of which 0.2 s is
// writing); 8 x 6 (190 files, under half a second per build) keeps 25
// kills and 25 repairs within a minute even on two busy cores. Kills are aimed at the writing phase itself,
// measured from the first change on disk, so a bigger mesh would add
// compile time, not kill moments.
const killClusters, killNamespaces, kills = 8, 6, 25

// testKilledBuild kills `meshc build` with
// SIGKILL at many moments, most of them while it writes, and checks after
// each kill that every file in overlays/ and golden/ is whole: byte for
// byte its content before the run or its content after a full build, with
// meshc's temporary files as the only other files; that the index lists
// every file meshc may have written; and that the next build repairs the
// tree to exactly the reference output, which check then accepts.
//
// The builds alternate between two variants of a mesh that differ in
// nearly every file and in a sixth of the clusters, so a kill interrupts
// updates, creations and deletions.
func testKilledBuild(t *testing.T, bin string) {
	if testing.Short() {
		t.Skip("kills and repairs 25 builds")
	}
	start := time.Now()
	root := t.TempDir()
	var v1, v2 []int
	for i := 0; i < killClusters; i++ {
		v1 = append(v1, i)
		v2 = append(v2, i+2) // c000 and c001 go, c012 and c013 come
	}
	variants := []string{"v1", "v2"}
	writeMesh(t, filepath.Join(root, "v1"), genMesh(v1, killNamespaces, 1, false), nil)
	writeMesh(t, filepath.Join(root, "v2"), genMesh(v2, killNamespaces, 2, false), nil)
	args := func(cmd, v string) []string {
		return []string{cmd, "--clusters", filepath.Join(root, v), "--out", "overlays", "--golden", "golden"}
	}
	// newWork makes a folder with a user's file in overlays/, which must
	// survive everything.
	newWork := func(name string) string {
		dir := filepath.Join(root, name)
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "overlays"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, userFile), []byte("the user's own notes\n"), 0o644))
		return dir
	}

	// The reference outputs, each built in a fresh folder.
	ref := map[string]map[string]string{}
	var full time.Duration
	for _, v := range variants {
		dir := newWork("ref-" + v)
		t0 := time.Now()
		meshc(t, bin, dir, nil, args("build", v)...)
		full = max(full, time.Since(t0))
		ref[v] = outputs(t, dir)
	}

	// The working tree: v1, then v2 over it, timing the writing phase:
	// from the first change on disk to the end of the process.
	work := newWork("work")
	meshc(t, bin, work, nil, args("build", "v1")...)
	require.Equal(t, digest(ref["v1"]), digest(outputs(t, work)))
	cmd := exec.Command(bin, args("build", "v2")...)
	cmd.Dir = work
	require.NoError(t, cmd.Start())
	waitForFirstChange(t, work, ref["v1"], 3*full)
	t0 := time.Now()
	require.NoError(t, cmd.Wait())
	writing := time.Since(t0)
	require.Equal(t, digest(ref["v2"]), digest(outputs(t, work)), "a build over another variant gives the reference output")
	t.Logf("%d x %d mesh: %d files; a build takes %s, of which writing %s",
		killClusters, killNamespaces, len(ref["v2"]), full.Round(time.Millisecond), writing.Round(time.Millisecond))

	// Kill delays: a few spread over the whole run, measured from its
	// start; the others spread over the writing phase, measured from the
	// first change (writes start only after all the compiling, so delays
	// from the start alone would mostly hit a run that has not written
	// anything yet).
	const fromStart = 5
	rng := rand.New(rand.NewPCG(1, 2))
	torn := 0 // kills that left a mix of old and new files
	cur := "v2"
	for i := 0; i < kills; i++ {
		next := variants[i%2]
		before := outputs(t, work)
		cmd := exec.Command(bin, args("build", next)...)
		cmd.Dir = work
		require.NoError(t, cmd.Start())
		t0 := time.Now()
		if i < fromStart {
			time.Sleep(time.Duration(float64(full) * (float64(i) + rng.Float64()) / fromStart))
		} else {
			waitForFirstChange(t, work, before, 3*full)
			t0 = time.Now()
			time.Sleep(time.Duration(float64(writing) * (float64(i-fromStart) + rng.Float64()) / (kills - fromStart)))
		}
		require.NoError(t, cmd.Process.Kill())
		at := time.Since(t0)
		finished := cmd.Wait() == nil
		if finished && i >= fromStart {
			// Writing took less than measured (the machine is less busy
			// now): aim the remaining kills earlier.
			writing = min(writing, at)
		}

		mixed := checkKilledTree(t, before, ref[next], outputs(t, work))
		if mixed {
			torn++
		}
		t.Logf("kill %2d: %6s after %s; finished first: %-5v; left a mix of old and new: %v",
			i, at.Round(100*time.Microsecond), map[bool]string{true: "start", false: "first write"}[i < fromStart], finished, mixed)

		// The next build repairs the tree; check agrees (run now and then:
		// it compiles as long as a build, and a tree equal to the
		// reference passes it by construction).
		meshc(t, bin, work, nil, args("build", next)...)
		require.Equal(t, digest(ref[next]), digest(outputs(t, work)), "the build after kill %d did not repair the tree", i)
		if i%10 == 4 {
			meshc(t, bin, work, nil, args("check", next)...)
		}
		cur = next
	}
	meshc(t, bin, work, nil, args("check", cur)...)
	t.Logf("%d of %d kills interrupted the writing; %s in all", torn, kills, time.Since(start).Round(time.Millisecond))
	assert.GreaterOrEqual(t, torn, 3, "too few kills landed while files were being written for the test to prove much")
}

// waitForFirstChange polls overlays/ until its index differs from before:
// a build writes the grown index before any other file.
func waitForFirstChange(t *testing.T, work string, before map[string]string, limit time.Duration) {
	t.Helper()
	idx := filepath.Join(work, "overlays", emit.IndexName)
	t0 := time.Now()
	for {
		data, _ := os.ReadFile(idx)
		if string(data) != before["overlays/"+emit.IndexName] {
			return
		}
		if time.Since(t0) > limit {
			t.Fatalf("the build did not start writing within %s", limit)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// checkKilledTree checks the tree a killed build left, and reports whether
// the build was interrupted while writing: the tree is neither the old one
// nor the new one.
func checkKilledTree(t *testing.T, before, want, after map[string]string) (torn bool) {
	t.Helper()
	for p, content := range after {
		base := filepath.Base(p)
		switch {
		case strings.HasPrefix(base, ".meshc-tmp-"):
			// A temporary file is the only file that may be partial; the
			// next build removes it (the repair proves it).
		case base == emit.IndexName:
			// The old index, the new one, or their union, written before
			// anything else.
			b, w := before[p], want[p]
			union := slices.Compact(slices.Sorted(slices.Values(append(indexLines(b), indexLines(w)...))))
			if content != b && content != w && !slices.Equal(indexLines(content), union) {
				t.Fatalf("%s is neither the old index, the new one nor their union:\n%s", p, content)
			}
		default:
			old, inOld := before[p]
			nw, inNew := want[p]
			if !(inOld && content == old) && !(inNew && content == nw) {
				t.Fatalf("%s is half-written or not meshc's (%d bytes; old %d, new %d)", p, len(content), len(old), len(nw))
			}
		}
	}
	// Every file of meshc's on disk is in the index on disk, or the next
	// build could not know to delete it.
	for _, dir := range []string{"overlays/", "golden/"} {
		idx, ok := after[dir+emit.IndexName]
		if !ok {
			continue
		}
		listed := map[string]bool{}
		for _, l := range indexLines(idx) {
			listed[dir+l] = true
		}
		for p := range after {
			if strings.HasPrefix(p, dir) && p != userFile && !strings.HasPrefix(filepath.Base(p), ".meshc") && !listed[p] {
				t.Fatalf("%s is on disk but not in the index", p)
			}
		}
	}
	assert.Equal(t, before[userFile], after[userFile], "the user's file is untouched")
	return digest(after) != digest(before) && digest(after) != digest(want)
}

// TestSecondBuildFailsOnLock: while a build holds the lock (here the test
// process, through emit.Lock), another build fails with the lock message
// and writes nothing.
func TestSecondBuildFailsOnLock(t *testing.T) {
	root := t.TempDir()
	writeMesh(t, filepath.Join(root, "clusters"), genMesh([]int{0, 1}, 2, 1, false), nil)
	opts := []string{"--clusters", filepath.Join(root, "clusters"), "--out", filepath.Join(root, "overlays"), "--golden", filepath.Join(root, "golden"), "--schema", filepath.Join(root, "schema")}
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, cli.Main(append([]string{"build"}, opts...), &stdout, &stderr), stderr.String())
	before := outputs(t, root)

	unlock, err := emit.Lock(state.For(filepath.Join(root, "overlays"), filepath.Join(root, "golden")).Lock, filepath.Join(root, "overlays"))
	require.NoError(t, err)
	defer unlock()
	writeMesh(t, filepath.Join(root, "clusters"), genMesh([]int{0, 1}, 2, 2, false), nil)
	stdout.Reset()
	stderr.Reset()
	assert.Equal(t, 1, cli.Main(append([]string{"build"}, opts...), &stdout, &stderr))
	assert.Equal(t, fmt.Sprintf("meshc build: another meshc build is writing %s (lock %s held); wait for it to finish and run again\n", filepath.Join(root, "overlays"), state.For(filepath.Join(root, "overlays"), filepath.Join(root, "golden")).Lock), stderr.String())
	assert.Equal(t, digest(before), digest(outputs(t, root)), "nothing written")
}

// TestCheckDuringBuildWaits: check never reads a tree a build is half way
// through writing; it waits for the build and then checks the result.
func TestCheckDuringBuildWaits(t *testing.T) {
	root := t.TempDir()
	writeMesh(t, filepath.Join(root, "clusters"), genMesh([]int{0, 1}, 2, 1, false), nil)
	opts := []string{"--clusters", filepath.Join(root, "clusters"), "--out", filepath.Join(root, "overlays"), "--golden", filepath.Join(root, "golden"), "--schema", filepath.Join(root, "schema")}
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, cli.Main(append([]string{"build"}, opts...), &stdout, &stderr), stderr.String())

	// A "build" holds the lock, and has changed one file so far.
	unlock, err := emit.Lock(state.For(filepath.Join(root, "overlays"), filepath.Join(root, "golden")).Lock, filepath.Join(root, "overlays"))
	require.NoError(t, err)
	golden := filepath.Join(root, "golden", "c000.yaml")
	good, err := os.ReadFile(golden)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(golden, []byte("being replaced\n"), 0o644))

	done := make(chan int)
	go func() {
		var stdout, stderr bytes.Buffer
		done <- cli.Main(append([]string{"check"}, opts...), &stdout, &stderr)
	}()
	select {
	case code := <-done:
		t.Fatalf("check ran during the build (exit %d)", code)
	case <-time.After(500 * time.Millisecond):
	}
	require.NoError(t, os.WriteFile(golden, good, 0o644)) // the build finishes
	unlock()
	select {
	case code := <-done:
		assert.Equal(t, 0, code, "check saw the finished tree")
	case <-time.After(30 * time.Second):
		t.Fatal("check did not resume after the build")
	}
}

// testDeterministic builds one mesh from folders whose files were created
// in different orders, with the binary at GOMAXPROCS 1 and 4, and in
// process at parallelism 1 and 8, and requires byte-identical trees.
func testDeterministic(t *testing.T, bin string) {
	root := t.TempDir()
	var clusters []int
	for i := 0; i < 8; i++ {
		clusters = append(clusters, i)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	inputs := []struct {
		name     string
		reversed bool // namespaces and labels listed in reverse
		order    func([]string)
	}{
		{"sorted", false, nil},
		{"files created in reverse", false, func(s []string) { slices.Reverse(s) }},
		{"files created shuffled, fields reversed", true, func(s []string) { rng.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] }) }},
	}
	digests := map[string]string{}
	var first map[string]string
	for n, input := range inputs {
		name := fmt.Sprintf("input-%d", n)
		in := filepath.Join(root, name, "clusters")
		writeMesh(t, in, genMesh(clusters, 6, 1, input.reversed), input.order)
		for _, procs := range []string{"1", "4"} {
			dir := filepath.Join(root, name, "procs-"+procs)
			require.NoError(t, os.MkdirAll(dir, 0o755))
			meshc(t, bin, dir, []string{"GOMAXPROCS=" + procs}, "build", "--clusters", in)
			out := outputs(t, dir)
			digests[input.name+", GOMAXPROCS="+procs] = digest(out)
			if first == nil {
				first = out
			}
		}
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, par := range []int{1, 8} {
		runtime.GOMAXPROCS(par)
		dir := filepath.Join(root, fmt.Sprintf("parallelism-%d", par))
		opts := build.Options{ClustersDir: filepath.Join(root, "input-2", "clusters"), OutDir: filepath.Join(dir, "overlays"), GoldenDir: filepath.Join(dir, "golden"), Parallelism: par}
		m, diags := build.Validate(opts)
		require.NotNil(t, m, diags.String())
		out, err := build.Compile(m, opts)
		require.NoError(t, err)
		require.NoError(t, emit.Write(out.Trees()...))
		digests[fmt.Sprintf("in process, GOMAXPROCS and parallelism %d", par)] = digest(outputs(t, dir))
	}
	want := digest(first)
	for k, d := range digests {
		assert.Equal(t, want, d, "%s differs", k)
	}
	assert.Greater(t, len(first), 50, "a tree this small cannot show much")
	t.Logf("%d runs, %d files each, all %s", len(digests), len(first), want)
}
