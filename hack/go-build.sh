# Shared by hack/install-{helm,kubeconform,kind,kube,node}.sh (helm, kubeconform, kind, etcd, crictl): build a Go command at a pinned version through
# the Go module proxy and link it into ./bin. Sourced after lib.sh.
#
# `go install pkg@version` refuses modules whose go.mod has replace directives (helm has them), so
# every tool is built inside a throwaway module in the cache; the same path works for all of them.

# Go from 1.21 on fetches the newer toolchain a module asks for (helm v3.22 needs Go 1.26) by itself.
command -v go >/dev/null || { log "Go is required to build the pinned tools into ./bin (Go 1.26 or newer, or any Go from 1.21 on: https://go.dev/dl/)"; exit 1; }

# go_build_tool <module> <version> <package> <binary name>: one install of <name>-<version> at a time.
go_build_tool() {
  with_cache_lock "$4-$2" go_build_tool_locked "$@"
}

go_build_tool_locked() {
  local module="$1" version="$2" package="$3" name="$4"
  local out="$VIGIL_CACHE/$name-$version"
  if [[ -x "$out/$name" ]]; then link_tool "$out/$name" "$name"; return; fi
  log "building $name $version ($module) from the Go module proxy"
  local src="$VIGIL_CACHE/src/$name-$version"
  mkdir -p "$src" "$out"
  (
    cd "$src"
    [[ -f go.mod ]] || go mod init "vigil.dev/$name-build" >/dev/null 2>&1
    printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$package" > tools.go
    go mod edit -require "$module@$version"
    GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 || GOFLAGS=-mod=mod go mod tidy
    CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w ${GO_BUILD_LDFLAGS:-}" -o "$out/$name.tmp" "$package"
    mv "$out/$name.tmp" "$out/$name"
  )
  link_tool "$out/$name" "$name"
}
