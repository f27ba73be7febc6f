// `make bench-discovery` (issue #13, item 2): which kubernetes_sd layout costs Prometheus and the
// API server less for Vigil's scrape jobs, measured with the shipped Prometheus scraping real
// (loopback) targets discovered from a real kube-apiserver (bench/discovery/harness.ts).
// Layouts (bench/discovery/layouts.ts): per-job selectors (each job its own SD block), one
// shared block per namespace with the selector as relabel rules, and that with a cap on the
// dropped targets each job keeps. For each size the layouts run
// one after the other, each in a fresh cluster and a fresh Prometheus. Every run checks that each
// job's targets are exactly its own Service's endpoints (tenancy), then prints and records:
// Prometheus CPU seconds per phase (discovery, steady, churn), RSS, target sync time, SD events,
// the API server's watches and the time from apply to every target up.
// Writes docs/benchmarks/discovery-layout.json and the plots (bench/plot.ts). Asserts nothing about time.
//
//   BENCH_DISCOVERY_SIZES=100,1000  services per run
//   BENCH_DISCOVERY_NAMESPACES=10   spread over this many namespaces
//   BENCH_DISCOVERY_ENDPOINTS=3     endpoints (targets) per Service
//   BENCH_DISCOVERY_PODS=1          a (never scheduled) Pod behind each endpoint; 0: none
//   BENCH_DISCOVERY_LAYOUTS=per-job,shared,shared-capped
//   BENCH_DISCOVERY_STEADY_S=60     length of the steady phase
//   BENCH_DISCOVERY_INTERVAL=10s    scrape interval of every endpoint
//   BENCH_DISCOVERY_OUT=docs/benchmarks/discovery-layout.json
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import type { MonitoredService } from '../operator/api/schema.js';
import { defaultSettings } from '../operator/render/index.js';
import { formatIssue, validateMonitoredService } from '../operator/validate/index.js';
import { measureDiscovery, type ActiveTarget, type DiscoveryMeasurement } from './discovery/harness.js';
import { LAYOUTS, layoutConfig, type LayoutName } from './discovery/layouts.js';
import { WORKLOAD_LABEL, WORKLOAD_PORT_NAME, type Workload } from './discovery/workload.js';
import { plotDiscoveryLayout } from './plot.js';

