#!/usr/bin/env bash
# make images / make push: the images Vigil builds, the operator (also the sync sidecars and helm test), the demo
# target and stunnel, named vigil/<name>:<package version>, and <REGISTRY>/vigil/<name>:<version> when REGISTRY is
# set (the chart's global.imageRegistry); base image versions from hack/versions.env.
#   hack/build-images.sh        build into the local image store (what kind loads)
#   hack/build-images.sh push   build and push <REGISTRY>/vigil/<name>:<version>
# PLATFORMS (comma-separated, e.g. linux/amd64,linux/arm64; empty = this machine's): any other platform than the
# local one needs `docker buildx` (BuildKit), which builds them all in one go; multi-platform images cannot go into
# the local image store, so they stay in buildx's cache until `make push`.
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
MODE="${1:-build}"
PKG_VERSION="$(node -p 'require("./package.json").version')"
REGISTRY="${REGISTRY:-}"
REGISTRY="${REGISTRY%/}"
PLATFORMS="${PLATFORMS:-}"

case "$MODE" in
  build) ;;
  push) [[ -n "$REGISTRY" ]] || { log "make push needs REGISTRY, e.g. make push REGISTRY=registry.example.com (images go to <REGISTRY>/vigil/<name>:$PKG_VERSION)"; exit 2; } ;;
  *) echo "usage: $0 [build|push]" >&2; exit 2 ;;
esac

local_platform="$(docker version --format '{{.Server.Os}}/{{.Server.Arch}}')" \
  || { log "docker does not answer: start Docker (or set DOCKER_HOST) and try again"; exit 1; }
multi=false
if [[ -n "$PLATFORMS" && "$PLATFORMS" != "$local_platform" ]]; then
  multi=true
  if ! docker buildx version >/dev/null 2>&1; then
    log "PLATFORMS=$PLATFORMS: building for other platforms than this machine's ($local_platform) needs docker buildx."
    log "Install the buildx plugin (Docker Desktop has it; Debian: docker-buildx), run 'docker buildx create --use' once,"
    log "or run 'make push REGISTRY=...' without PLATFORMS on a machine of each architecture."
    exit 1
  fi
fi

# BuildKit attaches provenance attestations by default; with Docker's containerd image store,
# `kind load docker-image` then fails on their missing blobs. The legacy builder has no such flag.
build_help="$(docker build --help 2>/dev/null || true)"
PROVENANCE_FLAG=""
[[ "$build_help" == *--provenance* ]] && PROVENANCE_FLAG="--provenance=false"

# The upstream part of the Debian version (3:5.68-2+deb12u1 -> 5.68): see images/stunnel/Dockerfile.
stunnel_version="${STUNNEL_DEBIAN_VERSION#*:}"
stunnel_version="${stunnel_version%-*}"

# build <name> <dockerfile> [build args...]: one image for PLATFORMS (or the local platform), pushed in push mode.
build() {
  local name="$1" dockerfile="$2"
  shift 2
  local image="vigil/$name:$PKG_VERSION" pushed="${REGISTRY:+$REGISTRY/}vigil/$name:$PKG_VERSION"
  # DOCKER_BUILD_FLAGS: extra flags, e.g. --network host (hack/node/images.sh builds without a bridge)
  if $multi; then
    log "building $pushed for $PLATFORMS (docker buildx)"
    if [[ "$MODE" == push ]]; then
      # shellcheck disable=SC2086
      docker buildx build ${DOCKER_BUILD_FLAGS:-} --platform "$PLATFORMS" -f "$dockerfile" -t "$pushed" --push "$@" .
    else
      # shellcheck disable=SC2086
      docker buildx build ${DOCKER_BUILD_FLAGS:-} --platform "$PLATFORMS" -f "$dockerfile" -t "$pushed" "$@" .
    fi
    return
  fi
  log "building $image${REGISTRY:+ and $pushed} ($local_platform)"
  local tags=(-t "$image")
  [[ -z "$REGISTRY" ]] || tags+=(-t "$pushed")
  # shellcheck disable=SC2086
  docker build ${DOCKER_BUILD_FLAGS:-} $PROVENANCE_FLAG -f "$dockerfile" "${tags[@]}" "$@" .
  if [[ "$MODE" == push ]]; then
    log "pushing $pushed"
    docker push "$pushed"
  fi
}

build operator operator/Dockerfile --build-arg "NODE_VERSION=$NODE_VERSION"
build target-service target-service/Dockerfile --build-arg "NODE_VERSION=$NODE_VERSION"
build stunnel images/stunnel/Dockerfile --build-arg "STUNNEL_VERSION=$stunnel_version"
if $multi && [[ "$MODE" == build ]]; then
  log "built for $PLATFORMS; multi-platform images stay in buildx's cache: 'make push REGISTRY=... PLATFORMS=$PLATFORMS' pushes them"
fi
if [[ "$MODE" == push ]]; then
  log "pushed: install with --set global.imageRegistry=$REGISTRY (docs/deployment.md)"
fi
