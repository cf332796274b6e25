# Fovea build, test and demo entry points. `make test` is the one command
# that runs every test (CI runs exactly it); `sudo make demo` runs the demo.
SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/.bin
FOVEA := $(BIN)/fovea
FOVEA_EXE := $(BIN)/fovea.exe
HUBBLE := $(BIN)/hubble
STATICCHECK := $(BIN)/staticcheck
PROTOC_GEN_GO := $(BIN)/protoc-gen-go
PROTOC_GEN_GO_GRPC := $(BIN)/protoc-gen-go-grpc
ETCD := $(BIN)/etcd
KUBE_APISERVER := $(BIN)/kube-apiserver
OTELCOL := $(BIN)/otelcol
KUBE_ROUTER := $(BIN)/kube-router
# Tests that run a real control plane (test/kube, test/e2e) find it here.
KUBE_ENV := ETCD_BIN=$(ETCD) KUBE_APISERVER_BIN=$(KUBE_APISERVER)
# pinned MODULE,GOMOD: the version GOMOD requires of MODULE, in a require
# block or on a require line of its own.
pinned = $(shell awk '$$1 == "require" { $$1 = ""; $$0 = $$0 } $$1 == "$(1)" && $$2 ~ /^v[0-9]/ { print $$2; exit }' $(2))
# A go build leaves kube-apiserver's version at v0.0.0-master; stamp the one
# tools/kube/go.mod pins, which the server reports at /version.
KUBE_VERSION := $(call pinned,k8s.io/kubernetes,tools/kube/go.mod)
KUBE_SEMVER := $(subst ., ,$(patsubst v%,%,$(KUBE_VERSION)))
KUBE_LDFLAGS := -X k8s.io/component-base/version.gitVersion=$(KUBE_VERSION) \
	-X k8s.io/component-base/version.gitMajor=$(word 1,$(KUBE_SEMVER)) -X k8s.io/component-base/version.gitMinor=$(word 2,$(KUBE_SEMVER))
# The image `make image` builds: repository from the chart's values, tag
# the chart's appVersion, so the chart's default image is this one (test/chart
# checks it).
IMAGE_REPOSITORY := $(shell sed -n '/^image:/,/^[^ \#]/ s/^  repository: *//p' helm/fovea/values.yaml)
IMAGE_TAG := $(shell sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\} *$$/\1/p' helm/fovea/Chart.yaml)
IMAGE := $(IMAGE_REPOSITORY):$(IMAGE_TAG)
IMAGE_DIR := $(BIN)/image
IMAGE_TAR := $(IMAGE_DIR)/fovea.tar
OCIBUILD := $(BIN)/ocibuild
HELM := $(BIN)/helm
KUBECONFORM := $(BIN)/kubeconform
VALUESDOC := $(BIN)/valuesdoc
KUBESCHEMAS := $(BIN)/kubeschemas
# A go build leaves helm's version at its major.minor; stamp the pinned one.
HELM_LDFLAGS := -X helm.sh/helm/v4/internal/version.version=$(call pinned,helm.sh/helm/v4,tools/deploy/go.mod)
# The CRDs of the chart's optional objects, for kubeconform and the API server.
CERT_MANAGER_VERSION := v1.21.2
PROMETHEUS_OPERATOR_VERSION := v0.85.0
CRD_FILES := cert-manager.io_certificates.yaml cert-manager.io_issuers.yaml monitoring.coreos.com_servicemonitors.yaml
CRDS := $(BIN)/crds/cert-manager-$(CERT_MANAGER_VERSION)+prometheus-operator-$(PROMETHEUS_OPERATOR_VERSION)
SCHEMAS := $(BIN)/k8s-schemas/$(KUBE_VERSION)+cert-manager-$(CERT_MANAGER_VERSION)+prometheus-operator-$(PROMETHEUS_OPERATOR_VERSION)
# The OpenTelemetry Collector reports the release tools/otelcol/go.mod pins.
OTELCOL_VERSION := $(call pinned,go.opentelemetry.io/collector/otelcol,tools/otelcol/go.mod)
# Fuzz budgets are execution counts, not durations: with a duration, Go 1.26's
# fuzz coordinator can fail a target at the deadline with "context deadline
# exceeded" and no crasher (golang/go#75804, fixed in Go 1.27).
FUZZTIME ?= 100000x
FUZZMINIMIZETIME ?= 2000x
export PATH := $(BIN):$(PATH)

.PHONY: all build deps tools proto-tools kube-tools otel-tools kube-router-tools kube-node-tools kube-node chart-tools chart chart-docs image image-test generate check-generate lint unit fuzz e2e wine-test soak soak-short test bench demo clean

