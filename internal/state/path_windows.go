package state

import "path/filepath"

// Windows paths have volumes and two separators: path/filepath's (see
// path_other.go for why the others do not use it).
var (
	join  = filepath.Join
	clean = filepath.Clean
	base  = filepath.Base
	dir   = filepath.Dir
	abs   = filepath.Abs
)
