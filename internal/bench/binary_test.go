package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// BenchmarkBinary builds meshc once, reports the binary's size and times
// its start-up: `meshc version` run b.N times, each a new process (package
// init, the runtime, the dynamic loader if any), which every command pays
// before it reads a file. ns/op is one start-up; MB is the binary's size.
func BenchmarkBinary(b *testing.B) {
	exe := filepath.Join(b.TempDir(), "meshc")
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	build := exec.Command("go", "build", "-o", exe, "github.com/golemtrust/meshc/cmd/meshc")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		b.Fatalf("go build: %v", err)
	}
	fi, err := os.Stat(exe)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if out, err := exec.Command(exe, "version").CombinedOutput(); err != nil {
			b.Fatalf("meshc version: %v\n%s", err, out)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(fi.Size())/1e6, "MB")
}
