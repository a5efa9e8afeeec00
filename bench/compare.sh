#!/usr/bin/env bash
# compare.sh: meshc against the usual pipeline, in one run, on one
# generated mesh (see BENCHMARKS.md).
#
#   bench/compare.sh [CLUSTERS [NAMESPACES]]     default 100 x 10
#
# Measures, with /usr/bin/time (wall time, peak RSS of the largest
# process):
#   build    cold `meshc build` into empty overlays/ and golden/
#   check    `meshc check` with nothing changed
#   floor    `cat` of every input and output byte (the disk floor)
#   rebuild  `meshc build` after editing one cluster file (median of five)
#            and, beside it, the rebuild's floor on this machine (statfloor:
#            a status call per output file, and the process start of
#            `meshc version`), timed in process at full resolution
#   cue      the usual validation: `cue vet -c` of each cluster file against #Cluster
#   kust     the usual render: `kustomize build` of each overlay meshc wrote
# and prints the ratios. cue and kustomize are installed from the Go module
# proxy into .cache/bench/bin-static the first time (set SKIP_USUAL=1 to skip them).
# UNIQUE=1 generates a mesh in which no namespace entry repeats across
# clusters (the worst case for meshc's per-entry memo); ENGINE=argocd one
# delivered by Argo CD instead of Flux.
# Work files go to .cache/bench/run-<N>x<K> (WORK=dir to override); meshc
# is built from the working tree.
set -euo pipefail

N=${1:-100}
K=${2:-10}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=$ROOT/.cache/bench
BIN=$CACHE/bin-static
WORK=${WORK:-$CACHE/run-${N}x${K}${UNIQUE:+-unique}${ENGINE:+-$ENGINE}}
CUE_VERSION=v0.17.1
KUSTOMIZE_VERSION=v5.5.0

TIME=/usr/bin/time
if [ ! -x "$TIME" ]; then
	echo "compare.sh: GNU time is required: sudo apt-get install -y time" >&2
	exit 2
fi

# Every binary is built static, meshc as the README installs it (no C
# resolver to load: a start about 5 ms sooner) and, to compare like with
# like, cue and kustomize too (their own folder, so that binaries built
# otherwise by an older compare.sh are not reused).
export CGO_ENABLED=0
mkdir -p "$BIN"
cd "$ROOT"
go build -o "$BIN/meshc" ./cmd/meshc
go build -o "$BIN/meshgen" ./internal/bench/cmd/meshgen
go build -o "$BIN/diskprobe" ./internal/bench/cmd/diskprobe
go build -o "$BIN/statfloor" ./internal/bench/cmd/statfloor

if [ -z "${SKIP_USUAL:-}" ]; then
	[ -x "$BIN/cue" ] || GOBIN=$BIN go install "cuelang.org/go/cmd/cue@$CUE_VERSION"
	[ -x "$BIN/kustomize" ] || GOBIN=$BIN go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
fi

# An earlier run's tree is deleted first, and every step that writes waits
# until the disk creates files at its usual speed (settle): deleting
# hundreds of megabytes makes this machine's file system (ext4 with online
# discard) several times slower at creating files for minutes, which the
# next timed write would pay, whichever run's tree it was.
rm -rf "$WORK" "$WORK".old.*
mkdir -p "$WORK"
# meshc's state (build cache, lock) for this run's folders, inside the
# run's work folder so that the cold build starts with none.
export MESHC_CACHE_DIR=$WORK/state
GEN=()
[ -n "${UNIQUE:-}" ] && GEN=(-unique) # UNIQUE=1: no namespace entry repeats across clusters
[ -n "${ENGINE:-}" ] && GEN+=(-engine "$ENGINE")
"$BIN/meshgen" "${GEN[@]}" -clusters "$N" -namespaces "$K" -out "$WORK/clusters"
# Growth: the same mesh at a tenth of the clusters, built in the same run.
N10=$(( N / 10 > 0 ? N / 10 : 1 ))
"$BIN/meshgen" "${GEN[@]}" -clusters "$N10" -namespaces "$K" -out "$WORK/small/clusters"
cd "$WORK"

