#!/usr/bin/env bash
# Installs what the real single-node cluster (make cluster-up, hack/node/cluster.sh) needs, at the versions
# pinned in hack/versions.env, cached in $VIGIL_CACHE like the other tools and linked into ./bin:
#   - kubelet, kube-proxy, kube-controller-manager, kube-scheduler (hack/install-kube.sh --node),
#   - crictl (sigs.k8s.io/cri-tools) and a CoreDNS with the plugins the cluster's Corefile uses,
#   - Debian packages: containerd, runc, CNI plugins, iptables, conntrack, docker.io (image builds) and debootstrap.
# Idempotent: a second run takes seconds.
source "$(dirname "$0")/lib.sh"
source "$REPO_ROOT/hack/go-build.sh"

# apt_pinned <package> <version>...: install the pinned Debian versions. Debian's security archive keeps only
# the newest revision of a package, so when the pinned revision is gone, the candidate with the same upstream
# version is taken (and logged) instead of failing the whole build on the next security update.
apt_pinned() {
  local specs=() pkg version candidate updated=""
  local sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
  while (($#)); do
    pkg="$1" version="$2"; shift 2
    [[ "$(dpkg-query -W -f='${Status} ${Version}' "$pkg" 2>/dev/null || true)" == "install ok installed $version" ]] && continue
    if [[ -z "$updated" ]]; then $sudo apt-get update -qq; updated=1; fi
    if apt-cache madison "$pkg" | awk -F'|' '{gsub(/ /, "", $2); print $2}' | grep -qxF "$version"; then
      specs+=("$pkg=$version")
    else
      candidate="$(apt-cache policy "$pkg" | awk '/Candidate:/ {print $2}')"
      [[ "${candidate%-*}" == "${version%-*}" ]] || { log "$pkg $version is not available (candidate: $candidate)"; exit 1; }
      log "$pkg $version is no longer in the archive; installing $candidate (same upstream version)"
      specs+=("$pkg=$candidate")
    fi
  done
  ((${#specs[@]})) || return 0
  log "installing Debian packages: ${specs[*]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${specs[@]}" >/dev/null
}

# One install per cache entry at a time (lib.sh): coredns builds in $VIGIL_CACHE/src/<entry>.
# build_coredns [<main.go> <name>]: the real node's CoreDNS by default; the kind node image's has its own plugin list.
build_coredns() {
  local main="${1:-$REPO_ROOT/hack/node/coredns/main.go}" name="${2:-coredns}"
  with_cache_lock "$name-$COREDNS_VERSION" build_coredns_locked "$main" "$name"
}

build_coredns_locked() {
  local main="$1" name="$2"
  local out="$VIGIL_CACHE/$name-$COREDNS_VERSION"
  if [[ -x "$out/coredns" ]]; then link_tool "$out/coredns" "$name"; return; fi
  log "building $name $COREDNS_VERSION (plugins of ${main#"$REPO_ROOT/"}) from the Go module proxy"
  local src="$VIGIL_CACHE/src/$name-$COREDNS_VERSION"
  mkdir -p "$src" "$out"
  (
    cd "$src"
    [[ -f go.mod ]] || go mod init "vigil.dev/$name-build" >/dev/null 2>&1
    cp "$main" main.go
    go mod edit -require "github.com/coredns/coredns@$COREDNS_VERSION"
    GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 || GOFLAGS=-mod=mod go mod tidy
    CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$out/coredns.tmp" .
    mv "$out/coredns.tmp" "$out/coredns"
  )
  link_tool "$out/coredns" "$name"
}

# The sandbox image's binary (hack/node/pause): no dependencies, keyed by its source.
build_pause() {
  local key; key="$(sha256sum "$REPO_ROOT/hack/node/pause/main.go" | cut -c1-12)"
  local out="$VIGIL_CACHE/pause-$key"
  if [[ ! -x "$out/pause" ]]; then
    mkdir -p "$out/src"
    cp "$REPO_ROOT/hack/node/pause/main.go" "$out/src/main.go"
    printf 'module vigil.dev/pause\n\ngo 1.22\n' >"$out/src/go.mod"
    (cd "$out/src" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out/pause" .)
  fi
  link_tool "$out/pause" pause
}

want_debian=(containerd "$CONTAINERD_DEBIAN_VERSION" runc "$RUNC_DEBIAN_VERSION"
  containernetworking-plugins "$CNI_PLUGINS_DEBIAN_VERSION" iptables "$IPTABLES_DEBIAN_VERSION" conntrack "$CONNTRACK_DEBIAN_VERSION"
  docker.io "$DOCKER_DEBIAN_VERSION" debootstrap "$DEBOOTSTRAP_DEBIAN_VERSION")
only="${1:-all}"
case "$only" in
  debian) apt_pinned "${want_debian[@]}" ;;
  go)
    go_build_tool sigs.k8s.io/cri-tools "$CRI_TOOLS_VERSION" sigs.k8s.io/cri-tools/cmd/crictl crictl
    build_coredns; build_pause ;;
  all)
    apt_pinned "${want_debian[@]}"
    go_build_tool sigs.k8s.io/cri-tools "$CRI_TOOLS_VERSION" sigs.k8s.io/cri-tools/cmd/crictl crictl
    build_coredns
    build_pause
    "$REPO_ROOT/hack/install-kube.sh" --node ;;
  kind-coredns) build_coredns "$REPO_ROOT/hack/kind/coredns/main.go" coredns-kind ;;
  *) log "usage: $0 [all|debian|go|kind-coredns]"; exit 2 ;;
esac
