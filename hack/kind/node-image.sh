#!/usr/bin/env bash
# The kind node image, built on this machine without any registry, cached as an archive in $VIGIL_CACHE/kind-node
# keyed by a hash of everything it is made from (a second run only prints it). `kind build node-image` cannot work
# offline (it fetches etcd, CoreDNS, pause, kindnetd and local-path images), so this does what kind's builder does
# from parts the project builds: /work/shared/kind/FACTS.md.
#
#   hack/kind/node-image.sh build    build the archive when missing; prints "<image tag> <archive>"
#
# - Base: Debian bookworm (debootstrap minbase) with systemd, containerd, runc, the CNI plugins and iptables at the
#   versions hack/versions.env pins, plus kind's own images/base/files (KIND_VERSION, from the Go module cache) and
#   the steps of kind's base Dockerfile done in a chroot. Deviations: containerd's `restrict_oom_score_adj` (the
#   machine lacks CAP_SYS_RESOURCE), a static bridge CNI config instead of kindnetd, kind's built-in host-path
#   StorageClass instead of local-path-provisioner, systemd-sysctl masked (it would write the machine's global
#   sysctls from a privileged node).
# - kubeadm, kubelet, kubectl at KUBERNETES_VERSION (hack/install-kube.sh --kind).
# - The images kubeadm expects (`kubeadm config images list`), made FROM scratch from the project's binaries under
#   those names; kube-proxy on the node's base (it needs iptables). Imported into the node's containerd like kind's
#   builder does, with the chart's upstream-named images (Prometheus, Alertmanager, Mailpit from hack/node/images.sh),
#   so the kubelet never tries to pull them.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
source "$REPO_ROOT/hack/kind/lib.sh"
export PATH="$BIN_DIR:$NODE_BIN_DIR:$PATH"
cd "$REPO_ROOT"

CACHE="$VIGIL_CACHE/kind-node"
DIR="${VIGIL_KIND_DIR:-$REPO_ROOT/.local/kind}"
KIND_FILES="$(go env GOMODCACHE)/sigs.k8s.io/kind@$KIND_VERSION/images/base/files"
KUBE="$VIGIL_CACHE/kubernetes-$KUBERNETES_VERSION"
# What debootstrap installs; the pinned ones are checked after it.
PACKAGES=(systemd conntrack iptables nftables iproute2 ethtool kmod libseccomp2 pigz bash ca-certificates curl jq procps
  containerd runc containernetworking-plugins e2fsprogs util-linux mount)
PINNED=(containerd "$CONTAINERD_DEBIAN_VERSION" runc "$RUNC_DEBIAN_VERSION" containernetworking-plugins "$CNI_PLUGINS_DEBIAN_VERSION"
  iptables "$IPTABLES_DEBIAN_VERSION" conntrack "$CONNTRACK_DEBIAN_VERSION")
mkdir -p "$CACHE" "$DIR"

# What the node image is made from, besides the rootfs: binaries, images, kind's files and this directory.
BINARIES=("$KUBE/kubeadm" "$KUBE/kubelet" "$KUBE/kubectl" "$KUBE/kube-apiserver" "$KUBE/kube-controller-manager"
  "$KUBE/kube-scheduler" "$KUBE/kube-proxy" "$BIN_DIR/etcd" "$BIN_DIR/coredns-kind" "$BIN_DIR/pause" "$BIN_DIR/crictl")
UPSTREAM_IMAGES=() # "<image> <archive>" lines of the chart's upstream-named images

# quiet <command...>: output to $DIR/node-image.log; on failure its tail goes to stderr.
quiet() {
  "$@" >>"$DIR/node-image.log" 2>&1 && return
  log "failed: $*"
  tail -20 "$DIR/node-image.log" >&2
  return 1
}

digest() { find "$@" -type f -print0 | sort -z | xargs -0 sha256sum | cut -d' ' -f1 | sha256sum | cut -c1-16; }

