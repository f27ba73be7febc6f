// `make bench-storm`: an alert storm on the local stack (hack/local-stack). 20 MonitoredServices
// in 4 namespaces, each with its own recipient, select a Service whose EndpointSlices list 10
// targets: 200 targets. Once Prometheus scrapes all of them, every target goes down at the same
// moment, and the bench counts what reaches the mail catcher until no new email has arrived for
// 30 s (at most 3 min). Expected: exactly one ServiceDown email per service, 20 in all; the
// per-instance ServiceTargetDown alerts (10 per service) are inhibited by Alertmanager while
// ServiceDown fires for the same service (operator/render/alertmanager.ts). Prints a table and
// Alertmanager's notification counters; asserts nothing about time.
//
//   BENCH_STORM_SERVICES=20 (default)   MonitoredServices, spread over 4 namespaces
//   BENCH_STORM_TARGETS=10 (default)    targets per service
//
// The targets are not 200 demo-target processes (2 cores): this process serves a tiny /metrics
// page on one loopback port per target, and "down" means every listener closes and drops its
// connections at once, so scrapes fail (up == 0). The API server refuses loopback IPs in
// endpoints, so each target is published as an FQDN EndpointSlice endpoint: the host name the
// stack already maps to 127.0.0.1 for Prometheus (DEMO_TARGET_HOST) plus the target's own port.
// A slice's ports apply to all its endpoints, hence one slice (one endpoint, one port) per target.
//
// Needs root (Prometheus runs in a private mount namespace); every port is a free loopback port.
// Every process it starts is stopped, also on failure.
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_GROUP, API_VERSION, KIND } from '../operator/api/schema.js';
import { SERVICE_DOWN_ALERT, TARGET_DOWN_ALERT } from '../operator/render/names.js';
import { DEMO_TARGET_HOST } from '../hack/local-stack/demo.js';
import type { MailSummary } from '../hack/local-stack/mailpit.js';
import { getJson, pollUntil, sleep } from '../hack/local-stack/net.js';
import { ANY_FREE_PORTS, startStack, type Stack } from '../hack/local-stack/stack.js';

const serviceCount = Number(process.env.BENCH_STORM_SERVICES ?? '20');
const targetsPerService = Number(process.env.BENCH_STORM_TARGETS ?? '10');
if (!Number.isInteger(serviceCount) || serviceCount < 1 || serviceCount > 100) {
  throw new Error(`BENCH_STORM_SERVICES must be an integer from 1 to 100, got "${process.env.BENCH_STORM_SERVICES}"`);
}
if (!Number.isInteger(targetsPerService) || targetsPerService < 2 || targetsPerService > 50) {
  // ServiceTargetDown only exists for services with more than one target: the inhibition needs >= 2.
  throw new Error(`BENCH_STORM_TARGETS must be an integer from 2 to 50, got "${process.env.BENCH_STORM_TARGETS}"`);
}

const NAMESPACES = ['storm-a', 'storm-b', 'storm-c', 'storm-d'];
const PORT_NAME = 'http-metrics';
const MANAGED_BY = 'vigil-alert-storm-bench';
/** Same timings as the demo MonitoredService: scrape 5 s, for 5 s (the stack evaluates every 5 s). */
const SCRAPE_INTERVAL = '5s';
const DOWN_FOR = '5s';
const QUIET_MS = 30_000;
const WINDOW_MAX_MS = 3 * 60_000;

