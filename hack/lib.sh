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
# with_cache_lock <cache entry> <command> [args...]: runs the command (a function too) holding a lock on
# $VIGIL_CACHE/locks/<entry>.lock, so two installs of the same tool at the same time (two worktrees, two
# `make tools`) take turns instead of deleting each other's $VIGIL_CACHE/src/<entry>; the second one then
# finds the binaries built. flock where the machine has it (Linux), else a lock folder (macOS).
with_cache_lock() {
  local entry="$1"
  shift
  mkdir -p "$VIGIL_CACHE/locks"
  if command -v flock >/dev/null; then
    with_flock "$VIGIL_CACHE/locks/$entry.lock" "$@"
  else
    with_lock_dir "$VIGIL_CACHE/locks/$entry.lock.d" "$@"
  fi
}

# with_flock <lock file> <command> [args...]: the lock goes with the process if the command fails. Nested
# locks take the next descriptor from 20 on (bash 3.2 cannot pick a free one: no `exec {fd}>`).
VIGIL_LOCK_DEPTH=0
with_flock() {
  local lock="$1" fd=$((20 + VIGIL_LOCK_DEPTH))
  shift
  eval "exec $fd>\"\$lock\""
  if ! flock -n "$fd"; then
    log "waiting for another install to finish ($lock)"
    flock "$fd"
  fi
  VIGIL_LOCK_DEPTH=$((VIGIL_LOCK_DEPTH + 1))
  "$@"
  local rc=$? # reached only where errexit is off (inside $(...)): the caller must still see a failure
  VIGIL_LOCK_DEPTH=$((VIGIL_LOCK_DEPTH - 1))
  eval "exec $fd>&-"
  return "$rc"
}

# with_lock_dir <lock folder> <command> [args...]: mkdir is atomic; the folder holds the owner's PID, and a
# folder whose owner is gone (it failed or was killed) is taken over.
with_lock_dir() {
  local dir="$1" owner waiting=""
  shift
  until mkdir "$dir" 2>/dev/null; do
    owner="$(cat "$dir/pid" 2>/dev/null || true)"
    if [[ -n "$owner" ]] && ! kill -0 "$owner" 2>/dev/null; then
      rm -rf "$dir"
      continue
    fi
    [[ -n "$waiting" ]] || log "waiting for another install to finish ($dir)"
    waiting=1
    sleep 1
  done
  echo "$$" >"$dir/pid"
  "$@"
  local rc=$?
  rm -rf "$dir"
  return "$rc"
}
