// Scrape limits isolate a team's burst (spec.limits), against the real programs: etcd +
// kube-apiserver, `vigil operator`, Prometheus 3.15 and Alertmanager 0.35 with their sync sidecars.
// Four services in two namespaces, each target a loopback HTTP server this test controls, published
// as Services plus FQDN EndpointSlices that only Prometheus resolves (to 127.0.0.1):
// - limits-a/bursty (sampleLimit 200, labelLimit 12, bodySizeLimit 1MB) is driven over each limit
//   in turn: a cardinality burst of 5,000 series, a series with 20 labels, a 1.5 MiB body;
// - limits-a/crowded (targetLimit 1) has two endpoints;
// - limits-a/neighbour (same namespace as bursty) and limits-b/steady (another team, with an alert
//   rule driven by this test) keep the cluster defaults.
// Each burst fails bursty's whole scrape as Prometheus does (up 0, lastError naming the limit, which
// controller/scrape-limits.ts maps to the spec.limits field and value) while every other service stays
// up, steady's alert fires and resolves through Alertmanager, and Prometheus's head does not take in
// the burst's series.
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { scrapeConfigFiles } from '../operator/sync/job-names.js';
import { pollUntil, freePorts } from '../hack/local-stack/net.js';
import { resolveScrapeLimits } from '../operator/render/scrape-limits.js';
import { scrapeLimitHit, scrapeLimitMessage } from '../operator/controller/scrape-limits.js';
import { startHostileStack, type HostileStack } from './hostile/stack.js';

const NS_A = 'limits-a';
const NS_B = 'limits-b';
const JOB = {
  bursty: `vigil/${NS_A}/bursty/metrics`,
  crowded: `vigil/${NS_A}/crowded/metrics`,
  neighbour: `vigil/${NS_A}/neighbour/metrics`,
  steady: `vigil/${NS_B}/steady/metrics`,
};
const host = (name: string, ns: string) => `${name}.${ns}.vigil.localhost`;
const HOSTS = [host('bursty', NS_A), host('crowded-0', NS_A), host('crowded-1', NS_A), host('neighbour', NS_A), host('steady', NS_B)];
// The body limit well above the burst's ~190 KiB: Prometheus checks the body size first.
const BURSTY_LIMITS = { sampleLimit: 200, labelLimit: 12, bodySizeLimit: '1MB' };
const BURST_SERIES = 5000;

type Mode = 'normal' | 'samples' | 'labels' | 'body';
let burstyMode: Mode = 'normal';
let steadyQueueDepth = 0;

/** The exposition of bursty in each mode: 50 ordinary series, plus what pushes it over one limit. */
function burstyBody(mode: Mode): string {
  const lines = Array.from({ length: 50 }, (_, i) => `bursty_requests_total{route="r${i}"} ${i}`);
  if (mode === 'samples') for (let i = 0; i < BURST_SERIES; i++) lines.push(`bursty_burst_total{user_id="u${i}"} 1`);
  if (mode === 'labels') lines.push(`bursty_wide_info{${Array.from({ length: 20 }, (_, i) => `l${i}="v"`).join(',')}} 1`);
  if (mode === 'body') lines.push(`# ${'x'.repeat(1536 * 1024)}`);
  return `${lines.join('\n')}\n`;
}

const BODIES: Record<string, () => string> = {
  bursty: () => burstyBody(burstyMode),
  crowded: () => 'crowded_up 1\n',
  neighbour: () => Array.from({ length: 20 }, (_, i) => `neighbour_requests_total{route="r${i}"} ${i}`).join('\n') + '\n',
  steady: () => `steady_queue_depth ${steadyQueueDepth}\n`,
};

let stack: HostileStack | undefined;
const servers: Server[] = [];
const ports: Record<string, number> = {};

