// A partitioned Prometheus config end to end (`vigil operator --config-partitions`, `vigil sync
// --partitions`), against real processes (test/hostile/stack.ts): etcd + kube-apiserver (RBAC on),
// the operator, Prometheus and Alertmanager with their sidecars. Twelve services of 50 rules with
// incompressible descriptions (about 2.4 MB, over one Kubernetes object even gzip'd: size.int
// shows the unpartitioned operator leaving some out) are written as at least 3 partition objects;
// every one of them, and a small team's service, gets ConfigApplied=True and none is left out.
// A deleted service's partition is rewritten; Prometheus reloaded into a config that names another
// scrape file gives PrometheusConfigMismatch.
import { readFile, writeFile } from 'node:fs/promises';
import { pollUntil } from '../../hack/local-stack/net.js';
import { OBJECT_NAMES, PARTITION_OF_LABEL } from '../../operator/contract.js';
import { generatedAnnotations, startHostileStack, waitForConfigApplied, type HostileStack } from '../hostile/stack.js';
import { bigRules, monitoredWithRules as monitored } from './helpers.js';

const BIG_NS = 'team-big';
const SMALL_NS = 'team-small';
const BIG = Array.from({ length: 12 }, (_, i) => `report-${i}`);
let stack: HostileStack | undefined;

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
}

beforeAll(async () => {
  stack = await startHostileStack({ namespaces: [BIG_NS, SMALL_NS] });
}, 240_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

function s(): HostileStack {
  if (!stack) throw new Error('the stack did not start (see beforeAll)');
  return stack;
}

async function conditions(namespace: string, name: string): Promise<Map<string, Condition>> {
  const out = await s().cluster.kubectl(['get', 'monitoredservice', name, '-n', namespace, '-o', 'jsonpath={.status.conditions}']);
  return new Map(((out.trim() ? JSON.parse(out) : []) as Condition[]).map((c) => [c.type, c]));
}

async function partitionObjects(): Promise<string[]> {
  const out = await s().cluster.kubectl(['get', 'configmaps', '-n', 'vigil-system', '-l', `${PARTITION_OF_LABEL}=${OBJECT_NAMES.prometheusConfigMap}`, '-o', 'jsonpath={.items[*].metadata.name}']);
  return out.trim() ? out.trim().split(/\s+/).sort() : [];
}

async function loadedRuleGroups(): Promise<string[]> {
  const r = (await (await fetch(`${s().prometheus.url}/api/v1/rules`)).json()) as { data: { groups: { name: string }[] } };
  return r.data.groups.map((g) => g.name);
}

const all = () => [...BIG.map((n) => [BIG_NS, n] as const), [SMALL_NS, 'web'] as const];

test('a config needing 3 or more objects is applied whole: every service ConfigApplied=True, none left out', async () => {
  await s().cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(monitored(SMALL_NS, 'web', [])) });
  // create, not apply: kubectl apply would copy each 200 KB spec into an annotation (256 KB limit).
  await s().cluster.kubectl(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: BIG.map((n) => monitored(BIG_NS, n, bigRules())) }) });
  await pollUntil(
    'every service ConfigApplied=True',
    240_000,
    async () => {
      const conds = await Promise.all(all().map(([ns, n]) => conditions(ns, n)));
      for (const c of conds) expect(c.get('ConfigApplied')?.reason).not.toBe('ConfigTooLarge');
      return conds.every((c) => c.get('ConfigApplied')?.status === 'True');
    },
    { intervalMs: 1000 },
  );
  const partitions = await partitionObjects();
  expect(partitions.length).toBeGreaterThanOrEqual(3);
  await waitForConfigApplied(s(), 120_000);
  const groups = await loadedRuleGroups();
  for (const [ns, n] of all()) if (ns === BIG_NS) expect(groups).toContain(`vigil/${ns}/${n}`);
  // Still True after the operator polled what Prometheus runs (its scrape files by name): no false mismatch.
  await new Promise((r) => setTimeout(r, 15_000));
  for (const [ns, n] of all()) expect((await conditions(ns, n)).get('ConfigApplied')).toMatchObject({ status: 'True', reason: 'ConfigApplied' });
  process.stderr.write(`[partitions.int] ${all().length} services in ${partitions.length} partition objects, all ConfigApplied=True\n`);
}, 600_000);

test("a deleted service leaves Prometheus with its partition's object rewritten; the others stay applied", async () => {
  await s().cluster.kubectl(['delete', 'monitoredservice', BIG[0]!, '-n', BIG_NS]);
  await pollUntil('its rule group gone from Prometheus', 120_000, async () => !(await loadedRuleGroups()).includes(`vigil/${BIG_NS}/${BIG[0]}`), { intervalMs: 1000 });
  await waitForConfigApplied(s(), 120_000);
  for (const [ns, n] of all().filter(([, n]) => n !== BIG[0])) {
    await pollUntil(`${ns}/${n} ConfigApplied=True`, 60_000, async () => (await conditions(ns, n)).get('ConfigApplied')?.status === 'True', { intervalMs: 500 });
  }
}, 300_000);

