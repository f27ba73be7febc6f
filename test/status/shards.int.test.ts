// Prometheus shards end to end (`vigil operator --prometheus-shards 2`, docs/contract.md "Shards"),
// against real processes (test/hostile/stack.ts): etcd + kube-apiserver, the operator, two
// Prometheus processes each with its own `vigil sync --configmap <shard's main object> --partitions`,
// Alertmanager with its sidecar. Services in 3 namespaces: every one is loaded by exactly one
// Prometheus, a namespace never split, both shards used; each service's ConfigApplied names the
// shard whose sidecar applied it; a stopped shard's Prometheus makes only its own services' rule
// health PrometheusUnreachable (their target health says first that no Service matches: none exists here).
import { OBJECT_NAMES, shardObjectName } from '../../operator/contract.js';
import type { Prometheus } from '../../hack/local-stack/components.js';
import { pollUntil } from '../../hack/local-stack/net.js';
import type { ManagedProcess } from '../../hack/local-stack/process.js';
import { freeShardPorts, INSTALL_NS, printLogsOnFailure, startHostileStack, startShard, waitForConfigApplied, type HostileStack } from '../hostile/stack.js';

/** Namespaces team-0 ... of which the test takes 3 that land on both shards (checked below, not assumed). */
const NAMESPACES = ['team-0', 'team-1', 'team-2', 'team-3', 'team-4', 'team-5'];
const SERVICES = ['api', 'worker'];

let stack: HostileStack | undefined;
let shard1: { prometheus: Prometheus; sync: ManagedProcess } | undefined;

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

beforeAll(async () => {
  const base = await freeShardPorts(2);
  stack = await startHostileStack({
    namespaces: NAMESPACES,
    prometheusPort: base,
    operatorPrometheusUrl: `http://127.0.0.1:${base / 10}{shard}`,
    operatorArgs: ['--prometheus-shards=2'],
  });
  shard1 = await startShard(stack, 1, base + 1);
}, 300_000);

afterAll(async () => {
  await shard1?.sync.stop(5000);
  await shard1?.prometheus.process.stop(5000);
  await stack?.stop();
}, 60_000);

printLogsOnFailure(() => stack);

function s(): HostileStack {
  if (!stack || !shard1) throw new Error('the stack did not start (see beforeAll)');
  return stack;
}

function monitored(namespace: string, name: string): object {
  return {
    apiVersion: 'vigil.dev/v1alpha1',
    kind: 'MonitoredService',
    metadata: { namespace, name },
    spec: { selector: { matchLabels: { app: name } }, endpoints: [{ port: 'metrics' }], rules: [{ name: 'Errors', expr: 'rate(errors_total[5m]) > 1' }] },
  };
}

async function conditions(namespace: string, name: string): Promise<Map<string, Condition>> {
  const out = await s().cluster.kubectl(['get', 'monitoredservice', name, '-n', namespace, '-o', 'jsonpath={.status.conditions}']);
  return new Map(((out.trim() ? JSON.parse(out) : []) as Condition[]).map((c) => [c.type, c]));
}

async function ruleGroups(url: string): Promise<string[]> {
  const r = (await (await fetch(`${url}/api/v1/rules`)).json()) as { data: { groups: { name: string }[] } };
  return r.data.groups.map((g) => g.name);
}

const all = () => NAMESPACES.flatMap((ns) => SERVICES.map((n) => [ns, n] as const));

test('every service runs on exactly one shard, whole namespaces, both shards used; ConfigApplied names the shard that applied it', async () => {
  await s().cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: all().map(([ns, n]) => monitored(ns, n)) }) });
  await pollUntil('every service ConfigApplied=True', 240_000, async () => (await Promise.all(all().map(([ns, n]) => conditions(ns, n)))).every((c) => c.get('ConfigApplied')?.status === 'True'), {
    intervalMs: 1000,
  });
  await waitForConfigApplied(s(), 120_000);
  const urls = [s().prometheus.url, shard1!.prometheus.url];
  // Both Prometheus servers load their shard's rule groups: the next rules poll after the reload.
  const groupsOf = await pollUntil(
    'each service’s rule group in one Prometheus',
    60_000,
    async () => {
      const groups = await Promise.all(urls.map(ruleGroups));
      return all().every(([ns, n]) => groups.filter((g) => g.includes(`vigil/${ns}/${n}`)).length === 1) ? groups : undefined;
    },
    { intervalMs: 1000 },
  );
  const shardOf = new Map<string, number>();
  for (const [ns, n] of all()) {
    const shard = groupsOf.findIndex((g) => g.includes(`vigil/${ns}/${n}`));
    // A namespace is never split between shards.
    if (shardOf.has(ns)) expect(shard).toBe(shardOf.get(ns));
    shardOf.set(ns, shard);
    const applied = (await conditions(ns, n)).get('ConfigApplied')!;
    expect(applied.message).toContain(`Prometheus shard ${shard} (ConfigMap ${shardObjectName(OBJECT_NAMES.prometheusConfigMap, shard)}) runs config`);
  }
  expect(new Set(shardOf.values())).toEqual(new Set([0, 1]));
  // Each shard's main object carries its own hash, applied by its own sidecar.
  for (const shard of [0, 1]) {
    const out = await s().cluster.kubectl(['get', 'configmap', shardObjectName(OBJECT_NAMES.prometheusConfigMap, shard), '-n', INSTALL_NS, '-o', 'jsonpath={.metadata.annotations}']);
    const annotations = JSON.parse(out) as Record<string, string>;
    expect(annotations['vigil.dev/reader-applied-hash']).toBe(annotations['vigil.dev/config-hash']);
  }
  process.stderr.write(`[shards.int] ${all().length} services: ${[...shardOf].map(([ns, shard]) => `${ns}->${shard}`).join(', ')}\n`);
}, 600_000);

test('a stopped shard Prometheus makes only its own services’ rule health PrometheusUnreachable', async () => {
  const groups = await ruleGroups(shard1!.prometheus.url);
  const onShard1 = all().filter(([ns, n]) => groups.includes(`vigil/${ns}/${n}`));
  const onShard0 = all().filter(([ns, n]) => !groups.includes(`vigil/${ns}/${n}`));
  expect(onShard1.length).toBeGreaterThan(0);
  await shard1!.prometheus.process.stop(5000);
  await pollUntil(
    'shard 1 services PrometheusUnreachable',
    90_000,
    async () => (await Promise.all(onShard1.map(([ns, n]) => conditions(ns, n)))).every((c) => c.get('RulesHealthy')?.reason === 'PrometheusUnreachable'),
    { intervalMs: 1000 },
  );
  for (const [ns, n] of onShard1) expect((await conditions(ns, n)).get('RulesHealthy')!.message).toContain('Prometheus shard 1 at http://127.0.0.1:');
  // Shard 0's services keep their rule health from shard 0's Prometheus (evaluated every 2 s, polled every 10 s).
  await pollUntil('shard 0 services RulesHealthy=True', 60_000, async () => (await Promise.all(onShard0.map(([ns, n]) => conditions(ns, n)))).every((c) => c.get('RulesHealthy')?.status === 'True'), {
    intervalMs: 1000,
  });
}, 300_000);
