package hugepages

import (
	"os"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestHeapGetsHugePages checks, on Linux with transparent huge pages in
// "madvise" mode, that memory the heap hands out after init lies in a
// mapping the kernel may back with huge pages: the advice covers the
// pages the runtime reuses, not a mapping it replaced.
func TestHeapGetsHugePages(t *testing.T) {
	if runtime.GOOS != "linux" {
		if advised {
			t.Fatal("advised on a platform without transparent huge pages")
		}
		t.Skip("transparent huge pages are Linux's")
	}
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || !strings.Contains(string(mode), "[madvise]") {
		t.Skipf("transparent huge pages not in madvise mode here (%q)", strings.TrimSpace(string(mode)))
	}
	if !advised {
		t.Fatal("the kernel refused MADV_HUGEPAGE on the heap")
	}
	Wait()
	b := make([]byte, 8<<20)
	addr := reflect.ValueOf(b).Pointer()
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	eligible, found := false, false
	in := false
	for line := range strings.SplitSeq(string(smaps), "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":") {
			lo, hi, _ := strings.Cut(f[0], "-")
			l, err1 := strconv.ParseUint(lo, 16, 64)
			h, err2 := strconv.ParseUint(hi, 16, 64)
			in = err1 == nil && err2 == nil && uint64(addr) >= l && uint64(addr) < h
			found = found || in
			continue
		}
		if in && strings.HasPrefix(line, "THPeligible:") {
			eligible = strings.TrimSpace(strings.TrimPrefix(line, "THPeligible:")) == "1"
		}
	}
	if !found {
		t.Fatalf("no mapping holds the heap address %#x", addr)
	}
	if !eligible {
		t.Errorf("the heap's mapping at %#x is not eligible for huge pages: the runtime mapped it anew after the advice", addr)
	}
	runtime.KeepAlive(b)
}

func TestTHPDisabled(t *testing.T) {
	for godebug, want := range map[string]bool{
		"": false, "disablethp=1": true, "gctrace=1,disablethp=1": true, "disablethp=0": false, "x=1, disablethp=1": true,
	} {
		if got := thpDisabled(godebug); got != want {
			t.Errorf("thpDisabled(%q) = %v, want %v", godebug, got, want)
		}
	}
}