all: build

## deps: install the Debian packages builds and tests need (idempotent).
deps:
	@scripts/install-deps.sh

## build: the agent for Linux and, as fovea.exe, for Windows nodes (no cgo
## on either: the Windows source calls advapi32 through x/sys/windows).
build: $(FOVEA) $(FOVEA_EXE)

$(FOVEA): FORCE
	$(GO) build -trimpath -o $(FOVEA) ./cmd/fovea

$(FOVEA_EXE): FORCE
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GO) build -trimpath -o $(FOVEA_EXE) ./cmd/fovea

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

## kube-node-tools: the rest of a node and its control plane, for the
## single-node cluster test: kube-controller-manager, kube-scheduler,
## kubelet and kube-proxy, built once from tools/kube/go.mod.
KUBE_NODE_BINS := kube-controller-manager kube-scheduler kubelet kube-proxy
kube-node-tools: kube-tools $(addprefix $(BIN)/,$(KUBE_NODE_BINS))
$(foreach b,$(KUBE_NODE_BINS),$(eval $(call tool,$(b),tools/kube,k8s.io/kubernetes,k8s.io/kubernetes/cmd/$(b),-ldflags '$(KUBE_LDFLAGS)')))

## image: the Fovea image, an OCI image tarball of the static binary built by
## scripts/build-fovea.sh (as the Dockerfile builds it), packed by ocibuild
## (tools/deploy) with every time at SOURCE_DATE_EPOCH (0 unless set), so the
## same source gives the same image digest. No container engine is needed.
image: $(IMAGE_TAR)
$(IMAGE_TAR): FORCE $(OCIBUILD)
	@mkdir -p $(IMAGE_DIR)
	scripts/build-fovea.sh $(IMAGE_DIR)/fovea
	$(OCIBUILD) --binary $(IMAGE_DIR)/fovea --path /usr/bin/fovea --user 65532:65532 \
		--labels org.opencontainers.image.source=https://github.com/foveanet/fovea \
		--epoch $${SOURCE_DATE_EPOCH:-0} --ref $(IMAGE) --out $@

