package build_test

import (
	"os"
	"testing"

	"github.com/golemtrust/meshc/internal/state"
)

// TestMain keeps the state of every build these tests run, in process or
// in a meshc process, in a folder of its own rather than the user's cache.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "meshc-state-")
	if err != nil {
		panic(err)
	}
	os.Setenv(state.EnvVar, dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
