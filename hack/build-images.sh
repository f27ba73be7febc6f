#!/usr/bin/env bash
# make images: the operator (also the sync sidecar), the demo target and stunnel, tagged with the
# package version; base image versions from hack/versions.env. Builds for the Docker engine's own
# platform (linux/amd64 or linux/arm64).
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
PKG_VERSION="$(node -p 'require("./package.json").version')"
# BuildKit attaches provenance attestations by default; with Docker's containerd image store,
# `kind load docker-image` then fails on their missing blobs. The legacy builder has no such flag.
build_help="$(docker build --help 2>/dev/null || true)"
PROVENANCE_FLAG=""
[[ "$build_help" == *--provenance* ]] && PROVENANCE_FLAG="--provenance=false"
build() { # <image> <dockerfile> [build args...]
  local image="$1" dockerfile="$2"; shift 2
  log "building $image"
  # DOCKER_BUILD_FLAGS: extra flags, e.g. --network host (hack/node/images.sh builds without a bridge)
  # shellcheck disable=SC2086
  docker build ${DOCKER_BUILD_FLAGS:-} $PROVENANCE_FLAG -f "$dockerfile" -t "$image" "$@" .
}
build "vigil/operator:$PKG_VERSION" operator/Dockerfile --build-arg "NODE_VERSION=$NODE_VERSION"
build "vigil/target-service:$PKG_VERSION" target-service/Dockerfile --build-arg "NODE_VERSION=$NODE_VERSION"
# The upstream part of the Debian version (3:5.68-2+deb12u1 -> 5.68): see images/stunnel/Dockerfile.
stunnel_version="${STUNNEL_DEBIAN_VERSION#*:}"
build "vigil/stunnel:$PKG_VERSION" images/stunnel/Dockerfile --build-arg "STUNNEL_VERSION=${stunnel_version%-*}"