$(eval $(call tool,ocibuild,tools/deploy,github.com/google/go-containerregistry,./ocibuild))
# ocibuild is this repository's own code: its source changes rebuild it too.
$(BIN)/.ocibuild@$(call pinned,github.com/google/go-containerregistry,tools/deploy/go.mod): $(wildcard tools/deploy/ocibuild/*.go)

## chart-tools: helm and kubeconform, built once from tools/deploy/go.mod, and
## the repository's own valuesdoc and kubeschemas beside them.
chart-tools: $(HELM) $(KUBECONFORM) $(VALUESDOC) $(KUBESCHEMAS)
$(eval $(call tool,helm,tools/deploy,helm.sh/helm/v4,helm.sh/helm/v4/cmd/helm,-ldflags '$(HELM_LDFLAGS)'))
$(eval $(call tool,kubeconform,tools/deploy,github.com/yannh/kubeconform,github.com/yannh/kubeconform/cmd/kubeconform))
$(eval $(call tool,valuesdoc,tools/deploy,go.yaml.in/yaml/v3,./valuesdoc))
$(BIN)/.valuesdoc@$(call pinned,go.yaml.in/yaml/v3,tools/deploy/go.mod): $(wildcard tools/deploy/valuesdoc/*.go)
$(eval $(call tool,kubeschemas,tools/deploy,sigs.k8s.io/yaml,./kubeschemas))
$(BIN)/.kubeschemas@$(call pinned,sigs.k8s.io/yaml,tools/deploy/go.mod): $(wildcard tools/deploy/kubeschemas/*.go)

# moddir MODULE@VERSION: where the Go module proxy's copy of a module is
# unpacked (downloaded first if missing), asked from outside any module.
moddir = $$(cd / && $(GO) mod download -json $(1) | sed -n 's/^\t"Dir": "\(.*\)",$$/\1/p')

# The CustomResourceDefinitions of the chart's optional objects, from the
# modules of the projects that publish them, at pinned versions.
$(CRDS):
	@rm -rf $(BIN)/crds && mkdir -p $@.tmp
	cm=$(call moddir,github.com/cert-manager/cert-manager@$(CERT_MANAGER_VERSION)) && \
	po=$(call moddir,github.com/prometheus-operator/prometheus-operator@$(PROMETHEUS_OPERATOR_VERSION)) && \
	cp $$cm/deploy/crds/cert-manager.io_certificates.yaml $$cm/deploy/crds/cert-manager.io_issuers.yaml \
		$$po/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml $@.tmp/
	chmod 644 $@.tmp/* && mv $@.tmp $@

# kubeconform's schemas, from the OpenAPI document of the Kubernetes release
# tools/kube/go.mod pins (the API server the tests run) and from the CRDs.
$(SCHEMAS): $(KUBESCHEMAS) $(CRDS)
	@rm -rf $(BIN)/k8s-schemas
	kube=$$(cd tools/kube && $(GO) list -m -f '{{.Dir}}' k8s.io/kubernetes) && \
	$(KUBESCHEMAS) --out $@.tmp --openapi $$kube/api/openapi-spec/swagger.json $(foreach f,$(CRD_FILES),--crd $(CRDS)/$(f))
	mv $@.tmp $@

## chart: the Helm chart linted, rendered with the default values and each
## mode, every object validated by kubeconform -strict against the pinned
## Kubernetes release, bad values rejected by the schema, the values table
## current, and installed, upgraded and uninstalled on a real kube-apiserver.
chart: $(HELM) $(KUBECONFORM) $(VALUESDOC) $(SCHEMAS) kube-tools
	HELM_BIN=$(HELM) KUBECONFORM_BIN=$(KUBECONFORM) VALUESDOC_BIN=$(VALUESDOC) KUBE_SCHEMAS=$(SCHEMAS) \
		KUBE_CRDS=$(CRDS) KUBE_VERSION=$(KUBE_VERSION) FOVEA_IMAGE_REF=$(IMAGE) $(KUBE_ENV) \
		$(GO) test -count=1 ./test/chart/

## kube-node: the chart installed with one command on a real single-node
## cluster (kubelet, containerd, runc, CNI bridge, kube-proxy, controller
## manager, scheduler, in a network namespace of its own), pods talking,
## their flows through the relay Service with the real hubble CLI, and no
## eBPF program left attached after helm uninstall.
kube-node: kube-node-tools $(HELM) $(HUBBLE) $(IMAGE_TAR) $(OCIBUILD)
	$(KUBE_ENV) KUBE_CONTROLLER_MANAGER_BIN=$(BIN)/kube-controller-manager KUBE_SCHEDULER_BIN=$(BIN)/kube-scheduler \
		KUBELET_BIN=$(BIN)/kubelet KUBE_PROXY_BIN=$(BIN)/kube-proxy HELM_BIN=$(HELM) HUBBLE_BIN=$(HUBBLE) \
		FOVEA_IMAGE=$(IMAGE_TAR) OCIBUILD_BIN=$(OCIBUILD) $(GO) test -count=1 -v -timeout 15m ./test/kubenode/

## chart-docs: write the values table of helm/fovea/README.md.
chart-docs: $(VALUESDOC)
	$(VALUESDOC) --values helm/fovea/values.yaml --readme helm/fovea/README.md

## image-test: the image against the Dockerfile, and its reproducibility.
image-test: $(IMAGE_TAR) $(OCIBUILD)
	FOVEA_IMAGE=$(IMAGE_TAR) OCIBUILD_BIN=$(OCIBUILD) $(GO) test -count=1 ./test/image/

## otel-tools: an OpenTelemetry Collector (OTLP receiver, file exporter)
## for the OTLP export tests, built once from tools/otelcol/go.mod (its own
## module: the collector's dependency graph stays out of the main module's).
otel-tools: $(OTELCOL)
$(eval $(call tool,otelcol,tools/otelcol,go.opentelemetry.io/collector/otelcol,.,-ldflags '-X main.version=$(OTELCOL_VERSION)'))

## kube-router-tools: kube-router, whose network policy controller enforces
## the policies of the network policy end-to-end test (a test tool only,
## never shipped: see tools/kuberouter/go.mod), built once from
## tools/kuberouter/go.mod and stamped with the version it pins.
KUBE_ROUTER_VERSION := $(call pinned,github.com/cloudnativelabs/kube-router/v2,tools/kuberouter/go.mod)
kube-router-tools: $(KUBE_ROUTER)
$(eval $(call tool,kube-router,tools/kuberouter,github.com/cloudnativelabs/kube-router/v2,github.com/cloudnativelabs/kube-router/v2/cmd/kube-router,-ldflags '-X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$(KUBE_ROUTER_VERSION)'))

## generate: rebuild the eBPF objects and their Go bindings with bpf2go,
## the Capture service's Go code with protoc, and the Windows source's
## mkwinsyscall calls and test fixtures.
generate: proto-tools
	$(GO) generate ./bpf/... ./api/capture/... ./windows/...

## check-generate: fail if the committed bpf2go or protoc output differs
## from its source, or a generated file is missing.
check-generate: generate
	@git diff --exit-code -- bpf/ api/capture/ windows/ || { echo "generated code is stale: run 'make generate' and commit" >&2; exit 1; }
	@untracked=$$(git ls-files --others --exclude-standard -- bpf/ api/capture/ windows/); if [ -n "$$untracked" ]; then echo "generated files not committed: $$untracked" >&2; exit 1; fi

lint: $(STATICCHECK)
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted" >&2; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	cd tools/deploy && $(GO) vet ./... && $(STATICCHECK) ./...
	GOOS=windows $(GO) build ./...
	GOOS=windows $(GO) vet ./...

## unit: every package's tests but the end-to-end, image, chart, node and soak ones, under the
## race detector (privileged ones need root; test/kube needs kube-tools).
unit: kube-tools
	$(KUBE_ENV) $(GO) test -race -count=1 $$($(GO) list ./... | grep -v -e /test/e2e -e /test/image -e /test/chart -e /test/kubenode -e /test/soak)

## fuzz: run each fuzz target for FUZZTIME executions.
fuzz:
	@for target in $$(scripts/fuzz-targets.sh); do \
		pkg=$${target%%:*}; name=$${target##*:}; \
		echo "fuzz $$name in $$pkg for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) "$$pkg" || exit 1; \
	done

## wine-test: the Windows build of the Windows source's tests (fixtures,
## struct layouts, the ETW session's start-up against Wine's ETW), of the
## agent's Windows flag checks and of the agent replaying the fixtures
## (which skips: Wine 8 has no unix sockets), run under Wine, and fovea.exe
## agent failing cleanly for want of PktMon. Skipped, saying so, where
## wine64 is missing.
wine-test: $(FOVEA_EXE)
	GOOS=windows $(GO) test -count=1 -exec $(CURDIR)/scripts/wine-exec.sh ./windows/... ./model/packet/...
	GOOS=windows $(GO) test -count=1 -run '^TestWindows' -exec $(CURDIR)/scripts/wine-exec.sh ./agent/ ./test/e2e/
	@if command -v wine64 >/dev/null || [ -x /usr/lib/wine/wine64 ]; then \
		out=$$(scripts/wine-exec.sh $(FOVEA_EXE) agent --node-name wine --listen-address= 2>&1); echo "$$out"; \
		echo "$$out" | grep -q 'load PktMon source: start PktMon capture' || { echo "wine-test: fovea.exe agent did not fail naming PktMon" >&2; exit 1; }; \
	fi

## e2e: the netns cluster with real agents, asserted with the real hubble CLI.
## E2E_RUN=TestX runs only the tests it matches.
E2E_RUN ?= .
e2e: $(FOVEA) $(HUBBLE) kube-tools otel-tools kube-router-tools
	FOVEA_BIN=$(FOVEA) HUBBLE_BIN=$(HUBBLE) OTELCOL_BIN=$(OTELCOL) KUBE_ROUTER_BIN=$(KUBE_ROUTER) $(KUBE_ENV) $(GO) test -count=1 -v -timeout 15m -run '$(E2E_RUN)' ./test/e2e/...

## soak: the reliability suite (docs/reliability.md) at full length: load steps of 20 s, an
## hour of churn (SOAK_DURATION), followers and attacks for minutes. Not under the race
## detector: it measures the agent's rates, CPU and memory.
SOAK_DURATION ?= 1h
soak:
	FOVEA_SOAK_DURATION=$(SOAK_DURATION) $(GO) test -count=1 -v -timeout 3h ./test/soak/

## soak-short: the same suite in about four minutes, as the test command runs it.
soak-short:
	$(GO) test -count=1 -v -timeout 15m ./test/soak/

## test: everything CI checks.
test: deps tools check-generate lint unit image-test chart kube-node fuzz soak-short e2e wine-test

## bench: benchmarks, Fovea side by side with Cilium where a counterpart exists.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./ringbuffer/ ./api/... ./agent/... ./bpf/... ./windows/... | tee $(BIN)/bench.txt
	cd tools && $(GO) run golang.org/x/perf/cmd/benchstat $(BIN)/bench.txt

## demo: a simulated cluster with live flows in `hubble observe --follow` (root).
demo: deps $(FOVEA) $(HUBBLE)
	$(FOVEA) demo --hubble $(HUBBLE)

clean:
	rm -rf $(BIN)
