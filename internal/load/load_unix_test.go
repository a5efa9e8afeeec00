//go:build unix

package load

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/golemtrust/meshc/internal/diag"
)

func TestNotARegularFile(t *testing.T) {
	d := dir(t, map[string][]byte{"mesh.yaml": []byte("meshID: m\n")})
	if err := syscall.Mkfifo(filepath.Join(d, "genua.yaml"), 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	done := make(chan diag.List)
	go func() {
		_, diags := Dir(d)
		done <- diags
	}()
	select {
	case diags := <-done:
		only(t, diags, filepath.Join(d, "genua.yaml")+": not a regular file; a mesh or cluster file must be a plain file")
	case <-time.After(10 * time.Second):
		t.Fatal("reading a FIFO hangs")
	}
}
