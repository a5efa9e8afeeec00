//go:build !linux

package tune

// advised is false: only Linux has transparent huge pages to ask for.
var advised bool

func hugePages() {}