const started = Date.now();
const progress = (message: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}`);

interface BenchService {
  namespace: string;
  name: string;
  recipient: string;
  ports: number[];
}

const key = (namespace: string, name: string) => `${namespace}/${name}`;

// --- The targets: one listener per target in this process ---------------------------------------

interface Targets {
  ports: number[];
  /** Closes every listener and drops open (keep-alive) connections; resolves when all are closed. */
  takeDown(): Promise<void>;
}

async function startTargets(count: number): Promise<Targets> {
  const servers: Server[] = [];
  const listen = (index: number) =>
    new Promise<number>((resolve, reject) => {
      const server = createServer((req, res) => {
        if (req.url !== '/metrics') {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
        res.end(`# HELP storm_target_info A target of the alert storm benchmark.\n# TYPE storm_target_info gauge\nstorm_target_info{index="${index}"} 1\n`);
      });
      servers.push(server);
      server.once('error', reject);
      // Port 0: the kernel picks a free port at bind time, no window for another process to take it.
      server.listen(0, '127.0.0.1', () => {
        const addr = server.address();
        if (addr === null || typeof addr === 'string') reject(new Error('unexpected listener address'));
        else resolve(addr.port);
      });
    });
  const ports: number[] = [];
  try {
    for (let i = 0; i < count; i++) ports.push(await listen(i));
  } catch (err) {
    for (const s of servers) s.close();
    throw err;
  }
  let down: Promise<void> | undefined;
  return {
    ports,
    takeDown() {
      // All listeners in one synchronous loop: the outage starts for every target at the same moment.
      down ??= Promise.all(
        servers.map((s) => {
          const closed = new Promise<void>((r) => s.close(() => r()));
          s.closeAllConnections();
          return closed;
        }),
      ).then(() => undefined);
      return down;
    },
  };
}

// --- The Kubernetes objects ------------------------------------------------------------------------

function benchServices(ports: number[]): BenchService[] {
  return Array.from({ length: serviceCount }, (_, i) => {
    const namespace = NAMESPACES[i % NAMESPACES.length]!;
    const name = `svc-${String(i + 1).padStart(2, '0')}`;
    return {
      namespace,
      name,
      recipient: `${name}-oncall@${namespace}.storm.example`,
      ports: ports.slice(i * targetsPerService, (i + 1) * targetsPerService),
    };
  });
}

/** A selector-less Service and one FQDN EndpointSlice per target, as in examples/demo-target-service.yaml. */
function targetObjects(s: BenchService): object[] {
  const labels = { 'app.kubernetes.io/name': s.name, 'app.kubernetes.io/part-of': MANAGED_BY };
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: s.name, namespace: s.namespace, labels },
      spec: { ports: [{ name: PORT_NAME, port: 80, targetPort: 80, protocol: 'TCP' }] },
    },
    ...s.ports.map((port, j) => ({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: `${s.name}-target-${j}`,
        namespace: s.namespace,
        labels: { ...labels, 'kubernetes.io/service-name': s.name, 'endpointslice.kubernetes.io/managed-by': MANAGED_BY },
      },
      addressType: 'FQDN',
      endpoints: [{ addresses: [DEMO_TARGET_HOST], conditions: { ready: true } }],
      ports: [{ name: PORT_NAME, port, protocol: 'TCP' }],
    })),
  ];
}

function monitoredService(s: BenchService): object {
  return {
    apiVersion: `${API_GROUP}/${API_VERSION}`,
    kind: KIND,
    metadata: { name: s.name, namespace: s.namespace },
    spec: {
      selector: { matchLabels: { 'app.kubernetes.io/name': s.name } },
      endpoints: [{ port: PORT_NAME, path: '/metrics', interval: SCRAPE_INTERVAL, scrapeTimeout: '4s' }],
      downAlert: { for: DOWN_FOR, severity: 'critical' },
      notify: { email: { to: [s.recipient], sendResolved: true } },
    },
  };
}

// --- Observations --------------------------------------------------------------------------------

interface PromTarget {
  scrapePool: string;
  health: string;
}

/** Healthy targets per service according to Prometheus's targets API (scrape pool vigil/<ns>/<name>/<port>). */
async function healthyTargetsByService(stack: Stack): Promise<Map<string, number>> {
  const r = await getJson<{ data: { activeTargets: PromTarget[] } }>(`${stack.prometheus.url}/api/v1/targets?state=active`);
  const healthy = new Map<string, number>();
  for (const t of r.data.activeTargets) {
    const m = /^vigil\/([^/]+)\/([^/]+)\//.exec(t.scrapePool);
    if (!m || t.health !== 'up') continue;
    const k = key(m[1]!, m[2]!);
    healthy.set(k, (healthy.get(k) ?? 0) + 1);
  }
  return healthy;
}

