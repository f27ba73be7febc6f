# Shared by hack/kind/node-image.sh and hack/kind/env.sh (sourced after hack/lib.sh): a Docker engine of our own.

# start_dockerd <run dir> <data-root> <log> [<wrapper command>... --] [<dockerd flag>...]: a Docker engine with a
# private socket (<run dir>/docker.sock), exec-root, pidfile and data-root, in its own session; the wrapper (e.g.
# nsenter into a network namespace) runs it. Sets DOCKER_HOST; the PID is in <run dir>/dockerd.pid.
start_dockerd() {
  local run="$1" root="$2" logfile="$3" wrapper=() i
  shift 3
  if [[ " $* " == *" -- "* ]]; then
    while [[ "$1" != -- ]]; do wrapper+=("$1"); shift; done
    shift
  fi
  mkdir -p "$run" "$root"
  export DOCKER_HOST="unix://$run/docker.sock" DOCKER_BUILDKIT=0
  setsid "${wrapper[@]}" dockerd --data-root "$root" --exec-root "$run/exec" --pidfile "$run/docker.pid" \
    -H "$DOCKER_HOST" "$@" >"$logfile" 2>&1 </dev/null &
  echo $! >"$run/dockerd.pid"
  for i in $(seq 300); do
    docker info >/dev/null 2>&1 && return
    kill -0 "$(cat "$run/dockerd.pid")" 2>/dev/null || break
    sleep 0.2
  done
  log "dockerd did not start; see $logfile"
  tail -20 "$logfile" >&2
  return 1
}

# stop_dockerd <run dir>: the engine started by start_dockerd (by its PID), its containers first; after a crash
# its containerd and shims, found by the paths only this engine uses. Containers that outlived it are the caller's.
stop_dockerd() {
  local run="$1" pid="" i left
  [[ -f "$run/dockerd.pid" ]] && pid="$(cat "$run/dockerd.pid")"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    DOCKER_HOST="unix://$run/docker.sock" docker ps -aq 2>/dev/null | xargs -r env DOCKER_HOST="unix://$run/docker.sock" docker rm -f >/dev/null 2>&1 || true
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$run/dockerd.pid"
  left="$(pgrep -f -- "$run/" || true)"
  [[ -z "$left" ]] || kill -KILL $left 2>/dev/null || true
}

# unmount_under <dir>...: every mount at or below the directories, deepest first (lazily when busy).
unmount_under() {
  local i pattern
  pattern="^($(IFS='|'; echo "$*"))(/|$)"
  for i in 1 2 3; do
    awk '{print $2}' /proc/self/mounts | { grep -E "$pattern" || true; } | sort -r | while read -r m; do
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done
  done
}
