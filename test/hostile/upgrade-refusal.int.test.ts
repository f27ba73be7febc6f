// An operator upgrade that refuses what an earlier version accepted, against the real programs
// (kube-apiserver with the generated CRD, `vigil operator`, Prometheus and Alertmanager fed by the
// sync sidecars). The earlier version is stood in for by the status it leaves behind: Valid=True
// and status.lastValidGeneration / lastValidSpec at the current generation, written through the
// status subresource as that operator would. The new operator keeps what still validates (the
// endpoint and ServiceDown, the route) and leaves out the refused rule, says so in Valid
// (NoLongerValid) and ConfigApplied, and the other service is untouched. A downAlert.for refused
// because a Prometheus restart could outlast it runs with the shortest accepted for instead.
import { pollUntil } from '../../hack/local-stack/net.js';
import { jobName, ruleFileName } from '../../operator/render/names.js';
import { readConditions } from '../status/helpers.js';
import { applyObjects, generatedFiles, generatedJobNames, printLogsOnFailure, startHostileStack, waitForConfigApplied, type HostileStack } from './stack.js';

const NS = 'upgraded';
let stack: HostileStack | undefined;

const ms = (name: string, rules: Record<string, unknown>[]) => ({
  apiVersion: 'vigil.dev/v1alpha1',
  kind: 'MonitoredService',
  metadata: { namespace: NS, name },
  spec: { selector: { matchLabels: { app: name } }, endpoints: [{ port: 'metrics' }], rules, notify: { email: { to: [`${name}@example.com`] } } },
});

const conditions = async (name: string) => Object.fromEntries(await readConditions(stack!.cluster, { namespace: NS, name }));

/**
 * Stands in for an earlier operator version that accepted `name`'s current generation: writes the
 * status it leaves (Valid=True, lastValidGeneration/lastValidSpec at this generation) through the
 * status subresource, then waits for this operator to say NoLongerValid with ConfigApplied=True
 * (the generation kept running without what it refuses). The conditions then, by type.
 */
async function acceptedByEarlierOperator(s: HostileStack, name: string): Promise<Awaited<ReturnType<typeof conditions>>> {
  const object = JSON.parse(await s.cluster.kubectl(['get', 'monitoredservice', name, '-n', NS, '-o', 'json'])) as { metadata: { generation: number }; spec: unknown };
  const earlier = {
    status: {
      observedGeneration: object.metadata.generation,
      lastValidGeneration: object.metadata.generation,
      lastValidSpec: JSON.stringify(object.spec),
      conditions: [
        { type: 'Valid', status: 'True', reason: 'SpecValid', message: 'spec passed validation', lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: object.metadata.generation },
      ],
    },
  };
  await s.cluster.kubectl(['patch', 'monitoredservice', name, '-n', NS, '--subresource=status', '--type=merge', '-p', JSON.stringify(earlier)]);
  return pollUntil(
    `${name} to say NoLongerValid and keep running`,
    90_000,
    async () => {
      const c = await conditions(name);
      return c.Valid?.reason === 'NoLongerValid' && c.ConfigApplied?.status === 'True' ? c : undefined;
    },
    { intervalMs: 1000 },
  );
}

