#!/usr/bin/env bash
# Builds Mailpit (the mail catcher: SMTP 1025, web UI + JSON API 8025) at MAILPIT_VERSION into ./bin.
#
# The Go module from the module proxy carries Mailpit's Go code and the UI *sources*
# (server/ui-src), but not the compiled UI bundle (server/ui/dist is built by esbuild in
# Mailpit's release pipeline and is not in git). Without it the binary runs and the API works,
# but the web UI on 8025 is a blank page. So: copy the module source into the cache, build the UI
# with Mailpit's own package-lock.json from the npm registry, then `go build` (which embeds it).
# MailHog v1.0.1 cannot be built from the module proxy (see docs); Mailpit is its maintained successor.
source "$(dirname "$0")/lib.sh"
export MAILPIT_SASS_EMBEDDED_VERSION MAILPIT_RAPIDOC_VERSION

source "$REPO_ROOT/hack/module-build.sh"
entry="mailpit-$MAILPIT_VERSION"
out="$VIGIL_CACHE/$entry"
src="$VIGIL_CACHE/src/$entry"

install_mailpit() {
  if [[ -x "$out/mailpit" ]]; then
    link_tool "$out/mailpit" mailpit
    return 0
  fi

  command -v go >/dev/null || { log "Go is required to build Mailpit (https://go.dev/dl/)"; exit 1; }
  command -v node >/dev/null || { log "node is required (run 'make deps' and put $NODE_BIN_DIR on PATH)"; exit 1; }

  log "building Mailpit $MAILPIT_VERSION from the Go module proxy (UI bundle via npm)"
  copy_go_module "github.com/axllent/mailpit" "$MAILPIT_VERSION" "$src"
  mkdir -p "$out"

  (
    cd "$src"
    # Mailpit's package-lock.json pins some releases the npm registry does not serve (sass-embedded
    # 1.108.1, rapidoc 12.x), so resolve afresh from package.json with two pins (hack/versions.env):
    # sass-embedded to a served release, rapidoc (the API docs page only) to its served 9.x line.
    # Lint/e2e tooling (eslint, playwright, jsdom, prettier) is not needed to bundle the UI.
    rm -f package-lock.json
    node -e '
      const fs = require("fs");
      const pkg = JSON.parse(fs.readFileSync("package.json", "utf8"));
      const keepDev = ["esbuild", "esbuild-plugin-vue-next", "esbuild-sass-plugin", "@vue/compiler-sfc"];
      pkg.devDependencies = Object.fromEntries(Object.entries(pkg.devDependencies).filter(([n]) => keepDev.includes(n)));
      pkg.dependencies.rapidoc = process.env.MAILPIT_RAPIDOC_VERSION;
      pkg.overrides = { ...pkg.overrides, "sass-embedded": process.env.MAILPIT_SASS_EMBEDDED_VERSION };
      fs.writeFileSync("package.json", JSON.stringify(pkg, null, 2));
    '
    # --ignore-scripts: esbuild and sass ship their native binaries as optional platform packages.
    npm install --ignore-scripts --no-audit --no-fund --loglevel=error
    MINIFY=true node esbuild.config.mjs
    [[ -s server/ui/dist/app.js && -s server/ui/dist/app.css ]] || { echo "Mailpit UI bundle missing after esbuild" >&2; exit 1; }
    CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath \
      -ldflags "-s -w -X github.com/axllent/mailpit/config.Version=$MAILPIT_VERSION" -o "$out/mailpit.tmp" .
    mv "$out/mailpit.tmp" "$out/mailpit"
  )
  # The npm tree is only needed for the UI build; the sources stay small in the cache.
  rm -rf "$src/node_modules"
  link_tool "$out/mailpit" mailpit
}

with_cache_lock "$entry" install_mailpit
"$BIN_DIR/mailpit" version --no-release-check >&2