beforeAll(async () => {
  const free = (await freePorts(4)) as number[];
  for (const [i, name] of Object.keys(BODIES).entries()) {
    ports[name] = free[i]!;
    const server = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(BODIES[name]!()));
    await new Promise<void>((done) => server.listen(ports[name], '127.0.0.1', done));
    servers.push(server);
  }
  stack = await startHostileStack({ namespaces: [NS_A, NS_B], extraHosts: HOSTS.map((h) => `127.0.0.1 ${h}`) });
  await s().cluster.kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        ...published(NS_A, 'bursty', [host('bursty', NS_A)], ports.bursty!),
        ...published(NS_A, 'crowded', [host('crowded-0', NS_A), host('crowded-1', NS_A)], ports.crowded!),
        ...published(NS_A, 'neighbour', [host('neighbour', NS_A)], ports.neighbour!),
        ...published(NS_B, 'steady', [host('steady', NS_B)], ports.steady!),
        monitored(NS_A, 'bursty', { limits: BURSTY_LIMITS, downAlert: { for: '4s' } }),
        monitored(NS_A, 'crowded', { limits: { targetLimit: 1 } }),
        monitored(NS_A, 'neighbour', {}),
        monitored(NS_B, 'steady', { rules: [{ name: 'SteadyQueueDeep', expr: 'steady_queue_depth > 10', for: '0s', severity: 'warning' }] }),
      ],
    }),
  });
  // Every service's jobs loaded and scraped once (crowded is down by its own target limit from the start).
  for (const job of [JOB.bursty, JOB.neighbour, JOB.steady]) await waitForHealth(job, 'up');
}, 300_000);

afterAll(async () => {
  await stack?.stop();
  for (const server of servers) await new Promise((done) => server.close(done));
}, 60_000);

function s(): HostileStack {
  if (!stack) throw new Error('the stack did not start (see beforeAll)');
  return stack;
}

/** A Service without selector and the EndpointSlice the endpoint controller would publish for `hosts`. */
function published(namespace: string, name: string, hosts: string[], port: number): object[] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { namespace, name, labels: { app: name } }, spec: { ports: [{ name: 'metrics', port, targetPort: port, protocol: 'TCP' }] } },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { namespace, name: `${name}-local`, labels: { app: name, 'kubernetes.io/service-name': name } },
      addressType: 'FQDN',
      endpoints: hosts.map((h) => ({ addresses: [h], conditions: { ready: true } })),
      ports: [{ name: 'metrics', port, protocol: 'TCP' }],
    },
  ];
}

function monitored(namespace: string, name: string, spec: Record<string, unknown>): object {
  return {
    apiVersion: 'vigil.dev/v1alpha1',
    kind: 'MonitoredService',
    metadata: { namespace, name },
    spec: { selector: { matchLabels: { app: name } }, endpoints: [{ port: 'metrics', interval: '1s', scrapeTimeout: '1s' }], ...spec },
  };
}

interface ActiveTarget {
  scrapePool: string;
  health: string;
  lastError: string;
  labels: Record<string, string>;
}

async function targets(job: string): Promise<ActiveTarget[]> {
  const body = (await (await fetch(`${s().prometheus.url}/api/v1/targets?state=active&scrapePool=${encodeURIComponent(job)}`)).json()) as { data: { activeTargets: ActiveTarget[] } };
  return body.data.activeTargets.filter((t) => t.scrapePool === job);
}

