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
source "$REPO_ROOT/hack/module-build.sh"
module="github.com/prometheus/prometheus"
IFS=. read -r prom_major prom_minor prom_patch <<<"$PROMETHEUS_VERSION"
module_version="v0.$((prom_major * 100 + prom_minor)).$prom_patch"
ldflags="-X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION -X github.com/prometheus/common/version.Branch=module-$module_version"
entry="prometheus-$module_version"
out="$VIGIL_CACHE/$entry"
src="$VIGIL_CACHE/src/$entry"

# pnpm at PNPM_VERSION from the npm registry, cached; prints its bin directory.
pnpm_bin_dir() {
  local dir="$VIGIL_CACHE/pnpm-$PNPM_VERSION"
  if [[ ! -x "$dir/node_modules/.bin/pnpm" ]]; then
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-audit --no-fund --loglevel=error --save-exact "pnpm@$PNPM_VERSION" >&2
  fi
  echo "$dir/node_modules/.bin"
}

# build_ui: web/ui/static/mantine-ui + web/ui/embed.go in the copy. Runs with errexit.
build_ui() {
  use_project_node
  # pnpm is shared by every Prometheus version: installed under its own cache entry's lock.
  PATH="$(with_cache_lock "pnpm-$PNPM_VERSION" pnpm_bin_dir):$PATH"
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

install_prometheus() {
  if needs_build "$out" PROMETHEUS_UI_RETRY prometheus promtool; then
    mkdir -p "$out"
    log "building prometheus $PROMETHEUS_VERSION ($module $module_version) with its web UI (npm registry + Go module proxy; cold: ~10 min on 2 cores; log: $out/build.log)"
    local started=$SECONDS tags=""
    copy_go_module "$module" "$module_version" "$src" web/ui/mantine-ui
    build_ui_or_remember "Prometheus web UI" "$out" PROMETHEUS_UI_RETRY "building without the UI (the API works, UI pages answer with an error)" build_ui
    [[ "$UI_BUILT" == yes ]] && tags=builtinassets
    go_build_into "$src" "$out" "$tags" "$ldflags" ./cmd/prometheus ./cmd/promtool
    write_build_times "$out" "tags=$tags"
    log "prometheus + promtool built in $((SECONDS - started))s (tags: ${tags:-none})"
    rm -rf "$src"
  fi
  link_tool "$out/prometheus" prometheus
  link_tool "$out/promtool" promtool
}

with_cache_lock "$entry" install_prometheus
"$BIN_DIR/promtool" --version >&2
"$BIN_DIR/prometheus" --version >&2
