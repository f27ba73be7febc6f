#!/usr/bin/env bash
# Builds Alertmanager and amtool (ALERTMANAGER_VERSION, Go module github.com/prometheus/alertmanager)
# from the Go module proxy and links them into ./bin. Cached in $VIGIL_CACHE/alertmanager-v<version>/.
#
# The web UI: the module's ui/web.go embeds ui/app/dist (//go:embed), which the module zip lacks.
# - ui/mantine-ui (the new UI, served at /ui/) builds with npm from upstream's package-lock.json
#   into ui/app/dist/mantine, as upstream's `make ui-mantine` does.
# - The classic Elm UI (served at /) needs Elm packages from package.elm-lang.org, which cannot be
#   reached here; ui/app/dist/elm gets hack/alertmanager-root.html instead: a page that sends the
#   browser on to ./ui/ (docs/versions.md).
# If the Mantine build fails, both paths serve a page saying the UI was not built and where its
# build log is; the API (/api/v2) and amtool work as usual. The failure is remembered
# (ui-build-failed.log; ALERTMANAGER_UI_RETRY=1 retries). Build times go to build-times.txt.
source "$(dirname "$0")/lib.sh"
source "$REPO_ROOT/hack/module-build.sh"
module="github.com/prometheus/alertmanager"
module_version="v$ALERTMANAGER_VERSION"
ldflags="-X github.com/prometheus/common/version.Version=$ALERTMANAGER_VERSION -X github.com/prometheus/common/version.Branch=module-$module_version"
entry="alertmanager-$module_version"
out="$VIGIL_CACHE/$entry"
src="$VIGIL_CACHE/src/$entry"

# build_ui: ui/app/dist/mantine from ui/mantine-ui. Runs with errexit.
build_ui() {
  use_project_node
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

# put_page <dir> <html file>: an index.html the way ui/web.go serves it: .gz and .br. ui/web.go picks
# brotli whenever the client accepts br (browsers do over HTTPS) and then does not fall back to .gz, so a
# page with only index.html.gz answers 404 there. Brotli from the pinned Node's zlib (no extra tool).
put_page() {
  mkdir -p "$1"
  gzip -9n <"$2" >"$1/index.html.gz"
  if use_project_node >/dev/null; then
    node -e 'const z = require("zlib"), fs = require("fs"); fs.writeFileSync(process.argv[2], z.brotliCompressSync(fs.readFileSync(process.argv[1])))' "$2" "$1/index.html.br"
  else
    log "WARNING: no node (make deps): $1/index.html.br not written; clients that accept br get 404 for this page"
  fi
}

install_alertmanager() {
  if needs_build "$out" ALERTMANAGER_UI_RETRY alertmanager amtool; then
    mkdir -p "$out"
    log "building alertmanager $ALERTMANAGER_VERSION ($module) with its Mantine web UI (npm registry + Go module proxy; log: $out/build.log)"
    local started=$SECONDS page
    copy_go_module "$module" "$module_version" "$src" ui/web.go
    rm -rf "$src/ui/app/dist"
    build_ui_or_remember "Alertmanager web UI" "$out" ALERTMANAGER_UI_RETRY "building without it" build_ui
    if [[ "$UI_BUILT" == yes ]]; then
      put_page "$src/ui/app/dist/elm" "$REPO_ROOT/hack/alertmanager-root.html"
    else
      page="$src/ui-not-built.html"
      sed "s|@LOG@|$out/ui-build-failed.log|" "$REPO_ROOT/hack/alertmanager-no-ui.html" >"$page"
      put_page "$src/ui/app/dist/elm" "$page"
      put_page "$src/ui/app/dist/mantine" "$page"
    fi
    go_build_into "$src" "$out" "" "$ldflags" ./cmd/alertmanager ./cmd/amtool
    write_build_times "$out" "ui_built=$UI_BUILT"
    log "alertmanager + amtool built in $((SECONDS - started))s"
    rm -rf "$src"
  fi
  link_tool "$out/alertmanager" alertmanager
  link_tool "$out/amtool" amtool
}

with_cache_lock "$entry" install_alertmanager
"$BIN_DIR/amtool" --version >&2
"$BIN_DIR/alertmanager" --version >&2
