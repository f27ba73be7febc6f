#!/usr/bin/env bash
# A place where the unmodified `make kind-up` runs on this machine: a network namespace of its own with a Docker
# engine inside, the kind node image built here (hack/kind/node-image.sh) and the chart's images loaded into it.
# Used by the kind test (test/kind/kind.int.test.ts) and by hand:
#
#   hack/kind/env.sh up      start (runs `down` first when a previous run left anything behind); prints the exports
#   hack/kind/env.sh down    stop everything and restore the machine, also after a crash or kill -9
#   hack/kind/env.sh env     print the exports and how to run make in the namespace
#
# Layout: network namespace $KIND_NS (lo only, no link to the host, no route out). dockerd runs inside it
# (`nsenter --net`, not `ip netns exec`, which remounts /sys and hides the cgroup mounts), so the docker bridge, its
# NAT rules, docker-proxy and kind's 127.0.0.1 port mappings live and die with the namespace and never meet the
# host's ports. The engine's default runtime is hack/kind/runc-capfix (the machine lacks CAP_SYS_RESOURCE, which a
# privileged container asks for). Files: .local/kind (state, logs, the engine's data-root, kubeconfig); the engine's
# socket and exec-root in /run/vigil-kind-docker.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
source "$REPO_ROOT/hack/machine-baseline.sh"
source "$REPO_ROOT/hack/kind/lib.sh"
export PATH="$BIN_DIR:$NODE_BIN_DIR:$PATH"

KIND_NS=vigil-kind
DIR="${VIGIL_KIND_DIR:-$REPO_ROOT/.local/kind}"
RUN_DIR=/run/vigil-kind-docker
DATA_ROOT="$DIR/docker"
KUBECONFIG_FILE="$DIR/kubeconfig"
# Global sysctls a kind node changes: systemd as PID 1 (file limits), the kubelet (protectKernelDefaults off), and
# what kube-proxy or the kernel's defaults for a new netns could touch. Saved before, restored after.
SYSCTLS=(fs.file-max fs.nr_open kernel.panic kernel.panic_on_oops vm.overcommit_memory vm.panic_on_oom
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes fs.inotify.max_user_watches fs.inotify.max_user_instances
  kernel.pid_max net.netfilter.nf_conntrack_max)
# Host paths created whatever the configuration says: kind bind-mounts /lib/modules into the node; dockerd 20.10 writes
# its trust key to /etc/docker/key.json and makes /run/docker/plugins.
HOST_PATHS=(/lib/modules /etc/docker/key.json /run/docker)

ms() { date +%s%3N; }
T0=$(ms)
step() { printf '[kind-env %5.1fs] %s\n' "$(($(ms) - T0))e-3" "$*" >&2; }

