#!/usr/bin/env bash
# make demo-outage: delete the demo target pod (an outage: nothing recreates an unmanaged pod) and poll the mail
# catcher's API until the firing email about it arrives; print its subject and the elapsed time.
source "$(dirname "$0")/lib.sh"
source "$REPO_ROOT/hack/demo-mail.sh"

since_ms="$(now_ms)" || exit 1
log "deleting pod $NS/vigil-demo-target at $(date +%T)"
kubectl -n "$NS" delete pod vigil-demo-target --wait=false
wait_for_demo_email FIRING "$since_ms"
