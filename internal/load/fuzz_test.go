package load

import (
	"strings"
	"testing"
	"time"

	yamlv3 "go.yaml.in/yaml/v3"

	"github.com/golemtrust/meshc/internal/diag"
)

// FuzzLoad parses arbitrary bytes as each kind of input file. Parse must
// never panic or hang, and must return either a file or at least one error,
// every diagnostic positioned in that file.
func FuzzLoad(f *testing.F) {
	f.Add([]byte("name: genua\nnetwork: network-genua\nenvironment: staging\ncontrolPlane:\n  revision: \"1-21\"\n"), ".yaml")
	f.Add([]byte("name: \"quirm\"\ncontrolPlane: revision: \"1-21\"\n"), ".cue")
	f.Add([]byte(`{"name": "genua", "namespaces": {"a": {"labels": {"x": "y"}}}}`), ".json")
	f.Add([]byte("a: &x [1]\nb: *x\n"), ".yaml")
	f.Add([]byte("a: 1\n---\nb: 2\n"), ".yml")
	f.Add([]byte("a:\n  b: 1\n c: 2\n"), ".yaml")
	f.Fuzz(func(t *testing.T, data []byte, ext string) {
		switch ext {
		case ".yaml", ".yml", ".json", ".cue":
		default:
			ext = ".yaml"
		}
		path := "clusters/fuzz" + ext
		var file *File
		var diags diag.List
		done := make(chan struct{})
		go func() {
			defer close(done)
			file, diags = Parse(path, data)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("Parse(%q) hangs", data)
		}
		if file == nil && !diags.Failed(false) {
			t.Fatalf("no file and no error for %q", data)
		}
		if file != nil && diags.Failed(false) {
			t.Fatalf("a file and errors for %q: %v", data, diags)
		}
		if file != nil && ext != ".cue" && ext != ".json" {
			// The quick scan for anchors must never miss one.
			var doc yamlv3.Node
			if yamlv3.Unmarshal(data, &doc) == nil && findAnchor(&doc) != nil {
				t.Fatalf("an anchor or alias got through: %q", data)
			}
		}
		lines := strings.Count(string(data), "\n") + 1
		for _, d := range diags {
			if d.Pos.File != path {
				t.Errorf("diagnostic outside the file: %v", d)
			}
			if d.Pos.Line < 0 || d.Pos.Line > lines+1 || (d.Pos.Line > 0 && d.Pos.Col < 1) {
				t.Errorf("diagnostic at an impossible position (file has %d lines): %v", lines, d)
			}
			if d.Message == "" {
				t.Errorf("empty message: %v", d)
			}
		}
	})
}