up() {
  command -v dockerd >/dev/null && command -v jq >/dev/null || { log "needs dockerd and jq (make node-tools)"; exit 1; }
  if [[ -e "/run/netns/$KIND_NS" || -f "$DIR/state/baseline" || -d "$RUN_DIR" ]]; then
    log "a previous kind environment left state behind; cleaning it up first"
    (down) # a subshell: down's set +e must not outlive it
    T0=$(ms)
  fi
  # Built (or found in the cache) before anything starts: a cold build takes many minutes.
  local node images
  node="$("$REPO_ROOT/hack/kind/node-image.sh" build)"
  images="$("$REPO_ROOT/hack/node/images.sh" build)"
  step "node image ${node%% *} and the chart's images ready"

  mkdir -p "$DIR/logs"
  save_baseline "$DIR/state/baseline" "${SYSCTLS[@]}" -- "${HOST_PATHS[@]}"
  ip netns add "$KIND_NS"
  ip -n "$KIND_NS" link set lo up
  start_dockerd "$RUN_DIR" "$DATA_ROOT" "$DIR/logs/dockerd.log" nsenter --net="/run/netns/$KIND_NS" -- \
    --add-runtime "capfix=$REPO_ROOT/hack/kind/runc-capfix" --default-runtime capfix
  step "dockerd in network namespace $KIND_NS ($DOCKER_HOST)"

  docker load -i "${node#* }" >/dev/null
  # The project's images, which `make kind-up` loads into the node; the upstream-named ones are in the node image.
  local image archive
  while read -r image archive; do
    [[ "$image" == vigil/* ]] && docker load -i "$archive" >/dev/null
  done <<<"$images"
  step "images loaded"
  {
    echo "export DOCKER_HOST=$DOCKER_HOST"
    echo "export KIND_NODE_IMAGE=${node%% *}"
    echo "export VIGIL_SKIP_IMAGE_BUILD=1"
    echo "export KUBECONFIG=$KUBECONFIG_FILE"
  } >"$DIR/env"
  env_
}

env_() {
  cat <<EOF

  kind environment up: Docker engine in network namespace $KIND_NS

  $(sed 's/$/; /' "$DIR/env" | tr -d '\n')
  nsenter --net=/run/netns/$KIND_NS make kind-up     (then demo-outage, demo-restore, kind-down the same way)
  nsenter --net=/run/netns/$KIND_NS curl -s http://127.0.0.1:8025/api/v1/messages

  hack/kind/env.sh down   stops everything and restores the machine
EOF
}

# Container IDs of this engine, from its data-root (also when the engine is gone).
container_ids() { [[ -d "$DATA_ROOT/containers" ]] && ls "$DATA_ROOT/containers" 2>/dev/null || true; }

# The containers' processes and cgroups that outlived the engine (after a crash): found by container ID.
reap_containers() {
  local id dirs pids i c
  for id in $(container_ids); do
    for i in 1 2 3; do
      pids="$(cat /sys/fs/cgroup/*/docker/"$id"/cgroup.procs /sys/fs/cgroup/*/docker/"$id"/**/cgroup.procs 2>/dev/null | sort -u | tr '\n' ' ')"
      [[ -z "${pids// /}" ]] && break
      kill -KILL $pids 2>/dev/null || true
      sleep 0.5
    done
    dirs="$(ls -d /sys/fs/cgroup/*/docker/"$id" 2>/dev/null || true)"
    for c in $dirs; do find "$c" -depth -type d -exec rmdir {} + 2>/dev/null || true; done
  done
}

down() {
  local p
  set +e # cleanup: every step runs, whatever the previous one found
  shopt -s globstar
  stop_dockerd "$RUN_DIR"
  reap_containers
  # What else lives in the namespace after a crash (docker-proxy of the port mappings), by PID.
  if [[ -e "/run/netns/$KIND_NS" ]]; then
    p="$(ip netns pids "$KIND_NS" 2>/dev/null | tr '\n' ' ')"
    [[ -z "${p// /}" ]] || kill -KILL $p 2>/dev/null
  fi
  unmount_under "$DATA_ROOT" "$RUN_DIR"
  [[ -e "/run/netns/$KIND_NS" ]] && ip netns delete "$KIND_NS"
  if [[ -f "$DIR/state/baseline" ]]; then
    restore_baseline "$DIR/state/baseline"
    for p in "${HOST_PATHS[@]}"; do
      baseline_had "$DIR/state/baseline" "$p" && continue
      # only empty directories and the engine's key: never delete anything someone else put there
      [[ "$p" == */key.json ]] && rm -f "$p"
      [[ -d "$p" ]] && ! mountpoint -q "$p" && find "$p" -depth -type d -empty -delete 2>/dev/null
    done
    rm -f "$DIR/state/baseline"
  fi
  if awk '{print $2}' /proc/self/mounts | grep -qE "^($DATA_ROOT|$RUN_DIR)(/|$)"; then
    log "mounts under $DATA_ROOT or $RUN_DIR remain; not deleting the data"
    return 1
  fi
  rm -rf "$DATA_ROOT" "$RUN_DIR" "$DIR/env" "$KUBECONFIG_FILE"
  step "down: no engine, containers, mounts or namespace of the kind environment remain"
}

[[ "${BASH_SOURCE[0]}" == "$0" ]] || return 0 # sourced: functions only
case "${1:-}" in
  up) up ;;
  down) down ;;
  env) env_ ;;
  *) echo "usage: $0 up|down|env" >&2; exit 2 ;;
esac