type Labels = Record<string, string>;
const isStorm = (l: Labels) => NAMESPACES.includes(l.vigil_namespace ?? '');

/** Alerts of the bench services: in Prometheus (pending or firing) and in Alertmanager (by state). */
async function stormAlerts(stack: Stack): Promise<{ prometheus: { labels: Labels; state: string }[]; alertmanager: { labels: Labels; status: { state: string } }[] }> {
  const prom = await getJson<{ data: { alerts: { labels: Labels; state: string }[] } }>(`${stack.prometheus.url}/api/v1/alerts`);
  const am = await getJson<{ labels: Labels; status: { state: string } }[]>(`${stack.alertmanager.url}/api/v2/alerts`);
  return { prometheus: prom.data.alerts.filter((a) => isStorm(a.labels)), alertmanager: am.filter((a) => isStorm(a.labels)) };
}

/** Sums of Prometheus text-format samples by metric name, over the samples whose labels include `match`. */
function sumMetrics(text: string, names: string[], match: Labels = {}): Record<string, number> {
  const sums: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || !(m[1]! in sums)) continue;
    const labels: Labels = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    if (Object.entries(match).every(([k, v]) => labels[k] === v)) sums[m[1]!]! += Number(m[3]);
  }
  return sums;
}

const NOTIFICATION_METRICS = [
  'alertmanager_notifications_total',
  'alertmanager_notifications_failed_total',
  'alertmanager_notification_requests_total',
  'alertmanager_notification_requests_failed_total',
];

