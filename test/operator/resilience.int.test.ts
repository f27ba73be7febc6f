// The operator as a real child process (`vigil operator`, ServiceAccount kubeconfig) under the
// conditions that break naive controllers: bursts, SIGKILL mid-burst, an API server outage, and
// two replicas with leader election. One API server for the whole file; each test cleans up its processes.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pollUntil } from '../../hack/local-stack/net.js';
import { OBJECT_NAMES } from '../../operator/rbac.js';
import {
  INSTALL_NS,
  applyObjects,
  getConfigMap,
  getJson,
  logRecords,
  monitoredService,
  recordConfigMapVersions,
  spawnOperator,
  startOperatorEnv,
  vigilJobs,
  type OperatorEnv,
  type OperatorProcess,
} from './helpers.js';

const NAMESPACES = ['burst', 'crash', 'outage', 'leader'];
let env: OperatorEnv | undefined;
const logDir = mkdtempSync(join(tmpdir(), 'vigil-operator-test-'));
const procs: OperatorProcess[] = [];

beforeAll(async () => {
  env = await startOperatorEnv(NAMESPACES);
}, 180_000);

afterAll(async () => {
  try {
    await Promise.all(procs.map((p) => p.stop(5000)));
  } finally {
    await env?.cluster.stop();
    // Operator logs are quoted in failure messages; keep them only on request.
    if (!process.env.VIGIL_KEEP_LOGS) rmSync(logDir, { recursive: true, force: true });
  }
}, 60_000);

function start(name: string, extraArgs: string[] = [], podName = name): OperatorProcess {
  const p = spawnOperator(name, ['--kubeconfig', env!.operatorKubeconfig, '--namespace', INSTALL_NS, '--listen', '127.0.0.1:0', '--log-level', 'debug', ...extraArgs], join(logDir, `${name}.log`), {
    POD_NAME: podName,
  });
  procs.push(p);
  return p;
}

async function stopAll(): Promise<void> {
  await Promise.all(procs.splice(0).map((p) => p.stop(10_000)));
}

/** The set of jobs the ConfigMap must hold: one per MonitoredService in the cluster (all valid here). */
async function expectedJobs(): Promise<string[]> {
  const list = await getJson<{ items: { metadata: { namespace: string; name: string } }[] }>(env!.cluster, ['monitoredservices', '-A']);
  return list!.items.map((i) => `vigil/${i.metadata.namespace}/${i.metadata.name}/metrics`).sort();
}

