#!/usr/bin/env bash
# The Node that make and hack/*.sh run: NODE_VERSION from npm's node-<os>-<arch> package where npm
# publishes it at that version (package.json optionalDependencies: Linux x64 and arm64; npm installs
# only the one that fits the machine), else the machine's own Node, which must be NODE_VERSION or newer
# (macOS: npm has no Node 24 package for darwin).
#   hack/pinned-node.sh bin-dir   the package's bin folder for this machine, installed or not
#   hack/pinned-node.sh check     after npm ci: fail unless the Node on PATH is the pinned one or new enough
# Standalone (no lib.sh): the Makefile runs it while it reads itself.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=versions.env
source "$REPO_ROOT/hack/versions.env"

# npm's names for the machine: process.platform and process.arch.
npm_platform() {
  local os arch
  os="$(uname -s | tr '[:upper:]' '[:lower:]')"
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) arch="$(uname -m)" ;;
  esac
  printf '%s-%s\n' "$os" "$arch"
}

bin_dir() { printf '%s/node_modules/node-%s/bin\n' "$REPO_ROOT" "$(npm_platform)"; }

# version_at_least <x.y.z> <minimum x.y.z>
version_at_least() {
  local have want i
  IFS=. read -r -a have <<<"$1"
  IFS=. read -r -a want <<<"$2"
  for i in 0 1 2; do
    ((${have[i]:-0} > ${want[i]:-0})) && return 0
    ((${have[i]:-0} < ${want[i]:-0})) && return 1
  done
  return 0
}

fail() {
  printf 'pinned-node.sh: %s\n' "$*" >&2
  exit 1
}

check() {
  local pinned version
  pinned="$(bin_dir)/node"
  if [[ -x "$pinned" ]]; then
    version="$("$pinned" --version)"
    [[ "$version" == "v$NODE_VERSION" ]] || fail "expected Node $NODE_VERSION in $pinned, got $version"
    return
  fi
  command -v node >/dev/null || fail "no Node found: install Node $NODE_VERSION or newer (macOS: brew install node@24)"
  version="$(node --version)"
  version_at_least "${version#v}" "$NODE_VERSION" ||
    fail "no node-$(npm_platform) package installed (package.json optionalDependencies: the platforms npm has Node $NODE_VERSION for) and this machine's Node is $version: install Node $NODE_VERSION or newer (macOS: brew install node@24) and put it first on PATH"
  printf "Using this machine's Node %s (%s): no node-%s package installed (package.json optionalDependencies: the platforms npm has Node %s for)\n" "$version" "$(command -v node)" "$(npm_platform)" "$NODE_VERSION"
}

case "${1:-}" in
  bin-dir) bin_dir ;;
  check) check ;;
  *) fail "usage: $0 bin-dir|check" ;;
esac
