# meshc's tasks. `make test` is what CI runs (.ci/run).
GO ?= go

.PHONY: all build test unit check golden fmt vet cross go-install bench fuzz e2e

all: build

# Static (CGO_ENABLED=0), as the README installs it (see why there).
build:
	CGO_ENABLED=0 $(GO) build -o meshc ./cmd/meshc

# The whole test suite: formatting and vet (also as on Windows and macOS),
# the binary for every platform meshc ships for, every Go test (including
# the CLI scripts and the kubectl kustomize cross-check), the CI gate on
# the committed example meshes, go install from a module proxy, the
# end-to-end apply against a real kube-apiserver, and the chart render
# check (Istio's charts rendered with meshc's values, every value's effect
# asserted; e2e/README.md).
test: vet cross unit check go-install e2e

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
# Its last phase renders Istio's charts from ../shared/charts (e2e/charts).
e2e:
	bash e2e/run.sh

# meshc runs where platform engineers work: build it for each, so a
# Linux-only system call never lands again.
PLATFORMS ?= darwin/arm64 darwin/amd64 windows/amd64 linux/arm64 linux/amd64
cross:
	@set -e; for p in $(PLATFORMS); do \
		echo "GOOS=$${p%/*} GOARCH=$${p#*/} go build ./cmd/meshc"; \
		GOOS=$${p%/*} GOARCH=$${p#*/} CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/meshc; \
	done

# go install github.com/golemtrust/meshc/cmd/meshc@<version> gives a
# binary that needs nothing of the repository (.ci/go-install.sh).
go-install:
	bash .ci/go-install.sh

fmt:
	gofmt -w $$(git ls-files '*.go')

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	GOOS=windows $(GO) vet ./...
	GOOS=darwin $(GO) vet ./...

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