async function waitForExactJobs(p: OperatorProcess | undefined, timeoutMs = 60_000): Promise<string[]> {
  const expected = await expectedJobs();
  try {
    return await pollUntil(
      `ConfigMap with exactly the ${expected.length} expected jobs`,
      timeoutMs,
      async () => {
        const jobs = vigilJobs(await getConfigMap(env!.cluster));
        return JSON.stringify([...jobs].sort()) === JSON.stringify(expected) ? jobs : undefined;
      },
      { intervalMs: 500 },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${p ? p.logs(40) : ''}`);
  }
}

function many(ns: string, prefix: string, count: number): object[] {
  return Array.from({ length: count }, (_, i) => monitoredService(ns, `${prefix}-${String(i).padStart(3, '0')}`));
}

/** The port the operator's /metrics listens on, from its "operator started" log line. */
async function metricsPort(p: OperatorProcess): Promise<number> {
  return pollUntil(`${p.name} started`, 30_000, async () => {
    const rec = logRecords(readFileSync(p.logFile, 'utf8')).find((r) => r.msg === 'operator started');
    const port = rec ? Number(String(rec.listen).split(':').pop()) : Number.NaN;
    return Number.isInteger(port) && port > 0 ? port : undefined;
  });
}

async function metric(port: number, pattern: RegExp): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m = pattern.exec(text);
  return m ? Number(m[1]) : undefined;
}

test('a burst of 300 applies yields a handful of ConfigMap writes, not 300', async () => {
  const c = env!.cluster;
  const op = start('burst-operator');
  await metricsPort(op);
  await waitForExactJobs(op); // the initial (empty) config is written
  const recorder = await recordConfigMapVersions(c);
  try {
    const before = recorder.versions.length;
    // Six concurrent clients, 50 objects each: the API server sees 300 creates in a few seconds.
    const objects = many('burst', 'svc', 300);
    await Promise.all(Array.from({ length: 6 }, (_, k) => applyObjects(c, objects.slice(k * 50, k * 50 + 50))));
    const jobs = await waitForExactJobs(op);
    expect(jobs.filter((j) => j.startsWith('vigil/burst/'))).toHaveLength(300);
    await new Promise((r) => setTimeout(r, 3000)); // any straggling write would show up now
    const writes = recorder.versions.length - before;
    expect(writes).toBeGreaterThanOrEqual(1);
    expect(writes).toBeLessThan(20);
    // Mass deletion is a burst too, and the config must end up without any of them.
    const beforeDelete = recorder.versions.length;
    await c.kubectl(['delete', 'monitoredservices', '--all', '-n', 'burst', '--wait=false']);
    const remaining = await waitForExactJobs(op);
    expect(remaining.filter((j) => j.startsWith('vigil/burst/'))).toEqual([]);
    expect(recorder.versions.length - beforeDelete).toBeLessThan(20);
  } finally {
    recorder.stop();
    await stopAll();
  }
}, 180_000);

test('SIGKILL in the middle of a burst of 200 applies, then restart: exactly the right jobs, none duplicated or lost', async () => {
  const c = env!.cluster;
  const first = start('crash-operator-1');
  await metricsPort(first);
  const objects = many('crash', 'svc', 200);
  // Two clients applying batches of 10 back to back. The second half of the burst waits until the
  // operator has written part of the first half, so the kill always lands mid-burst, however fast
  // or slow the machine is (a free-running burst could finish before the first write).
  let batchesDone = 0;
  let releaseSecondHalf!: () => void;
  const secondHalf = new Promise<void>((resolve) => (releaseSecondHalf = resolve));
  const client = async (k: number) => {
    for (let b = k; b < 20; b += 2) {
      if (b >= 10) await secondHalf;
      await applyObjects(c, objects.slice(b * 10, b * 10 + 10));
      batchesDone++;
    }
  };
  const burst = Promise.all([client(0), client(1)]);
  // Kill once the operator has written part of the burst, then let the rest arrive.
  await pollUntil('part of the burst written', 60_000, async () => vigilJobs(await getConfigMap(c)).some((j) => j.startsWith('vigil/crash/')), { intervalMs: 100 });
  process.kill(first.pid, 'SIGKILL');
  const batchesAtKill = batchesDone;
  releaseSecondHalf();
  const exit = await first.exited;
  expect(exit.signal).toBe('SIGKILL');
  const partial = vigilJobs(await getConfigMap(c)).filter((j) => j.startsWith('vigil/crash/'));
  await burst;
  // Nothing remembered in memory: the new process rebuilds from the API.
  const second = start('crash-operator-2');
  try {
    const jobs = await waitForExactJobs(second);
    expect(new Set(jobs).size).toBe(jobs.length);
    expect(jobs.filter((j) => j.startsWith('vigil/crash/'))).toHaveLength(200);
    // The kill really happened mid-burst (otherwise this test proves less than it says).
    expect(batchesAtKill).toBeLessThan(20);
    expect(partial.length).toBeLessThan(200);
    // Statuses converge too: every crash object has observedGeneration set by the new process.
    await pollUntil(
      'statuses written',
      60_000,
      async () => {
        const list = await getJson<{ items: any[] }>(c, ['monitoredservices', '-n', 'crash']);
        return list!.items.every((i) => i.status?.observedGeneration === i.metadata.generation);
      },
      { intervalMs: 1000 },
    );
  } finally {
    await stopAll();
  }
}, 240_000);

test('API server stopped for 20 s and started again: watches resume and later changes are applied', async () => {
  const c = env!.cluster;
  const op = start('outage-operator');
  const port = await metricsPort(op);
  await applyObjects(c, [monitoredService('outage', 'before')]);
  await waitForExactJobs(op);
  try {
    await c.stopApiServer();
    await new Promise((r) => setTimeout(r, 20_000));
    expect(op.isRunning()).toBe(true);
    // Liveness holds during the outage: the process is fine, the API is not.
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    await c.startApiServer();
    await applyObjects(c, [monitoredService('outage', 'after')]);
    const jobs = await waitForExactJobs(op, 90_000);
    expect(jobs).toContain('vigil/outage/after/metrics');
    await c.kubectl(['delete', 'monitoredservice', 'before', '-n', 'outage']);
    const after = await waitForExactJobs(op, 60_000);
    expect(after).not.toContain('vigil/outage/before/metrics');
    const log = readFileSync(op.logFile, 'utf8');
    expect(log).toMatch(/watch failed; restarting/);
  } finally {
    if (!c.isApiServerRunning()) await c.startApiServer();
    await stopAll();
  }
}, 240_000);

test('two replicas with leader election: only the leader writes; SIGKILL the leader and the other takes over; SIGTERM releases the Lease', async () => {
  const c = env!.cluster;
  const a = start('replica-a', ['--leader-elect']);
  const portA = await metricsPort(a);
  await pollUntil('replica-a leads', 30_000, async () => (await metric(portA, /^vigil_leader (\d+)$/m)) === 1);
  const b = start('replica-b', ['--leader-elect']);
  const portB = await metricsPort(b);
  // The follower is ready (warm caches) but not leading.
  await pollUntil('replica-b ready', 30_000, async () => (await fetch(`http://127.0.0.1:${portB}/readyz`)).status === 200);
  expect(await metric(portB, /^vigil_leader (\d+)$/m)).toBe(0);

  await applyObjects(c, [monitoredService('leader', 'one')]);
  await waitForExactJobs(a);
  await new Promise((r) => setTimeout(r, 1500));
  expect(await metric(portB, /^vigil_config_writes_total\{object="configmap"\} (\d+)$/m)).toBeUndefined();
  expect(await metric(portA, /^vigil_config_writes_total\{object="configmap"\} (\d+)$/m)).toBeGreaterThanOrEqual(1);
  const lease = await getJson<any>(c, ['lease', OBJECT_NAMES.leaderLease, '-n', INSTALL_NS]);
  expect(lease.spec.holderIdentity).toBe('replica-a');
  expect(lease.spec.leaseDurationSeconds).toBe(15);

  // Kill the leader: no release, so the follower waits out the lease (15 s) and takes over.
  const killedAt = Date.now();
  process.kill(a.pid, 'SIGKILL');
  await pollUntil('replica-b leads', 40_000, async () => (await metric(portB, /^vigil_leader (\d+)$/m)) === 1, { intervalMs: 500 });
  const takeoverMs = Date.now() - killedAt;
  expect(takeoverMs).toBeLessThan(30_000);
  await applyObjects(c, [monitoredService('leader', 'two')]);
  await waitForExactJobs(b);
  expect(await metric(portB, /^vigil_config_writes_total\{object="configmap"\} (\d+)$/m)).toBeGreaterThanOrEqual(1);

  // Graceful stop of the leader: exit 0 and holderIdentity cleared, so a successor need not wait.
  await b.stop(15_000);
  expect((await b.exited).code).toBe(0);
  const released = await getJson<any>(c, ['lease', OBJECT_NAMES.leaderLease, '-n', INSTALL_NS]);
  expect(released.spec.holderIdentity ?? '').toBe('');
  const c2 = start('replica-c', ['--leader-elect']);
  const portC = await metricsPort(c2);
  const t0 = Date.now();
  await pollUntil('replica-c leads at once', 15_000, async () => (await metric(portC, /^vigil_leader (\d+)$/m)) === 1, { intervalMs: 200 });
  expect(Date.now() - t0).toBeLessThan(10_000);
  await stopAll();
}, 240_000);
