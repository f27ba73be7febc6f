// Status names every failure (issue #21), against real processes: etcd + kube-apiserver, `vigil
// operator` (polling the real Prometheus every 10 s), Prometheus 3.15 and Alertmanager 0.35 with their
// sync sidecars, the demo target and a TCP listener that accepts and never answers. Targets are
// published as in status.int.test.ts: Services plus EndpointSlices with FQDN addresses that only
// Prometheus resolves (to 127.0.0.1).
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { startDemoTarget } from '../../hack/local-stack/components.js';
import { freePorts, pollUntil } from '../../hack/local-stack/net.js';
import type { ManagedProcess } from '../../hack/local-stack/process.js';
import { applyObjects, startHostileStack, type HostileStack } from '../hostile/stack.js';
import { cond, readStatus, waitForCondition as waitForConditionOf, type Condition } from './helpers.js';

const NS = 'scrape-health';
const PODS = ['pod-0', 'pod-1'].map((p) => `${p}.scrape-health.vigil.localhost`);
let stack: HostileStack | undefined;
let target: ManagedProcess | undefined;
let targetPort = 0;
/** Accepts connections and never answers: every scrape of it times out. */
let hanging: Server | undefined;
const hangingSockets = new Set<Socket>();
let hangingPort = 0;

beforeAll(async () => {
  [targetPort, hangingPort] = (await freePorts(2)) as [number, number];
  hanging = createServer((socket) => {
    hangingSockets.add(socket);
    socket.on('close', () => hangingSockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => hanging!.listen(hangingPort, '127.0.0.1', resolve));
  stack = await startHostileStack({ namespaces: [NS], extraHosts: PODS.map((h) => `127.0.0.1 ${h}`) });
  target = await startDemoTarget({ logFile: join(stack.dir, 'target.log'), port: targetPort });
}, 240_000);

afterAll(async () => {
  await target?.stop(5000);
  await stack?.stop();
  for (const socket of hangingSockets) socket.destroy();
  await new Promise((resolve) => (hanging ? hanging.close(resolve) : resolve(undefined)));
}, 60_000);

function s(): HostileStack {
  if (!stack) throw new Error('the stack did not start (see beforeAll)');
  return stack;
}

/** A Service `name` over `hosts` (an EndpointSlice as the controller would publish it) on `port`, and its MonitoredService. */
function scraped(name: string, hosts: string[], port: number, endpoint: Record<string, unknown> = {}, spec: Record<string, unknown> = {}): object[] {
  const labels = { app: name };
  const ports = [{ name: 'metrics', port, protocol: 'TCP' }];
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { namespace: NS, name, labels }, spec: { ports: ports.map((p) => ({ ...p, targetPort: port })) } },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { namespace: NS, name: `${name}-local`, labels: { ...labels, 'kubernetes.io/service-name': name, 'endpointslice.kubernetes.io/managed-by': 'vigil-status-test' } },
      addressType: 'FQDN',
      endpoints: hosts.map((h) => ({ addresses: [h], conditions: { ready: true } })),
      ports,
    },
    {
      apiVersion: 'vigil.dev/v1alpha1',
      kind: 'MonitoredService',
      metadata: { namespace: NS, name },
      spec: { selector: { matchLabels: labels }, endpoints: [{ port: 'metrics', interval: '2s', scrapeTimeout: '1s', ...endpoint }], ...spec },
    },
  ];
}

const status = (name: string) => readStatus(s().cluster, { namespace: NS, name });

/** Waits until `name`'s condition `type` has the fields of `want` (test/status/helpers.ts). */
const waitForCondition = (name: string, type: string, want: Partial<Condition>, timeoutMs = 90_000) =>
  waitForConditionOf(s().cluster, { namespace: NS, name }, type, want, { timeoutMs, logs: () => s().logs(15) });
const apply = (objects: object[]) => applyObjects(s().cluster, objects);

async function warningEvents(name: string): Promise<{ reason: string; message: string }[]> {
  const out = await s().cluster.kubectl(['get', 'events', '-n', NS, '--field-selector', `involvedObject.kind=MonitoredService,involvedObject.name=${name}`, '-o', 'json']);
  return (JSON.parse(out) as { items: { reason: string; message: string; type: string }[] }).items.filter((e) => e.type === 'Warning');
}

