#!/usr/bin/env bash
# make test: every jest suite, in two lanes that run at the same time.
#   cluster lane: the suites that start a whole cluster (test/node: the real node; test/kind: kind), one at a time.
#     Each cluster lives in a network namespace of its own and binds no host port, so it shares nothing with the
#     other lane; both lanes mostly wait on real processes, so two cores carry them side by side.
#   main lane: every other suite, one at a time, as before.
# The cluster lane's output goes to a log that is printed when it ends; the exit code is non-zero when either lane
# failed, and the last line sums both lanes' tests.
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
OUT="$REPO_ROOT/.local/test-lanes"
rm -rf "$OUT"; mkdir -p "$OUT"
CLUSTER_SUITES='/test/(node|kind)/'
jest() { node node_modules/jest/bin/jest.js --runInBand --ci "$@"; }

# The real node and the kind cluster are one per machine: the lane holds a machine-wide lock, which people running
# `make cluster-up` or `make bench-node` on a shared machine take by hand (CONTRIBUTING.md), so a second checkout's
# run waits instead of breaking both.
(
  exec 9>/tmp/vigil-node.lock
  flock 9
  exec node node_modules/jest/bin/jest.js --runInBand --ci --testPathPatterns "$CLUSTER_SUITES" --json --outputFile "$OUT/cluster.json"
) >"$OUT/cluster.log" 2>&1 &
cluster_pid=$! # jest itself (exec), so the trap reaches it
# Interrupted: stop the cluster lane and take its clusters down (a killed jest runs no afterAll).
trap 'kill -TERM "$cluster_pid" 2>/dev/null; wait "$cluster_pid" 2>/dev/null; hack/kind/env.sh down >&2; hack/node/cluster.sh down >&2; exit 130' INT TERM

main_rc=0
jest --testPathIgnorePatterns '/node_modules/' '/dist/' "$CLUSTER_SUITES" --json --outputFile "$OUT/main.json" || main_rc=$?
cluster_rc=0
wait "$cluster_pid" || cluster_rc=$?
trap - INT TERM

echo
echo "==> cluster lane ($CLUSTER_SUITES), exit $cluster_rc"
cat "$OUT/cluster.log"
node --input-type=module -e '
  import { readFileSync, existsSync } from "node:fs";
  let passed = 0, failed = 0;
  for (const f of process.argv.slice(1)) {
    if (!existsSync(f)) { failed += 1; console.log(`${f}: no result (the lane did not finish)`); continue; }
    const r = JSON.parse(readFileSync(f, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests + r.numRuntimeErrorTestSuites;
  }
  console.log(`\njest: ${passed} passed, ${failed} failed`);' "$OUT/main.json" "$OUT/cluster.json"
[[ $main_rc -eq 0 && $cluster_rc -eq 0 ]]
