# Vigil: `make help` lists the targets. Every tool version is pinned in hack/versions.env.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
include hack/versions.env

# Node 24 comes from the npm registry (node-<os>-<arch>, Linux x64 and arm64) so machines with an older
# Node work too; elsewhere (macOS) the machine's own Node, NODE_VERSION or newer (hack/pinned-node.sh).
# Tools built or linked by hack/*.sh land in ./bin.
export PATH := $(shell $(CURDIR)/hack/pinned-node.sh bin-dir):$(CURDIR)/bin:$(PATH)
export NODE_OPTIONS := --experimental-vm-modules
JEST := node node_modules/jest/bin/jest.js
TSX := node node_modules/tsx/dist/cli.mjs

.PHONY: help
help: ## List the targets and what they do
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | sort -u | awk 'BEGIN{FS=":.*## "}{printf "  \033[36m%-24s\033[0m %s\n", $$1, $$2}'

node_modules/.installed: package.json package-lock.json
	@echo "==> installing npm dependencies (Node $(NODE_VERSION) included where npm has it for this machine)"
	npm ci --no-audit --no-fund --loglevel=error
	@hack/pinned-node.sh check
	@touch $@

.PHONY: deps
deps: node_modules/.installed wasm ## Install npm dependencies, including the pinned Node 24 binary on Linux (elsewhere: the machine's Node 24), and build operator/wasm

.PHONY: wasm
wasm: ## Build Prometheus's PromQL parser and templates (the pinned version) to WebAssembly: operator/wasm/dist (needs Go)
	hack/install-wasm.sh

.PHONY: tools
tools: ## Install/build the pinned tools into ./bin (Prometheus, Alertmanager, Thanos, stunnel, etcd, kube-apiserver, kubectl, ...)
	hack/install-tools.sh

.PHONY: typecheck
typecheck: deps ## Type-check all TypeScript (strict)
	node node_modules/typescript/bin/tsc -p tsconfig.json --noEmit

.PHONY: generate
generate: deps ## Regenerate everything derived from a source of truth: the CRD, the README field reference, the make-target table, the Helm chart
	$(TSX) operator/api/generate-crd.ts
	$(TSX) hack/gen-readme.ts
	$(TSX) cdk8s/main.ts chart

.PHONY: test-unit
test-unit: deps ## Unit and golden tests (no external processes)
	$(JEST) --testPathIgnorePatterns '/node_modules/' '/dist/' '\.int\.test\.ts$$'

.PHONY: test-integration
test-integration: deps tools node-tools ## Integration tests only (real etcd, kube-apiserver, Prometheus, Alertmanager, ...)
	$(JEST) --runInBand --testPathPatterns '\.int\.test\.ts$$'

.PHONY: test
test: deps tools node-tools typecheck lint fmt-check ## Run every test: unit, golden, promtool/amtool, integration, the real node and kind (three lanes at once: hack/test-lanes.sh)
	hack/test-lanes.sh

BIOME := node_modules/@biomejs/biome/bin/biome

# Lint and format: Biome's recommended rules and formatter (biome.json: single quotes, trailing
# commas, 200 columns; the lint rules set to "warn" there are pre-existing findings to fix, not new
# ones to add). The whole repository is formatted, so `make test` checks both (issue #12).
.PHONY: lint
lint: deps ## Lint all TypeScript (Biome, pinned; biome.json)
	$(BIOME) lint .

.PHONY: fmt-check
fmt-check: deps ## Check that every TypeScript/JavaScript file is formatted (Biome; make test runs it)
	$(BIOME) format .

.PHONY: fmt
fmt: deps ## Format every TypeScript/JavaScript file (Biome, biome.json)
	$(BIOME) format --write .

.PHONY: verify
GENERATED_PATHS := crds charts README.md CONTRIBUTING.md docs
verify: generate ## Regenerate the CRD, doc tables and chart and fail if they differ from what is committed
	@if ! git diff --quiet -- $(GENERATED_PATHS) || [ -n "$$(git ls-files --others --exclude-standard -- $(GENERATED_PATHS))" ]; then \
	  git status --short -- $(GENERATED_PATHS); \
	  echo "make verify: generated files differ from the committed ones; review and commit the output of 'make generate'"; exit 1; fi
	@echo "make verify: generated files are up to date"

-include hack/make/*.mk