/** What Prometheus itself reports for the service's targets (the status must quote it). */
async function prometheusTargets(name: string): Promise<{ health: string; lastError: string; lastScrape: string }[]> {
  const body = (await (await fetch(`${s().prometheus.url}/api/v1/targets?state=active`)).json()) as {
    data: { activeTargets: { scrapePool: string; health: string; lastError: string; lastScrape: string }[] };
  };
  return body.data.activeTargets.filter((t) => t.scrapePool === `vigil/${NS}/${name}/metrics`);
}

test('a path that answers 404: TargetsHealthy and Ready False (HTTPErrorStatus) quoting Prometheus and naming the scrape URL, and a Warning Event', async () => {
  await apply(scraped('notfound', [PODS[0]!], targetPort, { path: '/no-such-path' }));
  const st = await waitForCondition('notfound', 'TargetsHealthy', { status: 'False', reason: 'HTTPErrorStatus' });
  const message = cond(st, 'TargetsHealthy')!.message;
  expect(message).toBe(
    `0 of 1 targets healthy: every scrape fails; Prometheus's scrape error: "server returned HTTP status 404 Not Found" (target ${PODS[0]}:${targetPort}, scrape URL http://${PODS[0]}:${targetPort}/no-such-path)`,
  );
  expect((await prometheusTargets('notfound')).map((t) => t.lastError)).toEqual(['server returned HTTP status 404 Not Found']);
  expect(cond(st, 'Ready')).toMatchObject({ status: 'False', reason: 'HTTPErrorStatus', message });
  const events = await pollUntil('HTTPErrorStatus event', 30_000, async () => {
    const ev = await warningEvents('notfound');
    return ev.some((e) => e.reason === 'HTTPErrorStatus') ? ev : false;
  });
  expect(events.find((e) => e.reason === 'HTTPErrorStatus')?.message).toContain('server returned HTTP status 404 Not Found');
}, 150_000);

test('a target that never answers: ScrapeTimeout with "context deadline exceeded", on both pods, grouped as one error', async () => {
  await apply(scraped('hangs', PODS, hangingPort));
  await waitForCondition('hangs', 'Ready', { status: 'False', reason: 'ScrapeTimeout' });
  // Both pods fail alike: one error, counted twice, quoted from the first instance.
  const st = await pollUntil('both targets failing, counted in one error', 60_000, async () => {
    const now = await status('hangs');
    return now.discoveredTargets === 2 && cond(now, 'TargetsHealthy')?.message.includes('(2 targets, e.g. ') ? now : false;
  });
  const message = cond(st, 'TargetsHealthy')!.message;
  expect(message).toBe(
    `0 of 2 targets healthy: every scrape fails; Prometheus's scrape error: ${JSON.stringify(`Get "http://${PODS[0]}:${hangingPort}/metrics": context deadline exceeded`)} (2 targets, e.g. ${PODS[0]}:${hangingPort})`,
  );
  expect(cond(st, 'TargetsHealthy')?.reason).toBe('ScrapeTimeout');
  expect(cond(st, 'Ready')).toMatchObject({ status: 'False', reason: 'ScrapeTimeout', message });
  expect(st).toMatchObject({ discoveredTargets: 2, healthyTargets: 0 });
}, 150_000);

test('a new target before its first scrape is NotScrapedYet (Unknown), not failing: Ready is never False', async () => {
  // Interval and timeout 2m: the first scrape of the never-answering listener ends at least 2 minutes
  // after discovery, whatever offset Prometheus picks for it, so the target stays unscraped for this test.
  // ServiceDown's for outlasts what a Prometheus restart can leave without up (4m + 30s), or it is refused.
  await apply(scraped('fresh', [PODS[1]!], hangingPort, { interval: '2m', scrapeTimeout: '2m' }, { downAlert: { for: '5m' } }));
  const seen: string[] = [];
  const st = await pollUntil(
    'fresh TargetsHealthy NotScrapedYet',
    60_000,
    async () => {
      const now = await status('fresh');
      const ready = cond(now, 'Ready');
      if (ready) seen.push(`${ready.status}/${ready.reason}`);
      return cond(now, 'TargetsHealthy')?.reason === 'NotScrapedYet' ? now : false;
    },
    { intervalMs: 500 },
  );
  expect(cond(st, 'TargetsHealthy')).toMatchObject({
    status: 'Unknown',
    message: '1 target discovered, not scraped yet: Prometheus scrapes a new target within one scrape interval',
  });
  expect(cond(st, 'Ready')).toMatchObject({ status: 'Unknown', reason: 'NotScrapedYet' });
  expect(st).toMatchObject({ discoveredTargets: 1, healthyTargets: 0 });
  // Prometheus agrees: discovered, never scraped.
  expect((await prometheusTargets('fresh')).map((t) => t.health)).toEqual(['unknown']);
  // Before that, the states of a service being applied and discovered (within the discovery grace: not NoTargets), never a failing target.
  expect(seen.filter((r) => r.startsWith('False/') && r !== 'False/ApplyPending')).toEqual([]);
  expect((await warningEvents('fresh')).map((e) => e.reason)).toEqual([]);
}, 120_000);

