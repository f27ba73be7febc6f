// A status whose writer is gone never stays green (issue 22): `vigil uninstall`, what the chart's
// pre-delete hook runs, against a real kube-apiserver while the install's operator still runs (two
// replicas, leader election as the chart runs it, every call through the operator's own RBAC). The
// MonitoredServices the install claims then say InstallRemoved and keep saying it although the
// operators keep running and their inputs keep changing; the claim is gone, so a second install
// takes them over at once (not after --orphan-after).
// No sidecars run: "ConfigApplied" under install A comes from the annotations A's sidecars would write.
import { pollUntil, sleep } from '../../hack/local-stack/net.js';
import { installRbac, vigilKubeconfigs } from '../../hack/local-stack/rbac.js';
import { startCluster, type Cluster } from '../../hack/local-stack/cluster.js';
import { startOperator, type RunningOperator } from '../../operator/cli/operator-command.js';
import { runUninstallCommand } from '../../operator/cli/uninstall-command.js';
import { INSTALL_REMOVED_REASON } from '../../operator/controller/uninstall.js';
import { INSTALL_REMOVED_ANNOTATION } from '../../operator/contract.js';
import { createLogger } from '../../operator/observability/logger.js';
import { applyObjects, condition, getJson, leaderLease, monitoredService, simulateSidecarsApplied } from './helpers.js';

const TEAM = 'shop';
const SERVICES = ['checkout', 'cart'];
const A = 'install-a';
const B = 'install-b';
/** Far above how long the takeover may take here: B must not wait for the orphan rule. */
const ORPHAN_AFTER_MS = 600_000;
let cluster: Cluster | undefined;
const operators = new Map<string, RunningOperator>();
const logs = new Map<string, string[]>();

async function startReplica(namespace: string, identity: string, kubeconfig: string): Promise<RunningOperator> {
  const lines: string[] = [];
  logs.set(identity, lines);
  const op = await startOperator(
    { kubeconfig, namespace, watchNamespaces: [], listen: '127.0.0.1:0', leaderElect: true, orphanAfterMs: ORPHAN_AFTER_MS, logLevel: 'debug', identity },
    createLogger('operator', 'debug', (line) => lines.push(line)),
  );
  operators.set(identity, op);
  return op;
}

const getMs = (name: string) => getJson(cluster!, ['monitoredservice', name, '-n', TEAM]);
const leaseOf = (namespace: string) => leaderLease(cluster!, namespace);

const sidecarsApplied = (namespace: string) => simulateSidecarsApplied(cluster!, namespace);

/** What the removal must leave on an object, as one comparable value. */
function removalView(ms: { status?: { install?: unknown } } | undefined) {
  return {
    install: ms?.status?.install ?? null,
    ready: condition(ms, 'Ready') && { status: condition(ms, 'Ready')!.status, reason: condition(ms, 'Ready')!.reason },
    configApplied: condition(ms, 'ConfigApplied') && { status: condition(ms, 'ConfigApplied')!.status, reason: condition(ms, 'ConfigApplied')!.reason },
    valid: condition(ms, 'Valid')?.status ?? null,
  };
}
const REMOVED_VIEW = { install: null, ready: { status: 'False', reason: INSTALL_REMOVED_REASON }, configApplied: { status: 'False', reason: INSTALL_REMOVED_REASON }, valid: 'True' };

function dump(): string {
  return [...logs].map(([id, lines]) => `--- ${id} operator log tail:\n${lines.slice(-15).join('\n')}`).join('\n');
}

beforeAll(async () => {
  cluster = await startCluster();
  await cluster.ensureNamespace(TEAM);
}, 180_000);

afterAll(async () => {
  try {
    for (const op of operators.values()) await op.stop();
  } finally {
    await cluster?.stop();
  }
}, 60_000);

