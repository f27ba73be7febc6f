#!/usr/bin/env bash
# Installs every external tool the tests and the local stack need, at the versions pinned in
# hack/versions.env, and links them into ./bin. Idempotent and cached: a second run takes seconds.
source "$(dirname "$0")/lib.sh"

# Debian packages: Prometheus + promtool, Alertmanager + amtool, stunnel.
install_debian_packages() {
  local want=("prometheus=$PROMETHEUS_DEBIAN_VERSION" "prometheus-alertmanager=$ALERTMANAGER_DEBIAN_VERSION" "stunnel4=$STUNNEL_DEBIAN_VERSION")
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
  # The Debian packages ship units that would start daemons on boot-enabled systems; we only use the binaries.
  link_tool /usr/bin/prometheus prometheus
  link_tool /usr/bin/promtool promtool
  link_tool /usr/bin/prometheus-alertmanager alertmanager
  link_tool /usr/bin/amtool amtool
  link_tool /usr/bin/stunnel4 stunnel
}

install_debian_packages
# Debian's prometheus/promtool lack Kubernetes SD: replace them with an upstream build of the same version.
"$REPO_ROOT/hack/install-prometheus.sh"
"$REPO_ROOT/hack/install-kube.sh"
"$REPO_ROOT/hack/install-helm.sh"
"$REPO_ROOT/hack/install-kubeconform.sh"
"$REPO_ROOT/hack/install-mailpit.sh"

log "tools ready in $BIN_DIR"
