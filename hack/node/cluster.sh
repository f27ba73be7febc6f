#!/usr/bin/env bash
# make cluster-up / cluster-down: a real single-node Kubernetes (etcd, kube-apiserver, controller-manager,
# scheduler, kubelet, kube-proxy, containerd with CNI, CoreDNS) as local processes, air-gapped, with the
# node as a test host in its own network namespace. Settings and the error each one answers:
# /work/shared/real-node/FACTS.md (summarised in docs/running-locally.md, "make cluster-up").
#
#   hack/node/cluster.sh up      start (runs `down` first when a previous run left anything behind)
#   hack/node/cluster.sh down    stop everything and restore the machine, also after a crash or kill -9
#   hack/node/cluster.sh env     print the KUBECONFIG export and the addresses
#
# KUBELET_SYNC_FREQUENCY (default 10s, the kubelet's own default is 1m): how often the kubelet syncs each pod,
# which is also when a changed ConfigMap reaches a volume that mounts it (bench/real-node.ts compares that path).
#
# Layout: network namespace $NODE_NS with a veth pair to the host ($HOST_IF $HOST_IP <-> eth0 $NODE_IP, a /30).
# Every component runs inside it (nsenter --net), so the pod bridge, Service IPs and kube-proxy's iptables rules
# live there and vanish with it; nothing listens on the host's own interfaces. The host reaches the API server
# and the NodePorts at $NODE_IP. Files: .local/node (pki, kubeconfig, config, data, logs).
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
source "$REPO_ROOT/hack/machine-baseline.sh"
export PATH="$BIN_DIR:$PATH"

NODE_NS=vigil-node
NODE_NAME=vigil-node
HOST_IF=vigil-node0
HOST_IP=192.168.250.1
NODE_IP=192.168.250.2
POD_CIDR=10.244.0.0/24
SVC_CIDR=10.96.0.0/16
KUBE_SVC_IP=10.96.0.1
DNS_IP=10.96.0.10
DIR="${VIGIL_NODE_DIR:-$REPO_ROOT/.local/node}"
RUN_DIR=/run/vigil-node
CTRD_SOCK=$RUN_DIR/containerd/containerd.sock
PKI=$DIR/pki
export KUBECONFIG=$DIR/kubeconfig/admin.kubeconfig
# Global sysctls the kubelet changes (protectKernelDefaults: false) or might; saved before, restored after.
SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys
  kernel.keys.root_maxbytes net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables)
# Paths the kubelet/CNI create outside .local/node whatever their configuration says.
HOST_PATHS=(/var/log/containers /var/lib/cni /run/netns /usr/libexec/kubernetes)
COMPONENTS=(containerd etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)

in_node() { nsenter --net="/run/netns/$NODE_NS" "$@"; }
ctr_() { ctr -a "$CTRD_SOCK" -n k8s.io "$@"; }
ms() { date +%s%3N; }
T0=$(ms)
step() { printf '[cluster %5.1fs] %s\n' "$(( $(ms) - T0 ))e-3" "$*" >&2; }

