#!/usr/bin/env bash
# The images the chart uses, built on this machine without any registry, and imported into the real node's
# containerd (hack/node/cluster.sh). Every image is cached as an archive in $VIGIL_CACHE/node-images keyed by a
# hash of everything it is made from, so a second run only imports.
#
#   hack/node/images.sh build    build the missing archives (prints one line per image)
#   hack/node/images.sh import   build what is missing, then import all into the node's containerd
#
# - operator, demo target, stunnel: the project's own Dockerfiles through hack/build-images.sh (what users run),
#   with a Docker engine started here (Debian's docker.io, private data-root, exec-root and socket; legacy builder,
#   host network, no bridge and no iptables rules) against base images made here and tagged with the names their
#   FROM lines use: debian:bookworm-slim from debootstrap, node:<NODE_VERSION>-bookworm-slim adding the Node binary
#   the project installs and npm. Only these locally made bases get the machine's CA bundle (the registry traffic of
#   `npm ci`/`apt-get` inside a build may pass a TLS-intercepting proxy); the project's Dockerfiles stay as they are.
# - Prometheus, Alertmanager, Mailpit: from the binaries in ./bin, laid out like the upstream images (entrypoint,
#   user nobody, config and data paths), tagged as the chart's values say.
# - pause (the sandbox image) and CoreDNS: the binaries hack/install-node.sh builds.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
export PATH="$BIN_DIR:$NODE_BIN_DIR:$PATH"
cd "$REPO_ROOT"

CACHE="$VIGIL_CACHE/node-images"
DIR="${VIGIL_NODE_DIR:-$REPO_ROOT/.local/node}"
CTRD_SOCK=/run/vigil-node/containerd/containerd.sock
# One Docker engine per image cache: its data-root lives in the cache, so two builds against the same cache take
# turns (the flock below), and builds against two caches (e.g. a cold CI run next to a warm one) get their own
# engine, socket and exec-root.
DOCKER_RUN="/run/vigil-docker-$(printf '%s' "$CACHE" | sha256sum | cut -c1-12)"
export DOCKER_HOST="unix://$DOCKER_RUN/docker.sock" DOCKER_BUILDKIT=0
NPM_TGZ="$VIGIL_CACHE/npm-$NODE_IMAGE_NPM_VERSION.tgz"
PKG_VERSION="$(node -p 'require("./package.json").version')"
mkdir -p "$CACHE" "$DIR"
: >"$DIR/images.log"

# values <path>...: the chart's default values at the given dotted paths, one per line (the tags the chart uses).
values() {
  node --input-type=module -e '
    import { readFileSync } from "node:fs"; import { parse } from "yaml";
    const v = parse(readFileSync("charts/vigil/values.yaml", "utf8"));
    for (const p of process.argv.slice(1)) console.log(p.split(".").reduce((o, k) => o[k], v));' "$@"
}
# digest <file|dir>...: one hash over names and contents (what an image is made from).
digest() { find "$@" -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16; }
archive() { echo "$CACHE/${1//[\/:]/_}-$2.tar"; } # <image> <key>
# quiet <command...>: output to $DIR/images.log; on failure its tail goes to stderr.
quiet() {
  "$@" >>"$DIR/images.log" 2>&1 && return
  log "failed: $*"; tail -20 "$DIR/images.log" >&2; return 1
}