# measure NAME CMD...: runs CMD once, records wall seconds and peak RSS (KiB).
declare -A WALL RSS
measure() {
	local name=$1
	shift
	if ! "$TIME" -f '%e %M' -o "$WORK/time.$name" "$@" >"$WORK/out.$name" 2>"$WORK/err.$name"; then
		echo "compare.sh: $name failed:" >&2
		tail -20 "$WORK/err.$name" >&2
		exit 1
	fi
	read -r WALL[$name] RSS[$name] <"$WORK/time.$name"
}

MESHC=("$BIN/meshc")
OPTS=(--clusters clusters --out overlays --golden golden)

# settle flushes what earlier steps wrote, then waits while the disk is
# slow (diskprobe: 2,000 atomic file writes under 0.15 s, for at most two
# minutes) before a step that writes; each wait's last probe is reported.
declare -A PROBE
settle() {
	sync
	sleep 1
	PROBE[$1]=$("$BIN/diskprobe" -dir "$WORK/.probe" -under 0.15)
}

settle build
measure build "${MESHC[@]}" build "${OPTS[@]}"
settle small
measure small sh -c 'cd small && "$0" build --clusters clusters --out overlays --golden golden' "$BIN/meshc"
settle check
measure check "${MESHC[@]}" check "${OPTS[@]}"
# The floor: read every input and output byte once (page cache warm, as it
# is for check).
measure floor sh -c 'find clusters overlays golden -type f -exec cat {} + >/dev/null'
# Edit one cluster file (a label value in its first namespace) and build,
# five times, a different file each time: the rebuild is a few tens of
# milliseconds, near the timer's 10 ms resolution, so its figure is the
# median of the five.
REBUILDS=()
for i in 1 2 3 4 5; do
	f=$(printf 'cluster-%04d' "$i")
	[ -f "clusters/$f.yaml" ] || break
	sed -i "0,/cost-center: \"1000\"/s//cost-center: \"999$i\"/" "clusters/$f.yaml"
	measure rebuild "${MESHC[@]}" build "${OPTS[@]}"
	grep -q "999$i" "golden/$f.yaml" || { echo "compare.sh: the rebuild did not pick up the edit of $f" >&2; exit 1; }
	REBUILDS+=("${WALL[rebuild]} ${RSS[rebuild]}")
done
read -r WALL[rebuild] RSS[rebuild] < <(printf '%s\n' "${REBUILDS[@]}" | sort -n | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }')
REBUILD_ALL=$(printf '%s\n' "${REBUILDS[@]}" | awk '{ printf "%s%s", sep, $1; sep = " " }')
measure recheck "${MESHC[@]}" check "${OPTS[@]}"
# What no rebuild can skip: the status of every output file (how the cache
# proves a reused cluster's files unchanged) and the process start.
read -r STATUSES START < <("$BIN/statfloor" -start "$BIN/meshc" overlays golden)

# Parallelism never shows in the output: a cold build on one core (into
# folders of its own) is byte-identical to the one above.
GOMAXPROCS=1 "$BIN/meshc" build --clusters clusters --out serial/overlays --golden serial/golden >/dev/null
SERIAL=identical
diff -r golden serial/golden >/dev/null && diff -r overlays serial/overlays >/dev/null || SERIAL=DIFFERENT
rm -rf serial