# start <name> <command...>: inside the node's network namespace, own session, log in logs/<name>.log.
start() {
  local name="$1"; shift
  setsid nsenter --net="/run/netns/$NODE_NS" "$@" >"$DIR/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$DIR/run/$name.pid"
}
# wait_for <what> <seconds> <command...>: poll every 0.2 s; on timeout name the log to read.
wait_for() {
  local what="$1" timeout="$2"; shift 2
  local deadline=$(( $(ms) + timeout * 1000 ))
  until "$@" >/dev/null 2>&1; do
    if (( $(ms) > deadline )); then log "timed out after ${timeout}s waiting for $what; logs in $DIR/logs"; return 1; fi
    sleep 0.2
  done
  step "$what"
}
alive() { local f="$DIR/run/$1.pid"; [[ -f "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null; }

pki() {
  mkdir -p "$PKI" "$DIR/kubeconfig"
  [[ -f "$PKI/ca.crt" ]] && return
  (
    cd "$PKI"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -subj /CN=vigil-node-ca -days 3650 -out ca.crt 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null; openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    cert() { # <file> <CN> <O or ""> [subjectAltName]
      openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -subj "/CN=$2${3:+/O=$3}" -out "$1.csr" 2>/dev/null
      { echo "basicConstraints=CA:FALSE"; echo "keyUsage=critical,digitalSignature,keyEncipherment"
        if [[ -n "${4:-}" ]]; then echo "extendedKeyUsage=serverAuth,clientAuth"; echo "subjectAltName=$4"
        else echo "extendedKeyUsage=clientAuth"; fi; } >"$1.ext"
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
      rm -f "$1.csr" "$1.ext"
    }
    cert apiserver kube-apiserver "" "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:$KUBE_SVC_IP,IP:$NODE_IP"
    cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
    cert admin vigil-node-admin system:masters
    cert controller-manager system:kube-controller-manager ""
    cert scheduler system:kube-scheduler ""
    cert kube-proxy system:kube-proxy ""
    cert kubelet system:node:$NODE_NAME system:nodes
    cert kubelet-serving "$NODE_NAME" "" "DNS:$NODE_NAME,IP:$NODE_IP"
  )
  local name
  for name in admin controller-manager scheduler kube-proxy kubelet; do
    cat >"$DIR/kubeconfig/$name.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: vigil-node
    cluster: {certificate-authority: $PKI/ca.crt, server: "https://$NODE_IP:6443"}
users:
  - name: $name
    user: {client-certificate: $PKI/$name.crt, client-key: $PKI/$name.key}
contexts:
  - name: vigil-node
    context: {cluster: vigil-node, user: $name}
current-context: vigil-node
EOF
    chmod 600 "$DIR/kubeconfig/$name.kubeconfig"
  done
}

write_config() {
  mkdir -p "$DIR/etc/cni" "$DIR/etc/manifests"
  : >"$DIR/etc/resolv.conf" # no upstream resolver: the node is air-gapped
  cat >"$DIR/etc/containerd.toml" <<EOF
version = 2
root = "$DIR/var/lib/containerd"
state = "$RUN_DIR/containerd/state"
# 0, not the default -999: the machine lacks CAP_SYS_RESOURCE
oom_score = 0
[grpc]
  address = "$CTRD_SOCK"
[ttrpc]
  address = "$CTRD_SOCK.ttrpc"
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "vigil.local/pause:v1"
  # without it every sandbox fails: "can't get final child's PID from pipe: EOF" (no CAP_SYS_RESOURCE)
  restrict_oom_score_adj = true
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$DIR/etc/cni"
    max_conf_num = 1
EOF
  # firewall: needed whenever the FORWARD policy is DROP, else pod-to-pod traffic times out.
  cat >"$DIR/etc/cni/10-vigil-node.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "vigil-node",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "$POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}],
              "dataDir": "$DIR/var/lib/cni/networks"}},
    {"type": "firewall", "backend": "iptables"},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
  cat >"$DIR/etc/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failSwapOn: false
failCgroupV1: false
oomScoreAdj: 0
# true refuses to start on this kernel's vm.overcommit_memory/kernel.panic*; false changes them (restored by down)
protectKernelDefaults: false
containerRuntimeEndpoint: unix://$CTRD_SOCK
address: $NODE_IP
readOnlyPort: 0
healthzBindAddress: $NODE_IP
podLogsDir: $DIR/var/log/pods
volumePluginDir: $DIR/var/lib/kubelet/volume-plugins
staticPodPath: $DIR/etc/manifests
tlsCertFile: $PKI/kubelet-serving.crt
tlsPrivateKeyFile: $PKI/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
clusterDomain: cluster.local
clusterDNS: [$DNS_IP]
resolvConf: $DIR/etc/resolv.conf
syncFrequency: ${KUBELET_SYNC_FREQUENCY:-10s}
fileCheckFrequency: 5s
nodeStatusUpdateFrequency: 5s
imageGCHighThresholdPercent: 100
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%}
serializeImagePulls: false
maxPods: 60
EOF
  cat >"$DIR/etc/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: {kubeconfig: $DIR/kubeconfig/kube-proxy.kubeconfig}
hostnameOverride: $NODE_NAME
bindAddress: $NODE_IP
healthzBindAddress: $NODE_IP:10256
metricsBindAddress: $NODE_IP:10249
clusterCIDR: $POD_CIDR
# NodePorts on the node's address only: no localhost NodePorts, so route_localnet stays as it is
nodePortAddresses: [primary]
# 0 everywhere: leave the conntrack sysctls alone
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
iptables: {minSyncPeriod: 1s, syncPeriod: 30s}
EOF
  printf 'runtime-endpoint: unix://%s\nimage-endpoint: unix://%s\ntimeout: 10\n' "$CTRD_SOCK" "$CTRD_SOCK" >"$DIR/etc/crictl.yaml"
}

network_up() {
  ip netns add "$NODE_NS" # also makes /run/netns a shared self-bind mount, before any pod netns exists
  ip link add "$HOST_IF" type veth peer name eth0 netns "$NODE_NS"
  ip addr add "$HOST_IP/30" dev "$HOST_IF"
  ip link set "$HOST_IF" up
  ip -n "$NODE_NS" addr add "$NODE_IP/30" dev eth0
  ip -n "$NODE_NS" link set lo up
  ip -n "$NODE_NS" link set eth0 up
  # No default route: the node reaches only itself, its pods and the host end of the veth.
  in_node sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1
}

