# Fovea build, test and demo entry points. `make test` is the one command
# that runs every test (CI runs exactly it); `sudo make demo` runs the demo.
SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/.bin
FOVEA := $(BIN)/fovea
HUBBLE := $(BIN)/hubble
STATICCHECK := $(BIN)/staticcheck
PROTOC_GEN_GO := $(BIN)/protoc-gen-go
PROTOC_GEN_GO_GRPC := $(BIN)/protoc-gen-go-grpc
ETCD := $(BIN)/etcd
KUBE_APISERVER := $(BIN)/kube-apiserver
OTELCOL := $(BIN)/otelcol
# Tests that run a real control plane (test/kube, test/e2e) find it here.
KUBE_ENV := ETCD_BIN=$(ETCD) KUBE_APISERVER_BIN=$(KUBE_APISERVER)
# pinned MODULE,GOMOD: the version GOMOD requires of MODULE.
pinned = $(shell awk '$$1 == "$(1)" && $$2 ~ /^v[0-9]/ { print $$2; exit }' $(2))
# A go build leaves kube-apiserver's version at v0.0.0-master; stamp the one
# tools/kube/go.mod pins, which the server reports at /version.
KUBE_VERSION := $(call pinned,k8s.io/kubernetes,tools/kube/go.mod)
KUBE_SEMVER := $(subst ., ,$(patsubst v%,%,$(KUBE_VERSION)))
KUBE_LDFLAGS := -X k8s.io/component-base/version.gitVersion=$(KUBE_VERSION) \
	-X k8s.io/component-base/version.gitMajor=$(word 1,$(KUBE_SEMVER)) -X k8s.io/component-base/version.gitMinor=$(word 2,$(KUBE_SEMVER))
# The OpenTelemetry Collector reports the release tools/otelcol/go.mod pins.
OTELCOL_VERSION := $(call pinned,go.opentelemetry.io/collector/otelcol,tools/otelcol/go.mod)
# Fuzz budgets are execution counts, not durations: with a duration, Go 1.26's
# fuzz coordinator can fail a target at the deadline with "context deadline
# exceeded" and no crasher (golang/go#75804, fixed in Go 1.27).
FUZZTIME ?= 100000x
FUZZMINIMIZETIME ?= 2000x
export PATH := $(BIN):$(PATH)

.PHONY: all build deps tools proto-tools kube-tools otel-tools generate check-generate lint unit fuzz e2e test bench demo clean

all: build

## deps: install the Debian packages builds and tests need (idempotent).
deps:
	@scripts/install-deps.sh

build: $(FOVEA)

$(FOVEA): FORCE
	$(GO) build -trimpath -o $(FOVEA) ./cmd/fovea

FORCE:

# tool NAME,DIR,MODULE,PACKAGE,FLAGS: .bin/NAME is built from PACKAGE of the
# Go module in DIR, and built again whenever DIR/go.mod pins another version
# of MODULE; the stamp .bin/.NAME@VERSION records the version it was built
# from (file times say nothing after a clone or a checkout).
define tool
$(BIN)/$(1): $(BIN)/.$(1)@$(call pinned,$(3),$(2)/go.mod)
$(BIN)/.$(1)@$(call pinned,$(3),$(2)/go.mod):
	@mkdir -p $(BIN) && rm -f $(BIN)/.$(1)@*
	cd $(2) && $(GO) build -trimpath $(5) -o $(BIN)/$(1) $(4)
	touch -r $(BIN)/$(1) $$@
endef

## tools: the real hubble CLI and staticcheck, built once from tools/go.mod.
tools: $(HUBBLE) $(STATICCHECK)
$(eval $(call tool,hubble,tools,github.com/cilium/cilium,github.com/cilium/cilium/hubble))
$(eval $(call tool,staticcheck,tools,honnef.co/go/tools,honnef.co/go/tools/cmd/staticcheck))

