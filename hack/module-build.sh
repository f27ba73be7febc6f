# Shared by hack/install-{prometheus,alertmanager}.sh (and install-mailpit.sh's source copy): build an
# upstream Go module's commands from a writable copy of its source, with its web UI built first
# because the module zip carries the UI sources but no compiled bundle. Sourced after lib.sh.
#
# The skeleton, in the order the install scripts call it:
#   with_cache_lock <entry> ...   (lib.sh) one install of a cache entry at a time
#   needs_build                   binaries missing, or a remembered UI failure and <RETRY var>=1
#   copy_go_module                the module source into $VIGIL_CACHE/src/<entry>
#   use_project_node              (in the UI build function) the pinned Node 24 on PATH
#   build_ui_or_remember          the UI build, its log, and the memory of a failure
#   go_build_into                 the commands into <out>, atomically
#   write_build_times             build-times.txt next to the binaries (docs/versions.md)

# needs_build <out> <retry variable name> <binary>...: true when a binary is missing from <out>, or
# when an earlier UI build failed (<out>/ui-build-failed.log) and the retry variable is set.
needs_build() {
  local out="$1" retry_var="$2" binary
  shift 2
  for binary in "$@"; do [[ -x "$out/$binary" ]] || return 0; done
  [[ -f "$out/ui-build-failed.log" && -n "${!retry_var:-}" ]]
}

# copy_go_module <module> <version> <dest> [<path that must exist in it>]: a fresh writable copy of
# the module's source (the module cache is read-only) at <dest>.
copy_go_module() {
  local module="$1" version="$2" dest="$3" expect="${4:-}" module_dir
  module_dir="$(go mod download -json "$module@$version" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
  [[ -d "$module_dir" ]] || { log "go mod download $module@$version failed"; return 1; }
  [[ -z "$expect" || -e "$module_dir/$expect" ]] || { log "no $expect in $module@$version"; return 1; }
  rm -rf "$dest"
  mkdir -p "$dest"
  cp -R "$module_dir/." "$dest/"
  chmod -R u+w "$dest"
}

# use_project_node: the project's pinned Node 24 (make deps) first on PATH for a UI build, without the
# test runner's NODE_OPTIONS (they must not leak into vite/esbuild). Fails when there is no npm.
use_project_node() {
  [[ -x "$NODE_BIN_DIR/node" ]] && PATH="$NODE_BIN_DIR:$PATH"
  unset NODE_OPTIONS
  command -v npm >/dev/null || { echo "node/npm not found (run 'make deps')"; return 1; }
}

# build_ui_or_remember <what> <out> <retry variable name> <without-UI consequence> <function>:
# runs <function> (with errexit, output to <out>/build.log) unless an earlier failure is remembered
# in <out>/ui-build-failed.log and the retry variable is unset. A failure is remembered, so that
# `make tools` does not retry a multi-minute build on every run, and logged with the consequence
# and how to retry. Sets UI_BUILT (yes|no) and UI_SECONDS.
build_ui_or_remember() {
  local what="$1" out="$2" retry_var="$3" consequence="$4" build="$5" started=$SECONDS rc
  local failed="$out/ui-build-failed.log" retry="$retry_var=1 hack/$(basename "$0")"
  UI_BUILT=no
  UI_SECONDS=0
  if [[ -f "$failed" && -z "${!retry_var:-}" ]]; then
    log "WARNING: the $what build failed earlier (see $failed); $consequence. Retry: $retry"
    return 0
  fi
  # errexit is ignored inside anything tested by if/||, so the subshell runs untested with -e on.
  set +e
  (set -e; "$build") >"$out/build.log" 2>&1
  rc=$?
  set -e
  UI_SECONDS=$((SECONDS - started))
  if ((rc == 0)); then
    rm -f "$failed"
    UI_BUILT=yes
    log "$what built in ${UI_SECONDS}s"
  else
    cp "$out/build.log" "$failed"
    tail -n 25 "$out/build.log" >&2
    log "WARNING: the $what build failed (exit $rc, log: $failed); $consequence. Retry: $retry"
  fi
}

# go_build_into <src> <out> <tags> <ldflags> <package>...: builds the commands of the module copy at
# <src> (its own go.mod is the main module, so upstream's replace directives apply; GOWORK=off: some
# modules ship a go.work for their tools) into <out>/.tmp, then moves them into <out>, so a
# half-written binary never looks installed. Sets GO_BUILD_SECONDS.
go_build_into() {
  local src="$1" out="$2" tags="$3" ldflags="$4" started=$SECONDS package
  shift 4
  mkdir -p "$out/.tmp"
  (
    cd "$src"
    GOWORK=off CGO_ENABLED=0 GOFLAGS=-mod=mod go build ${tags:+-tags "$tags"} -trimpath -ldflags "-s -w $ldflags" -o "$out/.tmp/" "$@"
  )
  for package in "$@"; do mv "$out/.tmp/$(basename "$package")" "$out/"; done
  rmdir "$out/.tmp"
  GO_BUILD_SECONDS=$((SECONDS - started))
}

# write_build_times <out> <line>...: <out>/build-times.txt with the UI and Go build seconds and the given lines.
write_build_times() {
  local out="$1"
  shift
  printf '%s\n' "ui_build_seconds=${UI_SECONDS:-0}" "go_build_seconds=${GO_BUILD_SECONDS:-0}" "$@" >"$out/build-times.txt"
}
