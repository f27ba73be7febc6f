// Status tells the truth (issue #15), against real processes: etcd + kube-apiserver, `vigil
// operator` (polling the real Prometheus every 10 s), Prometheus 3.15 and Alertmanager 0.35 with
// their sync sidecars, and the demo target as a process. The targets are published as a person
// would publish a non-pod backend: Services plus EndpointSlices with FQDN addresses, which only
// Prometheus resolves (to 127.0.0.1, through its private /etc/hosts).
import { join } from 'node:path';
import { startDemoTarget } from '../../hack/local-stack/components.js';
import { freePorts, pollUntil } from '../../hack/local-stack/net.js';
import type { ManagedProcess } from '../../hack/local-stack/process.js';
import { applyObjects, startHostileStack, type HostileStack } from '../hostile/stack.js';
import { cond, readStatus, waitForCondition as waitForConditionOf, type Condition } from './helpers.js';

const NS = 'status';
/** Three "pods": three host names of one target process. */
const PODS = ['pod-0', 'pod-1', 'pod-2'].map((p) => `${p}.status.vigil.localhost`);
let stack: HostileStack | undefined;
let target: ManagedProcess | undefined;
let targetPort = 0;
let deadPort = 0;

beforeAll(async () => {
  [targetPort, deadPort] = (await freePorts(2)) as [number, number];
  stack = await startHostileStack({ namespaces: [NS], extraHosts: PODS.map((h) => `127.0.0.1 ${h}`) });
  target = await startDemoTarget({ logFile: join(stack.dir, 'target.log'), port: targetPort });
}, 240_000);

afterAll(async () => {
  await target?.stop(5000);
  await stack?.stop();
}, 60_000);

function s(): HostileStack {
  if (!stack) throw new Error('the stack did not start (see beforeAll)');
  return stack;
}

function monitored(name: string, selector: Record<string, string>, port: string): object {
  return {
    apiVersion: 'vigil.dev/v1alpha1',
    kind: 'MonitoredService',
    metadata: { namespace: NS, name },
    spec: { selector: { matchLabels: selector }, endpoints: [{ port, interval: '2s', scrapeTimeout: '1s' }] },
  };
}

function service(name: string, labels: Record<string, string>, ports: { name?: string; port: number }[], opts: { selector?: Record<string, string>; headless?: boolean } = {}): object {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: NS, name, labels },
    spec: {
      ...(opts.selector ? { selector: opts.selector } : {}),
      ...(opts.headless ? { clusterIP: 'None' } : {}),
      ports: ports.map((p) => ({ ...(p.name ? { name: p.name } : {}), port: p.port, targetPort: p.port, protocol: 'TCP' })),
    },
  };
}

/**
 * What the EndpointSlice controller would publish for `hosts` behind Service `svc` (none runs
 * here), with the Service's labels as it copies them.
 */
function slice(svc: string, labels: Record<string, string>, hosts: string[], port: { name: string; port: number }): object {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      namespace: NS,
      name: `${svc}-local`,
      labels: { ...labels, 'kubernetes.io/service-name': svc, 'endpointslice.kubernetes.io/managed-by': 'vigil-status-test' },
    },
    addressType: 'FQDN',
    endpoints: hosts.map((h) => ({ addresses: [h], conditions: { ready: true } })),
    ports: [{ ...port, protocol: 'TCP' }],
  };
}

const status = (name: string) => readStatus(s().cluster, { namespace: NS, name });

/** Waits until `name`'s condition `type` has the fields of `want` (test/status/helpers.ts). */
const waitForCondition = (name: string, type: string, want: Partial<Condition>, timeoutMs = 60_000) =>
  waitForConditionOf(s().cluster, { namespace: NS, name }, type, want, { timeoutMs, logs: () => s().logs(15) });
const apply = (objects: object[]) => applyObjects(s().cluster, objects);

async function warningEvents(name: string): Promise<{ reason: string; message: string; type: string }[]> {
  const out = await s().cluster.kubectl(['get', 'events', '-n', NS, '--field-selector', `involvedObject.name=${name}`, '-o', 'json']);
  return (JSON.parse(out) as { items: { reason: string; message: string; type: string }[] }).items.filter((e) => e.type === 'Warning');
}

