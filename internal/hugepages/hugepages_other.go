//go:build !linux

package hugepages

// advised is false: only Linux has transparent huge pages to ask for.
var advised bool

func hugePages() { close(freed) }
