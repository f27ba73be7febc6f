// An operator upgrade that refuses what an earlier version accepted, against the real programs
// (kube-apiserver with the generated CRD, `vigil operator`, Prometheus and Alertmanager fed by the
// sync sidecars). The earlier version is stood in for by the status it leaves behind: Valid=True
// and status.lastValidGeneration / lastValidSpec at the current generation, written through the
// status subresource as that operator would. The new operator keeps what still validates (the
// endpoint and ServiceDown, the route) and leaves out the refused rule, says so in Valid
// (NoLongerValid) and ConfigApplied, and the other service is untouched.
import { pollUntil } from '../../hack/local-stack/net.js';
import { jobName, ruleFileName } from '../../operator/render/names.js';
import { generatedFiles, generatedJobNames, startHostileStack, waitForConfigApplied, type HostileStack } from './stack.js';

const NS = 'upgraded';
let stack: HostileStack | undefined;

const ms = (name: string, rules: Record<string, unknown>[]) => ({
  apiVersion: 'vigil.dev/v1alpha1',
  kind: 'MonitoredService',
  metadata: { namespace: NS, name },
  spec: { selector: { matchLabels: { app: name } }, endpoints: [{ port: 'metrics' }], rules, notify: { email: { to: [`${name}@example.com`] } } },
});

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

async function conditions(name: string): Promise<Record<string, Condition>> {
  const out = JSON.parse(await stack!.cluster.kubectl(['get', 'monitoredservice', name, '-n', NS, '-o', 'json'])) as { status?: { conditions?: Condition[] } };
  return Object.fromEntries((out.status?.conditions ?? []).map((c) => [c.type, c]));
}

beforeAll(async () => {
  stack = await startHostileStack({ namespaces: [NS] });
}, 300_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

afterEach(() => {
  const state = expect.getState();
  if (stack && state.assertionCalls !== state.numPassingAsserts) process.stderr.write(`${stack.logs(40)}\n`);
});

test('a spec this version refuses in part keeps its endpoint, ServiceDown and route running; Valid says NoLongerValid naming the rule left out', async () => {
  const s = stack!;
  const kept = ms('kept', [{ name: 'Backlog', expr: 'orders_backlog > 100' }]);
  // Accepted by earlier versions; this one refuses a rule label namespace.
  const upgraded = ms('upgraded', [
    { name: 'Backlog', expr: 'orders_backlog > 100' },
    { name: 'Spoofed', expr: 'orders_failed > 0', labels: { namespace: 'payments' } },
  ]);
  await s.cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [kept, upgraded] }) });
  const object = JSON.parse(await s.cluster.kubectl(['get', 'monitoredservice', 'upgraded', '-n', NS, '-o', 'json'])) as { metadata: { generation: number }; spec: unknown };
  // What the earlier operator left: this generation valid and kept.
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
  await s.cluster.kubectl(['patch', 'monitoredservice', 'upgraded', '-n', NS, '--subresource=status', '--type=merge', '-p', JSON.stringify(earlier)]);

  const valid = await pollUntil(
    'upgraded to say NoLongerValid and keep the rest running',
    90_000,
    async () => {
      const c = await conditions('upgraded');
      return c.Valid?.reason === 'NoLongerValid' && c.ConfigApplied?.status === 'True' ? c : undefined;
    },
    { intervalMs: 1000 },
  );
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
  expect(secret['alertmanager.yml']).toContain(`vigil_monitoredservice="upgraded"`);
}, 240_000);
