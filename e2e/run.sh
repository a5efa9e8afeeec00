#!/usr/bin/env bash
# meshc end-to-end harness: applies what meshc wrote to a real Kubernetes API
# server (kube-apiserver + etcd built from source, bound to 127.0.0.1) with
# the CRDs of Istio, Flux and Argo CD installed. See e2e/README.md.
#
#   bash e2e/run.sh [DIR...]
#
# Each DIR (default: the repository root) is searched for meshes: DIR itself
# and every DIR/examples/*/ that has clusters/mesh.cue or clusters/mesh.yaml
# and an overlays/ folder.
#
# Environment: E2E_CACHE (default <repo>/.cache/e2e) holds the built servers;
# E2E_KEEP=1 keeps the temporary folder (logs, kubeconfig) after the run;
# E2E_HOLD=SECONDS keeps the servers up that long at the end, for poking;
# E2E_<NAME> overrides a version of e2e/versions.env.
set -euo pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$E2E_DIR/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=versions.env
source "$E2E_DIR/versions.env"
for v in K8S_VERSION ETCD_VERSION ISTIO_API_VERSION ISTIO_OPERATOR_CRD_VERSION \
	FLUX_SOURCE_CONTROLLER_VERSION FLUX_KUSTOMIZE_CONTROLLER_VERSION \
	FLUX_HELM_CONTROLLER_VERSION ARGOCD_VERSION; do
	o="E2E_$v"
	if [[ -n ${!o:-} ]]; then printf -v "$v" '%s' "${!o}"; fi
done
CACHE=${E2E_CACHE:-$REPO/.cache/e2e}
FIELD_MANAGER=meshc-e2e
# Namespaces a cluster has before meshc's objects arrive: Kubernetes' own and
# the GitOps engine's (flux-system, argocd).
PREEXISTING_NAMESPACES=default,kube-system,kube-public,kube-node-lease,flux-system,argocd

PASSED=0
FAILED=0
WORK=""
ETCD_PID=""
API_PID=""
HOLD_PID=""
T0=$SECONDS

# fd 3: the run's own stdout, also from inside a redirected function (a trap
# can fire there).
exec 3>&1
log() { printf '%s\n' "$*" >&2; }
elapsed() { printf '%ds' $((SECONDS - T0)); }

SUMMARY_DONE=""
summary() {
	SUMMARY_DONE=1
	printf 'e2e: %d passed, %d failed\n' "$PASSED" "$FAILED" >&3
}

# die MESSAGE [FILE]: a failure the run cannot go on after.
die() {
	{
		printf 'FAIL %s\n' "$1"
		if [[ -n ${2:-} && -s ${2:-} ]]; then cut -c 1-400 "$2" | sed -e 's/^/     | /' | tail -n 60 || true; fi
	} >&3
	FAILED=$((FAILED + 1))
	summary
	exit 1
}

pass() {
	PASSED=$((PASSED + 1))
	if [[ -n ${1:-} ]]; then printf 'ok   %s\n' "$1"; fi
}

# fail MESSAGE [FILE]: prints the failure and the server's (or tool's) words.
fail() {
	FAILED=$((FAILED + 1))
	printf 'FAIL %s\n' "$1"
	if [[ -n ${2:-} && -s ${2:-} ]]; then cut -c 1-400 "$2" | sed -e 's/^/     | /' | head -n 80 || true; fi
}

