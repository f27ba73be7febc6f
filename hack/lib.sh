# Shared shell helpers for hack/*.sh: paths, pinned versions, progress output.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=versions.env
source "$REPO_ROOT/hack/versions.env"
# Built tools are cached outside the checkout so that fresh clones (CI) reuse them.
VIGIL_CACHE="${VIGIL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vigil}"
BIN_DIR="$REPO_ROOT/bin"
# The pinned Node's folder (make deps) for this machine; absent where npm has no Node package for it.
NODE_BIN_DIR="$("$REPO_ROOT/hack/pinned-node.sh" bin-dir)"
mkdir -p "$VIGIL_CACHE" "$BIN_DIR"
log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
# link_tool <cached binary> <name>: expose a cached binary as ./bin/<name>
link_tool() { ln -sf "$1" "$BIN_DIR/$2"; }
# with_cache_lock <cache entry> <command> [args...]: runs the command (a function too) holding an
# exclusive flock on $VIGIL_CACHE/locks/<entry>.lock, so two installs of the same tool at the same time
# (two worktrees, two `make tools`) take turns instead of deleting each other's $VIGIL_CACHE/src/<entry>;
# the second one then finds the binaries built. The lock goes with the process if the command fails.
with_cache_lock() {
  local entry="$1" lock_fd
  shift
  mkdir -p "$VIGIL_CACHE/locks"
  exec {lock_fd}>"$VIGIL_CACHE/locks/$entry.lock"
  if ! flock -n "$lock_fd"; then
    log "waiting for another install of $entry to finish ($VIGIL_CACHE/locks/$entry.lock)"
    flock "$lock_fd"
  fi
  "$@"
  exec {lock_fd}>&-
}
