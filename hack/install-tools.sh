#!/usr/bin/env bash
# Installs every external tool the tests and the local stack need, at the versions pinned in
# hack/versions.env, and links them into ./bin. Idempotent and cached: a second run takes seconds.
source "$(dirname "$0")/lib.sh"

# Debian package: stunnel (TLS in front of the mail catcher).
install_debian_packages() {
  local want=("stunnel4=$STUNNEL_DEBIAN_VERSION")
  local missing=()
  for spec in "${want[@]}"; do
    local pkg="${spec%%=*}" version="${spec#*=}"
    [[ "$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || true)" == "$version" ]] || missing+=("$spec")
  done
  if ((${#missing[@]})); then
    log "installing Debian packages: ${missing[*]}"
    local sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  link_tool /usr/bin/stunnel4 stunnel
}

install_debian_packages
# Thanos (the chart's optional query view over replicas and shards) builds no UI and shares nothing with
# the builds below but the Go module cache, so it runs beside them: its module download and compile overlap
# their npm UI builds. Its output goes to its own log; a failure fails `make tools` at the end.
mkdir -p "$VIGIL_CACHE/logs"
thanos_log="$VIGIL_CACHE/logs/install-thanos.log"
"$REPO_ROOT/hack/install-thanos.sh" >"$thanos_log" 2>&1 &
thanos_pid=$!
# Prometheus 3 + promtool and Alertmanager + amtool: upstream modules with their web UIs
# (Debian ships Prometheus 2.42 without Kubernetes SD and Alertmanager 0.25).
"$REPO_ROOT/hack/install-prometheus.sh"
"$REPO_ROOT/hack/install-alertmanager.sh"
"$REPO_ROOT/hack/install-kube.sh"
"$REPO_ROOT/hack/install-helm.sh"
"$REPO_ROOT/hack/install-kubeconform.sh"
"$REPO_ROOT/hack/install-mailpit.sh"

if ! wait "$thanos_pid"; then
  tail -n 30 "$thanos_log" >&2
  log "hack/install-thanos.sh failed (log: $thanos_log)"
  exit 1
fi
tail -n 1 "$thanos_log" >&2

log "tools ready in $BIN_DIR"
