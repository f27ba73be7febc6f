# Sourced by hack/demo-outage.sh and hack/demo-restore.sh (after lib.sh): where the demo's emails land, and a wait for
# one about the demo target. Works against `make kind-up` (mail catcher on localhost:8025) and `make cluster-up` (the
# real node: with its KUBECONFIG exported, the catcher's NodePort on the node's address).
NS="${VIGIL_NAMESPACE:-vigil-system}"
if [[ "${KUBECONFIG:-}" == "$REPO_ROOT/.local/node/kubeconfig/admin.kubeconfig" ]]; then
  MAIL_URL="${MAIL_URL:-http://192.168.250.2:30025}"
fi
MAIL_URL="${MAIL_URL:-http://localhost:8025}"
TIMEOUT="${TIMEOUT:-300}"
export PATH="$BIN_DIR:$PATH"

# now_ms: epoch milliseconds, less one second: the catcher's clock may be a little behind (BSD date has no milliseconds).
now_ms() {
  local now
  now="$(node -p 'Date.now()')" && [[ "$now" =~ ^[0-9]+$ ]] || { log "cannot read the clock with node"; return 1; }
  echo $((now - 1000))
}

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

# wait_for_demo_email <FIRING|RESOLVED> <since, epoch ms>: polls the catcher each second until an email of that state
# about the demo target arrives, then prints its subject and the seconds waited; fails after TIMEOUT seconds.
wait_for_demo_email() {
  local state="$1" since_ms="$2" start elapsed subject
  start=$(date +%s)
  while :; do
    elapsed=$(( $(date +%s) - start ))
    subject="$(subjects_since "$since_ms" | grep -E "^\[$state(:[0-9]+)?\] .*$NS/vigil-demo-target( |$)" | head -n 1 || true)"
    if [[ -n "$subject" ]]; then
      printf '\nemail after %ss: %s\n' "$elapsed" "$subject"
      return 0
    fi
    (( elapsed > TIMEOUT )) && { echo; log "no $state email within ${TIMEOUT}s; see the Prometheus alerts page and $MAIL_URL"; return 1; }
    printf '\r  waiting for the %s email... %ss' "$state" "$elapsed"
    sleep 1
  done
}