stop_pid() {
	local pid=$1 i
	[[ -n $pid ]] || return 0
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [[ -z $SUMMARY_DONE ]]; then
		# stopped by a signal or by a command that failed unexpectedly
		printf 'FAIL the harness stopped (exit status %d)\n' "$rc" >&3
		FAILED=$((FAILED + 1))
		summary
		((rc != 0)) || rc=1
	fi
	stop_pid "$HOLD_PID"
	stop_pid "$API_PID"
	stop_pid "$ETCD_PID"
	if [[ -n $WORK && -d $WORK ]]; then
		if [[ ${E2E_KEEP:-} == 1 ]]; then
			log "e2e: kept $WORK"
		else
			rm -rf "$WORK"
		fi
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

need() {
	command -v "$1" >/dev/null 2>&1 || die "$1 is needed and not on PATH${2:+ ($2)}"
}
need go
need kubectl "kubectl >= 1.27"
need openssl "Debian: apt-get install openssl"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/meshc-e2e.XXXXXX")
mkdir -p "$WORK/tmp"

# kubectl against the test server only, never the user's kubeconfig, and
# its discovery cache in the temporary folder, not in ~/.kube.
export KUBECONFIG="$WORK/kubeconfig"
export KUBECACHEDIR="$WORK/kube-cache"
k() { kubectl --request-timeout=120s --cache-dir "$KUBECACHEDIR" "$@"; }

# --- the servers' binaries -------------------------------------------------

gomod_version() { # MODULE: its version as required by e2e/apiserver/go.mod
	awk -v m="$1" '$1 == m && $2 ~ /^v/ { print $2; exit }' "$E2E_DIR/apiserver/go.mod"
}
[[ $(gomod_version k8s.io/kubernetes) == "$K8S_VERSION" ]] ||
	die "e2e/apiserver/go.mod requires k8s.io/kubernetes $(gomod_version k8s.io/kubernetes), versions.env says $K8S_VERSION"
[[ $(gomod_version go.etcd.io/etcd/server/v3) == "$ETCD_VERSION" ]] ||
	die "e2e/apiserver/go.mod requires go.etcd.io/etcd/server/v3 $(gomod_version go.etcd.io/etcd/server/v3), versions.env says $ETCD_VERSION"

APISERVER_BIN=$CACHE/k8s-$K8S_VERSION/kube-apiserver
ETCD_BIN=$CACHE/etcd-$ETCD_VERSION/etcd

gobuild() { # OUT PACKAGE LDFLAGS
	local out=$1 pkg=$2 ldflags=$3 tmp
	mkdir -p "$(dirname "$out")"
	tmp="$out.tmp.$$"
	if ! (cd "$E2E_DIR/apiserver" &&
		GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0 \
			go build -trimpath -ldflags "$ldflags" -o "$tmp" "$pkg") >"$WORK/build.log" 2>&1; then
		rm -f "$tmp"
		die "go build $pkg" "$WORK/build.log"
	fi
	mv -f "$tmp" "$out"
}

K8S_MINOR=${K8S_VERSION#v*.}
K8S_MINOR=${K8S_MINOR%%.*}
K8S_MAJOR=${K8S_VERSION#v}
K8S_MAJOR=${K8S_MAJOR%%.*}
if [[ ! -x $APISERVER_BIN ]]; then
	log "e2e: building kube-apiserver $K8S_VERSION from source (a few minutes, once; cached in $CACHE)"
	t=$SECONDS
	gobuild "$APISERVER_BIN" k8s.io/kubernetes/cmd/kube-apiserver \
		"-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=$K8S_MAJOR -X k8s.io/component-base/version.gitMinor=$K8S_MINOR -X k8s.io/component-base/version.gitTreeState=clean"
	log "e2e: built kube-apiserver in $((SECONDS - t))s"
fi
if [[ ! -x $ETCD_BIN ]]; then
	log "e2e: building etcd $ETCD_VERSION from source"
	t=$SECONDS
	gobuild "$ETCD_BIN" go.etcd.io/etcd/server/v3 "-s -w"
	log "e2e: built etcd in $((SECONDS - t))s"
fi
CHECK_BIN=$WORK/e2echeck
gobuild "$CHECK_BIN" ./cmd/e2echeck ""
check() { "$CHECK_BIN" "$@"; }

# --- CRDs from Go modules ---------------------------------------------------

# moddir MODULE VERSION: sets MODDIR to the module's folder in the module
# cache, downloading it through the proxy when needed.
moddir() {
	local dir
	if ! (cd "$WORK/tmp" && GOWORK=off GOFLAGS="" go mod download -json "$1@$2") >"$WORK/moddl.json" 2>&1; then
		die "go mod download $1@$2" "$WORK/moddl.json"
	fi
	dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p' "$WORK/moddl.json")
	[[ -n $dir && -d $dir ]] || die "go mod download $1@$2 gave no folder" "$WORK/moddl.json"
	MODDIR=$dir
}

log "e2e: fetching CRDs through the Go module proxy"
CRD_FILES=()
moddir istio.io/api "$ISTIO_API_VERSION"
CRD_FILES+=("$MODDIR/kubernetes/customresourcedefinitions.gen.yaml")
moddir istio.io/istio "$ISTIO_OPERATOR_CRD_VERSION"
CRD_FILES+=("$MODDIR/manifests/charts/istio-operator/crds/crd-operator.yaml")
moddir github.com/fluxcd/source-controller "$FLUX_SOURCE_CONTROLLER_VERSION"
CRD_FILES+=("$MODDIR"/config/crd/bases/*.yaml)
moddir github.com/fluxcd/kustomize-controller "$FLUX_KUSTOMIZE_CONTROLLER_VERSION"
CRD_FILES+=("$MODDIR"/config/crd/bases/*.yaml)
moddir github.com/fluxcd/helm-controller "$FLUX_HELM_CONTROLLER_VERSION"
CRD_FILES+=("$MODDIR"/config/crd/bases/*.yaml)
moddir github.com/argoproj/argo-cd/v3 "$ARGOCD_VERSION"
CRD_FILES+=("$MODDIR"/manifests/crds/*-crd.yaml)
for f in "${CRD_FILES[@]}"; do
	[[ -s $f ]] || die "CRD file missing: $f"
done

# --- meshes to check ---------------------------------------------------------

ROOTS=("$@")
if [[ ${#ROOTS[@]} -eq 0 ]]; then ROOTS=("$REPO"); fi
MESHES=()
MESH_ROOTS=() # the DIR each mesh was found in (its repository root)
for r in "${ROOTS[@]}"; do
	[[ -d $r ]] || die "no such folder: $r"
	r=$(cd "$r" && pwd)
	for m in "$r" "$r"/examples/*/; do
		m=${m%/}
		[[ -d $m/overlays ]] || continue
		[[ -f $m/clusters/mesh.cue || -f $m/clusters/mesh.yaml ]] || continue
		MESHES+=("$m")
		MESH_ROOTS+=("$r")
	done
done
[[ ${#MESHES[@]} -gt 0 ]] ||
	die "no mesh found in ${ROOTS[*]} (a folder with clusters/mesh.cue or clusters/mesh.yaml and overlays/, or examples/*/ such folders); run meshc build first"

# --- the servers ---------------------------------------------------------------

declare -A USED_PORTS=()
# free_port VAR: sets VAR to a port nothing listens on at 127.0.0.1.
free_port() {
	local p i
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		[[ -z ${USED_PORTS[$p]:-} ]] || continue
		if ! (: <"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			USED_PORTS[$p]=1
			printf -v "$1" '%s' "$p"
			return 0
		fi
	done
	die "no free port found on 127.0.0.1"
}

log "e2e: generating certificates and keys"
PKI=$WORK/pki
mkdir -p "$PKI"
(
	cd "$PKI"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout ca.key -out ca.crt -days 2 -subj "/CN=meshc-e2e-ca"
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver"
	printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
		"keyUsage=digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >ext.cnf
	openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
		-out apiserver.crt -days 2 -extfile ext.cnf
	openssl genrsa -out sa.key 2048
	openssl rsa -in sa.key -pubout -out sa.pub
) >"$WORK/openssl.log" 2>&1 || die "openssl" "$WORK/openssl.log"
TOKEN=$(openssl rand -hex 24)
printf '%s,meshc-e2e,meshc-e2e,"system:masters"\n' "$TOKEN" >"$PKI/tokens.csv"
chmod 600 "$PKI"/*.key "$PKI/tokens.csv"

write_kubeconfig() {
	rm -f "$KUBECONFIG"
	{
		kubectl config set-cluster e2e --server "https://127.0.0.1:$API_PORT" \
			--certificate-authority "$PKI/ca.crt" --embed-certs=true
		kubectl config set-credentials meshc-e2e --token "$TOKEN"
		kubectl config set-context e2e --cluster e2e --user meshc-e2e
		kubectl config use-context e2e
	} >/dev/null
}

# start_servers: 0 when both serve; 1 when a port was taken in between (the
# caller tries again with other ports); dies on any other trouble.
start_servers() {
	local i
	free_port ETCD_PORT
	free_port ETCD_PEER_PORT
	free_port API_PORT
	write_kubeconfig
	rm -rf "$WORK/etcd"
	"$ETCD_BIN" --name e2e --data-dir "$WORK/etcd" \
		--listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
		--advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
		--listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-cluster "e2e=http://127.0.0.1:$ETCD_PEER_PORT" \
		--unsafe-no-fsync --log-level warn >"$WORK/etcd.log" 2>&1 &
	ETCD_PID=$!
	for ((i = 0; ; i++)); do
		if ! kill -0 "$ETCD_PID" 2>/dev/null; then
			wait "$ETCD_PID" 2>/dev/null || true
			ETCD_PID=""
			grep -q "address already in use" "$WORK/etcd.log" && return 1
			die "etcd exited" "$WORK/etcd.log"
		fi
		(: <"/dev/tcp/127.0.0.1/$ETCD_PORT") 2>/dev/null && break
		((i < 300)) || die "etcd not listening after 30s" "$WORK/etcd.log"
		sleep 0.1
	done
	"$APISERVER_BIN" \
		--bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" \
		--etcd-servers "http://127.0.0.1:$ETCD_PORT" \
		--tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
		--token-auth-file "$PKI/tokens.csv" \
		--authorization-mode RBAC \
		--service-account-issuer https://kubernetes.default.svc.cluster.local \
		--service-account-key-file "$PKI/sa.pub" \
		--service-account-signing-key-file "$PKI/sa.key" \
		--service-cluster-ip-range 10.96.0.0/16 \
		--endpoint-reconciler-type none \
		--disable-admission-plugins NamespaceLifecycle \
		--profiling=false \
		>"$WORK/kube-apiserver.log" 2>&1 &
	API_PID=$!
	for ((i = 0; ; i++)); do
		if ! kill -0 "$API_PID" 2>/dev/null; then
			wait "$API_PID" 2>/dev/null || true
			API_PID=""
			stop_pid "$ETCD_PID"
			ETCD_PID=""
			grep -q "address already in use" "$WORK/kube-apiserver.log" && return 1
			die "kube-apiserver exited" "$WORK/kube-apiserver.log"
		fi
		[[ $(kubectl --request-timeout=5s --cache-dir "$KUBECACHEDIR" get --raw /readyz 2>/dev/null) == ok ]] && return 0
		((i < 1200)) || die "kube-apiserver not ready after 5 minutes" "$WORK/kube-apiserver.log"
		sleep 0.25
	done
}

log "e2e: starting etcd and kube-apiserver on 127.0.0.1"
t=$SECONDS
started=""
for _ in 1 2 3; do
	if start_servers; then
		started=1
		break
	fi
	log "e2e: a port was taken meanwhile, trying others"
done
[[ -n $started ]] || die "could not start the servers on free ports" "$WORK/kube-apiserver.log"
server_version=$(k version 2>/dev/null | sed -n 's/^Server Version: //p')
if [[ $server_version == "$K8S_VERSION" ]]; then
	pass "kube-apiserver $server_version and etcd $ETCD_VERSION ready on 127.0.0.1:$API_PORT in $((SECONDS - t))s"
else
	die "kube-apiserver reports version '$server_version', want $K8S_VERSION"
fi

# --- CRDs ----------------------------------------------------------------------

t=$SECONDS
for f in "${CRD_FILES[@]}"; do
	k apply --server-side --field-manager "$FIELD_MANAGER" -f "$f" >"$WORK/crd.log" 2>&1 ||
		die "installing CRDs from $f" "$WORK/crd.log"
done
# kubectl wait trips over a CRD that has no conditions yet, so poll.
for ((i = 0; ; i++)); do
	k get crd -o go-template='{{range .items}}{{.metadata.name}} {{range .status.conditions}}{{if eq .type "Established"}}{{.status}}{{end}}{{end}}{{"\n"}}{{end}}' \
		>"$WORK/crd.log" 2>&1 || die "listing CRDs" "$WORK/crd.log"
	awk '$2 != "True"' "$WORK/crd.log" >"$WORK/crd-pending.log"
	[[ -s $WORK/crd-pending.log ]] || break
	((i < 240)) || die "CRDs not Established after 2 minutes" "$WORK/crd-pending.log"
	sleep 0.5
done
crd_count=$(k get crd --no-headers 2>/dev/null | wc -l)
for crd in peerauthentications.security.istio.io authorizationpolicies.security.istio.io \
	gateways.networking.istio.io istiooperators.install.istio.io \
	gitrepositories.source.toolkit.fluxcd.io helmrepositories.source.toolkit.fluxcd.io \
	kustomizations.kustomize.toolkit.fluxcd.io helmreleases.helm.toolkit.fluxcd.io \
	applications.argoproj.io; do
	k get crd "$crd" >/dev/null 2>&1 || die "CRD $crd not installed"
done
pass "$crd_count CRDs Established in $((SECONDS - t))s (istio.io/api $ISTIO_API_VERSION, IstioOperator from istio.io/istio $ISTIO_OPERATOR_CRD_VERSION, source-controller $FLUX_SOURCE_CONTROLLER_VERSION, kustomize-controller $FLUX_KUSTOMIZE_CONTROLLER_VERSION, helm-controller $FLUX_HELM_CONTROLLER_VERSION, argo-cd $ARGOCD_VERSION)"

APPLY=(apply --server-side --field-manager "$FIELD_MANAGER" --validate=strict)

# --- negative controls: the server must reject each ------------------------------

for f in "$E2E_DIR"/negative/*.yaml; do
	name=negative/$(basename "$f")
	expect=$(sed -n 's/^# expect: //p' "$f" | head -n 1)
	out=$WORK/negative.out
	if k "${APPLY[@]}" --dry-run=server -f "$f" >"$out" 2>&1; then
		fail "$name was accepted; the server must reject it" "$out"
	elif [[ -n $expect ]] && ! grep -qF -- "$expect" "$out"; then
		fail "$name was rejected, but not with \"$expect\"" "$out"
	else
		pass "$name rejected: ${expect:-$(head -n 1 "$out")}"
	fi
done

# --- meshes ------------------------------------------------------------------------

relpath() { # a path as the user knows it: relative to the repository when inside it
	case $1 in
	"$REPO") printf '.\n' ;;
	"$REPO"/*) printf '%s\n' "${1#"$REPO"/}" ;;
	*) printf '%s\n' "$1" ;;
	esac
}

has_kustomization() {
	[[ -f $1/kustomization.yaml || -f $1/kustomization.yml || -f $1/Kustomization ]]
}

# build_to DIR OUT: what a GitOps engine would apply from DIR: its kustomize
# build, or for a plain folder (Argo CD's directory source) or a file, the
# YAML documents in it.
build_to() {
	local dir=$1 out=$2 f
	if [[ -d $dir ]] && has_kustomization "$dir"; then
		k kustomize "$dir" >"$out" 2>"$out.err" || {
			cat "$out.err" >"$out"
			return 1
		}
		BUILD_MODE=kustomize
	elif [[ -d $dir ]]; then
		: >"$out"
		for f in "$dir"/*.yaml "$dir"/*.yml "$dir"/*.json; do
			[[ -f $f ]] || continue
			{
				printf -- '---\n'
				cat "$f"
				printf '\n'
			} >>"$out"
		done
		BUILD_MODE=directory
	else
		cp "$dir" "$out"
		BUILD_MODE="file"
	fi
}

DIRN=0
declare -A VISITED=()
QUEUE=()

# check_dir ROLE PATH MESH ROOT [CLUSTER]
#   ROLE cluster:  a cluster overlay (overlays/<cluster>)
#        entry:    a GitOps entry point (overlays/_flux/<c>, overlays/_argocd/<c>)
#        followed: a folder an entry point's Kustomization or Application names
#        istioctl: a file holding an IstioOperator (dry-run only)
check_dir() {
	local role=$1 path=$2 mesh=$3 root=$4 cluster=${5:-}
	local label steps=() failed=() out built n rc engine obj p repo cand found where
	local built_ok="" dry_ok="" applied="" apply_ok=""
	label=$(relpath "$path")
	DIRN=$((DIRN + 1))
	out=$WORK/dirs/$DIRN
	mkdir -p "$out"
	built=$out/built.yaml
	: >"$out/fail.txt"
	step_ok() {
		PASSED=$((PASSED + 1))
		steps+=("$1")
	}
	step_fail() { # STEP MESSAGE [FILE]
		FAILED=$((FAILED + 1))
		failed+=("$1")
		{
			printf '     %s: %s\n' "$1" "$2"
			if [[ -n ${3:-} && -s ${3:-} ]]; then cut -c 1-400 "$3" | sed -e 's/^/     | /' | head -n 80 || true; fi
		} >>"$out/fail.txt"
	}

	BUILD_MODE=""
	n=0
	if [[ $role == cluster ]] && ! has_kustomization "$path"; then
		step_fail build "has no kustomization.yaml: a cluster overlay must build with plain kustomize"
	elif ! build_to "$path" "$built"; then
		step_fail build "does not build" "$built"
	else
		if ! check objects "$built" >"$out/objects.txt" 2>&1; then
			step_fail build "is not valid YAML" "$out/objects.txt"
		elif n=$(wc -l <"$out/objects.txt") && ((n == 0)); then
			step_fail build "builds to no objects"
		else
			step_ok build
			built_ok=1
		fi
	fi

	if [[ -n $built_ok ]] && [[ $role == cluster || $role == entry ]]; then
		if check namespaces "$built" "$PREEXISTING_NAMESPACES" >"$out/ns.txt" 2>&1; then
			step_ok namespaces
		else
			step_fail namespaces "an object lives in a namespace nothing creates" "$out/ns.txt"
		fi
	fi

	if [[ -n $built_ok && $role == cluster && -f $mesh/golden/$cluster.yaml ]]; then
		if check same "$mesh/golden/$cluster.yaml" "$built" "golden/$cluster.yaml" "kubectl kustomize" >"$out/golden.txt" 2>&1; then
			step_ok golden
		else
			step_fail golden "golden/$cluster.yaml and kubectl kustomize differ in objects" "$out/golden.txt"
		fi
	fi

	if [[ -n $built_ok ]]; then
		if k "${APPLY[@]}" --dry-run=server -f "$built" >"$out/dry-run.txt" 2>&1; then
			step_ok dry-run
			dry_ok=1
		else
			grep -v ' serverside-applied (server dry run)$' "$out/dry-run.txt" >"$out/dry-run.err" || true
			step_fail dry-run "the server rejected it" "$out/dry-run.err"
		fi
	fi

	if [[ -n $dry_ok && $role != istioctl ]]; then
		applied=1
		if k "${APPLY[@]}" -f "$built" >"$out/apply.txt" 2>&1; then
			step_ok apply
			apply_ok=1
		else
			grep -v ' serverside-applied$' "$out/apply.txt" >"$out/apply.err" || true
			step_fail apply "the server rejected it" "$out/apply.err"
		fi
	fi

	if [[ -n $apply_ok ]]; then
		if k get -f "$built" -o json >"$out/live.json" 2>"$out/get.txt" &&
			check readback "$built" "$out/live.json" >"$out/readback.txt" 2>&1; then
			step_ok read-back
		else
			cat "$out/get.txt" >>"$out/readback.txt"
			step_fail read-back "the server does not hold what was applied" "$out/readback.txt"
		fi
	fi

	if [[ -n $apply_ok ]]; then
		rc=0
		k diff --server-side --field-manager "$FIELD_MANAGER" -f "$built" >"$out/diff.txt" 2>&1 || rc=$?
		if ((rc != 0)); then
			step_fail no-drift "kubectl diff --server-side exits $rc after applying (1: it would change something)" "$out/diff.txt"
		else
			# The second apply may still write once: the API server stores
			# status defaults of CRDs (Flux's observedGeneration: -1) and adds a
			# before-first-apply manager to objects whose applied fields are
			# only their name. From then on, applying again must change nothing.
			if k "${APPLY[@]}" -f "$built" >"$out/again.txt" 2>&1 &&
				k get -f "$built" -o json --show-managed-fields >"$out/before.json" 2>>"$out/again.txt" &&
				k "${APPLY[@]}" -f "$built" >>"$out/again.txt" 2>&1 &&
				k get -f "$built" -o json --show-managed-fields >"$out/after.json" 2>>"$out/again.txt"; then
				if check changed "$out/before.json" "$out/after.json" >"$out/changed.txt" 2>&1; then
					step_ok no-drift
				else
					step_fail no-drift "applying the same objects again changed them" "$out/changed.txt"
				fi
			else
				step_fail no-drift "applying again failed" "$out/again.txt"
			fi
		fi
	fi

	# Clusters of a mesh share this server: remove what was applied before the
	# next folder. No namespace controller runs here, so the harness itself
	# finalizes the namespaces it deleted (their objects are deleted first).
	if [[ -n $applied ]]; then
		if delete_built "$built" "$out"; then
			step_ok delete
		else
			step_fail delete "could not remove what was applied" "$out/delete.txt"
		fi
	fi

	# Folders that the entry point's Kustomizations and Applications apply.
	if [[ -n $built_ok ]] && [[ $role == entry || $role == followed ]]; then
		if check paths "$built" >"$out/paths.txt" 2>&1; then
			: >"$out/paths-bad.txt"
			while IFS=$'\t' read -r engine obj p repo; do
				[[ -n $engine ]] || continue
				p=${p#./}
				found=""
				for cand in "$mesh/$p" "$root/$p"; do
					if [[ -e $cand ]]; then
						found=$(cd "$(dirname "$cand")" && printf '%s/%s' "$(pwd)" "$(basename "$cand")")
						break
					fi
				done
				if [[ -z $found ]]; then
					where=$(relpath "$mesh")
					[[ $root == "$mesh" ]] || where="$where nor under $(relpath "$root")"
					printf '%s %s points at %s (repoURL %s), which is not under %s\n' \
						"$engine" "$obj" "$p" "$repo" "$where" >>"$out/paths-bad.txt"
				elif [[ -z ${VISITED[$found]:-} ]]; then
					VISITED[$found]=1
					QUEUE+=("followed"$'\t'"$found"$'\t'"$mesh"$'\t'"$root"$'\t'"")
				fi
			done <"$out/paths.txt"
			if [[ -s $out/paths-bad.txt ]]; then
				step_fail paths "a path an engine would apply does not exist" "$out/paths-bad.txt"
			elif [[ -s $out/paths.txt ]]; then
				step_ok paths
			fi
		else
			step_fail paths "could not read the paths" "$out/paths.txt"
		fi
	fi

	if ((${#failed[@]} == 0)); then
		printf 'ok   %s (%s %s, %d objects): %s\n' "$label" "$role" "$BUILD_MODE" "$n" "${steps[*]}"
	else
		printf 'FAIL %s (%s %s, %d objects): %s failed%s\n' "$label" "$role" "$BUILD_MODE" "$n" \
			"${failed[*]}" "${steps[*]:+; passed: ${steps[*]}}"
		cat "$out/fail.txt"
	fi
}

# delete_built FILE OUTDIR
delete_built() {
	local built=$1 out=$2 ns
	: >"$out/delete.txt"
	k delete -f "$built" --ignore-not-found --wait=false >>"$out/delete.txt" 2>&1 || return 1
	for ns in $(check objects "$built" | awk -F'\t' '$1 == "v1" && $2 == "Namespace" { print $4 }'); do
		k get namespace "$ns" >/dev/null 2>&1 || continue
		printf '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"%s"},"spec":{"finalizers":[]}}\n' "$ns" |
			k replace --raw "/api/v1/namespaces/$ns/finalize" -f - >/dev/null 2>>"$out/delete.txt" || return 1
	done
	k wait --for=delete -f "$built" --timeout=60s >>"$out/delete.txt" 2>&1 || return 1
}

run_queue() {
	local item role path mesh root cluster
	while ((${#QUEUE[@]} > 0)); do
		item=${QUEUE[0]}
		QUEUE=("${QUEUE[@]:1}")
		IFS=$'\t' read -r role path mesh root cluster <<<"$item"
		check_dir "$role" "$path" "$mesh" "$root" "$cluster"
	done
}

for i in "${!MESHES[@]}"; do
	mesh=${MESHES[$i]}
	root=${MESH_ROOTS[$i]}
	log "e2e: mesh $(relpath "$mesh")"
	clusters=0
	for d in "$mesh"/overlays/*/; do
		d=${d%/}
		c=$(basename "$d")
		[[ $c == _* ]] && continue
		clusters=$((clusters + 1))
		VISITED[$d]=1
		QUEUE+=("cluster"$'\t'"$d"$'\t'"$mesh"$'\t'"$root"$'\t'"$c")
		for engine in _flux _argocd; do
			e=$mesh/overlays/$engine/$c
			if [[ -d $e ]]; then
				VISITED[$e]=1
				QUEUE+=("entry"$'\t'"$e"$'\t'"$mesh"$'\t'"$root"$'\t'"$c")
			fi
		done
		run_queue
	done
	if ((clusters == 0)); then
		fail "$(relpath "$mesh")/overlays holds no cluster overlay"
	fi
	# Entry points of a cluster without an overlay are checked too.
	for e in "$mesh"/overlays/_flux/*/ "$mesh"/overlays/_argocd/*/; do
		e=${e%/}
		[[ -d $e && -z ${VISITED[$e]:-} ]] || continue
		VISITED[$e]=1
		QUEUE+=("entry"$'\t'"$e"$'\t'"$mesh"$'\t'"$root"$'\t'"$(basename "$e")")
	done
	run_queue
	# IstioOperator files (istioctl install -f), wherever meshc put them.
	while IFS= read -r f; do
		[[ -n $f ]] || continue
		QUEUE+=("istioctl"$'\t'"$f"$'\t'"$mesh"$'\t'"$root"$'\t'"")
	done < <(grep -rlE --include='*.yaml' --include='*.yml' '^kind:[[:space:]]*IstioOperator[[:space:]]*$' "$mesh"/overlays/_*/ 2>/dev/null | sort)
	run_queue
done

# --- the chart render check (e2e/charts) --------------------------------------------

# Istio's published charts rendered with meshc's values as helm-controller
# and Argo CD would render them, every value's effect asserted
# (e2e/charts), then the rendered objects dry-run against this server with
# the CRDs of their version's base chart. Without the charts it says so,
# and fails under CI=true.
CHARTS_DIR=${E2E_CHARTS:-$REPO/../shared/charts/istio}
chart_check() {
	local t=$SECONDS root out line p f v ns file n label crds names i
	log "e2e: chart render check (charts from $CHARTS_DIR)"
	if ! (cd "$E2E_DIR/charts" && GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0 \
		go build -trimpath -o "$WORK/chartcheck" .) >"$WORK/chartcheck-build.log" 2>&1; then
		fail "go build e2e/charts" "$WORK/chartcheck-build.log"
		return
	fi
	if ! (cd "$E2E_DIR/charts" && GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false" E2E_CHARTS="$CHARTS_DIR" \
		go test -count=1 .) >"$WORK/chartcheck-test.log" 2>&1; then
		fail "go test e2e/charts (the check's own tests)" "$WORK/chartcheck-test.log"
	else
		pass "go test e2e/charts: the post-render rejects duplicate keys, unproven values fail, unknown versions fail"
	fi
	for root in "${ROOTS[@]}"; do
		root=$(cd "$root" && pwd)
		out=$WORK/charts/$(printf '%s' "$root" | cksum | cut -d' ' -f1)
		mkdir -p "$out"
		"$WORK/chartcheck" -charts "$CHARTS_DIR" -out "$out" "$root" >"$out/report.txt" 2>&1 || true
		log "e2e: rendered and checked the charts of $(relpath "$root") in $((SECONDS - t))s"
		while IFS= read -r line; do
			if [[ $line =~ ^charts:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
				PASSED=$((PASSED + BASH_REMATCH[1]))
				FAILED=$((FAILED + BASH_REMATCH[2]))
			else
				printf '%s\n' "$line"
			fi
		done <"$out/report.txt"
		if ! grep -qE '^charts: [0-9]+ passed' "$out/report.txt"; then
			grep -q '^SKIP ' "$out/report.txt" && continue
			fail "e2e/charts stopped without a summary" "$out/report.txt"
			continue
		fi
		[[ -s $out/index.tsv ]] || continue
		# One version at a time: its base chart's CRDs replace whatever Istio
		# CRDs the server has (deleted first: an older CRD cannot drop a
		# version a newer one stored), then its releases are dry-run.
		for v in $(cut -f1 "$out/index.tsv" | sort -u -V); do
			crds=$out/crds-$v.yaml
			names=$(k get crd -o name 2>/dev/null | grep -E '\.istio\.io$' || true)
			if [[ -n $names ]]; then
				# shellcheck disable=SC2086
				k delete $names --wait=true >"$out/crd-delete.log" 2>&1 ||
					{ fail "charts $v: removing the previous Istio CRDs" "$out/crd-delete.log"; continue; }
			fi
			if ! k apply --server-side --field-manager "$FIELD_MANAGER" -f "$crds" >"$out/crd-$v.log" 2>&1; then
				fail "charts $v: the base chart's CRDs were rejected" "$out/crd-$v.log"
				continue
			fi
			for ((i = 0; ; i++)); do
				k get -f "$crds" -o go-template='{{range .items}}{{.metadata.name}} {{range .status.conditions}}{{if eq .type "Established"}}{{.status}}{{end}}{{end}}{{"\n"}}{{end}}' \
					2>/dev/null | awk '$2 != "True"' >"$out/crd-pending.log"
				[[ -s $out/crd-pending.log ]] || break
				((i < 240)) || { fail "charts $v: CRDs not Established after 2 minutes" "$out/crd-pending.log"; continue 2; }
				sleep 0.5
			done
			n=$(grep -c '^kind: CustomResourceDefinition' "$crds" || true)
			log "e2e: charts $v: $n CRDs of its base chart Established after $((SECONDS - t))s"
			while IFS=$'\t' read -r _ ns file objs label; do
				if k "${APPLY[@]}" --dry-run=server -n "$ns" -f "$file" >"$file.out" 2>&1; then
					pass "charts dry-run $label: $objs objects accepted (with the $n CRDs of base $v)"
				else
					grep -v ' serverside-applied (server dry run)$' "$file.out" >"$file.err" || true
					fail "charts dry-run $label: the server rejected the rendered objects" "$file.err"
				fi
			done < <(awk -F'\t' -v v="$v" '$1 == v' "$out/index.tsv")
		done
	done
	log "e2e: chart render check took $((SECONDS - t))s"
}
chart_check

log "e2e: finished in $(elapsed)"
summary
if [[ ${E2E_HOLD:-0} -gt 0 ]]; then
	log "e2e: servers stay up for ${E2E_HOLD}s (or until interrupted): KUBECONFIG=$KUBECONFIG"
	sleep "$E2E_HOLD" &
	HOLD_PID=$!
	wait "$HOLD_PID" || true
fi
((FAILED == 0))
