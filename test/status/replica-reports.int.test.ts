// One report per replica (docs/contract.md, "One report per replica"), all real: etcd + kube-apiserver
// (RBAC on), `vigil operator` told of 2 Prometheus replicas (VIGIL_PROMETHEUS_REPLICAS, as the
// chart's --prometheus-replicas), and two Prometheus 3.15 "pods", each a Prometheus with its own
// `vigil sync` on the same ConfigMap: the stack's (no pod name: replica 0, the plain keys) and a
// second one with POD_NAME=vigil-prometheus-1 (replica 1). Everything is set through the environment,
// so the same file run against an older build (VIGIL_CLI_ENTRY) shows what that build does.
// Checked: a second pod whose sidecar writes the plain keys (a sidecar from before per-replica
// reports) counts as replica 0 and replica 1 is waited for; a replica whose Prometheus is down keeps
// ConfigApplied from True while the other one applied, and the message names it (ApplyPending, then
// ReloadFailed with its error); back up, every service is True; a report of a replica beyond the
// count is removed.
import { join } from 'node:path';
import { startPrometheus, startServerSync, type Prometheus } from '../../hack/local-stack/components.js';
import { freePorts, pollUntil } from '../../hack/local-stack/net.js';
import type { ManagedProcess } from '../../hack/local-stack/process.js';
import { vigilKubeconfigs } from '../../hack/local-stack/rbac.js';
import { ANNOTATIONS, OBJECT_NAMES } from '../../operator/contract.js';
import { applyObjects, generatedAnnotations, INSTALL_NS, printLogsOnFailure, startHostileStack, type HostileStack } from '../hostile/stack.js';
import { cond, readStatus, waitForCondition, type Condition } from './helpers.js';

const NS = 'replicas';
const POD_1 = 'vigil-prometheus-1';
const r1 = (key: string) => `${key}.replica-1`;
let stack: HostileStack | undefined;
let prometheus1: Prometheus | undefined;
let sync1: ManagedProcess | undefined;
let ports: { prometheus: number; sync: number } = { prometheus: 0, sync: 0 };

beforeAll(async () => {
  stack = await startHostileStack({ namespaces: [NS], operatorEnv: { VIGIL_PROMETHEUS_REPLICAS: '2' } });
  const [prometheusPort, syncPort] = (await freePorts(2)) as [number, number];
  ports = { prometheus: prometheusPort, sync: syncPort };
  prometheus1 = await startPrometheus1();
}, 240_000);

afterAll(async () => {
  await sync1?.stop(5000);
  await prometheus1?.process.stop(5000);
  await stack?.stop();
}, 60_000);

printLogsOnFailure(() => stack);

function s(): HostileStack {
  if (!stack) throw new Error('the stack did not start (see beforeAll)');
  return stack;
}

/** Replica 1's Prometheus, on the same directory and port each time (a restarted container of the pod). */
function startPrometheus1(): Promise<Prometheus> {
  return startPrometheus({ dir: join(s().dir, 'replica-1', 'prometheus'), port: ports.prometheus, extraHosts: [] });
}

/** Replica 1's sidecar; `podName` undefined: as a sidecar from before per-replica reports, which writes the plain keys. */
async function startSync1(podName: string | undefined): Promise<void> {
  await sync1?.stop(5000);
  const kubeconfigs = await vigilKubeconfigs(s().cluster, INSTALL_NS);
  sync1 = await startServerSync('prometheus', prometheus1!, {
    logDir: join(s().dir, 'replica-1'),
    namespace: INSTALL_NS,
    kubeconfig: kubeconfigs.prometheus,
    listenPort: ports.sync,
    ...(podName ? { env: { POD_NAME: podName } } : {}),
  });
}

const monitored = (name: string) => ({
  apiVersion: 'vigil.dev/v1alpha1',
  kind: 'MonitoredService',
  metadata: { namespace: NS, name },
  spec: { selector: { matchLabels: { app: name } }, endpoints: [{ port: 'metrics' }] },
});

const configMap = () => generatedAnnotations(s().cluster, 'configmap');

