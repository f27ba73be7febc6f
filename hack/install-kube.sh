#!/usr/bin/env bash
# Builds kube-apiserver, kubectl (with --node kubelet, kube-proxy, kube-controller-manager, kube-scheduler; with
# --kind kubeadm and kubelet for the kind node image, hack/kind/node-image.sh) from k8s.io/kubernetes and etcd
# (go.etcd.io/etcd/server/v3) through the Go module proxy, at the versions pinned in hack/versions.env. With
# --kubectl only kubectl (what `make kind-up` needs: a laptop then builds neither etcd nor the API server).
# Release downloads are not reachable on the machines this project is developed on, so we build.
source "$(dirname "$0")/lib.sh"
source "$REPO_ROOT/hack/go-build.sh"

# The commands built from k8s.io/kubernetes; `--node` adds the real single-node cluster's (make cluster-up),
# `--kind` the kind node image's.
KUBE_COMMANDS=(kube-apiserver kubectl)
NODE_COMMANDS=(kubelet kube-proxy kube-controller-manager kube-scheduler)
KIND_COMMANDS=(kubeadm kubelet)
# add <command>...: appended once each (bash 3.2: no associative arrays or mapfile on the laptop path).
add() {
  local c e
  for c in "$@"; do
    for e in "${KUBE_COMMANDS[@]}"; do [[ "$e" == "$c" ]] && continue 2; done
    KUBE_COMMANDS+=("$c")
  done
}
for arg in "$@"; do
  case "$arg" in
    --node) add "${NODE_COMMANDS[@]}" ;;
    --kind) add "${KIND_COMMANDS[@]}" ;;
    --kubectl) [[ $# -eq 1 ]] || { log "--kubectl goes alone"; exit 2; }; KUBE_COMMANDS=(kubectl) ;;
    *) log "usage: $0 [--node] [--kind] [--kubectl]"; exit 2 ;;
  esac
done

# One throwaway module for every command, so they share the Go build cache (the first one compiles the
# shared tree, several minutes; each further one takes seconds to two minutes).
build_kubernetes() {
  local out="$VIGIL_CACHE/kubernetes-$KUBERNETES_VERSION" missing=() cmd
  for cmd in "${KUBE_COMMANDS[@]}"; do [[ -x "$out/$cmd" ]] || missing+=("$cmd"); done
  if ((${#missing[@]})); then
    log "building ${missing[*]} $KUBERNETES_VERSION from the Go module proxy (first time: several minutes)"
    local src="$VIGIL_CACHE/src/kubernetes-$KUBERNETES_VERSION"
    mkdir -p "$src" "$out"
    cd "$src"
    [[ -f go.mod ]] || go mod init vigil.dev/kube-build >/dev/null 2>&1
    # k8s.io/kubernetes requires its staging modules at exactly v0.0.0 (replaced by ./staging in its own repo);
    # map each one to the published v0.x.y that matches this release. Pseudo-versions (k8s.io/utils
    # v0.0.0-2025...) are real versions and must stay.
    local gomod; gomod="$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
    local staging_version="v0.${KUBERNETES_VERSION#v1.}"
    grep -E '^[[:space:]]+k8s\.io/[a-z0-9-]+ v0\.0\.0$' "$gomod" | awk '{print $1}' | while read -r mod; do
      go mod edit -replace "$mod=$mod@$staging_version"
    done
    go mod edit -require "k8s.io/kubernetes@$KUBERNETES_VERSION"
    # tools.go imports every command built so far, so `go mod tidy` keeps all their requirements.
    local imports=() all=() file
    for cmd in "$out"/*; do [[ -x "$cmd" && "$cmd" != *.tmp ]] && all+=("$(basename "$cmd")"); done
    all+=("${missing[@]}")
    for cmd in $(printf '%s\n' "${all[@]}" | sort -u); do imports+=("	_ \"k8s.io/kubernetes/cmd/$cmd\""); done
    file="$(printf '//go:build tools\n\npackage tools\n\nimport (\n%s\n)\n' "$(printf '%s\n' "${imports[@]}")")"
    if [[ "$(cat tools.go 2>/dev/null)" != "$file" ]]; then
      printf '%s\n' "$file" > tools.go
      GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 || GOFLAGS=-mod=mod go mod tidy
    fi
    local minor="${KUBERNETES_VERSION#v1.}"; minor="${minor%%.*}"
    local ldflags="-s -w"
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldflags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    done
    for cmd in "${missing[@]}"; do
      CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$out/$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd"
      mv "$out/$cmd.tmp" "$out/$cmd"
    done
  fi
  for cmd in "${KUBE_COMMANDS[@]}"; do link_tool "$out/$cmd" "$cmd"; done
}

# etcd's server module is its command (go.etcd.io/etcd/server/v3 is package main).
build_etcd() {
  go_build_tool go.etcd.io/etcd/server/v3 "$ETCD_VERSION" go.etcd.io/etcd/server/v3 etcd
}

# One install per cache entry at a time (lib.sh): they build in $VIGIL_CACHE/src/<entry>.
with_cache_lock "kubernetes-$KUBERNETES_VERSION" build_kubernetes
if [[ "${1:-}" == --kubectl ]]; then
  "$BIN_DIR/kubectl" version --client >&2
  exit 0
fi
build_etcd # go_build_tool takes the lock itself
"$BIN_DIR/kube-apiserver" --version >&2
"$BIN_DIR/etcd" --version | sed -n 1p >&2 # sed reads to the end: head -1 could end the pipe early (SIGPIPE, exit 141 under pipefail)
