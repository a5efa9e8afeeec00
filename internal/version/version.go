// Package version says which meshc is running, from the build information
// the Go toolchain records in every binary: the module version that `go
// install ...@version` fetched, or "(devel)" for a build in a checkout,
// with the VCS revision and whether the work tree had local changes.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Info is what the build recorded about the running binary.
type Info struct {
	// Module is the main module's version: a tag or pseudo-version when
	// installed with `go install ...@version`, "(devel)" when built in a
	// checkout, "unknown" without build information.
	Module string
	// Revision is the VCS commit the binary was built from and Modified
	// whether the work tree differed from it; empty when not built in a
	// checkout (a module fetched by `go install ...@version` has none,
	// its version names it).
	Revision string
	Modified bool
	// Go is the toolchain that built it; OS and Arch the target.
	Go, OS, Arch string
}

// Read returns the running binary's Info.
func Read() Info {
	bi, _ := debug.ReadBuildInfo()
	return From(bi)
}

// From reads an Info out of build information (nil: none).
func From(bi *debug.BuildInfo) Info {
	info := Info{Module: "unknown", Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if bi == nil {
		return info
	}
	if bi.Main.Version != "" {
		info.Module = bi.Main.Version
	}
	if bi.GoVersion != "" {
		info.Go = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Revision = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		case "GOOS":
			info.OS = s.Value
		case "GOARCH":
			info.Arch = s.Value
		}
	}
	return info
}

// String is the line `meshc version` prints, e.g.
// "meshc v0.4.0 (go1.26.8 linux/amd64)" or
// "meshc (devel) revision 1f516d2c... modified (go1.26.8 darwin/arm64)".
func (i Info) String() string {
	s := "meshc " + i.Module
	if i.Revision != "" {
		s += " revision " + i.Revision
		if i.Modified {
			s += " modified"
		}
	}
	return s + fmt.Sprintf(" (%s %s/%s)", i.Go, i.OS, i.Arch)
}