up() {
  command -v containerd >/dev/null && [[ -x "$BIN_DIR/kubelet" && -x "$BIN_DIR/crictl" && -x "$BIN_DIR/coredns" ]] \
    || "$REPO_ROOT/hack/install-node.sh"
  if [[ -e "/run/netns/$NODE_NS" || -f "$DIR/state/baseline" || -d "$RUN_DIR" ]]; then
    log "a previous cluster left state behind; cleaning it up first"
    (down) # a subshell: down's set +e must not outlive it
    T0=$(ms)
  fi
  mkdir -p "$DIR"/{run,logs,state} "$DIR/var/lib/etcd" "$DIR/var/lib/kubelet" "$DIR/var/log/pods" "$RUN_DIR"
  local c; for c in "${COMPONENTS[@]}"; do rm -f "$DIR/logs/$c.log"; done
  save_baseline "$DIR/state/baseline" "${SYSCTLS[@]}" -- "${HOST_PATHS[@]}"
  pki
  write_config
  network_up
  step "network namespace $NODE_NS: node $NODE_IP, host $HOST_IP"

  start containerd containerd --config "$DIR/etc/containerd.toml"
  wait_for "containerd" 30 ctr -a "$CTRD_SOCK" version
  "$REPO_ROOT/hack/node/images.sh" import
  step "images imported"

  start etcd etcd --name node --data-dir "$DIR/var/lib/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster node=http://127.0.0.1:2380 --listen-metrics-urls "" --log-level warn
  wait_for "etcd" 60 in_node curl -sf http://127.0.0.1:2379/health

  start kube-apiserver kube-apiserver --bind-address="$NODE_IP" --advertise-address="$NODE_IP" --secure-port=6443 \
    --etcd-servers=http://127.0.0.1:2379 --service-cluster-ip-range="$SVC_CIDR" \
    --client-ca-file="$PKI/ca.crt" --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types=InternalIP --kubelet-certificate-authority="$PKI/ca.crt" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction --allow-privileged=true --profiling=false
  wait_for "kube-apiserver" 120 kubectl get --raw /readyz

  start kube-controller-manager kube-controller-manager --kubeconfig="$DIR/kubeconfig/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$DIR/kubeconfig/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$DIR/kubeconfig/controller-manager.kubeconfig" \
    --bind-address="$NODE_IP" --leader-elect=false --use-service-account-credentials=true \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --service-cluster-ip-range="$SVC_CIDR" --profiling=false
  start kube-scheduler kube-scheduler --kubeconfig="$DIR/kubeconfig/scheduler.kubeconfig" \
    --authentication-kubeconfig="$DIR/kubeconfig/scheduler.kubeconfig" \
    --authorization-kubeconfig="$DIR/kubeconfig/scheduler.kubeconfig" \
    --bind-address="$NODE_IP" --leader-elect=false --profiling=false
  start kubelet kubelet --config="$DIR/etc/kubelet.yaml" --kubeconfig="$DIR/kubeconfig/kubelet.kubeconfig" \
    --root-dir="$DIR/var/lib/kubelet" --node-ip="$NODE_IP" --hostname-override="$NODE_NAME"
  start kube-proxy kube-proxy --config="$DIR/etc/kube-proxy.yaml"
  wait_for "node Ready" 180 sh -c "kubectl get node $NODE_NAME -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"
  wait_for "default ServiceAccount" 60 kubectl -n default get serviceaccount default

  sed "s|COREDNS_VERSION|$COREDNS_VERSION|" "$REPO_ROOT/hack/node/manifests/coredns.yaml" | kubectl apply -f - >/dev/null
  wait_for "CoreDNS" 120 kubectl -n kube-system wait --for=condition=Available deployment/coredns --timeout=1s
  env_
}

env_() {
  cat <<EOF

  Real node up: Kubernetes $KUBERNETES_VERSION, node $NODE_NAME at $NODE_IP (network namespace $NODE_NS)

  export KUBECONFIG=$KUBECONFIG

  With the chart installed (values-kind.yaml, NodePorts), from this machine:
    Prometheus     http://$NODE_IP:30090
    Alertmanager   http://$NODE_IP:30093
    Mail catcher   http://$NODE_IP:30025
  or forward to loopback: kubectl -n vigil-system port-forward svc/vigil-prometheus 19090:9090

  make cluster-down   stops everything and restores the machine
EOF
}

