# Sourced after hack/lib.sh by the Linux-only cluster harnesses (hack/node/cluster.sh, hack/kind/env.sh); kept out of
# lib.sh, which the laptop path sources too.
# The machine before a harness's first `up` (hack/node/cluster.sh, hack/kind/env.sh): global sysctls, which host
# paths existed, whether /run/netns was a mount point. Written once; `down` restores from it and then deletes it, so
# a crash in between keeps the original.
# save_baseline <file> <sysctl>... -- <path>...
save_baseline() {
  local file="$1" s p sysctls=()
  shift
  [[ -f "$file" ]] && return
  while (($#)) && [[ "$1" != -- ]]; do sysctls+=("$1"); shift; done
  (($#)) && shift
  mkdir -p "$(dirname "$file")"
  {
    for s in "${sysctls[@]}"; do [[ -e "/proc/sys/${s//.//}" ]] && echo "sysctl $s=$(sysctl -n "$s")"; done
    for p in "$@"; do [[ -e "$p" ]] && echo "path $p"; done
    mountpoint -q /run/netns 2>/dev/null && echo "mount /run/netns"
  } >"$file.tmp"
  mv "$file.tmp" "$file"
}
# restore_baseline <file>: the sysctls that differ set back; /run/netns unmounted when it was no mount point and is
# empty. Host paths are the caller's: baseline_had tells which existed.
restore_baseline() {
  local kind value
  while read -r kind value; do
    [[ "$kind" == sysctl && "$(sysctl -n "${value%%=*}")" != "${value#*=}" ]] && sysctl -qw "$value"
  done <"$1"
  if ! grep -qx "mount /run/netns" "$1" && mountpoint -q /run/netns && [[ -z "$(ls -A /run/netns)" ]]; then
    umount /run/netns
  fi
  return 0
}
# baseline_had <file> <path>: the path existed when the baseline was saved.
baseline_had() { grep -qx "path $2" "$1"; }
