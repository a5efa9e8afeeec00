package cli_test

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// snapshot lists every file under dir with a hash of its content, leaving
// out *.snap files (snapshots). meshc's own state is not in the tree at
// all (internal/state), so every other file counts.
func snapshot(ts *testscript.TestScript, dir string) string {
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if d.IsDir() || strings.HasSuffix(p, ".snap") {
			return nil // snapshots themselves are not part of the tree
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fmt.Fprintf(&b, "%x %s\n", sha256.Sum256(data), filepath.ToSlash(rel))
		return nil
	})
	ts.Check(err)
	return b.String()
}
