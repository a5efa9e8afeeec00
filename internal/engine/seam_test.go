package engine_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestNoEngineOutsideTheSeam: outside the engine packages, no Go code
// names an engine's API groups. apicheck is the exception by its job: it
// validates every custom resource meshc emits against its CRD, whoever
// delivers it.
func TestNoEngineOutsideTheSeam(t *testing.T) {
	root := filepath.Join("..", "..")
	engineAPI := regexp.MustCompile(`fluxcd\.io|argoproj\.io`)
	allowed := []string{
		filepath.Join("internal", "engine") + string(filepath.Separator),
		filepath.Join("internal", "apicheck") + string(filepath.Separator),
	}
	var checked int
	for _, dir := range []string{"internal", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			for _, a := range allowed {
				if strings.HasPrefix(rel, a) {
					return nil
				}
			}
			checked++
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for i, line := range strings.Split(string(data), "\n") {
				if engineAPI.MatchString(line) {
					t.Errorf("%s:%d names an engine's API outside internal/engine: %s", rel, i+1, strings.TrimSpace(line))
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if checked < 20 {
		t.Fatalf("checked only %d files: wrong root?", checked)
	}
}