# tools: what the node image is made from, built or found in the cache (each install script is idempotent).
tools() {
  [[ -x "$BIN_DIR/kind" ]] || "$REPO_ROOT/hack/install-kind.sh"
  [[ -d "$KIND_FILES" ]] || (cd "$VIGIL_CACHE/src/kind-$KIND_VERSION" && go mod download "sigs.k8s.io/kind@$KIND_VERSION")
  "$REPO_ROOT/hack/install-kube.sh" --node --kind
  "$REPO_ROOT/hack/install-node.sh" go
  "$REPO_ROOT/hack/install-node.sh" kind-coredns
  local line
  while read -r line; do
    case "$line" in */prometheus:* | */alertmanager:* | */mailpit:*) UPSTREAM_IMAGES+=("$line") ;; esac
  done < <("$REPO_ROOT/hack/node/images.sh" build)
  ((${#UPSTREAM_IMAGES[@]} == 3)) || { log "expected the Prometheus, Alertmanager and Mailpit images from hack/node/images.sh"; exit 1; }
}

# rootfs: the debootstrap tar, cached by debootstrap's version and the package list.
rootfs_key() { printf '%s\n' "$DEBOOTSTRAP_DEBIAN_VERSION" "${PACKAGES[@]}" "${PINNED[@]}" | sha256sum | cut -c1-16; }
rootfs() {
  local tar root
  tar="$CACHE/rootfs-$(rootfs_key).tar"
  if [[ ! -f "$tar" ]]; then
    log "debootstrap --variant=minbase bookworm with the node's packages (about a minute)"
    root="$(mktemp -d /var/tmp/vigil-kind-rootfs.XXXXXX)"
    debootstrap --variant=minbase --include="$(IFS=,; echo "${PACKAGES[*]}")" bookworm "$root" http://deb.debian.org/debian \
      >"$DIR/debootstrap.log" 2>&1 || { log "debootstrap failed; see $DIR/debootstrap.log"; rm -rf "$root"; exit 1; }
    check_pinned "$root" "${PINNED[@]}" || { rm -rf "$root"; exit 1; }
    find "$CACHE" -maxdepth 1 -name 'rootfs-*.tar' -mmin +120 -delete # not another checkout's fresh one
    tar -C "$root" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
    rm -rf "$root"
  fi
  echo "$tar"
}

# check_pinned <root> <package> <version>...: the installed versions are the pinned ones; like hack/install-node.sh,
# a newer Debian revision of the same upstream version is taken (and logged), anything else fails.
check_pinned() {
  local root="$1" pkg version have
  shift
  while (($#)); do
    pkg="$1" version="$2"; shift 2
    have="$(chroot "$root" dpkg-query -W -f='${Version}' "$pkg")"
    [[ "$have" == "$version" ]] && continue
    [[ "${have%-*}" == "${version%-*}" ]] || { log "debootstrap installed $pkg $have, hack/versions.env pins $version"; return 1; }
    log "$pkg $version is no longer in the archive; the node has $have (same upstream version)"
  done
}

# full_name <image>: the name containerd gives a reference (Docker Hub's get docker.io/[library/]).
full_name() {
  local first="${1%%/*}"
  if [[ "$1" != */* ]]; then echo "docker.io/library/$1"
  elif [[ "$first" == *.* || "$first" == *:* || "$first" == localhost ]]; then echo "$1"
  else echo "docker.io/$1"; fi
}

# The images kubeadm will run, one name per line (their tags follow kubeadm's own constants).
kubeadm_images() { "$KUBE/kubeadm" config images list --kubernetes-version "$KUBERNETES_VERSION" 2>/dev/null; }

# customize <root> <pause image>: kind's base image steps and the node image's files, in the unpacked rootfs.
customize() {
  local root="$1" pause="$2" unit
  install -m0755 "$KIND_FILES"/usr/local/bin/* "$root/usr/local/bin/"
  mkdir -p "$root"/kind/bin "$root"/kind/manifests "$root"/LICENSES "$root"/etc/kubernetes/manifests \
    "$root"/etc/systemd/system/kubelet.service.d "$root"/etc/cni/net.d "$root"/opt/cni/bin
  install -m0644 "$KIND_FILES"/kind/README.txt "$root/kind/"
  install -m0755 "$KIND_FILES"/kind/bin/* "$root/kind/bin/"
  install -m0644 "$KIND_FILES"/LICENSES/* "$root/LICENSES/"
  install -m0644 "$KIND_FILES"/etc/crictl.yaml "$root/etc/"
  install -m0644 "$KIND_FILES"/etc/default/* "$root/etc/default/"
  install -m0644 "$KIND_FILES"/etc/sysctl.d/* "$root/etc/sysctl.d/"
  for unit in kubelet.service kubelet.slice containerd.service undo-mount-hacks.service; do
    install -m0644 "$KIND_FILES/etc/systemd/system/$unit" "$root/etc/systemd/system/"
  done
  install -m0644 "$KIND_FILES"/etc/systemd/system/kubelet.service.d/* "$root/etc/systemd/system/kubelet.service.d/"
  # kind's containerd config; no CAP_SYS_RESOURCE here (sandboxes fail without restrict_oom_score_adj), the pause
  # image kubeadm names, no fuse-overlayfs (rootless only).
  sed -e 's/restrict_oom_score_adj = false/restrict_oom_score_adj = true/' \
    -e "s#sandbox_image = \".*\"#sandbox_image = \"$pause\"#" \
    -e '/^\[proxy_plugins\]/,/^  address = /d' \
    "$KIND_FILES/etc/containerd/config.toml" >"$root/etc/containerd/config.toml"
  grep -q 'restrict_oom_score_adj = true' "$root/etc/containerd/config.toml"
  grep -qF "sandbox_image = \"$pause\"" "$root/etc/containerd/config.toml"
  if grep -q fuse-overlayfs "$root/etc/containerd/config.toml"; then log "fuse-overlayfs still in containerd's config"; exit 1; fi
  # Debian's paths: containerd in /usr/bin (kind's unit runs /usr/local/bin/containerd), CNI plugins in /usr/lib/cni
  # (containerd looks in /opt/cni/bin).
  ln -sf /usr/bin/containerd "$root/usr/local/bin/containerd"
  local plugin
  for plugin in "$root"/usr/lib/cni/*; do ln -sf "/usr/lib/cni/$(basename "$plugin")" "$root/opt/cni/bin/"; done
  install -m0644 "$REPO_ROOT/hack/kind/files/10-kind-bridge.conflist" "$root/etc/cni/net.d/"
  install -m0644 "$REPO_ROOT/hack/kind/files/default-cni.yaml" "$root/kind/manifests/"
  # no default-storage.yaml: kind falls back to its built-in host-path StorageClass
  install -m0755 "$BIN_DIR/crictl" "$root/usr/local/bin/crictl"
  install -m0755 "$KUBE/kubeadm" "$KUBE/kubelet" "$KUBE/kubectl" "$root/usr/bin/"
  printf '%s' "$KUBERNETES_VERSION" >"$root/kind/version"
  # kind's base Dockerfile's RUN steps
  chroot "$root" /bin/bash -euc '
    chmod 0755 /kind /kind/bin
    find /lib/systemd/system/sysinit.target.wants/ -name systemd-tmpfiles-setup.service -delete
    rm -f /lib/systemd/system/multi-user.target.wants/* /etc/systemd/system/*.wants/* /lib/systemd/system/local-fs.target.wants/* \
      /lib/systemd/system/sockets.target.wants/*udev* /lib/systemd/system/sockets.target.wants/*initctl* /lib/systemd/system/basic.target.wants/*
    echo "ReadKMsg=no" >>/etc/systemd/journald.conf
    [ -e /sbin/init ] || ln -s /usr/lib/systemd/systemd /sbin/init
    systemctl enable kubelet.service containerd.service undo-mount-hacks.service >/dev/null 2>&1
    systemctl mask systemd-binfmt.service systemd-sysctl.service >/dev/null 2>&1
    ctr oci spec | jq ".hooks.createContainer[.hooks.createContainer | length] |= . + {\"path\": \"/kind/bin/mount-product-files.sh\"}" \
      | jq "del(.process.rlimits)" >/etc/containerd/cri-base.json
    apt-get clean
    rm -rf /var/lib/apt/lists/* /var/cache/debconf/*-old /usr/share/doc/* /usr/share/man/* /var/log/*.log
    : >/etc/machine-id'
}

# dockerfile_for <image>: how an image kubeadm expects is made, from the files listed on the first line.
dockerfile_for() {
  local name="${1%:*}"
  case "${name##*/}" in
    kube-apiserver | kube-controller-manager | kube-scheduler)
      printf '%s\nFROM scratch\nCOPY %s /usr/local/bin/\nENTRYPOINT ["/usr/local/bin/%s"]\n' "$KUBE/${name##*/}" "${name##*/}" "${name##*/}" ;;
    kube-proxy) printf '%s\nFROM %s\nCOPY kube-proxy /usr/local/bin/\nENTRYPOINT ["/usr/local/bin/kube-proxy"]\n' "$KUBE/kube-proxy" "$BASE" ;;
    etcd) printf '%s\nFROM scratch\nCOPY etcd /usr/local/bin/\nENTRYPOINT ["/usr/local/bin/etcd"]\n' "$BIN_DIR/etcd" ;;
    coredns) printf '%s\nFROM scratch\nCOPY coredns /coredns\nENTRYPOINT ["/coredns"]\n' "$VIGIL_CACHE/coredns-kind-$COREDNS_VERSION/coredns" ;;
    pause) printf '%s\nFROM scratch\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n' "$BIN_DIR/pause" ;;
    *) log "no recipe for $1, which kubeadm $KUBERNETES_VERSION expects"; return 1 ;;
  esac
}

