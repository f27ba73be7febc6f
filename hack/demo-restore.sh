#!/usr/bin/env bash
# make demo-restore: recreate the demo target pod from the release's own manifest and poll the mail catcher's API
# until the resolved email about it arrives; print its subject and the elapsed time.
source "$(dirname "$0")/lib.sh"
source "$REPO_ROOT/hack/demo-mail.sh"
cd "$REPO_ROOT"

since_ms="$(now_ms)" || exit 1
helm template vigil charts/vigil --namespace "$NS" -f charts/vigil/values-kind.yaml --show-only templates/demo-target/pod.yaml \
  | kubectl -n "$NS" apply -f -
kubectl -n "$NS" wait --for=condition=Ready pod/vigil-demo-target --timeout=120s
log "demo target is back at $(date +%T)"
wait_for_demo_email RESOLVED "$since_ms"
