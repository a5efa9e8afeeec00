#!/usr/bin/env bash
# gen.sh copies, for every Istio version meshc supports, the values
# definitions of Istio's base, istiod and gateway charts that
# internal/apicheck embeds: each release's Helm values are checked against
# the chart of the version it installs (README.md of internal/apicheck).
#
# The source is Istio's published charts as ../shared/charts/istio/<version>/
# holds them (Apache-2.0, from istio/istio at the commits in its VERSIONS
# file). Run from anywhere, or with `go generate ./internal/apicheck/`:
#   internal/apicheck/charts/gen.sh [CHARTS_DIR]
# then `go test ./internal/apicheck/` and review the diff. Nothing is read
# at build or test time: meshc runs from `go install` without the charts.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="${1:-$here/../../../../shared/charts/istio}"
src="$(cd "$src" && pwd)"
files=(base/values.yaml istiod/values.yaml gateway/values.yaml gateway/values.schema.json)

find "$here" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
{
	echo "# Files embedded by internal/apicheck, written by gen.sh: do not edit."
	echo "# version	file (under charts/)	sha256; the charts' commits in istio/istio:"
	sed 's/^/#   /' "$src/VERSIONS"
} >"$here/VERSIONS"
for dir in $(cd "$src" && ls -d */ | tr -d / | sort -V); do
	for f in "${files[@]}"; do
		mkdir -p "$here/$dir/$(dirname "$f")"
		cp "$src/$dir/$f" "$here/$dir/$f"
		chmod 0644 "$here/$dir/$f"
		printf '%s\t%s\t%s\n' "$dir" "$dir/$f" "$(sha256sum "$here/$dir/$f" | cut -d' ' -f1)" >>"$here/VERSIONS"
	done
done
echo "copied the values of $(cd "$src" && ls -d */ | wc -l) chart versions into $here"