DOCKERD_PID=""
docker_up() {
  [[ -n "$DOCKERD_PID" ]] && return
  mkdir -p "$DOCKER_RUN" "$CACHE/docker"
  # The data-root stays in the cache: its layer cache makes a rebuild after a source change skip `npm ci`.
  setsid dockerd --data-root "$CACHE/docker" --exec-root "$DOCKER_RUN/exec" --pidfile "$DOCKER_RUN/docker.pid" \
    -H "$DOCKER_HOST" --bridge=none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
    >"$DIR/docker.log" 2>&1 </dev/null &
  DOCKERD_PID=$!
  trap docker_down EXIT
  local i; for i in $(seq 150); do docker info >/dev/null 2>&1 && return; sleep 0.2; done
  log "dockerd did not start; see $DIR/docker.log"; exit 1
}
docker_down() {
  [[ -n "$DOCKERD_PID" ]] || return 0
  kill -TERM "$DOCKERD_PID" 2>/dev/null || true
  local i; for i in $(seq 100); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$DOCKERD_PID" 2>/dev/null || true
  DOCKERD_PID=""
  awk '{print $2}' /proc/self/mounts | grep -E "^($CACHE/docker|$DOCKER_RUN)(/|$)" | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$DOCKER_RUN"
}
# save <image> <archive>: docker save, atomically, dropping archives of the same image unused for 2 hours (not all
# others: another checkout with other sources may be about to import its own; every listing touches what it lists).
save() {
  find "$CACHE" -maxdepth 1 -name "${1//[\/:]/_}-*.tar" -mmin +120 -delete
  quiet docker save "$1" -o "$2.tmp" && mv "$2.tmp" "$2"
  log "built $1 ($(du -m "$2" | cut -f1) MB)"
}
# build_context <image> <archive> <context dir>: docker build of a Dockerfile written by this script.
build_context() { quiet docker build --network host -t "$1" "$3" && save "$1" "$2"; }

# --- base images (FROM names of the project's Dockerfiles) -----------------------------------------------------
debian_rootfs() { # the debootstrap rootfs as a tar, cached by debootstrap version and suite
  local tar="$CACHE/rootfs-bookworm-minbase-$DEBOOTSTRAP_DEBIAN_VERSION.tar"
  if [[ ! -f "$tar" ]]; then
    log "debootstrap --variant=minbase bookworm (about a minute)"
    local root; root="$(mktemp -d /var/tmp/vigil-rootfs.XXXXXX)"
    debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >"$DIR/debootstrap.log" 2>&1 \
      || { log "debootstrap failed; see $DIR/debootstrap.log"; rm -rf "$root"; exit 1; }
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    # the sources of the official image: updates and security too (the Dockerfiles install current packages)
    rm -f "$root/etc/apt/sources.list"
    printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      >"$root/etc/apt/sources.list.d/debian.sources"
    tar -C "$root" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
    rm -rf "$root"
  fi
  echo "$tar"
}

# What the local base images are made from (part of every image's key).
DEBIAN_KEY="$(printf '%s\n' "$DEBOOTSTRAP_DEBIAN_VERSION" "$(sha256sum /etc/ssl/certs/ca-certificates.crt)" | sha256sum | cut -c1-16)"
base_images() {
  local rootfs; rootfs="$(debian_rootfs)"
  [[ -f "$NPM_TGZ" ]] || { (cd "$VIGIL_CACHE" && npm pack "npm@$NODE_IMAGE_NPM_VERSION" --silent >/dev/null && mv "npm-$NODE_IMAGE_NPM_VERSION.tgz" "$NPM_TGZ.tmp" && mv "$NPM_TGZ.tmp" "$NPM_TGZ"); }
  docker_up
  docker image inspect debian:bookworm-slim >/dev/null 2>&1 && return
  local ctx; ctx="$(mktemp -d)"
  # Debian rootfs + the machine's CA bundle (local builds only)
  mkdir -p "$ctx/debian"; cp /etc/ssl/certs/ca-certificates.crt "$ctx/debian/"
  quiet docker import -c 'CMD ["bash"]' "$rootfs" vigil.local/debootstrap:bookworm
  printf 'FROM vigil.local/debootstrap:bookworm\nCOPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt\nCMD ["bash"]\n' >"$ctx/debian/Dockerfile"
  quiet docker build --network host -t debian:bookworm-slim "$ctx/debian"
  # node:<version>-bookworm-slim: the official image's layout (/usr/local, user node 1000, CMD node)
  mkdir -p "$ctx/node"
  cp "$(command -v node)" "$ctx/node/node"
  tar -C "$ctx/node" -xzf "$NPM_TGZ" # -> package/
  cat >"$ctx/node/Dockerfile" <<EOF
FROM debian:bookworm-slim
COPY node /usr/local/bin/node
COPY package /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
ENV NODE_VERSION=$NODE_VERSION NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
CMD ["node"]
EOF
  quiet docker build --network host -t "node:$NODE_VERSION-bookworm-slim" "$ctx/node"
  rm -rf "$ctx"
}

