// Claims of an install that went away (issue 22, "no orphaned claims"): three installs of the
// operator against one real kube-apiserver, in-process, each with its own namespace, RBAC and
// ServiceAccount token (so every call, the read of another install's Lease included, goes through
// the real RBAC), with leader election as the chart runs it. Their scopes overlap on purpose (all of
// them select every MonitoredService): the install recorded in status.install keeps an object while
// its Lease is renewed; once that Lease is gone (what `helm uninstall` and a deleted namespace do) or
// unrenewed for --orphan-after (its operator stopped), the next install takes the object over, and the
// status it writes is its own, not the gone install's last one.
// No sidecars run: "ConfigApplied" under install A comes from the annotations A's sidecars would write.
import { pollUntil, sleep } from '../../hack/local-stack/net.js';
import { installRbac, vigilKubeconfigs } from '../../hack/local-stack/rbac.js';
import { startCluster, type Cluster } from '../../hack/local-stack/cluster.js';
import { startOperator, type RunningOperator } from '../../operator/cli/operator-command.js';
import { createLogger } from '../../operator/observability/logger.js';
import { OBJECT_NAMES } from '../../operator/rbac.js';
import { applyObjects, condition, getJson, leaderLease, monitoredService, simulateSidecarsApplied, vigilJobs, type ConfigMapView } from './helpers.js';

const TEAM = 'shop';
const ORPHAN_AFTER_MS = 30_000;
let cluster: Cluster | undefined;
const operators = new Map<string, RunningOperator>();
const logs = new Map<string, string[]>();

async function startInstall(namespace: string): Promise<RunningOperator> {
  const c = cluster!;
  await installRbac(c, namespace);
  const { operator: kubeconfig } = await vigilKubeconfigs(c, namespace);
  const lines: string[] = [];
  logs.set(namespace, lines);
  const op = await startOperator(
    { kubeconfig, namespace, watchNamespaces: [], listen: '127.0.0.1:0', leaderElect: true, orphanAfterMs: ORPHAN_AFTER_MS, logLevel: 'debug', identity: `${namespace}-0` },
    createLogger('operator', 'debug', (line) => lines.push(line)),
  );
  operators.set(namespace, op);
  return op;
}

async function stopInstall(namespace: string): Promise<void> {
  await operators.get(namespace)?.stop();
  operators.delete(namespace);
}

const getMs = (name: string) => getJson(cluster!, ['monitoredservice', name, '-n', TEAM]);
const claimOf = async (name: string): Promise<string | undefined> => (await getMs(name))?.status?.install?.namespace;
const leaseOf = (namespace: string) => leaderLease(cluster!, namespace);

const sidecarsApplied = (namespace: string) => simulateSidecarsApplied(cluster!, namespace);

/** The scrape jobs in an install's generated Prometheus config. */
async function jobsOf(namespace: string): Promise<string[]> {
  return vigilJobs(await getJson<ConfigMapView>(cluster!, ['configmap', OBJECT_NAMES.prometheusConfigMap, '-n', namespace]));
}

function dump(): string {
  return [...logs].map(([ns, lines]) => `--- ${ns} operator log tail:\n${lines.slice(-15).join('\n')}`).join('\n');
}

beforeAll(async () => {
  cluster = await startCluster();
  await cluster.ensureNamespace(TEAM);
}, 180_000);

afterAll(async () => {
  try {
    for (const ns of [...operators.keys()]) await stopInstall(ns);
  } finally {
    await cluster?.stop();
  }
}, 60_000);

test('install A claims; B respects the claim while A runs; A uninstalled (operator stopped, Lease deleted): B takes over and writes its own status', async () => {
  await startInstall('install-a');
  await applyObjects(cluster!, [monitoredService(TEAM, 'checkout')]);
  await pollUntil('install A to claim checkout', 60_000, async () => (await claimOf('checkout')) === 'install-a').catch((e) => {
    throw new Error(`${(e as Error).message}\n${dump()}`);
  });
  await sidecarsApplied('install-a');
  await pollUntil('ConfigApplied=True under install A', 30_000, async () => condition(await getMs('checkout'), 'ConfigApplied')?.status === 'True');

  await startInstall('install-b');
  // Longer than --orphan-after with A renewing its Lease: B must still leave checkout alone.
  await sleep(ORPHAN_AFTER_MS + 10_000);
  const held = await getMs('checkout');
  expect(held.status.install.namespace).toBe('install-a');
  expect(condition(held, 'ConfigApplied')?.status).toBe('True');
  expect(await jobsOf('install-b')).not.toContain(`vigil/${TEAM}/checkout/metrics`);
  expect(logs.get('install-b')!.some((l) => l.includes('held by another install') && l.includes(`${TEAM}/checkout`))).toBe(true);

  // What helm uninstall does to the install: its pods go, and the garbage collector deletes the Lease
  // with the settings ConfigMap that owns it (no garbage collector runs in this harness).
  await stopInstall('install-a');
  await cluster!.kubectl(['delete', 'lease', OBJECT_NAMES.leaderLease, '-n', 'install-a']);
  const taken = await pollUntil(
    'install B to take checkout over',
    ORPHAN_AFTER_MS,
    async () => {
      const ms = await getMs('checkout');
      return ms?.status?.install?.namespace === 'install-b' ? ms : undefined;
    },
    { intervalMs: 500 },
  ).catch((e) => {
    throw new Error(`${(e as Error).message}\n${dump()}`);
  });
  // B's status, not A's last one: B's config is not applied (no sidecar), so nothing stays green.
  expect(condition(taken, 'ConfigApplied')).toMatchObject({ status: 'False', reason: 'ApplyPending' });
  expect(condition(taken, 'Ready')?.status).not.toBe('True');
  await pollUntil("checkout in install B's Prometheus config", 30_000, async () => (await jobsOf('install-b')).includes(`vigil/${TEAM}/checkout/metrics`));
}, 240_000);

test("install B's operator stops (its Lease stays, unrenewed): install C takes over after --orphan-after, not before B's Lease ages", async () => {
  expect(await claimOf('checkout')).toBe('install-b');
  // A stopped operator: the Lease stays (released by the clean shutdown, then never renewed).
  await stopInstall('install-b');
  expect(await leaseOf('install-b')).toBeDefined();
  const stoppedAt = Date.now();
  await startInstall('install-c');
  await pollUntil('install C to take checkout over', ORPHAN_AFTER_MS * 3, async () => (await claimOf('checkout')) === 'install-c', { intervalMs: 1000 }).catch((e) => {
    throw new Error(`${(e as Error).message}\n${dump()}`);
  });
  // C judged B's Lease on its own clock: at least --orphan-after of it unchanged before taking over.
  expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(ORPHAN_AFTER_MS);
  expect(logs.get('install-c')!.some((l) => l.includes('the install holding claims is gone') && l.includes('install-b'))).toBe(true);
  expect(condition(await getMs('checkout'), 'ConfigApplied')).toMatchObject({ status: 'False', reason: 'ApplyPending' });
}, 240_000);
