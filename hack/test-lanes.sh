#!/usr/bin/env bash
# make test: every jest suite, in three lanes that run at the same time, each one suite at a time.
#   cluster lane: the suites that start a whole cluster (test/node: the real node; test/kind: kind).
#     Each cluster lives in a network namespace of its own and binds no host port, so it shares nothing with the
#     other lanes.
#   faults lane: the fault and pipeline suites (test/faults, test/pipeline) and the 2,000-service burst
#     (test/operator/scale.int), the longest of the rest.
#   main lane: every other suite.
# Every suite outside the cluster lane starts its own processes on free loopback ports in its own temporary
# folders, so suites of different lanes share nothing; all three lanes mostly wait on real processes, so two cores
# carry them side by side (load stays near 1). The other lanes' output goes to logs printed when they end; the exit
# code is non-zero when any lane failed, and the last line sums every lane's tests.
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
OUT="$REPO_ROOT/.local/test-lanes"
rm -rf "$OUT"; mkdir -p "$OUT"
CLUSTER_SUITES='/test/(node|kind)/'
FAULT_SUITES='/test/(faults/|pipeline/|operator/scale[.]int)'
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
(exec node node_modules/jest/bin/jest.js --runInBand --ci --testPathPatterns "$FAULT_SUITES" --json --outputFile "$OUT/faults.json") >"$OUT/faults.log" 2>&1 &
faults_pid=$!
# Interrupted: stop the other lanes and take the clusters down (a killed jest runs no afterAll).
trap 'kill -TERM "$cluster_pid" "$faults_pid" 2>/dev/null; wait "$cluster_pid" "$faults_pid" 2>/dev/null; hack/kind/env.sh down >&2; hack/node/cluster.sh down >&2; exit 130' INT TERM

main_rc=0
jest --testPathIgnorePatterns '/node_modules/' '/dist/' "$CLUSTER_SUITES" "$FAULT_SUITES" --json --outputFile "$OUT/main.json" || main_rc=$?
faults_rc=0
wait "$faults_pid" || faults_rc=$?
cluster_rc=0
wait "$cluster_pid" || cluster_rc=$?
trap - INT TERM

echo
echo "==> faults lane ($FAULT_SUITES), exit $faults_rc"
cat "$OUT/faults.log"
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
  console.log(`\njest: ${passed} passed, ${failed} failed`);' "$OUT/main.json" "$OUT/faults.json" "$OUT/cluster.json"
[[ $main_rc -eq 0 && $faults_rc -eq 0 && $cluster_rc -eq 0 ]]
