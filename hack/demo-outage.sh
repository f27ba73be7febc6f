#!/usr/bin/env bash
# make demo-outage: delete the demo target pod (an outage: nothing recreates an unmanaged pod) and
# poll the mail catcher's API until the alert email arrives; print its subject and the elapsed time.
source "$(dirname "$0")/lib.sh"
NS="${VIGIL_NAMESPACE:-vigil-system}"
MAIL_URL="${MAIL_URL:-http://localhost:8025}"
TIMEOUT="${TIMEOUT:-300}"
export PATH="$BIN_DIR:$PATH"

# Subjects of the messages in the catcher, one per line (Mailpit API, or MailHog's with mailCatcher.kind=mailhog).
subjects() {
  curl -fsS "$MAIL_URL/api/v1/messages?limit=50" 2>/dev/null | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      for (const m of JSON.parse(s).messages ?? []) console.log(m.Subject);
    });' && return
  curl -fsS "$MAIL_URL/api/v2/messages?limit=50" | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      for (const m of JSON.parse(s).items ?? []) console.log((m.Content.Headers.Subject ?? [""])[0]);
    });'
}

before="$(subjects | wc -l)"
start=$(date +%s)
log "deleting pod $NS/vigil-demo-target at $(date +%T)"
kubectl -n "$NS" delete pod vigil-demo-target --wait=false
while :; do
  now=$(date +%s); elapsed=$((now - start))
  current="$(subjects || true)"
  if (( $(printf '%s\n' "$current" | grep -c .) > before )); then
    printf '\nemail after %ss: %s\n' "$elapsed" "$(printf '%s\n' "$current" | head -1)"
    exit 0
  fi
  (( elapsed > TIMEOUT )) && { echo; log "no email within ${TIMEOUT}s; see http://localhost:9090/alerts and $MAIL_URL"; exit 1; }
  printf '\r  waiting for the alert email... %ss' "$elapsed"
  sleep 1
done