test('vigil uninstall with the install still running: its services say InstallRemoved and keep saying it; a second install takes them over at once', async () => {
  const c = cluster!;
  await installRbac(c, A);
  const { operator: kubeconfigA } = await vigilKubeconfigs(c, A);
  await startReplica(A, `${A}-0`, kubeconfigA);
  await startReplica(A, `${A}-1`, kubeconfigA);
  await applyObjects(
    c,
    SERVICES.map((name) => monitoredService(TEAM, name)),
  );
  for (const name of SERVICES) {
    await pollUntil(`install A to claim ${name}`, 60_000, async () => (await getMs(name))?.status?.install?.namespace === A).catch((e) => {
      throw new Error(`${(e as Error).message}\n${dump()}`);
    });
  }
  await sidecarsApplied(A);
  for (const name of SERVICES) await pollUntil(`ConfigApplied=True on ${name} under install A`, 30_000, async () => condition(await getMs(name), 'ConfigApplied')?.status === 'True');

  // The hook, with the operator's own ServiceAccount, while both replicas run.
  const out: string[] = [];
  const err: string[] = [];
  const code = await runUninstallCommand(['--namespace', A, '--kubeconfig', kubeconfigA, '--timeout', '60s'], { out: (l) => out.push(l), err: (l) => err.push(l), env: {} });
  expect({ code, out, err: err.filter((l) => !l.includes('"level":"info"')) }).toEqual({
    code: 0,
    out: [expect.stringMatching(new RegExp(`^install ${A} removed: 2 MonitoredService\\(s\\) now say InstallRemoved`))],
    err: [],
  });
  for (const name of SERVICES) {
    const ms = await getMs(name);
    expect(removalView(ms)).toEqual(REMOVED_VIEW);
    expect(condition(ms, 'Ready')?.message).toMatch(new RegExp(`install in namespace ${A} was removed.*nothing scrapes this service or emails its alerts until another install`));
    expect(ms.status.discoveredTargets).toBeUndefined();
  }
  // Both replicas read the mark; the Lease stays marked and released until the release's garbage goes.
  for (const id of [`${A}-0`, `${A}-1`]) expect(logs.get(id)!.some((l) => l.includes('this replica stops writing'))).toBe(true);
  const lease = await leaseOf(A);
  expect({ mark: typeof lease.metadata.annotations[INSTALL_REMOVED_ANNOTATION], holder: lease.spec.holderIdentity ?? '' }).toEqual({ mark: 'string', holder: '' });

  // The operators keep running and their inputs keep changing (a new generation, a sidecar report):
  // sampled every second, the status never leaves InstallRemoved.
  await c.kubectl(['patch', 'monitoredservice', 'checkout', '-n', TEAM, '--type=merge', '-p', JSON.stringify({ spec: { endpoints: [{ port: 'metrics', interval: '30s' }] } })]);
  await sidecarsApplied(A);
  const seen = new Set<string>();
  for (let i = 0; i < 20; i++) {
    for (const name of SERVICES) seen.add(JSON.stringify(removalView(await getMs(name))));
    await sleep(1000);
  }
  expect([...seen].map((s) => JSON.parse(s))).toEqual([REMOVED_VIEW]);
  expect(operators.get(`${A}-0`)!.controller.isLeader() || operators.get(`${A}-1`)!.controller.isLeader()).toBe(false);

  // A second install whose scope selects them: it takes them over at once and reports its own status.
  await installRbac(c, B);
  const { operator: kubeconfigB } = await vigilKubeconfigs(c, B);
  await startReplica(B, `${B}-0`, kubeconfigB);
  for (const name of SERVICES) {
    await pollUntil(`install B to take ${name} over`, 30_000, async () => (await getMs(name))?.status?.install?.namespace === B, { intervalMs: 500 }).catch((e) => {
      throw new Error(`${(e as Error).message}\n${dump()}`);
    });
  }
  for (const name of SERVICES) expect(condition(await getMs(name), 'ConfigApplied')).toMatchObject({ status: 'False', reason: 'ApplyPending' });
}, 300_000);
