# Shared shell helpers for hack/*.sh: paths, pinned versions, progress output.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=versions.env
source "$REPO_ROOT/hack/versions.env"
# Built tools are cached outside the checkout so that fresh clones (CI) reuse them.
VIGIL_CACHE="${VIGIL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vigil}"
BIN_DIR="$REPO_ROOT/bin"
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

# The machine before a harness's first `up` (hack/node/cluster.sh, hack/kind/env.sh): global sysctls, which host
# paths existed, whether /run/netns was a mount point. Written once; `down` restores from it and then deletes it, so
# a crash in between keeps the original.
# save_baseline <file> <sysctl>... -- <path>...
save_baseline() {
  local file="$1" s p sysctls=()
  shift
  [[ -f "$file" ]] && return
  while (($#)) && [[ "$1" != -- ]]; do sysctls+=("$1"); shift; done
  (($#)) && shift
  mkdir -p "$(dirname "$file")"
  {
    for s in "${sysctls[@]}"; do [[ -e "/proc/sys/${s//.//}" ]] && echo "sysctl $s=$(sysctl -n "$s")"; done
    for p in "$@"; do [[ -e "$p" ]] && echo "path $p"; done
    mountpoint -q /run/netns 2>/dev/null && echo "mount /run/netns"
  } >"$file.tmp"
  mv "$file.tmp" "$file"
}
# restore_baseline <file>: the sysctls that differ set back; /run/netns unmounted when it was no mount point and is
# empty. Host paths are the caller's: baseline_had tells which existed.
restore_baseline() {
  local kind value
  while read -r kind value; do
    [[ "$kind" == sysctl && "$(sysctl -n "${value%%=*}")" != "${value#*=}" ]] && sysctl -qw "$value"
  done <"$1"
  if ! grep -qx "mount /run/netns" "$1" && mountpoint -q /run/netns && [[ -z "$(ls -A /run/netns)" ]]; then
    umount /run/netns
  fi
  return 0
}
# baseline_had <file> <path>: the path existed when the baseline was saved.
baseline_had() { grep -qx "path $2" "$1"; }