async function activeTargets(job: string): Promise<{ labels: Record<string, string>; health: string }[]> {
  const body = (await (await fetch(`${s().prometheus.url}/api/v1/targets?state=active`)).json()) as {
    data: { activeTargets: { scrapePool: string; labels: Record<string, string>; health: string }[] };
  };
  return body.data.activeTargets.filter((t) => t.scrapePool === job);
}

test('a port name the selected Service does not have: PortNotFound names the ports that exist, Ready=False, a Warning Event', async () => {
  await apply([
    service('wrong-port', { app: 'wrong-port' }, [
      { name: 'metrics', port: targetPort },
      { name: 'http', port: 80 },
    ]),
    monitored('wrong-port', { app: 'wrong-port' }, 'http-metrics'),
  ]);
  const st = await waitForCondition('wrong-port', 'TargetsHealthy', { status: 'False', reason: 'PortNotFound' });
  const message = cond(st, 'TargetsHealthy')!.message;
  expect(message).toBe('spec.endpoints[0].port: no selected Service has a port named "http-metrics"; the ports that exist are: wrong-port (metrics, http)');
  expect(cond(st, 'Ready')).toMatchObject({ status: 'False', reason: 'PortNotFound', message });
  const events = await pollUntil('PortNotFound event', 30_000, async () => {
    const ev = await warningEvents('wrong-port');
    return ev.some((e) => e.reason === 'PortNotFound') ? ev : false;
  });
  expect(events.find((e) => e.reason === 'PortNotFound')?.message).toBe(message);
}, 90_000);

test('a Service with only an unnamed port: NoNamedPort says to name it, Ready=False, a Warning Event', async () => {
  await apply([service('unnamed', { app: 'unnamed' }, [{ port: targetPort }]), monitored('unnamed', { app: 'unnamed' }, 'metrics')]);
  const st = await waitForCondition('unnamed', 'Ready', { status: 'False', reason: 'NoNamedPort' });
  expect(cond(st, 'TargetsHealthy')?.message).toContain(`unnamed (unnamed ${targetPort}/TCP)`);
  expect(cond(st, 'TargetsHealthy')?.message).toContain('name the Service port (spec.ports[].name)');
  await pollUntil('NoNamedPort event', 30_000, async () => (await warningEvents('unnamed')).some((e) => e.reason === 'NoNamedPort'));
}, 90_000);

test('a selector matching no Service (or a deleted Service): NoMatchingService names the selector and the Services there, a Warning Event', async () => {
  await apply([service('gone', { app: 'gone' }, [{ name: 'metrics', port: targetPort }]), monitored('gone', { app: 'gone' }, 'metrics')]);
  // NoTargets once the discovery grace of its new scrape job (34 s here) is over.
  await waitForCondition('gone', 'TargetsHealthy', { reason: 'NoTargets' }, 120_000);
  await s().cluster.kubectl(['delete', 'service', 'gone', '-n', NS]);
  const st = await waitForCondition('gone', 'Ready', { status: 'False', reason: 'NoMatchingService' });
  expect(cond(st, 'TargetsHealthy')?.message).toMatch(
    /^spec\.selector: no Service in namespace status has labels matching "app=gone", so Prometheus discovers no target \(Services in status: .*unnamed.*\)$/,
  );
  await pollUntil('NoMatchingService event', 30_000, async () => (await warningEvents('gone')).some((e) => e.reason === 'NoMatchingService'));
}, 180_000);

