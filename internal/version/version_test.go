package version

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestString(t *testing.T) {
	installed := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/golemtrust/meshc", Version: "v0.4.0"},
		Settings: []debug.BuildSetting{{Key: "GOOS", Value: "darwin"}, {Key: "GOARCH", Value: "arm64"}}}
	assert.Equal(t, "meshc v0.4.0 (go1.26.8 darwin/arm64)", From(installed).String())

	checkout := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/golemtrust/meshc", Version: "(devel)"},
		Settings: []debug.BuildSetting{{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "amd64"},
			{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "1f516d2c0ffee"}, {Key: "vcs.modified", Value: "true"}}}
	assert.Equal(t, "meshc (devel) revision 1f516d2c0ffee modified (go1.26.8 linux/amd64)", From(checkout).String())

	checkout.Settings[4].Value = "false"
	assert.Equal(t, "meshc (devel) revision 1f516d2c0ffee (go1.26.8 linux/amd64)", From(checkout).String())

	assert.Contains(t, From(nil).String(), "meshc unknown (go")
}
