#!/usr/bin/env bash
# make kind-up: a local kind cluster with Vigil, the mail catcher and the demo target.
# Needs a running Docker engine; kind, kubectl and helm are built with Go into ./bin at the pinned
# versions when missing (Go required then). Runs on Linux and macOS (bash 3.2 and BSD tools suffice).
#
# Environment:
#   KIND_NODE_IMAGE         node image for `kind create cluster` (default: KINDEST_NODE_IMAGE of
#                           hack/versions.env, pinned by digest); a local tag is used without a pull
#   VIGIL_SKIP_IMAGE_BUILD  1: do not build Vigil's images, load the ones already in the Docker engine
#                           (vigil/operator, vigil/target-service, vigil/stunnel at the package version)
#   KIND_CLUSTER_NAME       cluster name (default vigil); VIGIL_NAMESPACE: namespace (default vigil-system)
source "$(dirname "$0")/lib.sh"
CLUSTER="${KIND_CLUSTER_NAME:-vigil}"
NODE_IMAGE="${KIND_NODE_IMAGE:-$KINDEST_NODE_IMAGE}"
NS="${VIGIL_NAMESPACE:-vigil-system}"
PKG_VERSION="$(node -p 'require("./package.json").version')"
export PATH="$BIN_DIR:$PATH"
cd "$REPO_ROOT"

command -v docker >/dev/null || { log "docker is required (https://docs.docker.com/get-docker/)"; exit 1; }
docker info >/dev/null 2>&1 || {
  log "the Docker engine is not running (start Docker Desktop, colima or dockerd; on a Linux machine without a registry:"
  log "make kind-env-up, then this command as it prints, docs/running-locally.md)"
  exit 1
}
[[ -x "$BIN_DIR/kind" ]] || "$REPO_ROOT/hack/install-kind.sh"
[[ -x "$BIN_DIR/helm" ]] || "$REPO_ROOT/hack/install-helm.sh"
[[ -x "$BIN_DIR/kubectl" ]] || "$REPO_ROOT/hack/install-kube.sh" --kubectl

if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  log "kind cluster $CLUSTER exists; reusing it"
else
  log "creating kind cluster $CLUSTER (node image $NODE_IMAGE)"
  kind create cluster --name "$CLUSTER" --config kind-config.yaml --image "$NODE_IMAGE" --wait 120s
fi
kubectl config use-context "kind-$CLUSTER" >/dev/null

IMAGES=("vigil/operator:$PKG_VERSION" "vigil/target-service:$PKG_VERSION" "vigil/stunnel:$PKG_VERSION")
if [[ "${VIGIL_SKIP_IMAGE_BUILD:-}" == 1 ]]; then
  for image in "${IMAGES[@]}"; do
    docker image inspect "$image" >/dev/null 2>&1 || { log "VIGIL_SKIP_IMAGE_BUILD=1 but $image is not in the Docker engine (make images)"; exit 1; }
  done
  log "VIGIL_SKIP_IMAGE_BUILD=1: using the images already in the Docker engine"
else
  "$REPO_ROOT/hack/build-images.sh"
fi
for image in "${IMAGES[@]}"; do
  log "loading $image into kind"
  kind load docker-image --name "$CLUSTER" "$image"
done

log "installing the chart (values-kind.yaml) into namespace $NS"
helm upgrade --install vigil charts/vigil --namespace "$NS" --create-namespace -f charts/vigil/values-kind.yaml --wait=false
kubectl label namespace "$NS" pod-security.kubernetes.io/enforce=restricted --overwrite >/dev/null

log "waiting for the rollout"
for workload in deployment/vigil-operator statefulset/vigil-prometheus statefulset/vigil-alertmanager deployment/vigil-mail-catcher; do
  kubectl -n "$NS" rollout status "$workload" --timeout=300s
done
kubectl -n "$NS" wait --for=condition=Ready pod/vigil-demo-target --timeout=120s
# The demo MonitoredService is part of the chart (values-kind.yaml: demoTarget.enabled); wait until
# the operator reports it applied to Prometheus and Alertmanager.
log "waiting for MonitoredService vigil-demo-target to become Ready"
kubectl -n "$NS" wait --for=condition=Ready monitoredservice/vigil-demo-target --timeout=180s
kubectl -n "$NS" get monitoredservices

cat <<TABLE

  Vigil is up (kind cluster "$CLUSTER", namespace $NS)

  Prometheus     http://localhost:9090
  Alertmanager   http://localhost:9093
  Mail catcher   http://localhost:8025   (every alert email lands here)

  make demo-outage    delete the demo target pod and wait for the email
  make demo-restore   bring the demo target back
  make kind-down      delete the cluster
TABLE
