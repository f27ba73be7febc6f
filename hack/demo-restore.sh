#!/usr/bin/env bash
# make demo-restore: recreate the demo target pod from the release's own manifest.
source "$(dirname "$0")/lib.sh"
NS="${VIGIL_NAMESPACE:-vigil-system}"
export PATH="$BIN_DIR:$PATH"
cd "$REPO_ROOT"
helm template vigil charts/vigil --namespace "$NS" -f charts/vigil/values-kind.yaml --show-only templates/demo-target/pod.yaml \
  | kubectl -n "$NS" apply -f -
kubectl -n "$NS" wait --for=condition=Ready pod/vigil-demo-target --timeout=120s
log "demo target is back; the alert resolves within a few scrape intervals"