test('Prometheus reloaded into a config naming another scrape file: PrometheusConfigMismatch; back when its file is restored', async () => {
  const file = s().prometheus.configFile;
  const original = await readFile(file, 'utf8');
  const reload = async () => expect((await fetch(`${s().prometheus.url}/-/reload`, { method: 'POST' })).status).toBe(200);
  const foreign = original.replace(/(partition-[0-9a-f]+-)[0-9a-f]{16}(\.scrape\.yaml)/, '$10000000000000000$2');
  expect(foreign).not.toBe(original);
  try {
    await writeFile(file, foreign);
    await reload();
    await pollUntil('team-small/web ConfigApplied=False', 60_000, async () => (await conditions(SMALL_NS, 'web')).get('ConfigApplied')?.status === 'False', { intervalMs: 500 });
    const c = (await conditions(SMALL_NS, 'web')).get('ConfigApplied')!;
    expect(c.reason).toBe('PrometheusConfigMismatch');
    expect(c.message).toMatch(/1 scrape config file Vigil did not write \(partition-[0-9a-f]+-0000000000000000\.scrape\.yaml\)/);
  } finally {
    await writeFile(file, original);
    await reload();
  }
  await pollUntil('team-small/web ConfigApplied=True again', 60_000, async () => (await conditions(SMALL_NS, 'web')).get('ConfigApplied')?.status === 'True', { intervalMs: 500 });
}, 300_000);

async function partitionObject(name: string): Promise<{ resourceVersion: string; hash: string | undefined; field: 'data' | 'binaryData'; data: Record<string, string> } | undefined> {
  const r = await s().cluster.kubectlResult(['get', 'configmap', name, '-n', 'vigil-system', '-o', 'json']);
  if (r.code !== 0) return undefined;
  const cm = JSON.parse(r.stdout) as { metadata: { resourceVersion: string; annotations?: Record<string, string> }; data?: Record<string, string>; binaryData?: Record<string, string> };
  return {
    resourceVersion: cm.metadata.resourceVersion,
    hash: cm.metadata.annotations?.['vigil.dev/config-hash'],
    field: cm.binaryData ? 'binaryData' : 'data',
    data: { ...cm.data, ...cm.binaryData },
  };
}

test('a partition object deleted or edited by hand is written again while the config stays the same', async () => {
  const [deleted, edited] = await partitionObjects();
  const before = await partitionObject(edited!);
  const mainHash = (await generatedAnnotations(s().cluster, 'configmap'))['vigil.dev/config-hash'];
  await s().cluster.kubectl(['delete', 'configmap', deleted!, '-n', 'vigil-system']);
  // An edit that keeps the config-hash annotation: only the object's version tells.
  const key = Object.keys(before!.data)[0]!;
  await s().cluster.kubectl(['patch', 'configmap', edited!, '-n', 'vigil-system', '--type=json', '-p', JSON.stringify([{ op: 'remove', path: `/${before!.field}/${key}` }])]);
  await pollUntil(
    'both partition objects written again',
    60_000,
    async () => {
      const [d, e] = await Promise.all([partitionObject(deleted!), partitionObject(edited!)]);
      return d !== undefined && e !== undefined && JSON.stringify(e.data) === JSON.stringify(before!.data) && e.hash === before!.hash;
    },
    { intervalMs: 500 },
  );
  expect((await generatedAnnotations(s().cluster, 'configmap'))['vigil.dev/config-hash']).toBe(mainHash);
  // The sidecar applied the edited object (it kept its config-hash) and then the rewritten one: the
  // hash on the main object never moved, so Prometheus's rule groups tell when it is whole again.
  await pollUntil(
    'every remaining service loaded in Prometheus again',
    60_000,
    async () => {
      const groups = await loadedRuleGroups();
      return BIG.slice(1).every((n) => groups.includes(`vigil/${BIG_NS}/${n}`));
    },
    { intervalMs: 1000 },
  );
  await waitForConfigApplied(s(), 120_000);
}, 300_000);

test('a report of a sidecar without --partitions returns the config to one object and deletes the partition objects; partitions again once it stays away', async () => {
  // As a sidecar from before partitions reports (the layout handshake, docs/contract.md).
  const main = await generatedAnnotations(s().cluster, 'configmap');
  const patch = { metadata: { annotations: { 'vigil.dev/applied-hash': main['vigil.dev/config-hash'], 'vigil.dev/applied-at': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') } } };
  await s().cluster.kubectl(['patch', 'configmap', OBJECT_NAMES.prometheusConfigMap, '-n', 'vigil-system', '--type=merge', '-p', JSON.stringify(patch)]);
  await pollUntil('the partition objects deleted', 60_000, async () => (await partitionObjects()).length === 0, { intervalMs: 500 });
  const oneObject = await generatedAnnotations(s().cluster, 'configmap');
  expect(oneObject['vigil.dev/partitions']).toBe('{}');
  // The operator removed the plain report; with none back for 30 s, partitions again.
  await pollUntil('partitions again', 120_000, async () => (await partitionObjects()).length >= 3, { intervalMs: 1000 });
  await waitForConfigApplied(s(), 120_000);
  for (const [ns, n] of all().filter(([, n]) => n !== BIG[0])) {
    await pollUntil(`${ns}/${n} ConfigApplied=True`, 60_000, async () => (await conditions(ns, n)).get('ConfigApplied')?.status === 'True', { intervalMs: 500 });
  }
}, 300_000);