async function alertmanagerCounters(stack: Stack): Promise<Record<string, number>> {
  const res = await fetch(`${stack.alertmanager.url}/metrics`, { signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  return {
    ...sumMetrics(text, NOTIFICATION_METRICS, { integration: 'email' }),
    ...sumMetrics(text, ['alertmanager_alerts_received_total'], { status: 'firing' }),
  };
}

interface ParsedSubject {
  state: 'firing' | 'resolved';
  alertname: string;
  service?: string;
  alerts?: number;
}

/** Vigil's subjects (operator/render/email-template.ts): "[FIRING:1] ServiceDown storm-a/svc-01 (critical)". */
function parseSubject(subject: string): ParsedSubject | undefined {
  const m = /^\[(FIRING:(\d+)|RESOLVED)\] (\S+)(?: (\S+\/\S+))?/.exec(subject);
  if (!m) return undefined;
  return {
    state: m[1] === 'RESOLVED' ? 'resolved' : 'firing',
    alertname: m[3]!,
    ...(m[4] ? { service: m[4] } : {}),
    ...(m[2] ? { alerts: Number(m[2]) } : {}),
  };
}

/**
 * The bench service an email is about: by its subject, else by its recipient. Undefined for a
 * foreign email (none expected since every stack has its own stunnel port; counted, not hidden).
 */
function attribute(m: MailSummary, services: BenchService[]): BenchService | undefined {
  const about = parseSubject(m.Subject)?.service;
  const to = new Set((m.To ?? []).map((a) => a.Address));
  return services.find((s) => key(s.namespace, s.name) === about) ?? services.find((s) => to.has(s.recipient));
}

/**
 * Collects emails by ID across polls. Mailpit keeps only its newest 500 messages, so under a
 * flood of foreign emails a bench email could be pruned between two polls if they were far apart.
 */
class MailCollector {
  readonly bench = new Map<string, MailSummary>();
  readonly foreign = new Map<string, MailSummary>();
  constructor(
    private readonly stack: Stack,
    private readonly services: BenchService[],
  ) {}
  async poll(): Promise<void> {
    for (const m of await this.stack.mailpit.client.list(1000)) {
      (attribute(m, this.services) ? this.bench : this.foreign).set(m.ID, m);
    }
  }
  lastBenchAt(): number {
    return [...this.bench.values()].reduce((t, m) => Math.max(t, Date.parse(m.Created)), 0);
  }
}

// --- Running it -----------------------------------------------------------------------------------

async function main(): Promise<void> {
  const totalTargets = serviceCount * targetsPerService;
  const stateDir = await mkdtemp(join(tmpdir(), 'vigil-bench-storm-'));
  let stack: Stack | undefined;
  let targets: Targets | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      await targets?.takeDown();
      await stack?.stop();
    })());
  const onSignal = (signal: string) => {
    console.error(`\n${signal}: stopping every process the bench started ...`);
    void cleanup().finally(() => process.exit(130));
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  let ok = false;
  try {
    targets = await startTargets(totalTargets);
    const services = benchServices(targets.ports);
    progress(`${totalTargets} target listeners on 127.0.0.1 (ports ${Math.min(...targets.ports)}..${Math.max(...targets.ports)}), state in ${stateDir}`);

    stack = await startStack({ stateDir, ports: ANY_FREE_PORTS, applyDemo: false, log: (m) => progress(m) });
    const s = stack;
    const c = s.cluster;

    progress(`applying ${NAMESPACES.length} namespaces, ${services.length} Services with ${totalTargets} EndpointSlices, ${services.length} MonitoredServices ...`);
    for (const ns of NAMESPACES) await c.ensureNamespace(ns);
    await c.apply(services.flatMap(targetObjects), { fieldManager: MANAGED_BY });
    await c.apply(services.map(monitoredService), { fieldManager: MANAGED_BY });

    const appliedAt = Date.now();
    await pollUntil(
      `Prometheus to scrape all ${totalTargets} targets successfully`,
      5 * 60_000,
      async () => {
        const healthy = await healthyTargetsByService(s);
        const up = services.reduce((n, sv) => n + Math.min(healthy.get(key(sv.namespace, sv.name)) ?? 0, targetsPerService), 0);
        return up === totalTargets;
      },
      { intervalMs: 1000 },
    );
    progress(`all ${totalTargets} targets healthy in Prometheus, ${((Date.now() - appliedAt) / 1000).toFixed(1)} s after the apply`);

    // The operator's view (status.healthyTargets), as a cross-check; informative only.
    const statusHealthy = new Map<string, number | undefined>();
    const readStatus = async () => {
      const list = JSON.parse(await c.kubectl(['get', 'monitoredservices', '-A', '-o', 'json'])) as {
        items: { metadata: { namespace: string; name: string }; status?: { healthyTargets?: number } }[];
      };
      for (const item of list.items) statusHealthy.set(key(item.metadata.namespace, item.metadata.name), item.status?.healthyTargets);
      return services.every((sv) => statusHealthy.get(key(sv.namespace, sv.name)) === targetsPerService);
    };
    await pollUntil('status.healthyTargets of every MonitoredService', 60_000, readStatus, { intervalMs: 2000 }).catch(() =>
      progress('note: not every MonitoredService reports all targets healthy in its status yet (see the table)'),
    );

    // Until the first scrapes, "no healthy target" is true and ServiceDown may have fired during
    // start-up: wait until nothing of the bench is pending or active, then empty the mail catcher.
    await pollUntil(
      'no bench alert pending/firing in Prometheus or active in Alertmanager',
      3 * 60_000,
      async () => {
        const a = await stormAlerts(s);
        return a.prometheus.length === 0 && a.alertmanager.length === 0;
      },
      { intervalMs: 1000 },
    );
    await sleep(5000); // resolved emails of start-up alerts leave within a group_interval (1 s)
    const startup = new MailCollector(s, services);
    await startup.poll();
    const startupMails = startup.bench.size;
    await s.mailpit.client.deleteAll();
    const collector = new MailCollector(s, services);
    const countersBefore = await alertmanagerCounters(s);

    // A random point of the scrape/evaluation cycle, as a real outage would hit.
    await sleep(Math.random() * 5000);
    const t0 = Date.now();
    await targets.takeDown();
    progress(`all ${totalTargets} targets down (listeners closed in ${Date.now() - t0} ms); counting emails until none arrives for ${QUIET_MS / 1000} s (at most ${WINDOW_MAX_MS / 60_000} min)`);

    let lastCount = -1;
    for (;;) {
      // The catcher was emptied just before the takedown: everything in it came after (a mail
      // before t0 would show a negative time in the report).
      await collector.poll();
      const now = Date.now();
      if (collector.bench.size !== lastCount) {
        lastCount = collector.bench.size;
        progress(`  ${collector.bench.size} bench email(s) so far (${collector.foreign.size} foreign)`);
      }
      if (collector.bench.size > 0 && now - collector.lastBenchAt() >= QUIET_MS) break;
      if (now - t0 >= WINDOW_MAX_MS) break;
      await sleep(500);
    }
    const mails = [...collector.bench.values()];
    const foreignMails = [...collector.foreign.values()];
    const windowS = (Date.now() - t0) / 1000;
    const countersAfter = await alertmanagerCounters(s);
    const alertsAtEnd = await stormAlerts(s);

    report({ services, mails, foreignMails, t0, windowS, startupMails, countersBefore, countersAfter, alertsAtEnd, statusHealthy });
    ok = true;
  } finally {
    progress('stopping every process the bench started ...');
    await cleanup();
    if (ok) await rm(stateDir, { recursive: true, force: true });
    else console.error(`logs kept in ${stateDir}`);
  }
}