BYTES_IN=$(cat clusters/* | wc -c)
BYTES_OUT=$(find overlays golden -type f -exec cat {} + | wc -c)
FILES_OUT=$(find overlays golden -type f | wc -l)

USUAL=
if [ -z "${SKIP_USUAL:-}" ]; then
	USUAL=1
	cp "$ROOT"/cue/*.cue "$WORK/"
	# One process per cluster file, as CI scripts and Argo CD's repo-server
	# do; output goes to files, as it would in CI.
	mkdir -p usual
	settle cue
	measure cue sh -c 'for f in clusters/cluster-*.yaml; do "$0" vet -c -d "#Cluster" cluster.cue common.cue "$f" || exit 1; done' "$BIN/cue"
	settle kust
	measure kust sh -c 'for d in overlays/cluster-*/; do c=$(basename "$d"); "$0" build "$d" >usual/$c.yaml || exit 1; done' "$BIN/kustomize"
	# Sanity: the usual render yields the same bytes as meshc's golden files
	# (same kustomize API major version); report, do not fail, on a mismatch.
	SAME=$(for g in golden/cluster-*.yaml; do cmp -s "$g" "usual/$(basename "$g")" && echo same || echo differs; done | sort | uniq -c | tr '\n' ' ')
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) b = 0.005; printf "%.2f", a / b }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

echo
echo "mesh: $N clusters x $K namespaces${UNIQUE:+ (unique: no entry repeats)}${ENGINE:+ (engine: $ENGINE)}; input $(mib $((BYTES_IN / 1024))) MiB, output $FILES_OUT files, $(mib $((BYTES_OUT / 1024))) MiB; $(nproc) cores; $(go version | cut -d' ' -f3)"
printf '%-34s %9s %10s\n' step "wall s" "peak MiB"
row() { printf '%-34s %9s %10s\n' "$1" "${WALL[$2]}" "$(mib "${RSS[$2]}")"; }
row "meshc build (cold)" build
row "meshc build (cold, $N10 clusters)" small
row "meshc check (nothing changed)" check
row "cat all input+output (floor)" floor
row "meshc build (1 edit, median of 5)" rebuild
echo "  (the five rebuilds: $REBUILD_ALL s)"
echo "  (its floor: process start $START s (meshc version, median of 5) + a status call per output file $STATUSES s, $(nproc) goroutines)"
row "meshc check (after rebuild)" recheck
if [ -n "$USUAL" ]; then
	row "cue vet -c, per cluster file" cue
	row "kustomize build, per overlay" kust
	USUAL_WALL=$(awk -v a="${WALL[cue]}" -v b="${WALL[kust]}" 'BEGIN { printf "%.2f", a + b }')
	printf '%-34s %9s\n' "usual pipeline (cue + kustomize)" "$USUAL_WALL"
	echo "usual render vs golden: $SAME"
fi
echo "disk probe before each step that writes (2,000 atomic file writes, s): $(for k in build small check cue kust; do [ -n "${PROBE[$k]:-}" ] && printf '%s %s; ' "$k" "${PROBE[$k]}"; done)"
echo
echo "ratios:"
if [ -n "$USUAL" ]; then
	echo "  usual / meshc build     = $(ratio "$USUAL_WALL" "${WALL[build]}")x   (target >= 50 at 1000x50)"
	echo "  meshc build / usual     = $(ratio "${WALL[build]}" "$USUAL_WALL")"
fi
echo "  check / floor           = $(ratio "${WALL[check]}" "${WALL[floor]}")x   (target <= 5)"
echo "  cold build, $N vs $N10 clusters = $(ratio "${WALL[build]}" "${WALL[small]}")x   (target <= 11)"
echo "  parallelism 1 output    = $SERIAL to the parallel build's"
echo "  rebuild / cold build    = $(awk -v a="${WALL[rebuild]}" -v b="${WALL[build]}" 'BEGIN { printf "%.4f", a / b }')  (target < 0.02)"
echo "  rebuild floor / cold    = $(awk -v a="$START" -v s="$STATUSES" -v b="${WALL[build]}" 'BEGIN { printf "%.4f", (a + s) / b }')  (start + statuses, not overlapped)"
echo "  peak RSS, meshc build   = $(mib "${RSS[build]}") MiB   (target < 1024)"
echo "(/usr/bin/time has 10 ms resolution; a 0.00 s floor is counted as 0.005 s)"
