package load

import (
	"bytes"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/golemtrust/meshc/internal/diag"
)

const cluster = "name: genua\nnetwork: network-genua\nenvironment: staging\ncontrolPlane:\n  revision: \"1-21\"\n"

// dir writes files into a fresh clusters folder.
func dir(t *testing.T, files map[string][]byte) string {
	t.Helper()
	d := filepath.Join(t.TempDir(), "clusters")
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(d, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func only(t *testing.T, diags diag.List, want string) {
	t.Helper()
	if len(diags) != 1 || diags[0].String() != want {
		t.Fatalf("diagnostics:\n%s\nwant exactly:\n%s", diags, want)
	}
}

func TestMaxFileSize(t *testing.T) {
	big := append([]byte(cluster+"# "), bytes.Repeat([]byte("x"), MaxFileSize)...)
	d := dir(t, map[string][]byte{"mesh.yaml": []byte("meshID: m\n"), "genua.yaml": big})
	start := time.Now()
	in, diags := Dir(d)
	only(t, diags, fmt.Sprintf("%s: file is %d bytes; input files may be at most 4194304 bytes (4 MiB)", filepath.Join(d, "genua.yaml"), len(big)))
	if len(in.Clusters) != 0 {
		t.Errorf("the big file was read: %v", in.Clusters)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("rejecting a big file took %v", time.Since(start))
	}
	// Exactly at the cap is fine.
	exact := append([]byte(cluster+"# "), bytes.Repeat([]byte("x"), MaxFileSize-len(cluster)-3)...)
	exact = append(exact, '\n')
	if _, diags := Parse("clusters/genua.yaml", exact); len(diags) != 0 {
		t.Errorf("a file of exactly MaxFileSize bytes: %v", diags)
	}
	if _, diags := Parse("clusters/genua.yaml", append(exact, ' ')); !diags.Failed(false) {
		t.Errorf("a file of MaxFileSize+1 bytes was accepted")
	}
}

func TestInvalidUTF8(t *testing.T) {
	for _, tc := range []struct {
		name, data, want string
	}{
		{"genua.yaml", "name: genua\nnetwork: caf\xe9\n", "clusters/genua.yaml:2:13: invalid UTF-8: files must be UTF-8 text; this byte is not"},
		{"genua.json", "{\"name\": \"g\xff\"}", "clusters/genua.json:1:12: invalid UTF-8: files must be UTF-8 text; this byte is not"},
		// Columns count bytes: ü is two.
		{"genua.cue", "name: \"genua\"\n// Zürich \xc3\n", "clusters/genua.cue:2:12: invalid UTF-8: files must be UTF-8 text; this byte is not"},
	} {
		f, diags := Parse("clusters/"+tc.name, []byte(tc.data))
		if f != nil {
			t.Errorf("%s: parsed", tc.name)
		}
		only(t, diags, tc.want)
	}
}

func TestCarriageReturns(t *testing.T) {
	// CRLF is fine, and positions are right.
	f, diags := Parse("clusters/genua.yaml", []byte(strings.ReplaceAll(cluster, "\n", "\r\n")))
	if f == nil || len(diags) != 0 {
		t.Fatalf("CRLF: %v", diags)
	}
	_, diags = Parse("clusters/genua.yaml", []byte("name: genua\r\nnetwork: x\r\n  bad: 1\r\n"))
	only(t, diags, "clusters/genua.yaml:3:6: syntax error: mapping values are not allowed in this context; a value that contains ': ' must be quoted, and a nested map starts on a new, further indented line")
	// A lone CR is a line break to YAML but not to CUE's positions.
	_, diags = Parse("clusters/genua.yaml", []byte("name: genua\rnetwork: x\n"))
	only(t, diags, `clusters/genua.yaml:1:12: a carriage return (\r) without a line feed; save the file with LF or CRLF line endings`)
}

func TestEntryCaps(t *testing.T) {
	var b strings.Builder
	b.WriteString(cluster + "namespaces:\n")
	for i := range MaxEntries + 1 {
		b.WriteString("  ns" + itoa(i) + ": {}\n")
	}
	start := time.Now()
	_, diags := Parse("clusters/genua.yaml", []byte(b.String()))
	only(t, diags, "clusters/genua.yaml:7:3: 10001 entries in one map or list; meshc reads at most 10000: split the cluster, or check that the file is the one you meant")

	b.Reset()
	b.WriteString(cluster + "namespaces:\n")
	for i := range MaxNodes/MaxEntries + 1 {
		b.WriteString("  ns" + itoa(i) + ":\n    labels:\n")
		for j := range MaxEntries {
			b.WriteString("      l" + itoa(j) + ": x\n")
		}
	}
	_, diags = Parse("clusters/genua.yaml", []byte(b.String()))
	only(t, diags, "clusters/genua.yaml: more than 100000 fields and list items; meshc reads at most 100000 in one file: split the cluster, or check that the file is the one you meant")
	if time.Since(start) > 20*time.Second {
		t.Errorf("rejecting wide files took %v", time.Since(start))
	}
}

func TestAliasBomb(t *testing.T) {
	// Nine levels of nine aliases: 387,420,489 strings once expanded.
	var b strings.Builder
	b.WriteString(cluster + `l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]` + "\n")
	for i := 1; i < 10; i++ {
		p := "*l" + itoa(i-1)
		b.WriteString("l" + itoa(i) + ": &l" + itoa(i) + " [" + strings.Repeat(p+", ", 8) + p + "]\n")
	}
	start := time.Now()
	_, diags := Parse("clusters/genua.yaml", []byte(b.String()))
	only(t, diags, "clusters/genua.yaml:6:5: YAML anchor &l0: anchors and aliases are not supported; write the value out in full, or share it in a CUE file with a hidden field such as _containerDefaults")
	if time.Since(start) > 2*time.Second {
		t.Errorf("rejecting an alias bomb took %v", time.Since(start))
	}
	// An alias whose anchor is defined nowhere is a syntax error.
	_, diags = Parse("clusters/genua.yaml", []byte(cluster+"x: *nowhere\n"))
	only(t, diags, "clusters/genua.yaml:6:1: syntax error: unknown anchor 'nowhere' referenced; YAML anchors and aliases are not supported: write the value out in full")
}

func TestDeepNesting(t *testing.T) {
	for _, tc := range []struct {
		name, data, want string
	}{
		// The parsers' own limits, far beyond meshc's.
		{"genua.yaml", "x: " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "\n", "clusters/genua.yaml:1:1: syntax error: exceeded max depth of 10000"},
		{"genua.cue", "x: " + strings.Repeat("{a: ", 20000) + "1" + strings.Repeat("}", 20000) + "\n", "clusters/genua.cue:1:40001: syntax error: expression exceeds maximum nesting depth of 10000"},
		{"genua.json", `{"x": ` + strings.Repeat(`{"a": `, 5000) + "1" + strings.Repeat("}", 5000) + "}", "clusters/genua.json:1:199: nested more than 32 levels deep; meshc's files need a handful of levels: check the indentation or the brackets"},
	} {
		start := time.Now()
		_, diags := Parse("clusters/"+tc.name, []byte(tc.data))
		only(t, diags, tc.want)
		if time.Since(start) > 5*time.Second {
			t.Errorf("%s: rejecting deep nesting took %v", tc.name, time.Since(start))
		}
	}
}

func TestParsePanicsBecomeErrors(t *testing.T) {
	// A lone CR once made CUE's YAML decoder index out of range; whatever
	// a parser does, Parse returns an error, never a panic.
	f, diags := Parse("clusters/genua.yaml", []byte("\r\r\r\r0   "))
	if f != nil || !diags.Failed(false) {
		t.Fatalf("got %v, %v", f, diags)
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

func TestNumbersCUECannotHold(t *testing.T) {
	_, diags := Parse("clusters/genua.yaml", []byte("a: .inf\nb: -.Inf\nc: .nan\nd: 99999999999999999999\ne: 9223372036854775807\n"))
	want := "clusters/genua.yaml:1:4: infinity (.inf) is not allowed: values are finite numbers or strings; quote it if you mean the text\n" +
		"clusters/genua.yaml:2:4: infinity (.inf) is not allowed: values are finite numbers or strings; quote it if you mean the text\n" +
		"clusters/genua.yaml:3:4: not-a-number (.nan) is not allowed: values are finite numbers or strings; quote it if you mean the text\n" +
		"clusters/genua.yaml:4:4: the number 99999999999999999999 is too large (at most 9223372036854775807); quote it if you mean the text\n"
	if got := diags.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// opens counts the files opened in a file system, the folder aside.
type opens struct {
	fsys fstest.MapFS
	n    map[string]int
}

func (o *opens) Open(name string) (fs.File, error) {
	if name != "." {
		o.n[name]++
	}
	return o.fsys.Open(name)
}
func (o *opens) Stat(name string) (fs.FileInfo, error)      { return o.fsys.Stat(name) }
func (o *opens) ReadDir(name string) ([]fs.DirEntry, error) { return o.fsys.ReadDir(name) }

// TestScan: listing the folder reads the mesh file and no cluster file;
// Read reads one, with the status Scan took; DirWith finds what Scan and
// Read find.
func TestScan(t *testing.T) {
	o := &opens{fsys: fstest.MapFS{
		"mesh.yaml":  {Data: []byte("meshID: m\n")},
		"genua.yaml": {Data: []byte(cluster)},
		"roma.json":  {Data: []byte("{not json")},
		"roma.cue":   {Data: []byte("name: \"roma\"\n")},
		"notes.txt":  {Data: []byte("x")},
	}, n: map[string]int{}}
	ls, diags := Scan("clusters", o)
	only(t, diags, filepath.Join("clusters", "roma.json")+":1:1: two files for cluster roma: roma.cue and roma.json; keep one of them")
	if want := map[string]int{"mesh.yaml": 1}; !maps.Equal(o.n, want) {
		t.Fatalf("Scan opened %v, want %v", o.n, want)
	}
	if ls.Mesh == nil || ls.Mesh.AST == nil || string(ls.Mesh.Data) != "meshID: m\n" {
		t.Fatalf("the mesh file is not read and parsed: %+v", ls.Mesh)
	}
	var stems []string
	for _, c := range ls.Clusters {
		stems = append(stems, c.Stem)
	}
	if strings.Join(stems, ",") != "genua,roma" || ls.Clusters[1].Path != filepath.Join("clusters", "roma.cue") {
		t.Fatalf("listed %v", ls.Clusters)
	}
	f, diags := ls.Read(ls.Clusters[0])
	if len(diags) != 0 || f == nil || string(f.Data) != cluster || f.AST != nil || f.Info != ls.Clusters[0].Info {
		t.Fatalf("Read: %+v %s", f, diags)
	}
	if o.n["genua.yaml"] != 1 || o.n["roma.cue"] != 0 {
		t.Fatalf("opened %v", o.n)
	}
	in, diags := DirWith("clusters", DirOptions{FS: o})
	if len(diags) != 1 || len(in.Clusters) != 2 || in.Clusters[0].AST == nil || in.Clusters[1].Stem != "roma" {
		t.Fatalf("DirWith: %+v %s", in, diags)
	}
}
