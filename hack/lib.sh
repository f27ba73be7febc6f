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
