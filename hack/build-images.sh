#!/usr/bin/env bash
# make images: the operator (also the sync sidecar), the demo target and stunnel, tagged with the
# package version; base image versions from hack/versions.env.
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
PKG_VERSION="$(node -p 'require("./package.json").version')"
build() { # <image> <dockerfile> [build args...]
  local image="$1" dockerfile="$2"; shift 2
  log "building $image"
  docker build -f "$dockerfile" -t "$image" "$@" .
}
build "vigil/operator:$PKG_VERSION" operator/Dockerfile --build-arg "NODE_VERSION=$NODE_VERSION"
build "vigil/target-service:$PKG_VERSION" target-service/Dockerfile --build-arg "NODE_VERSION=$NODE_VERSION"
build "vigil/stunnel:$PKG_VERSION" images/stunnel/Dockerfile --build-arg "STUNNEL_DEBIAN_VERSION=$STUNNEL_DEBIAN_VERSION"