test('a ClusterIP and a headless Service over the same 3 pods: each pod scraped once (3 targets, not 6), both Services named, a Warning Event', async () => {
  const labels = { app: 'web' };
  const port = { name: 'metrics', port: targetPort };
  await apply([
    service('web', labels, [port], { selector: { run: 'web' } }),
    service('web-headless', labels, [port], { selector: { run: 'web' }, headless: true }),
    slice('web', labels, PODS, port),
    slice('web-headless', labels, PODS, port),
    monitored('web', labels, 'metrics'),
  ]);
  await waitForCondition('web', 'Ready', { status: 'True' }, 90_000);
  // Ready needs one healthy target; the other two may not have been scraped yet.
  const st = await pollUntil(
    'all 3 targets of web healthy',
    60_000,
    async () => {
      const now = await status('web');
      return now.healthyTargets === 3 ? now : false;
    },
    { intervalMs: 500 },
  );
  expect(st).toMatchObject({ discoveredTargets: 3, healthyTargets: 3 });
  expect(cond(st, 'TargetsHealthy')?.message).toBe(
    '3 of 3 targets healthy; overlapping Services: web, web-headless select the same pods (identical spec.selector): each pod is scraped once, through web',
  );
  const targets = await activeTargets(`vigil/${NS}/web/metrics`);
  expect(targets.map((t) => t.labels.service)).toEqual(['web', 'web', 'web']);
  expect(targets.map((t) => t.labels.instance).sort()).toEqual(PODS.map((h) => `${h}:${targetPort}`).sort());
  await pollUntil('OverlappingServices event', 30_000, async () => (await warningEvents('web')).some((e) => e.reason === 'OverlappingServices'));
}, 120_000);

test('Ready follows the targets: False (ConnectionRefused, quoting Prometheus) with 0 healthy, False (NoTargets, a Warning Event) when scaled to zero, True again when back', async () => {
  const port = { name: 'metrics', port: deadPort };
  await apply([service('flaky', { app: 'flaky' }, [port]), slice('flaky', { app: 'flaky' }, [PODS[0]!], port), monitored('flaky', { app: 'flaky' }, 'metrics')]);
  // Nothing listens on deadPort: discovered, never healthy.
  const down = await waitForCondition('flaky', 'Ready', { status: 'False', reason: 'ConnectionRefused' }, 90_000);
  expect(cond(down, 'TargetsHealthy')?.message).toMatch(/^0 of 1 targets healthy: every scrape fails; Prometheus's scrape error: ".*connection refused" \(target /);
  expect(down).toMatchObject({ discoveredTargets: 1, healthyTargets: 0 });
  expect(cond(down, 'ConfigApplied')?.status).toBe('True');
  await s().cluster.kubectl(['delete', 'endpointslice', 'flaky-local', '-n', NS]);
  const zero = await waitForCondition('flaky', 'Ready', { status: 'False', reason: 'NoTargets' }, 60_000);
  expect(zero).toMatchObject({ discoveredTargets: 0, healthyTargets: 0 });
  const noTargets = await pollUntil('NoTargets event', 30_000, async () => (await warningEvents('flaky')).find((e) => e.reason === 'NoTargets') ?? false);
  expect(noTargets.message).toBe(cond(zero, 'TargetsHealthy')?.message);
  const live = { name: 'metrics', port: targetPort };
  await apply([service('flaky', { app: 'flaky' }, [live]), slice('flaky', { app: 'flaky' }, [PODS[0]!], live)]);
  const up = await waitForCondition('flaky', 'Ready', { status: 'True', reason: 'Ready' }, 60_000);
  expect(up).toMatchObject({ discoveredTargets: 1, healthyTargets: 1 });
}, 240_000);

// Last: it kills this stack's Prometheus.
test('Prometheus killed: TargetsHealthy and Ready become Unknown (PrometheusUnreachable), counts removed, not a frozen True', async () => {
  await waitForCondition('web', 'Ready', { status: 'True' });
  await s().prometheus.process.stop(0);
  const st = await waitForCondition('web', 'Ready', { status: 'Unknown', reason: 'PrometheusUnreachable' }, 40_000);
  expect(cond(st, 'TargetsHealthy')).toMatchObject({ status: 'Unknown', reason: 'PrometheusUnreachable' });
  expect(cond(st, 'Ready')?.message).toContain(`Prometheus at ${s().prometheus.url} does not answer since`);
  expect(st.discoveredTargets).toBeUndefined();
  expect(st.healthyTargets).toBeUndefined();
}, 90_000);