# --- the images ------------------------------------------------------------------------------------------------
# Each function prints "<image> <archive>"; it builds the archive when it is missing.
project_images() {
  local src; src="$(digest package.json package-lock.json tsconfig.json tsconfig.build.json operator target-service images hack/build-images.sh)"
  local key; key="$(printf '%s\n' "$src" "$DEBIAN_KEY" "$NODE_VERSION" "$STUNNEL_DEBIAN_VERSION" "$NODE_IMAGE_NPM_VERSION" | sha256sum | cut -c1-16)"
  local image missing=()
  for image in "vigil/operator:$PKG_VERSION" "vigil/target-service:$PKG_VERSION" "vigil/stunnel:$PKG_VERSION"; do
    [[ -f "$(archive "$image" "$key")" ]] || missing+=("$image")
  done
  if ((${#missing[@]})); then
    base_images
    log "building the project's images with hack/build-images.sh (first time: several minutes)"
    DOCKER_BUILD_FLAGS="--network host" quiet "$REPO_ROOT/hack/build-images.sh"
    for image in "${missing[@]}"; do save "$image" "$(archive "$image" "$key")"; done
  fi
  for image in "vigil/operator:$PKG_VERSION" "vigil/target-service:$PKG_VERSION" "vigil/stunnel:$PKG_VERSION"; do
    echo "$image $(archive "$image" "$key")"
  done
}

# binary_image <image> <archive key extra> <Dockerfile> <file>...: an image from local files.
binary_image() {
  local image="$1" extra="$2" dockerfile="$3"; shift 3
  local key; key="$(printf '%s\n' "$extra" "$dockerfile" "$(sha256sum "$@" | cut -d' ' -f1)" | sha256sum | cut -c1-16)"
  local out; out="$(archive "$image" "$key")"
  if [[ ! -f "$out" ]]; then
    base_images
    local ctx f; ctx="$(mktemp -d)"
    for f in "$@"; do cp -L "$f" "$ctx/"; done
    printf '%s\n' "$dockerfile" >"$ctx/Dockerfile"
    build_context "$image" "$out" "$ctx" || { rm -rf "$ctx"; exit 1; }
    rm -rf "$ctx"
  fi
  echo "$image $out"
}

upstream_images() {
  local prom am mailpit
  # registry/repository:tag, as the chart's vigil.image helper names them (their registries are set).
  { read -r prom; read -r am; read -r mailpit; } < <(values prometheus.image.registry prometheus.image.repository prometheus.image.tag \
    alertmanager.image.registry alertmanager.image.repository alertmanager.image.tag \
    mailCatcher.mailpitImage.registry mailCatcher.mailpitImage.repository mailCatcher.mailpitImage.tag \
    | paste -d'/:' - - -)
  # The tag must be what ./bin runs, or the chart would be tested with another version than it names.
  local have
  have="v$("$BIN_DIR/prometheus" --version 2>&1 | awk 'NR==1 {print $3}')"
  [[ "$have" == "${prom##*:}" ]] || { log "chart image $prom but bin/prometheus is $have (make tools?)"; exit 1; }
  have="v$("$BIN_DIR/alertmanager" --version 2>&1 | awk 'NR==1 {print $3}')"
  [[ "$have" == "${am##*:}" ]] || { log "chart image $am but bin/alertmanager is $have (make tools?)"; exit 1; }

  # Upstream's layout: /bin/prometheus, /bin/promtool, config in /etc/prometheus, data in /prometheus, user nobody.
  binary_image "$prom" "$DEBIAN_KEY" "FROM debian:bookworm-slim
COPY prometheus promtool /bin/
COPY prometheus.yml /etc/prometheus/prometheus.yml
RUN mkdir -p /prometheus && chown -R nobody:nogroup /etc/prometheus /prometheus
USER nobody
WORKDIR /prometheus
EXPOSE 9090
VOLUME [\"/prometheus\"]
ENTRYPOINT [\"/bin/prometheus\"]
CMD [\"--config.file=/etc/prometheus/prometheus.yml\", \"--storage.tsdb.path=/prometheus\"]" \
    "$BIN_DIR/prometheus" "$BIN_DIR/promtool" "$REPO_ROOT/hack/node/prometheus.yml"

  # Debian's Alertmanager reads its templates (default.tmpl, email.tmpl) from /usr/share/prometheus/alertmanager;
  # upstream's binary embeds them.
  local am_files=("$BIN_DIR/alertmanager" "$BIN_DIR/amtool") am_templates="" t
  if [[ "$(readlink -f "$BIN_DIR/alertmanager")" == /usr/bin/prometheus-alertmanager ]]; then
    for t in /usr/share/prometheus/alertmanager/*.tmpl; do
      am_files+=("$t")
      am_templates+="COPY $(basename "$t") /usr/share/prometheus/alertmanager/"$'\n'
    done
  fi
  binary_image "$am" "$DEBIAN_KEY" "FROM debian:bookworm-slim
COPY alertmanager amtool /bin/
$am_templates
COPY alertmanager.yml /etc/alertmanager/alertmanager.yml
RUN mkdir -p /alertmanager && chown -R nobody:nogroup /etc/alertmanager /alertmanager
USER nobody
WORKDIR /alertmanager
EXPOSE 9093
VOLUME [\"/alertmanager\"]
ENTRYPOINT [\"/bin/alertmanager\"]
CMD [\"--config.file=/etc/alertmanager/alertmanager.yml\", \"--storage.path=/alertmanager\"]" \
    "${am_files[@]}" "$REPO_ROOT/hack/node/alertmanager.yml"

  # Thanos (the chart's thanos.enabled): upstream's layout, /bin/thanos as entrypoint, user 1001 (upstream's
  # `thanos` user; the chart's pods run as 65534 anyway). The tag must be what ./bin runs, as above.
  local thanos
  thanos="$(values thanos.image.registry thanos.image.repository thanos.image.tag | paste -d'/:' - - -)"
  have="v$("$BIN_DIR/thanos" --version 2>&1 | awk 'NR==1 {print $3}')"
  [[ "$have" == "${thanos##*:}" ]] || { log "chart image $thanos but bin/thanos is $have (make tools?)"; exit 1; }
  binary_image "$thanos" "$DEBIAN_KEY" "FROM debian:bookworm-slim
COPY thanos /bin/thanos
USER 1001
ENTRYPOINT [\"/bin/thanos\"]" "$BIN_DIR/thanos"

  # Mailpit's image: /mailpit as entrypoint, SMTP 1025, UI 8025 (runs as root unless the pod says otherwise).
  binary_image "$mailpit" "$DEBIAN_KEY" "FROM debian:bookworm-slim
COPY mailpit /mailpit
EXPOSE 1025/tcp 8025/tcp
ENTRYPOINT [\"/mailpit\"]" "$BIN_DIR/mailpit"
}

node_images() {
  binary_image vigil.local/pause:v1 "" "FROM scratch
COPY pause /pause
USER 65535:65535
ENTRYPOINT [\"/pause\"]" "$BIN_DIR/pause"
  binary_image "vigil.local/coredns:$COREDNS_VERSION" "" "FROM scratch
COPY coredns /coredns
USER 65532:65532
ENTRYPOINT [\"/coredns\"]" "$BIN_DIR/coredns"
}

all_images() { node_images; project_images; upstream_images; }

[[ "${BASH_SOURCE[0]}" == "$0" ]] || return 0 # sourced: functions only
# build_images: every archive built or found, one "<image> <archive>" line each; the engine is stopped before the
# cache lock is released, so the next holder can start its own on the same data-root.
build_images() { all_images; docker_down; }
case "${1:-}" in
  build) with_cache_lock node-images build_images ;;
  import)
    list="$(with_cache_lock node-images build_images)"
    while read -r image tar; do
      touch "$tar" # in use: another checkout's save() prunes only archives unused for 2 hours
      ctr -a "$CTRD_SOCK" -n k8s.io images import "$tar" >/dev/null \
        || { log "importing $tar ($image) failed"; exit 1; }
    done <<<"$list"
    ;;
  *) echo "usage: $0 build|import" >&2; exit 2 ;;
esac