async function query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const body = (await (await fetch(`${s().prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()) as {
    status: string;
    data: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  if (body.status !== 'success') throw new Error(`query ${expr}: ${JSON.stringify(body)}`);
  return body.data.result;
}

async function scalar(expr: string): Promise<number | undefined> {
  const result = await query(expr);
  return result.length === 0 ? undefined : Number(result[0]!.value[1]);
}

async function headSeries(): Promise<number> {
  const body = (await (await fetch(`${s().prometheus.url}/api/v1/status/tsdb`)).json()) as { data: { headStats: { numSeries: number } } };
  return body.data.headStats.numSeries;
}

/** Waits until every target of `job` has `health`, and (when given) the lastError; returns the targets. */
async function waitForHealth(job: string, health: 'up' | 'down', lastError?: RegExp, timeoutMs = 60_000): Promise<ActiveTarget[]> {
  return pollUntil(
    `${job} ${health}${lastError ? ` with lastError ${lastError}` : ''}`,
    timeoutMs,
    async () => {
      const ts = await targets(job);
      return ts.length > 0 && ts.every((t) => t.health === health && (!lastError || lastError.test(t.lastError))) ? ts : false;
    },
    { intervalMs: 500 },
  ).catch(async (e: Error) => {
    throw new Error(`${e.message}\ntargets: ${JSON.stringify(await targets(job))}\n${s().logs(15)}`);
  });
}

/** up of every job but bursty's over the last `window`: each must have scraped successfully throughout. */
async function othersUpThroughout(window: string): Promise<void> {
  for (const job of [JOB.neighbour, JOB.steady]) {
    expect(await scalar(`min_over_time(up{job="${job}"}[${window}])`)).toBe(1);
    // Scraped every second or so, not just once: the burst did not slow its neighbours' scrapes.
    expect(await scalar(`count_over_time(up{job="${job}"}[${window}])`)).toBeGreaterThanOrEqual(3);
  }
}

/** The state of a service's alert in Prometheus (crowded, also in limits-a, has its own ServiceDown firing). */
async function alertState(alertname: string, namespace: string, service: string): Promise<string | undefined> {
  return (await alert(alertname, namespace, service))?.state;
}

async function alert(alertname: string, namespace: string, service: string): Promise<{ state: string; annotations: Record<string, string> } | undefined> {
  const body = (await (await fetch(`${s().prometheus.url}/api/v1/alerts`)).json()) as {
    data: { alerts: { labels: Record<string, string>; annotations: Record<string, string>; state: string }[] };
  };
  return body.data.alerts.find((a) => a.labels.alertname === alertname && a.labels.vigil_namespace === namespace && a.labels.vigil_monitoredservice === service);
}

async function inAlertmanager(alertname: string, namespace: string, service: string): Promise<boolean> {
  const filter = [`alertname="${alertname}"`, `vigil_namespace="${namespace}"`, `vigil_monitoredservice="${service}"`].map((f) => `filter=${encodeURIComponent(f)}`).join('&');
  const alerts = (await (await fetch(`${s().alertmanager.url}/api/v2/alerts?${filter}&active=true&silenced=false&inhibited=false`)).json()) as unknown[];
  return alerts.length > 0;
}

const burstyResolved = () => resolveScrapeLimits(BURSTY_LIMITS, s().settings.scrapeLimits);

test('the rendered jobs carry the limits: bursty its own, the others the cluster defaults', async () => {
  const config = (await (await fetch(`${s().prometheus.url}/api/v1/status/config`)).json()) as { data: { yaml: string } };
  // The services' jobs are in the scrape config files Prometheus names there (a partitioned config, docs/contract.md).
  const files = await Promise.all(scrapeConfigFiles(config.data.yaml).map((f) => readFile(join(s().prometheus.configDir, f), 'utf8')));
  const text = [config.data.yaml, ...files].join('\n');
  const job = (name: string) => text.split(/- job_name: /).find((j) => j.startsWith(name)) ?? '';
  expect(job(JOB.bursty)).toMatch(/sample_limit: 200\n/);
  expect(job(JOB.bursty)).toMatch(/label_limit: 12\n/);
  // Prometheus shows 1MiB for the 1MB written (its sizes are base 2: the same 1,048,576 bytes).
  expect(job(JOB.bursty)).toMatch(/body_size_limit: 1Mi?B\n/);
  const defaults = s().settings.scrapeLimits.defaults;
  expect(job(JOB.steady)).toMatch(new RegExp(`sample_limit: ${defaults.sampleLimit}\\n`));
  expect(job(JOB.steady)).toMatch(new RegExp(`target_limit: ${defaults.targetLimit}\\n`));
  expect(job(JOB.crowded)).toMatch(/target_limit: 1\n/);
});

test('a cardinality burst past sampleLimit fails only that scrape; neighbours stay scraped, another team alerts, the head does not grow', async () => {
  const before = await headSeries();
  burstyMode = 'samples';
  const [down] = await waitForHealth(JOB.bursty, 'down', /^sample limit exceeded$/);
  // What the status will say: the field, its value and the samples the target returned (scrape_samples_scraped
  // of the failed scrape counts them all).
  const scraped = await pollUntil('scrape_samples_scraped of the burst', 30_000, async () => {
    const n = await scalar(`scrape_samples_scraped{job="${JOB.bursty}"}`);
    return n !== undefined && n > BURST_SERIES ? n : false;
  });
  const hit = scrapeLimitHit(down!.lastError, burstyResolved(), { samplesScraped: scraped });
  expect(hit).toEqual({ field: 'sampleLimit', limit: 200, observed: BURST_SERIES + 50, lastError: 'sample limit exceeded' });
  expect(scrapeLimitMessage(hit!)).toMatch(/^scrape over spec\.limits\.sampleLimit 200 \(reached 5050 samples\)/);

  // During the burst another team's alert fires and resolves, through Alertmanager.
  steadyQueueDepth = 50;
  await pollUntil(
    'SteadyQueueDeep firing in Prometheus and in Alertmanager',
    60_000,
    async () => (await alertState('SteadyQueueDeep', NS_B, 'steady')) === 'firing' && (await inAlertmanager('SteadyQueueDeep', NS_B, 'steady')),
  );
  // bursty's own ServiceDown fires: up is 0 (docs/monitoredservice.md, "Scrape limits").
  await pollUntil('ServiceDown of bursty firing', 60_000, async () => (await alertState('ServiceDown', NS_A, 'bursty')) === 'firing');
  // Its description (the email's text) says why: the samples returned and the limit.
  expect((await alert('ServiceDown', NS_A, 'bursty'))?.annotations.description).toContain(
    `Target ${host('bursty', NS_A)}:${ports.bursty} returned 5050 samples, more than its spec.limits.sampleLimit 200: Prometheus fails such a scrape as a whole (up 0).`,
  );
  steadyQueueDepth = 0;
  await pollUntil('SteadyQueueDeep resolved', 60_000, async () => (await alertState('SteadyQueueDeep', NS_B, 'steady')) === undefined && !(await inAlertmanager('SteadyQueueDeep', NS_B, 'steady')));
  expect((await targets(JOB.bursty))[0]).toMatchObject({ health: 'down', lastError: 'sample limit exceeded' });

  await othersUpThroughout('10s');
  // Not one series of the burst was stored, and the head grew by far less than the burst.
  expect(await query('count({__name__="bursty_burst_total"})')).toEqual([]);
  expect(await headSeries()).toBeLessThan(before + BURST_SERIES / 10);

  burstyMode = 'normal';
  await waitForHealth(JOB.bursty, 'up');
  await pollUntil('ServiceDown of bursty resolved', 60_000, async () => (await alertState('ServiceDown', NS_A, 'bursty')) === undefined);
}, 240_000);

test('a series over labelLimit and a body over bodySizeLimit fail the scrape the same way, each named', async () => {
  burstyMode = 'labels';
  const [labels] = await waitForHealth(JOB.bursty, 'down', /^label_limit exceeded/);
  expect(scrapeLimitHit(labels!.lastError, burstyResolved())).toMatchObject({ field: 'labelLimit', limit: 12, metric: 'bursty_wide_info' });
  // The 20 labels of the series, plus __name__ and the target labels job, instance, namespace and service.
  expect(scrapeLimitHit(labels!.lastError, burstyResolved())?.observed).toBeGreaterThan(20);

  burstyMode = 'body';
  const [body] = await waitForHealth(JOB.bursty, 'down', /^body size limit exceeded$/);
  expect(scrapeLimitHit(body!.lastError, burstyResolved())).toMatchObject({ field: 'bodySizeLimit', limit: '1MB' });

  await othersUpThroughout('5s');
  burstyMode = 'normal';
  await waitForHealth(JOB.bursty, 'up');
}, 180_000);

test('a job over targetLimit has every scrape fail, naming the count and the limit; the namespace next door is scraped', async () => {
  const down = await waitForHealth(JOB.crowded, 'down', /^target_limit exceeded/);
  expect(down).toHaveLength(2);
  expect(scrapeLimitHit(down[0]!.lastError, resolveScrapeLimits({ targetLimit: 1 }, s().settings.scrapeLimits))).toMatchObject({ field: 'targetLimit', limit: 1, observed: 2 });
  await othersUpThroughout('5s');
  expect(await scalar(`up{job="${JOB.bursty}"}`)).toBe(1);
}, 120_000);
