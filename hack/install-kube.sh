#!/usr/bin/env bash
# Builds kube-apiserver, kubectl (k8s.io/kubernetes) and etcd (go.etcd.io/etcd/server/v3)
# through the Go module proxy, at the versions pinned in hack/versions.env.
# Release downloads are not reachable on the machines this project is developed on, so we build.
source "$(dirname "$0")/lib.sh"

build_kubernetes() {
  local out="$VIGIL_CACHE/kubernetes-$KUBERNETES_VERSION"
  if [[ -x "$out/kube-apiserver" && -x "$out/kubectl" ]]; then
    link_tool "$out/kube-apiserver" kube-apiserver; link_tool "$out/kubectl" kubectl; return
  fi
  log "building kube-apiserver and kubectl $KUBERNETES_VERSION from the Go module proxy (first time: several minutes)"
  local src="$VIGIL_CACHE/src/kubernetes-$KUBERNETES_VERSION"
  mkdir -p "$src" "$out"
  cd "$src"
  [[ -f go.mod ]] || go mod init vigil.dev/kube-build >/dev/null 2>&1
  # k8s.io/kubernetes requires its staging modules at v0.0.0 (replaced by ./staging in its own repo);
  # map each one to the published v0.x.y that matches this release.
  local gomod; gomod="$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  local staging_version="v0.${KUBERNETES_VERSION#v1.}"
  grep -E '^\s+k8s\.io/[a-z0-9-]+ v0\.0\.0$' "$gomod" | awk '{print $1}' | while read -r mod; do
    go mod edit -replace "$mod=$mod@$staging_version"
  done
  go mod edit -require "k8s.io/kubernetes@$KUBERNETES_VERSION"
  cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 || GOFLAGS=-mod=mod go mod tidy
  CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION -X k8s.io/client-go/pkg/version.gitVersion=$KUBERNETES_VERSION" -o "$out/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
  CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION -X k8s.io/client-go/pkg/version.gitVersion=$KUBERNETES_VERSION" -o "$out/kubectl" k8s.io/kubernetes/cmd/kubectl
  link_tool "$out/kube-apiserver" kube-apiserver; link_tool "$out/kubectl" kubectl
}

build_etcd() {
  local out="$VIGIL_CACHE/etcd-$ETCD_VERSION"
  if [[ -x "$out/etcd" ]]; then link_tool "$out/etcd" etcd; return; fi
  log "building etcd $ETCD_VERSION from the Go module proxy"
  # `go install pkg@version` refuses modules with replace directives, so build inside a module.
  local src="$VIGIL_CACHE/src/etcd-$ETCD_VERSION"
  mkdir -p "$src" "$out"
  cd "$src"
  [[ -f go.mod ]] || go mod init vigil.dev/etcd-build >/dev/null 2>&1
  printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' > tools.go
  go mod edit -require "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 || GOFLAGS=-mod=mod go mod tidy
  CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -o "$out/etcd" go.etcd.io/etcd/server/v3
  link_tool "$out/etcd" etcd
}

build_etcd
build_kubernetes
"$BIN_DIR/kube-apiserver" --version >&2
"$BIN_DIR/etcd" --version | head -1 >&2