/** ConfigApplied of `name` every second for `ms`, or until `until` holds for it; the conditions seen. */
async function sampleConfigApplied(name: string, ms: number, until?: (c: Condition) => boolean): Promise<Condition[]> {
  const seen: Condition[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const c = cond(await readStatus(s().cluster, { namespace: NS, name }), 'ConfigApplied');
    if (c) seen.push(c);
    if (c && until?.(c)) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return seen;
}

test('a second pod whose sidecar writes the plain keys (an older sidecar) is replica 0 again: the operator waits for replica 1', async () => {
  await startSync1(undefined);
  await applyObjects(s().cluster, [monitored('api')]);
  await pollUntil('both sidecars to apply the config (the plain applied-hash)', 120_000, async () => {
    const a = await configMap();
    return a[ANNOTATIONS.configHash] !== undefined && a[ANNOTATIONS.readerAppliedHash] === a[ANNOTATIONS.configHash];
  });
  const seen = await sampleConfigApplied('api', 10_000);
  expect(seen.length).toBeGreaterThan(5);
  expect(seen.filter((c) => c.status === 'True')).toEqual([]);
  expect(seen.at(-1)).toMatchObject({ status: 'False', reason: 'ApplyPending' });
  expect(seen.at(-1)!.message).toContain('(Prometheus replica 1 has not reported yet)');

  // The pod's sidecar upgraded: it reports as replica 1, with its pod name.
  await startSync1(POD_1);
  await waitForCondition(s().cluster, { namespace: NS, name: 'api' }, 'ConfigApplied', { status: 'True' }, { timeoutMs: 90_000, logs: () => s().logs() });
  const a = await configMap();
  expect(a[r1(ANNOTATIONS.readerAppliedHash)]).toBe(a[ANNOTATIONS.configHash]);
  expect(a[r1('vigil.dev/reporter-pod')]).toBe(POD_1);
}, 240_000);

test('a replica whose Prometheus is down keeps ConfigApplied from True and is named, while the other applied; back up, True', async () => {
  // Both replicas run it (the first test).
  const oldHash = (await configMap())[ANNOTATIONS.configHash];
  await prometheus1!.process.stop(5000);
  await applyObjects(s().cluster, [monitored('web')]);
  const newHash = await pollUntil('replica 0 to apply the config with web', 90_000, async () => {
    const a = await configMap();
    return a[ANNOTATIONS.configHash] !== oldHash && a[ANNOTATIONS.readerAppliedHash] === a[ANNOTATIONS.configHash] ? a[ANNOTATIONS.configHash] : false;
  });
  // What an operator reading one report sees: replica 0's, at the new hash (last writer wins made it True).
  expect((await configMap())[ANNOTATIONS.readerAppliedHash]).toBe(newHash);

  // Replica 1's sidecar waits up to 30 s for its Prometheus to be ready, then reports the failure.
  const seen = await sampleConfigApplied('web', 90_000, (c) => c.reason === 'ReloadFailed');
  expect(seen.filter((c) => c.status === 'True')).toEqual([]);
  // Once replica 0 runs the new config, the wait names replica 1 and what it runs.
  expect(seen.filter((c) => c.reason === 'ApplyPending').map((c) => c.message)).toContainEqual(expect.stringContaining(`(Prometheus replica 1 (pod ${POD_1}) runs config ${oldHash})`));
  expect(seen.at(-1)).toMatchObject({ status: 'False', reason: 'ReloadFailed' });
  expect(seen.at(-1)!.message).toContain(`Prometheus replica 1 (pod ${POD_1}) could not load config ${newHash}: server not ready at http://127.0.0.1:${ports.prometheus}/-/ready`);
  const a = await configMap();
  expect({ failed: a[r1(ANNOTATIONS.readerFailedHash)], replica0: a[ANNOTATIONS.readerAppliedHash], replica0Failed: a[ANNOTATIONS.readerFailedHash] }).toEqual({
    failed: newHash,
    replica0: newHash,
    replica0Failed: undefined,
  });

  // The container comes back with the last good config; the sidecar's retry applies the new one.
  prometheus1 = await startPrometheus1();
  for (const name of ['web', 'api']) {
    // api's True names the config both replicas run once both run the new one.
    await pollUntil(`${name} ConfigApplied=True at ${newHash}`, 120_000, async () => {
      const c = cond(await readStatus(s().cluster, { namespace: NS, name }), 'ConfigApplied');
      return c?.status === 'True' && c.message.includes(`Prometheus runs config ${newHash}`);
    });
  }
  expect((await configMap())[r1(ANNOTATIONS.readerAppliedHash)]).toBe(newHash);
}, 300_000);

test('the report of a replica beyond the count is removed by the operator; the expected ones stay', async () => {
  const stale = `${ANNOTATIONS.readerAppliedHash}.replica-2`;
  await s().cluster.kubectl(['annotate', 'configmap', OBJECT_NAMES.prometheusConfigMap, '-n', INSTALL_NS, `${stale}=scaled-away`, `vigil.dev/reporter-pod.replica-2=vigil-prometheus-2`]);
  await pollUntil('the operator to remove the report of replica 2', 60_000, async () => (await configMap())[stale] === undefined);
  const a = await configMap();
  expect(a['vigil.dev/reporter-pod.replica-2']).toBeUndefined();
  expect(a[r1(ANNOTATIONS.readerAppliedHash)]).toBe(a[ANNOTATIONS.configHash]);
  expect(a[ANNOTATIONS.readerAppliedHash]).toBe(a[ANNOTATIONS.configHash]);
}, 120_000);
