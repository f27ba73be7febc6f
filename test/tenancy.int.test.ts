// Tenant isolation with the real programs: two namespaces with look-alike Services (same labels,
// same port name), and in team-a a second Service with the same port name but other labels. A
// MonitoredService in team-a discovers only team-a's endpoints of the Service it selects (the
// discovery is the namespace's, shared by its jobs, and relabelling picks the Service: issue #13),
// and its custom rule, as loaded by Prometheus, only selects team-a's series. A Service whose label
// key equals the selector's only after Prometheus's label-name sanitising is not taken for it.
import { pollUntil } from '../hack/local-stack/net.js';
import { startHostileStack, type HostileStack } from './hostile/stack.js';

const NAMESPACES = ['team-a', 'team-b'] as const;
const API_JOB = 'vigil/team-a/api/metrics';
let stack: HostileStack | undefined;

/** A Service without selector plus its EndpointSlice, as the endpoint controller would publish it. */
function lookAlikeService(namespace: string, name = 'web', labels: Record<string, string> = { app: 'web' }): object[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace, labels },
      spec: { ports: [{ name: 'metrics', port: 8080, targetPort: 18080 }] },
    },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-1`, namespace, labels: { ...labels, 'kubernetes.io/service-name': name } },
      // FQDN: the API server refuses loopback IPs; the address need not answer to be discovered.
      addressType: 'FQDN',
      endpoints: [{ addresses: [`${name}.${namespace}.vigil.localhost`], conditions: { ready: true } }],
      ports: [{ name: 'metrics', port: 18080, protocol: 'TCP' }],
    },
  ];
}

interface Target {
  labels: Record<string, string>;
  discoveredLabels: Record<string, string>;
}

async function activeTargets(s: HostileStack): Promise<Target[]> {
  const body = (await (await fetch(`${s.prometheus.url}/api/v1/targets?state=active`)).json()) as { data: { activeTargets: Target[] } };
  return body.data.activeTargets;
}

beforeAll(async () => {
  stack = await startHostileStack({ namespaces: [...NAMESPACES] });
  // team-a's neighbour: same namespace, same port name, label app=web-admin (not selected).
  // And two Services for a second MonitoredService selecting app.kubernetes.io/name=api: api, and an
  // imposter labelled app_kubernetes_io_name=api, a different key that Prometheus's label-name
  // sanitising turns into the same meta label (the relabelled selector alone would keep it).
  const items = [
    ...NAMESPACES.flatMap((ns) => lookAlikeService(ns)),
    ...lookAlikeService('team-a', 'web-admin', { app: 'web-admin', tier: 'web' }),
    ...lookAlikeService('team-a', 'api', { 'app.kubernetes.io/name': 'api' }),
    ...lookAlikeService('team-a', 'api-imposter', { app_kubernetes_io_name: 'api' }),
  ];
  await stack.cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }) });
  await stack.cluster.kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'vigil.dev/v1alpha1',
      kind: 'MonitoredService',
      metadata: { name: 'api', namespace: 'team-a' },
      spec: { selector: { matchLabels: { 'app.kubernetes.io/name': 'api' } }, endpoints: [{ port: 'metrics', interval: '5s', scrapeTimeout: '2s' }] },
    }),
  });
  await stack.cluster.kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'vigil.dev/v1alpha1',
      kind: 'MonitoredService',
      metadata: { name: 'web', namespace: 'team-a' },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        endpoints: [{ port: 'metrics', interval: '5s', scrapeTimeout: '2s' }],
        rules: [{ name: 'AnyTargetUp', expr: 'count(up) > 0' }],
      },
    }),
  });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

test("a MonitoredService discovers only its own namespace's endpoints, of the Services it selects", async () => {
  const s = stack!;
  const job = 'vigil/team-a/web/metrics';
  const ours = await pollUntil(
    'Prometheus to discover the team-a target',
    90_000,
    async () => {
      const targets = (await activeTargets(s)).filter((t) => t.labels.job === job);
      return targets.length > 0 ? targets : false;
    },
    { intervalMs: 500 },
  );
  // Give discovery a few more rounds to show anything it would wrongly add.
  await new Promise((r) => setTimeout(r, 12_000));
  const all = (await activeTargets(s)).filter((t) => t.labels.job?.startsWith('vigil/') && t.labels.job !== API_JOB);
  expect(ours.map((t) => t.labels.instance)).toEqual(['web.team-a.vigil.localhost:18080']);
  expect(all.map((t) => [t.labels.job, t.labels.namespace, t.labels.instance])).toEqual([[job, 'team-a', 'web.team-a.vigil.localhost:18080']]);
  expect(all.some((t) => JSON.stringify(t).includes('team-b'))).toBe(false);
  expect(all.some((t) => JSON.stringify(t).includes('web-admin'))).toBe(false);
}, 120_000);

test('a Service whose label key only equals the selector key after sanitising (app_kubernetes_io_name) is not scraped', async () => {
  const s = stack!;
  const api = await pollUntil(
    'Prometheus to discover the api target',
    90_000,
    async () => {
      const targets = (await activeTargets(s)).filter((t) => t.labels.job === API_JOB);
      return targets.length > 0 ? targets : false;
    },
    { intervalMs: 500 },
  );
  await new Promise((r) => setTimeout(r, 12_000));
  const again = (await activeTargets(s)).filter((t) => t.labels.job === API_JOB);
  expect(api.map((t) => t.labels.instance)).toEqual(['api.team-a.vigil.localhost:18080']);
  expect(again.map((t) => [t.labels.service, t.labels.instance])).toEqual([['api', 'api.team-a.vigil.localhost:18080']]);
}, 120_000);

test('the custom rule Prometheus runs is restricted to the namespace', async () => {
  const s = stack!;
  const body = (await (await fetch(`${s.prometheus.url}/api/v1/rules`)).json()) as {
    data: { groups: { name: string; rules: { name: string; query: string }[] }[] };
  };
  const rule = body.data.groups.find((g) => g.name === 'vigil/team-a/web')?.rules.find((r) => r.name === 'AnyTargetUp');
  expect(rule?.query).toBe('count(up{namespace="team-a"}) > 0');
}, 30_000);