const intEnv = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got "${process.env[name]}"`);
  return v;
};
const sizes = (process.env.BENCH_DISCOVERY_SIZES ?? '100,1000').split(',').map(Number);
if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`BENCH_DISCOVERY_SIZES must be positive integers separated by commas, got "${process.env.BENCH_DISCOVERY_SIZES}"`);
const namespaces = intEnv('BENCH_DISCOVERY_NAMESPACES', 10);
const endpointsPerService = intEnv('BENCH_DISCOVERY_ENDPOINTS', 3);
const pods = (process.env.BENCH_DISCOVERY_PODS ?? '1') !== '0';
const steadyMs = intEnv('BENCH_DISCOVERY_STEADY_S', 60) * 1000;
const interval = process.env.BENCH_DISCOVERY_INTERVAL ?? '10s';
const out = process.env.BENCH_DISCOVERY_OUT ?? 'docs/benchmarks/discovery-layout.json';
const layouts = (process.env.BENCH_DISCOVERY_LAYOUTS ?? LAYOUTS.join(',')).split(',') as LayoutName[];
for (const l of layouts) if (!(LAYOUTS as readonly string[]).includes(l)) throw new Error(`BENCH_DISCOVERY_LAYOUTS: "${l}" is not a layout; accepted: ${LAYOUTS.join(', ')}`);

/** The MonitoredService a team would write for each workload Service (validated like the operator does). */
function monitoredServices(w: Workload): MonitoredService[] {
  return w.services.map((s) => {
    const raw = {
      apiVersion: 'vigil.dev/v1alpha1',
      kind: 'MonitoredService',
      metadata: { namespace: s.namespace, name: s.name },
      spec: { selector: { matchLabels: { [WORKLOAD_LABEL]: s.name } }, endpoints: [{ port: WORKLOAD_PORT_NAME, interval }] },
    };
    const r = validateMonitoredService(raw);
    if (!r.ok) throw new Error(r.issues.map((i) => formatIssue(r.ref, i)).join('\n'));
    return r.service;
  });
}

/** Every target belongs to the job of its own Service: namespace, service, pod and instance agree with the job name. */
function tenancyProblems(targets: ActiveTarget[], w: Workload): string[] {
  const problems: string[] = [];
  const perJob = new Map<string, number>();
  for (const t of targets) {
    const [, namespace, service] = /^vigil\/([^/]+)\/([^/]+)\/metrics$/.exec(t.scrapePool) ?? [];
    const host = (t.labels.instance ?? '').split(':')[0] ?? '';
    const endpoint = /^(e\d+)\./.exec(host)?.[1];
    const podOk = !w.pods || t.labels.pod === `${service}-${endpoint}`;
    if (!namespace || t.labels.namespace !== namespace || t.labels.service !== service || !host.endsWith(`.${service}.${namespace}.vigil.localhost`) || !podOk) {
      problems.push(`job ${t.scrapePool} has target ${t.labels.instance} (namespace=${t.labels.namespace}, service=${t.labels.service}, pod=${t.labels.pod})`);
    }
    perJob.set(t.scrapePool, (perJob.get(t.scrapePool) ?? 0) + 1);
  }
  for (const s of w.services) {
    const n = perJob.get(`vigil/${s.namespace}/${s.name}/metrics`) ?? 0;
    if (n !== s.hosts.length) problems.push(`job of ${s.namespace}/${s.name} has ${n} targets, expected ${s.hosts.length}`);
  }
  return problems;
}

const f1 = (n: number) => n.toFixed(1);
const f2 = (n: number) => n.toFixed(2);

function printTable(rows: DiscoveryMeasurement[]): void {
  const header = [
    'services',
    'layout',
    'SD blocks (distinct)',
    'API watches',
    'apply→all discovered / up s',
    'CPU s: discovery',
    'CPU s: steady',
    'CPU s: churn',
    'target sync s: discovery / churn',
    'SD events',
    'RSS MiB steady / peak',
  ];
  const lines = rows.map((r) => [
    String(r.services),
    r.name,
    `${r.sdBlocks.blocks} (${r.sdBlocks.distinct})`,
    String(r.apiServerWatches.total),
    `${f1(r.applyToAllDiscoveredSeconds)} / ${f1(r.applyToAllUpSeconds)}`,
    f2(r.discovery.cpuSeconds),
    f2(r.steady.cpuSeconds),
    r.churn ? f2(r.churn.cpuSeconds) : '-',
    `${f2(r.discovery.targetSyncSeconds)} / ${r.churn ? f2(r.churn.targetSyncSeconds) : '-'}`,
    String(Object.entries(r.discovery.sdKubernetes).find(([k]) => k === 'prometheus_sd_kubernetes_events_total')?.[1] ?? 0),
    `${r.steady.rssMiB.toFixed(0)} / ${r.peakRssMiB.toFixed(0)}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  for (const l of [header, ...lines]) console.log(l.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | '));
}

const settings = defaultSettings({ selfScrapeJobs: [] });
const rows: DiscoveryMeasurement[] = [];
for (const services of sizes) {
  for (const layout of layouts) {
    const steady = Math.max(steadyMs, 0);
    rows.push(
      await measureDiscovery({
        name: layout,
        workload: { services, namespaces: Math.min(namespaces, services), endpointsPerService, pods },
        prometheusConfig: (w) => layoutConfig(layout, monitoredServices(w), settings),
        steadyMs: steady,
        churn: { rounds: 10, servicesPerRound: Math.max(1, Math.ceil(services / 20)), intervalMs: 3000 },
        checkTargets: tenancyProblems,
      }),
    );
    printTable(rows);
  }
}
const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
// Three decimals are more than the measurement's precision.
const rounded = (_key: string, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 1000) / 1000 : v);
writeFileSync(out, `${JSON.stringify({ machine, settings: { namespaces, endpointsPerService, pods, interval, steadyS: steadyMs / 1000 }, rows }, rounded, 2)}\n`);
console.log(`wrote ${out}`);
if (out === 'docs/benchmarks/discovery-layout.json') await plotDiscoveryLayout();
