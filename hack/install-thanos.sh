#!/usr/bin/env bash
# Builds Thanos (THANOS_VERSION, Go module github.com/thanos-io/thanos) from the Go module proxy and
# links it into ./bin. Cached in $VIGIL_CACHE/thanos-<version>/ with build-times.txt.
#
# Unlike Prometheus and Alertmanager, the module zip carries Thanos's compiled Query UI
# (pkg/ui/static/react, embedded by pkg/ui/ui.go with //go:embed), so no UI build is needed: the
# binary serves the UI exactly as upstream's release does. Built the way upstream's .promu.yml builds
# it: ./cmd/thanos with the netgo and slicelabels tags (slicelabels: Prometheus's labels package in
# the layout Thanos's code expects) and the version in github.com/prometheus/common/version.
source "$(dirname "$0")/lib.sh"
source "$REPO_ROOT/hack/module-build.sh"
module="github.com/thanos-io/thanos"
ldflags="-X github.com/prometheus/common/version.Version=${THANOS_VERSION#v} -X github.com/prometheus/common/version.Branch=module-$THANOS_VERSION"
entry="thanos-$THANOS_VERSION"
out="$VIGIL_CACHE/$entry"
src="$VIGIL_CACHE/src/$entry"

install_thanos() {
  if [[ ! -x "$out/thanos" ]]; then
    mkdir -p "$out"
    log "building thanos $THANOS_VERSION ($module) with its Query UI from the module (Go module proxy)"
    local started=$SECONDS
    copy_go_module "$module" "$THANOS_VERSION" "$src" pkg/ui/static/react/index.html
    go_build_into "$src" "$out" "netgo slicelabels" "$ldflags" ./cmd/thanos
    write_build_times "$out" "ui=module pkg/ui/static/react"
    log "thanos built in $((SECONDS - started))s"
    rm -rf "$src"
  fi
  link_tool "$out/thanos" thanos
}

with_cache_lock "$entry" install_thanos
"$BIN_DIR/thanos" --version >&2