RUN_DIR=""
WORK=""
cleanup() {
  if [[ -n "$RUN_DIR" ]]; then
    stop_dockerd "$RUN_DIR"
    unmount_under "$RUN_DIR" "$WORK/docker"
    rm -rf "$RUN_DIR"
  fi
  [[ -n "$WORK" ]] && rm -rf "$WORK"
  return 0
}

# build <key> <tag> <archive>: the node image, in a Docker engine of its own (no network, no iptables rules).
build() {
  local key="$1" tag="$2" out="$3" rootfs images=() image started=$SECONDS
  rootfs="$(rootfs)"
  WORK="$(mktemp -d /var/tmp/vigil-kind-node.XXXXXX)"
  : >"$DIR/node-image.log"
  RUN_DIR="/run/vigil-kind-build-$key"
  trap cleanup EXIT
  mapfile -t images < <(kubeadm_images)
  ((${#images[@]} >= 7)) || { log "kubeadm config images list gave: ${images[*]}"; exit 1; }
  local pause; pause="$(printf '%s\n' "${images[@]}" | grep '/pause:')"

  log "node rootfs: kind $KIND_VERSION's base files, Kubernetes $KUBERNETES_VERSION"
  mkdir -p "$WORK/root"
  tar -C "$WORK/root" -xf "$rootfs"
  customize "$WORK/root" "$pause"
  tar -C "$WORK/root" -cf "$WORK/rootfs.tar" .
  rm -rf "$WORK/root"

  start_dockerd "$RUN_DIR" "$WORK/docker" "$DIR/node-image-dockerd.log" \
    --bridge=none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false
  BASE="vigil.local/kind-base:$key"
  # kind's base image's metadata: systemd learns it runs in a container, and stops on SIGRTMIN+3
  docker import "$WORK/rootfs.tar" "vigil.local/kind-rootfs:$key" >/dev/null
  rm -f "$WORK/rootfs.tar"
  mkdir -p "$WORK/ctx/base"
  printf 'FROM %s\nENV container=docker\nSTOPSIGNAL SIGRTMIN+3\nENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]\n' \
    "vigil.local/kind-rootfs:$key" >"$WORK/ctx/base/Dockerfile"
  quiet docker build -t "$BASE" "$WORK/ctx/base"
  local recipe ctx
  for image in "${images[@]}"; do
    recipe="$(dockerfile_for "$image")"
    ctx="$WORK/ctx/${image//[\/:]/_}"
    mkdir -p "$ctx"
    cp -L "$(head -1 <<<"$recipe")" "$ctx/"
    tail -n +2 <<<"$recipe" >"$ctx/Dockerfile"
    quiet docker build -t "$image" "$ctx"
  done
  local line upstream=()
  for line in "${UPSTREAM_IMAGES[@]}"; do
    docker load -i "${line#* }" >/dev/null
    upstream+=("${line%% *}")
  done
  docker save -o "$WORK/images.tar" "${images[@]}" "${upstream[@]}"

  # kind's own recipe (pkg/build/nodeimage): the base running, its containerd importing the images, committed.
  local c=vigil-kind-node-build
  docker run -d --name "$c" --network none --security-opt seccomp=unconfined --entrypoint sleep "$BASE" infinity >/dev/null
  docker cp "$WORK/images.tar" "$c:/images.tar"
  local imported
  imported="$(docker exec "$c" bash -euc '
    containerd >/tmp/containerd.log 2>&1 &
    pid=$!
    for i in $(seq 100); do ctr version >/dev/null 2>&1 && break; sleep 0.2; done
    ctr -n k8s.io images import --label=io.cri-containerd.pinned=pinned --all-platforms --no-unpack --digests /images.tar >/dev/null
    ctr -n k8s.io images ls -q | grep -v "^sha256:"
    kill "$pid"; wait "$pid" || true
    rm -f /images.tar /tmp/containerd.log')"
  for image in "${images[@]}" "${upstream[@]}"; do
    grep -qxF "$(full_name "$image")" <<<"$imported" || { log "the node's containerd lacks $image after the import; it has: $imported"; exit 1; }
  done
  docker commit --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' --change 'CMD []' "$c" "$tag" >/dev/null
  docker rm -f "$c" >/dev/null
  find "$CACHE" -maxdepth 1 -name 'node-*.tar' -mmin +120 -delete
  docker save -o "$out.tmp" "$tag" && mv "$out.tmp" "$out"
  log "built $tag in $((SECONDS - started)) s ($(du -m "$out" | cut -f1) MB)"
}

node_image() {
  tools >&2
  local key
  key="$(printf '%s\n' "$KIND_VERSION" "$KUBERNETES_VERSION" "$COREDNS_VERSION" "$(rootfs_key)" \
    "$(sha256sum "${BINARIES[@]}" | cut -d' ' -f1)" "${UPSTREAM_IMAGES[@]##*/}" \
    "$(digest "$KIND_FILES" "$REPO_ROOT/hack/kind/files" "$REPO_ROOT/hack/kind/node-image.sh")" \
    | sha256sum | cut -c1-16)"
  local tag="vigil.local/kind-node:$KUBERNETES_VERSION-$key" out="$CACHE/node-$key.tar"
  [[ -f "$out" ]] || build "$key" "$tag" "$out" >&2
  echo "$tag $out"
}

[[ "${BASH_SOURCE[0]}" == "$0" ]] || return 0 # sourced: functions only
case "${1:-}" in
  build) with_cache_lock kind-node node_image ;;
  *) echo "usage: $0 build" >&2; exit 2 ;;
esac
