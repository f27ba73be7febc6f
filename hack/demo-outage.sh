#!/usr/bin/env bash
# make demo-outage: delete the demo target pod (an outage: nothing recreates an unmanaged pod) and
# poll the mail catcher's API until the firing email about it arrives; print its subject and the elapsed time.
# Works against `make kind-up` (mail catcher on localhost:8025) and `make cluster-up` (the real node:
# with its KUBECONFIG exported, the catcher's NodePort on the node's address).
source "$(dirname "$0")/lib.sh"
NS="${VIGIL_NAMESPACE:-vigil-system}"
if [[ "${KUBECONFIG:-}" == "$REPO_ROOT/.local/node/kubeconfig/admin.kubeconfig" ]]; then
  MAIL_URL="${MAIL_URL:-http://192.168.250.2:30025}"
fi
MAIL_URL="${MAIL_URL:-http://localhost:8025}"
TIMEOUT="${TIMEOUT:-300}"
export PATH="$BIN_DIR:$PATH"

# Subjects of the messages that arrived at or after $1 (epoch ms). Both APIs list newest first, so a fixed page
# always holds the new ones, however full the mailbox is (Mailpit API, or MailHog's with mailCatcher.kind=mailhog).
subjects_since() {
  { curl -fsS "$MAIL_URL/api/v1/messages?limit=50" 2>/dev/null || curl -fsS "$MAIL_URL/api/v2/messages?limit=50"; } | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const r = JSON.parse(s), since = Number(process.argv[1]);
      const all = r.messages ?? (r.items ?? []).map((m) => ({ Subject: (m.Content.Headers.Subject ?? [""])[0], Created: m.Created }));
      for (const m of all) if (Date.parse(m.Created) >= since) console.log(m.Subject);
    });' "$1"
}

start_ms=$(( $(node -p 'Date.now()') - 1000 )) # the catcher's clock may be a little behind (BSD date has no milliseconds)
start=$(date +%s)
log "deleting pod $NS/vigil-demo-target at $(date +%T)"
kubectl -n "$NS" delete pod vigil-demo-target --wait=false
while :; do
  elapsed=$(( $(date +%s) - start ))
  subject="$(subjects_since "$start_ms" | grep -E "^\[FIRING:[0-9]+\] .*$NS/vigil-demo-target( |$)" | head -n 1 || true)"
  if [[ -n "$subject" ]]; then
    printf '\nemail after %ss: %s\n' "$elapsed" "$subject"
    exit 0
  fi
  (( elapsed > TIMEOUT )) && { echo; log "no email within ${TIMEOUT}s; see the Prometheus alerts page and $MAIL_URL"; exit 1; }
  printf '\r  waiting for the alert email... %ss' "$elapsed"
  sleep 1
done