function report(r: {
  services: BenchService[];
  mails: MailSummary[];
  foreignMails: MailSummary[];
  t0: number;
  windowS: number;
  startupMails: number;
  countersBefore: Record<string, number>;
  countersAfter: Record<string, number>;
  alertsAtEnd: Awaited<ReturnType<typeof stormAlerts>>;
  statusHealthy: Map<string, number | undefined>;
}): void {
  interface Row {
    serviceDown: number;
    targetDown: number;
    other: number;
    misaddressed: number;
    firstS?: number;
  }
  const rows = new Map<string, Row>(r.services.map((s) => [key(s.namespace, s.name), { serviceDown: 0, targetDown: 0, other: 0, misaddressed: 0 }]));
  const recipientOf = new Map(r.services.map((s) => [key(s.namespace, s.name), s.recipient]));
  const at = (m: MailSummary) => (Date.parse(m.Created) - r.t0) / 1000;
  for (const m of r.mails) {
    const service = attribute(m, r.services)!;
    const k = key(service.namespace, service.name);
    const row = rows.get(k)!;
    const p = parseSubject(m.Subject);
    if (p?.service === k && p.state === 'firing' && p.alertname === SERVICE_DOWN_ALERT) row.serviceDown++;
    else if (p?.service === k && p.state === 'firing' && p.alertname === TARGET_DOWN_ALERT) row.targetDown++;
    else row.other++;
    const to = (m.To ?? []).map((a) => a.Address);
    if (to.length !== 1 || to[0] !== recipientOf.get(k)) row.misaddressed++;
    row.firstS = Math.min(row.firstS ?? Infinity, at(m));
  }

  const header = ['service', 'recipient', 'healthy (status)', 'ServiceDown', 'ServiceTargetDown', 'other', 'first email', 'verdict'];
  const table = r.services.map((s) => {
    const k = key(s.namespace, s.name);
    const row = rows.get(k)!;
    const verdict = [
      row.serviceDown === 0 ? 'LOST' : row.serviceDown > 1 ? 'DUPLICATE' : 'ok',
      ...(row.targetDown > 0 ? ['+TargetDown not inhibited'] : []),
      ...(row.misaddressed > 0 ? [`${row.misaddressed} misaddressed`] : []),
    ].join(', ');
    return [
      k,
      s.recipient,
      String(r.statusHealthy.get(k) ?? '-'),
      String(row.serviceDown),
      String(row.targetDown),
      String(row.other),
      row.firstS === undefined ? '-' : `${row.firstS.toFixed(1)} s`,
      verdict,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;

  const all = [...rows.values()];
  const lost = r.services.filter((s) => rows.get(key(s.namespace, s.name))!.serviceDown === 0).map((s) => key(s.namespace, s.name));
  const duplicate = r.services.filter((s) => rows.get(key(s.namespace, s.name))!.serviceDown > 1).map((s) => key(s.namespace, s.name));
  const leaked = r.services.filter((s) => rows.get(key(s.namespace, s.name))!.targetDown > 0).map((s) => key(s.namespace, s.name));
  const times = r.mails.map(at).sort((a, b) => a - b);
  const sum = (f: (row: Row) => number) => all.reduce((n, row) => n + f(row), 0);
  const delta = (name: string) => (r.countersAfter[name] ?? 0) - (r.countersBefore[name] ?? 0);
  const countBy = <T extends { labels: Labels }>(alerts: T[], state: (a: T) => string) => {
    const out: Record<string, number> = {};
    for (const a of alerts) {
      const k = `${a.labels.alertname} ${state(a)}`;
      out[k] = (out[k] ?? 0) + 1;
    }
    return (
      Object.entries(out)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, n]) => `${n} ${k}`)
        .join(', ') || 'none'
    );
  };

  console.log(`
alert storm: ${r.services.length} MonitoredServices x ${targetsPerService} targets = ${r.services.length * targetsPerService} targets taken down at once
  scrape ${SCRAPE_INTERVAL}, evaluation 5s, ServiceDown/ServiceTargetDown for ${DOWN_FOR}; Alertmanager demo profile (group_wait 0s, group_interval 1s), group_by alertname + service
  window: ${r.windowS.toFixed(1)} s after the takedown (ends after ${QUIET_MS / 1000} s without a new email, at most ${WINDOW_MAX_MS / 1000} s)
  emails from start-up alerts before the takedown (deleted, not counted): ${r.startupMails}

${line(header)}
${line(widths.map((w) => '-'.repeat(w)))}
${table.map(line).join('\n')}

emails after the takedown: ${r.mails.length} (expected ${r.services.length}: one ServiceDown per service)
  ServiceDown firing: ${sum((row) => row.serviceDown)}   ServiceTargetDown firing: ${sum((row) => row.targetDown)}   other: ${sum((row) => row.other)}
  services with no ServiceDown email (lost): ${lost.length === 0 ? 'none' : lost.join(', ')}
  services with more than one ServiceDown email (duplicate): ${duplicate.length === 0 ? 'none' : duplicate.join(', ')}
  services that also got a ServiceTargetDown email (inhibition missed): ${leaked.length === 0 ? 'none' : leaked.join(', ')}
  misaddressed (To is not exactly the service's recipient): ${sum((row) => row.misaddressed)}
  takedown -> first email: ${times.length ? `${times[0]!.toFixed(1)} s` : '-'}   -> last email: ${times.length ? `${times[times.length - 1]!.toFixed(1)} s` : '-'}
  foreign emails in the same window, not counted above: ${r.foreignMails.length}${r.foreignMails.length > 0 ? ` (e.g. "${r.foreignMails[0]!.Subject}")` : ''}

Alertmanager counters (email integration), change over the window:
  alertmanager_notifications_total          +${delta('alertmanager_notifications_total')} (now ${r.countersAfter.alertmanager_notifications_total}) -- bench emails received: ${r.mails.length}
  alertmanager_notifications_failed_total   +${delta('alertmanager_notifications_failed_total')} (now ${r.countersAfter.alertmanager_notifications_failed_total})
  alertmanager_notification_requests_total  +${delta('alertmanager_notification_requests_total')} (failed +${delta('alertmanager_notification_requests_failed_total')})
  alertmanager_alerts_received_total{status="firing"} +${delta('alertmanager_alerts_received_total')} (alerts posted by Prometheus, resends included)
At the end of the window:
  Prometheus: ${countBy(r.alertsAtEnd.prometheus, (a) => a.state)}
  Alertmanager: ${countBy(r.alertsAtEnd.alertmanager, (a) => a.status.state)}`);
}

main().catch((err: unknown) => {
  console.error(`bench-storm failed: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