## proto-tools: the protoc plugins `make generate` runs, from tools/go.mod.
proto-tools: $(PROTOC_GEN_GO) $(PROTOC_GEN_GO_GRPC)
$(eval $(call tool,protoc-gen-go,tools,google.golang.org/protobuf,google.golang.org/protobuf/cmd/protoc-gen-go))
$(eval $(call tool,protoc-gen-go-grpc,tools,google.golang.org/grpc/cmd/protoc-gen-go-grpc,google.golang.org/grpc/cmd/protoc-gen-go-grpc))

## kube-tools: etcd and kube-apiserver for the tests, built once from
## tools/kube/go.mod (its own module: the Kubernetes dependency graph stays
## out of the main module's).
kube-tools: $(ETCD) $(KUBE_APISERVER)
$(eval $(call tool,etcd,tools/kube,go.etcd.io/etcd/server/v3,go.etcd.io/etcd/server/v3))
$(eval $(call tool,kube-apiserver,tools/kube,k8s.io/kubernetes,k8s.io/kubernetes/cmd/kube-apiserver,-ldflags '$(KUBE_LDFLAGS)'))

## otel-tools: an OpenTelemetry Collector (OTLP receiver, file exporter)
## for the OTLP export tests, built once from tools/otelcol/go.mod (its own
## module: the collector's dependency graph stays out of the main module's).
otel-tools: $(OTELCOL)
$(eval $(call tool,otelcol,tools/otelcol,go.opentelemetry.io/collector/otelcol,.,-ldflags '-X main.version=$(OTELCOL_VERSION)'))

## generate: rebuild the eBPF objects and their Go bindings with bpf2go,
## and the Capture service's Go code with protoc.
generate: proto-tools
	$(GO) generate ./bpf/... ./api/capture/...

## check-generate: fail if the committed bpf2go or protoc output differs
## from its source, or a generated file is missing.
check-generate: generate
	@git diff --exit-code -- bpf/ api/capture/ || { echo "generated code is stale: run 'make generate' and commit" >&2; exit 1; }
	@untracked=$$(git ls-files --others --exclude-standard -- bpf/ api/capture/); if [ -n "$$untracked" ]; then echo "generated files not committed: $$untracked" >&2; exit 1; fi

lint: $(STATICCHECK)
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted" >&2; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	GOOS=windows $(GO) build ./...

## unit: every package's tests but the end-to-end ones, under the race
## detector (privileged ones need root; test/kube needs kube-tools).
unit: kube-tools
	$(KUBE_ENV) $(GO) test -race -count=1 $$($(GO) list ./... | grep -v /test/e2e)

## fuzz: run each fuzz target for FUZZTIME executions.
fuzz:
	@for target in $$(scripts/fuzz-targets.sh); do \
		pkg=$${target%%:*}; name=$${target##*:}; \
		echo "fuzz $$name in $$pkg for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) "$$pkg" || exit 1; \
	done

## e2e: the netns cluster with real agents, asserted with the real hubble CLI.
e2e: $(FOVEA) $(HUBBLE) kube-tools otel-tools
	FOVEA_BIN=$(FOVEA) HUBBLE_BIN=$(HUBBLE) OTELCOL_BIN=$(OTELCOL) $(KUBE_ENV) $(GO) test -count=1 -v -timeout 15m ./test/e2e/...

## test: everything CI checks.
test: deps tools check-generate lint unit fuzz e2e

## bench: benchmarks, Fovea side by side with Cilium where a counterpart exists.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./ringbuffer/ ./api/... ./agent/... ./bpf/... | tee $(BIN)/bench.txt
	cd tools && $(GO) run golang.org/x/perf/cmd/benchstat $(BIN)/bench.txt

## demo: a simulated cluster with live flows in `hubble observe --follow` (root).
demo: deps $(FOVEA) $(HUBBLE)
	$(FOVEA) demo --hubble $(HUBBLE)

clean:
	rm -rf $(BIN)
