#!/usr/bin/env bash
# Proves that `go install github.com/golemtrust/meshc/cmd/meshc@<version>`
# gives a working binary: the committed tree is packed as the module zip
# the Go module proxy would serve (nested modules such as e2e/apiserver
# left out, as the proxy does), served from a file:// proxy, installed with
# go install into an empty GOBIN, and run from a folder with nothing of the
# repository but a copy of the example cluster files: it must report its
# version and build the mesh exactly as committed.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
mod=github.com/golemtrust/meshc
# The files of the work tree that git would commit; the version names
# their content, so the module cache never serves an older packing.
files() { git ls-files -z --cached --others --exclude-standard; }
version=v0.0.0-ci-$(files | xargs -0 sha256sum 2>/dev/null | sha256sum | cut -c1-12)
tmp=$(mktemp -d)
modcache=$(go env GOMODCACHE)
cleanup() {
	chmod -R u+w "$modcache/$mod@$version" 2>/dev/null || true
	rm -rf "$tmp" "$modcache/$mod@$version" "$modcache/cache/download/$mod/@v/$version".*
}
trap cleanup EXIT
proxy=$tmp/proxy/$mod/@v
mkdir -p "$proxy"
cp go.mod "$proxy/$version.mod"
echo "$version" >"$proxy/list"
printf '{"Version":"%s","Time":"%s"}\n' "$version" "$(git log -1 --format=%cI)" >"$proxy/$version.info"
python3 - "$proxy/$version.zip" "$mod@$version" <<'PY'
import os, subprocess, sys, zipfile
out, prefix = sys.argv[1], sys.argv[2]
files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], check=True, capture_output=True).stdout.decode().split("\0")
nested = {os.path.dirname(f) for f in files if f.endswith("/go.mod")}
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for f in files:
        if f and os.path.isfile(f) and not any(f.startswith(d + "/") for d in nested):
            z.write(f, prefix + "/" + f)
PY
export GOBIN=$tmp/bin GONOSUMDB=$mod GOFLAGS=-mod=mod
# As the README says to install it: CGO_ENABLED=0, a static binary.
CGO_ENABLED=0 GOPROXY="file://$tmp/proxy,$(go env GOPROXY)" go install "$mod/cmd/meshc@$version"
go version -m "$GOBIN/meshc" | grep -q "CGO_ENABLED=0"
mkdir -p "$tmp/user"
cp -r "$repo/clusters" "$tmp/user/"
cd "$tmp/user"
"$GOBIN/meshc" version | tee version.txt
grep -q "^meshc $version (go" version.txt
"$GOBIN/meshc" build
diff -r "$repo/golden" golden
diff -r "$repo/overlays" overlays
diff -r -x README.md "$repo/schema" schema   # schema/README.md is the repository's own, not meshc output
echo "go install $mod/cmd/meshc@$version: a working binary"
