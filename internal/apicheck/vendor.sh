#!/usr/bin/env bash
# vendor.sh re-vendors the API definitions that internal/apicheck embeds.
#
# Every file is copied from a Go module fetched with `go mod download` (the
# module proxy is the only source used), to
#   schemas/<module>@<version>/<path inside the module>
# and recorded in schemas/VERSIONS with its sha256. Nothing is fetched at
# build or test time. Run from anywhere:
#   internal/apicheck/vendor.sh
# then `go test ./internal/apicheck/` and review the diff.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/schemas"

# module@version  path-inside-the-module ...
# Istio CRDs: 1.21.6 is the last 1.21 patch (the example mesh's newest
# revision is 1.21); 1.22.5 (the newest 1.22 patch the proxy serves) adds the
# apiVersions 1.21 does not serve (PeerAuthentication security.istio.io/v1,
# networking.istio.io/v1), see README.md.
# Istio's legacy charts (only for an IstioOperator's values; the base,
# istiod and gateway charts meshc installs are embedded per version from
# Istio's published charts, charts/gen.sh): istio.io/istio has no tagged
# module versions and the proxy serves no release-1.2x branch commit; the
# two commits below are the served ones closest to the 1.21/1.22 releases
# and the newest, see README.md.
ISTIO_OLD=v0.0.0-20240221233722-55f12a68b4f9
ISTIO_NEW=v0.0.0-20260827124520-eed52ebb66ad
charts=(
	manifests/charts/gateways/istio-ingress/values.yaml
	manifests/charts/gateways/istio-egress/values.yaml
	manifests/charts/istio-cni/values.yaml
	manifests/charts/ztunnel/values.yaml
)
sources=(
	"istio.io/api@v1.21.6 kubernetes/customresourcedefinitions.gen.yaml"
	"istio.io/api@v1.22.5 kubernetes/customresourcedefinitions.gen.yaml"
	"istio.io/istio@$ISTIO_OLD ${charts[*]}"
	"istio.io/istio@$ISTIO_NEW ${charts[*]}"
	"github.com/fluxcd/source-controller@v1.9.6 config/crd/bases/source.toolkit.fluxcd.io_gitrepositories.yaml config/crd/bases/source.toolkit.fluxcd.io_helmrepositories.yaml config/crd/bases/source.toolkit.fluxcd.io_ocirepositories.yaml config/crd/bases/source.toolkit.fluxcd.io_helmcharts.yaml"
	"github.com/fluxcd/kustomize-controller@v1.9.6 config/crd/bases/kustomize.toolkit.fluxcd.io_kustomizations.yaml"
	"github.com/fluxcd/helm-controller@v1.6.0 config/crd/bases/helm.toolkit.fluxcd.io_helmreleases.yaml"
	"github.com/argoproj/argo-cd/v3@v3.5.7 manifests/crds/application-crd.yaml manifests/crds/appproject-crd.yaml"
)

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# A throwaway module, so that `go mod download` does not touch meshc's go.mod.
(cd "$tmp" && go mod init apicheck-vendor >/dev/null 2>&1)

rm -rf "$out"
mkdir -p "$out"
{
	echo "# Files embedded by internal/apicheck, written by vendor.sh: do not edit."
	echo "# Re-vendor with internal/apicheck/vendor.sh; README.md says why these versions."
	echo "# file (under schemas/)	source module@version	path in the module	sha256"
} >"$out/VERSIONS"

for entry in "${sources[@]}"; do
	read -r modver files <<<"$entry"
	dir="$(cd "$tmp" && GOFLAGS=-mod=mod go mod download -json "$modver" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
	if [ -z "$dir" ]; then
		echo "vendor.sh: go mod download $modver failed" >&2
		exit 1
	fi
	for f in $files; do
		dst="$modver/$f"
		mkdir -p "$out/$(dirname "$dst")"
		cp "$dir/$f" "$out/$dst"
		chmod 0644 "$out/$dst"
		sum="$(sha256sum "$out/$dst" | cut -d' ' -f1)"
		printf '%s\t%s\t%s\t%s\n' "$dst" "$modver" "$f" "$sum" >>"$out/VERSIONS"
	done
done
echo "vendored into $out:"
grep -v "^#" "$out/VERSIONS" | cut -f2 | sort -u
