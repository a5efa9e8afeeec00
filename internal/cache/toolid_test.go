package cache

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestToolIDOnEveryPlatform cross-compiles a small program for each
// platform meshc ships for and requires the tool ID read from its bytes to
// be the build ID the Go toolchain stamped (not the whole-file hash
// fallback, which would cost a read of the binary on every run).
func TestToolIDOnEveryPlatform(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles")
	}
	for _, target := range []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64", "windows/amd64"} {
		t.Run(target, func(t *testing.T) {
			goos, goarch, _ := strings.Cut(target, "/")
			exe := filepath.Join(t.TempDir(), "hello")
			build := exec.Command("go", "build", "-o", exe, "./testdata/hello")
			build.Env = append(build.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0")
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("go build: %v\n%s", err, out)
			}
			out, err := exec.Command("go", "tool", "buildid", exe).Output()
			if err != nil {
				t.Fatalf("go tool buildid: %v", err)
			}
			want := "go-build-id:" + strings.TrimSpace(string(out))
			if got := toolIDOf(exe); got != want {
				t.Errorf("tool ID %q, want %q", got, want)
			}
		})
	}
}