# stop <name>: SIGTERM, SIGKILL after 10 s; only the PID this script started.
stop() {
  local f="$DIR/run/$1.pid" pid i
  [[ -f "$f" ]] || return 0
  pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

# Pod network namespaces (/run/netns/cni-*) that no process uses any more: left by a crashed runtime.
orphan_pod_netns() {
  local ns
  for ns in /run/netns/cni-*; do
    [[ -e "$ns" ]] || continue
    [[ -z "$(ip netns pids "$(basename "$ns")" 2>/dev/null)" ]] && echo "$ns"
  done
}

# Processes of the node: everything in its network namespace (control plane, containerd and its shims) and in
# the kubelet's pod cgroups (the containers, which live in their own pod network namespaces).
node_pids() {
  [[ -e "/run/netns/$NODE_NS" ]] && ip netns pids "$NODE_NS" 2>/dev/null
  cat /sys/fs/cgroup/pids/kubepods/cgroup.procs /sys/fs/cgroup/pids/kubepods/*/cgroup.procs \
    /sys/fs/cgroup/pids/kubepods/*/*/cgroup.procs /sys/fs/cgroup/pids/kubepods/*/*/*/cgroup.procs 2>/dev/null || true
}

down() {
  local c p i
  set +e # cleanup: every step runs, whatever the previous one found
  # 1. Let the runtime remove the pods (CNI DEL releases IPs and their netns) while it still runs.
  stop kube-proxy; stop kubelet
  if ctr -a "$CTRD_SOCK" version >/dev/null 2>&1; then
    crictl --runtime-endpoint "unix://$CTRD_SOCK" stopp $(crictl --runtime-endpoint "unix://$CTRD_SOCK" pods -q 2>/dev/null) >/dev/null 2>&1 || true
    crictl --runtime-endpoint "unix://$CTRD_SOCK" rmp -af >/dev/null 2>&1 || true
  fi
  for c in kube-scheduler kube-controller-manager kube-apiserver etcd containerd; do stop "$c"; done
  # 2. Whatever is left (after a crash: shims, containers), by PID.
  for i in 1 2 3; do
    p="$(node_pids | sort -u | tr '\n' ' ')"
    [[ -z "${p// /}" ]] && break
    kill -KILL $p 2>/dev/null || true
    sleep 0.5
  done
  # 3. Mounts: overlay rootfs, volumes, shm, pod netns; deepest first.
  for i in 1 2 3; do
    awk '{print $2}' /proc/self/mounts | grep -E "^($DIR|$RUN_DIR)/" | sort -r | while read -r m; do
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done
  done
  for p in $(orphan_pod_netns); do umount "$p" 2>/dev/null || umount -l "$p" 2>/dev/null || true; rm -f "$p"; done
  # 4. The namespace: its veth pair, pod bridge and every iptables rule of the node go with it.
  [[ -e "/run/netns/$NODE_NS" ]] && ip netns delete "$NODE_NS"
  ip link show "$HOST_IF" >/dev/null 2>&1 && ip link delete "$HOST_IF" 2>/dev/null
  # 5. Pod cgroups the kubelet made (cgroupfs driver), deepest first.
  for c in /sys/fs/cgroup/*/kubepods; do
    [[ -d "$c" ]] && find "$c" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
  # 6. The machine as before: sysctls, /run/netns, host paths the kubelet or CNI created.
  if [[ -f "$DIR/state/baseline" ]]; then
    restore_baseline "$DIR/state/baseline"
    for p in "${HOST_PATHS[@]}"; do
      baseline_had "$DIR/state/baseline" "$p" && continue
      # only empty leftovers (symlinks of gone pods, empty dirs): never delete someone else's data
      [[ -d "$p" ]] && ! mountpoint -q "$p" && [[ -z "$(find "$p" -type f -print -quit 2>/dev/null)" ]] && rm -rf "$p"
    done
    rm -f "$DIR/state/baseline"
  fi
  if awk '{print $2}' /proc/self/mounts | grep -qE "^($DIR|$RUN_DIR)/"; then
    log "mounts under $DIR or $RUN_DIR remain; not deleting the data"; return 1
  fi
  rm -rf "$DIR/var" "$DIR/run" "$RUN_DIR"
  step "down: no processes, mounts, namespace or links of the node remain"
}

[[ "${BASH_SOURCE[0]}" == "$0" ]] || return 0 # sourced: functions only
case "${1:-}" in
  up) up ;;
  down) down ;;
  env) env_ ;;
  *) echo "usage: $0 up|down|env" >&2; exit 2 ;;
esac
