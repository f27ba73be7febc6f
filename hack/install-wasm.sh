#!/usr/bin/env bash
# Builds operator/wasm (Prometheus's PromQL parser and alert template package of the pinned version,
# compiled to WebAssembly) into operator/wasm/dist/{vigil-prometheus.wasm,wasm_exec.js}, where the
# operator, `vigil render` and the tests load it (operator/promql/wasm.ts) and the operator image copies it
# from. Cached in $VIGIL_CACHE/vigil-wasm-<hash of the Go sources and the Go version>/.
#
# GOOS=js GOARCH=wasm (not wasip1): Go's syscall/js exports functions JavaScript calls synchronously,
# with the toolchain's own wasm_exec.js as the glue (copied next to the module: they must match), so
# validation stays a plain function call; wasip1 would need hand-made memory passing for every string.
source "$(dirname "$0")/lib.sh"
command -v go >/dev/null || { log "Go is required to build operator/wasm (Go 1.26 or newer, or any Go from 1.21 on: it fetches the toolchain the module asks for)"; exit 1; }

src="$REPO_ROOT/operator/wasm"
dist="$src/dist"
IFS=. read -r prom_major prom_minor prom_patch <<<"$PROMETHEUS_VERSION"
prom_module_version="v0.$((prom_major * 100 + prom_minor)).$prom_patch"
# One source of truth: the module must build the Prometheus that hack/versions.env pins.
pinned="$(cd "$src" && go list -m -f '{{.Version}}' github.com/prometheus/prometheus 2>/dev/null || true)"
if [[ "$pinned" != "$prom_module_version" ]]; then
  log "operator/wasm/go.mod requires github.com/prometheus/prometheus $pinned, hack/versions.env pins $PROMETHEUS_VERSION ($prom_module_version):"
  log "  cd operator/wasm && go mod edit -require github.com/prometheus/prometheus@$prom_module_version && GOFLAGS=-mod=mod go mod tidy"
  exit 1
fi

# Inside the module, so that an older go (1.21+) switches to the toolchain go.mod asks for, here and below.
hash="$( (cd "$src" && go version && cat go.mod go.sum ./*.go) | sha256sum | cut -c1-16)"
entry="vigil-wasm-$hash"
out="$VIGIL_CACHE/$entry"

build_locked() {
  if [[ ! -f "$out/vigil-prometheus.wasm" ]]; then
    log "building operator/wasm (Prometheus $PROMETHEUS_VERSION parser and templates) for js/wasm"
    mkdir -p "$out"
    (cd "$src" && GOOS=js GOARCH=wasm CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$out/vigil-prometheus.wasm.tmp" .)
    # The glue of the toolchain that built the module (lib/wasm from Go 1.24 on, misc/wasm before).
    local goroot
    goroot="$(cd "$src" && go env GOROOT)"
    cp "$(ls "$goroot/lib/wasm/wasm_exec.js" "$goroot/misc/wasm/wasm_exec.js" 2>/dev/null | head -1)" "$out/wasm_exec.js"
    mv "$out/vigil-prometheus.wasm.tmp" "$out/vigil-prometheus.wasm"
  fi
}
with_cache_lock "$entry" build_locked

# Real copies, not links: the image build context must hold the files themselves.
mkdir -p "$dist"
for f in vigil-prometheus.wasm wasm_exec.js; do
  if ! cmp -s "$out/$f" "$dist/$f"; then
    cp "$out/$f" "$dist/$f.tmp"
    mv -f "$dist/$f.tmp" "$dist/$f"
  fi
done
