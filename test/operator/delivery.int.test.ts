// Issue 3's core flow against real programs: kubectl apply → the operator renders → the sync
// sidecar delivers → Prometheus and Alertmanager run it → ConfigApplied=True with the hash they run;
// kubectl delete → the job and the route are gone from the running servers.
import { readSyncReport } from '../../operator/controller/annotations.js';
import { pollUntil } from '../../hack/local-stack/net.js';
import { generatedAnnotations, generatedFiles, generatedJobNames, loadedJobNames, startHostileStack, type HostileStack } from '../hostile/stack.js';

const NS = 'shop';
const JOB = `vigil/${NS}/checkout/metrics`;
let stack: HostileStack | undefined;

const checkout = {
  apiVersion: 'vigil.dev/v1alpha1',
  kind: 'MonitoredService',
  metadata: { namespace: NS, name: 'checkout' },
  spec: {
    selector: { matchLabels: { app: 'checkout' } },
    endpoints: [{ port: 'metrics', interval: '10s', scrapeTimeout: '5s' }],
    notify: { email: { to: ['shop-oncall@example.com'] } },
  },
};

interface Status {
  observedGeneration?: number;
  appliedConfigHash?: string;
  conditions?: { type: string; status: string; reason: string; message: string }[];
}

async function status(s: HostileStack): Promise<Status | undefined> {
  const r = await s.cluster.kubectlResult(['get', 'monitoredservice', 'checkout', '-n', NS, '-o', 'jsonpath={.status}']);
  return r.code === 0 && r.stdout.trim() ? (JSON.parse(r.stdout) as Status) : undefined;
}

async function loadedAlertmanagerConfig(s: HostileStack): Promise<string> {
  const body = (await (await fetch(`${s.alertmanager.url}/api/v2/status`)).json()) as { config: { original: string } };
  return body.config.original;
}

beforeAll(async () => {
  stack = await startHostileStack({ namespaces: [NS] });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

test('apply: Prometheus and Alertmanager run the service, and ConfigApplied=True names the hash they run', async () => {
  const s = stack!;
  await s.cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(checkout) });

  const applied = await pollUntil(
    'checkout ConfigApplied=True',
    90_000,
    async () => {
      const st = await status(s);
      const ok = st?.conditions?.find((c) => c.type === 'ConfigApplied')?.status === 'True';
      return ok ? st : false;
    },
    { intervalMs: 300 },
  );
  const annotations = await generatedAnnotations(s.cluster, 'configmap');
  expect(applied.observedGeneration).toBe(1);
  expect(applied.appliedConfigHash).toBe(annotations['vigil.dev/config-hash']);
  expect(readSyncReport(annotations).appliedHash).toBe(annotations['vigil.dev/config-hash']);
  // No Service carries app=checkout here: running, but nothing to scrape, so not Ready (issue #15).
  expect(applied.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'NoMatchingService' });
  expect(applied.conditions?.find((c) => c.type === 'Valid')?.status).toBe('True');

  // ConfigApplied is only set once the servers really run it.
  expect(await loadedJobNames(s)).toContain(JOB);
  expect(await loadedAlertmanagerConfig(s)).toContain('shop-oncall@example.com');
  const rules = (await (await fetch(`${s.prometheus.url}/api/v1/rules`)).json()) as { data: { groups: { name: string }[] } };
  expect(rules.data.groups.map((g) => g.name)).toContain(`vigil/${NS}/checkout`);
}, 120_000);

test('delete: the job, the rules and the route disappear from the running servers', async () => {
  const s = stack!;
  await s.cluster.kubectl(['delete', 'monitoredservice', 'checkout', '-n', NS]);
  await pollUntil('Prometheus to drop the job', 60_000, async () => !(await loadedJobNames(s)).includes(JOB), { intervalMs: 300 });
  await pollUntil('Alertmanager to drop the route', 60_000, async () => !(await loadedAlertmanagerConfig(s)).includes('shop-oncall@example.com'), { intervalMs: 300 });
  const files = await generatedFiles(s.cluster, 'configmap');
  expect(Object.keys(files)).not.toContain(`${NS}__checkout.rules.yaml`);
  expect(generatedJobNames(files)).not.toContain(JOB);
  const rules = (await (await fetch(`${s.prometheus.url}/api/v1/rules`)).json()) as { data: { groups: { name: string }[] } };
  expect(rules.data.groups.map((g) => g.name)).not.toContain(`vigil/${NS}/checkout`);
}, 90_000);