beforeAll(async () => {
  stack = await startHostileStack({ namespaces: [NS] });
}, 300_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

printLogsOnFailure(() => stack);

test('a spec this version refuses in part keeps its endpoint, ServiceDown and route running; Valid says NoLongerValid naming the rule left out', async () => {
  const s = stack!;
  const kept = ms('kept', [{ name: 'Backlog', expr: 'orders_backlog > 100' }]);
  // Accepted by earlier versions; this one refuses a rule label namespace.
  const upgraded = ms('upgraded', [
    { name: 'Backlog', expr: 'orders_backlog > 100' },
    { name: 'Spoofed', expr: 'orders_failed > 0', labels: { namespace: 'payments' } },
  ]);
  await applyObjects(s.cluster, [kept, upgraded]);
  // What the earlier operator left: this generation valid and kept.
  const valid = await acceptedByEarlierOperator(s, 'upgraded');
  expect(valid.Valid).toMatchObject({ status: 'False' });
  expect(valid.Valid!.message).toContain(`${NS}/upgraded: spec.rules[1].labels.namespace: label namespace cannot be set here`);
  expect(valid.Valid!.message).toMatch(/the config keeps running this generation \(valid for an earlier operator version\) without spec\.rules\[1\] \(Spoofed\), which this operator version refuses$/);
  expect(valid.ConfigApplied!.message).toMatch(/^this generation is in force without spec\.rules\[1\] \(Spoofed\), which this operator version refuses: Prometheus runs config /);
  expect(valid.Ready).toMatchObject({ status: 'False', reason: 'NoLongerValid' });
  expect((await conditions('kept')).Valid).toMatchObject({ status: 'True' });

  await waitForConfigApplied(s);
  const files = await generatedFiles(s.cluster, 'configmap');
  const jobs = generatedJobNames(files);
  expect(jobs).toEqual(expect.arrayContaining([jobName({ namespace: NS, name: 'upgraded' }, 'metrics'), jobName({ namespace: NS, name: 'kept' }, 'metrics')]));
  const rules = files[ruleFileName({ namespace: NS, name: 'upgraded' })] ?? '';
  expect(rules).toContain('alert: ServiceDown');
  expect(rules).toContain('alert: Backlog');
  expect(rules).not.toContain('Spoofed');
  // Prometheus loaded it: the rule group of the reduced service is there, without the refused rule.
  const groups = (await (await fetch(`${s.prometheus.url}/api/v1/rules`)).json()) as { data: { groups: { name: string; rules: { name: string }[] }[] } };
  const group = groups.data.groups.find((g) => g.name === `vigil/${NS}/upgraded`);
  expect(group?.rules.map((r) => r.name)).toEqual(expect.arrayContaining(['ServiceDown', 'Backlog']));
  expect(group?.rules.map((r) => r.name)).not.toContain('Spoofed');
  const secret = await generatedFiles(s.cluster, 'secret');
  // Its route: the one of its owners' recipient set, named on its alerts (vigil_receiver).
  expect(secret['alertmanager.yml']).toContain(`vigil_receiver="vigil-to:upgraded@example.com"`);
  expect(rules).toContain('vigil_receiver: vigil-to:upgraded@example.com');
}, 240_000);

test('a downAlert.for that a Prometheus restart outlasts keeps running with the shortest accepted for; Valid says NoLongerValid naming it', async () => {
  const s = stack!;
  const slow = { ...ms('slow', []), spec: { ...ms('slow', []).spec, endpoints: [{ port: 'metrics', interval: '4m' }], downAlert: { for: '1m' } } };
  await s.cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(slow) });
  const valid = await acceptedByEarlierOperator(s, 'slow');
  // The stack evaluates every 2s: 4m + 10s + 30s without up at worst, so 4m40s (140 evaluations).
  expect(valid.Valid!.message).toContain(
    `${NS}/slow: spec.downAlert.for: 1m is too short for spec.endpoints[0] (interval 4m, scrapeTimeout 10s, evaluationInterval 2s): after a Prometheus restart on a kept TSDB`,
  );
  expect(valid.Valid!.message).toMatch(/without spec\.downAlert\.for 1m \(ServiceDown runs with for 4m40s\), which this operator version refuses$/);
  await waitForConfigApplied(s);
  const groups = (await (await fetch(`${s.prometheus.url}/api/v1/rules`)).json()) as { data: { groups: { name: string; rules: { name: string; duration?: number }[] }[] } };
  const group = groups.data.groups.find((g) => g.name === `vigil/${NS}/slow`);
  expect(group?.rules.find((r) => r.name === 'ServiceDown')?.duration).toBe(280);
}, 240_000);
