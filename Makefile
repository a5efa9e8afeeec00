# meshc's tasks. `make test` is what CI runs (.ci/run).
GO ?= go

.PHONY: all build test unit check golden fmt vet bench fuzz e2e

all: build

build:
	$(GO) build -o meshc ./cmd/meshc

# The whole test suite: formatting and vet, every Go test (including the
# CLI scripts and the kubectl kustomize cross-check), the CI gate on the
# committed example mesh, and the end-to-end apply against a real
# kube-apiserver.
test: vet unit check e2e

unit:
	$(GO) test ./...

# The CI gate users run: fails with a diff when overlays/ or golden/ are stale.
check:
	$(GO) run ./cmd/meshc check
	@for d in examples/*/; do d=$${d%/}; [ -d "$$d/clusters" ] || continue; \
		echo "meshc check $$d"; \
		$(GO) run ./cmd/meshc check --clusters $$d/clusters --out $$d/overlays --golden $$d/golden || exit 1; \
	done

# Regenerate every golden file: the example mesh's output and the test
# scripts' expected output. Read the diff before committing it.
golden:
	$(GO) run ./cmd/meshc build
	@for d in examples/*/; do d=$${d%/}; [ -d "$$d/clusters" ] || continue; \
		$(GO) run ./cmd/meshc build --clusters $$d/clusters --out $$d/overlays --golden $$d/golden --schema $$d/schema || exit 1; \
	done
	MESHC_UPDATE=1 $(GO) test ./...

# Every example mesh applied to a real kube-apiserver and etcd on
# 127.0.0.1, built from the Go module proxy and cached in .cache/e2e
# (e2e/README.md). A cold first run builds the servers (about 5 minutes).
e2e:
	bash e2e/run.sh

fmt:
	gofmt -w $$(git ls-files '*.go')

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Stage and whole-build benchmarks on generated meshes (internal/bench),
# summarised by benchstat from the Go module proxy. See BENCHMARKS.md;
# bench/compare.sh compares meshc with the usual cue + kustomize pipeline.
bench:
	$(GO) test -run='^$$' -bench=. -benchmem -count=6 ./internal/bench/ | tee bench.txt
	@! grep -q '^FAIL' bench.txt
	$(GO) run golang.org/x/perf/cmd/benchstat@latest bench.txt

# Fuzz the parsers and the whole pipeline, each target for FUZZTIME
# (go test -fuzz runs one target at a time). Any failing input lands in
# the package's testdata/fuzz/<Target>/, and plain `go test` replays it from
# then on. FuzzCompile renders every valid input with kustomize, so it runs
# a few hundred inputs a second; give it minutes, not seconds.
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzLoad$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=20x ./internal/load
	$(GO) test -run='^$$' -fuzz='^FuzzCompile$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=20x ./internal/fuzz