test('a rule that fails at every evaluation (many-to-many once there are two pods): RulesHealthy and Ready False naming it; fixed, Ready True', async () => {
  const job = `vigil/${NS}/pair/metrics`;
  // Two series (one per pod) on each side, matched on no label at all: Prometheus refuses at evaluation.
  const broken = { name: 'PairMismatch', expr: `up{job="${job}"} > on() up{job="${job}"}` };
  await apply(scraped('pair', PODS, targetPort, {}, { rules: [broken] }));
  const st = await waitForCondition('pair', 'RulesHealthy', { status: 'False', reason: 'RuleEvaluationFailed' });
  const message = cond(st, 'RulesHealthy')!.message;
  expect(message).toMatch(/^Prometheus fails to evaluate \(the rule cannot fire\): rule PairMismatch: /);
  expect(message).toMatch(/many-to-many matching not allowed|found duplicate series/);
  expect(message).not.toContain('rule ServiceDown');
  const ready = await waitForCondition('pair', 'Ready', { status: 'False', reason: 'RuleEvaluationFailed' });
  expect(cond(ready, 'TargetsHealthy')).toMatchObject({ status: 'True', message: '2 of 2 targets healthy' });
  await pollUntil('RuleEvaluationFailed event', 30_000, async () => (await warningEvents('pair')).some((e) => e.reason === 'RuleEvaluationFailed' && e.message.includes('PairMismatch')));

  await apply(scraped('pair', PODS, targetPort, {}, { rules: [{ ...broken, expr: `up{job="${job}"} == 0` }] }));
  const fixed = await waitForCondition('pair', 'Ready', { status: 'True', reason: 'Ready' });
  expect(cond(fixed, 'RulesHealthy')).toMatchObject({ status: 'True', reason: 'RulesHealthy' });
  expect(cond(fixed, 'RulesHealthy')?.message).toMatch(/^Prometheus evaluates the \d+ rules of this service without error$/);
}, 240_000);

test('a port the Service does not have: the ServiceDown alert Prometheus loads carries the reason status gives, and points at kubectl describe', async () => {
  const objects = scraped('misport', [PODS[0]!], targetPort);
  (objects[2] as { spec: { endpoints: { port: string }[] } }).spec.endpoints[0]!.port = 'http-metrics';
  await apply(objects);
  const st = await waitForCondition('misport', 'Ready', { status: 'False', reason: 'PortNotFound' });
  const reason = cond(st, 'TargetsHealthy')!.message;
  // What the email prints: the alert's description, as Prometheus loaded and expands it.
  const description = await pollUntil(
    'ServiceDown description with the reason',
    60_000,
    async () => {
      const body = (await (await fetch(`${s().prometheus.url}/api/v1/rules?type=alert`)).json()) as {
        data: { groups: { name: string; rules: { name: string; annotations: Record<string, string> }[] }[] };
      };
      const rule = body.data.groups.find((g) => g.name === `vigil/${NS}/misport`)?.rules.find((r) => r.name === 'ServiceDown');
      return rule?.annotations.description?.includes('The operator reports') ? rule.annotations.description : false;
    },
    { intervalMs: 1000 },
  );
  expect(description).toContain(`The operator reports: PortNotFound: ${reason}. `);
  expect(description).toMatch(new RegExp(`kubectl describe monitoredservice -n ${NS} misport$`));
}, 150_000);
