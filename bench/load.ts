// `make bench-load`: 2,000 MonitoredServices applied in one burst (one `kubectl apply -f` of a
// multi-document file) to the real programs: etcd + kube-apiserver, `vigil operator`, Prometheus
// 3.15 and Alertmanager 0.35 each fed by its `vigil sync` sidecar (test/hostile/stack.ts).
// Records and prints: writes of the generated ConfigMap/Secret (resourceVersion changes seen by a
// watch, split into content writes by the operator and annotation patches by the sidecars),
// reloads (the sidecars' vigil_sync_reloads_total), time until Prometheus runs the last service's
// job and until every MonitoredService is ConfigApplied=True, the operator's reconciles, CPU
// seconds of every process during the burst (/proc/<pid>/stat), peak RSS (VmHWM) per process, and
// the interval "last object created → all ConfigApplied=True" cut into its parts (operator write
// of the config with every service, each sidecar's confirmed reload, status writes).
// Objects and statuses are followed with one watch (not by listing them every second, which on a
// 2-core machine cost the API server more than the operator's own writes).
// Asserts nothing about time.
//
//   BENCH_SERVICES=2000 (default)   how many MonitoredServices
//   BENCH_NAMESPACES=20 (default)   spread over this many namespaces
//   BENCH_OPERATOR_NODE_OPTIONS     extra Node flags of the operator process only, e.g.
//                                   "--max-old-space-size=96" or "--cpu-prof --cpu-prof-dir=/tmp/prof"
//   BENCH_SCRAPE_INTERVAL=15s, BENCH_EVALUATION_INTERVAL=15s (default: the chart's defaults; the
//                                   integration tests run 5s / 2s, which makes Prometheus evaluate
//                                   every service's rules 7.5 times as often)
//   BENCH_LOAD_JSON                 write the figures and the per-second series there (and an SVG
//                                   plot next to it), e.g. docs/benchmarks/load.json
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, PLURAL } from '../operator/api/schema.js';
import { sumSamples } from '../hack/local-stack/metrics.js';
import { ANNOTATIONS } from '../operator/controller/annotations.js';
import { BUNDLE_KEY } from '../operator/assemble/config-bundle.js';
import { OBJECT_NAMES } from '../operator/rbac.js';
import { PARTITION_OF_LABEL } from '../operator/contract.js';
import { INSTALL_NS, startHostileStack, waitForConfigApplied, type HostileStack } from '../test/hostile/stack.js';
import { applyBurst, jobOf, scaleSet } from '../test/operator/scale.js';
import { cpuSecondsFromStat, memoryFromStatus } from './discovery/workload.js';
import { writeSvg } from './plot.js';

const services = Number(process.env.BENCH_SERVICES ?? '2000');
const namespaceCount = Number(process.env.BENCH_NAMESPACES ?? '20');
if (!Number.isInteger(services) || services < 1 || services > 20_000) throw new Error(`BENCH_SERVICES must be an integer from 1 to 20000, got "${process.env.BENCH_SERVICES}"`);
if (!Number.isInteger(namespaceCount) || namespaceCount < 1 || namespaceCount > 200) throw new Error(`BENCH_NAMESPACES must be an integer from 1 to 200`);
const TIMEOUT_MS = 30 * 60_000;
const operatorNodeOptions = process.env.BENCH_OPERATOR_NODE_OPTIONS?.trim() || undefined;
const jsonOut = process.env.BENCH_LOAD_JSON?.trim() || undefined;
const intervals = { scrapeInterval: process.env.BENCH_SCRAPE_INTERVAL ?? '15s', evaluationInterval: process.env.BENCH_EVALUATION_INTERVAL ?? '15s' };
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface ObjectWrites {
  /** Every resourceVersion change after the burst started. */
  versions: number;
  /** Of those, the ones where the operator's config-hash changed (new content). */
  contentWrites: number;
  /** The others: sidecar annotation patches (applied-hash, reload-error). */
  annotationPatches: number;
  lastStoredBytes: number;
  lastForm: string;
}

/** Watches one generated object and counts its writes (as the admin, not through Vigil's RBAC). */
async function countWrites(kc: KubeConfig, kind: 'configmaps' | 'secrets', name: string): Promise<{ writes: ObjectWrites; stop(): void }> {
  const writes: ObjectWrites = { versions: 0, contentWrites: 0, annotationPatches: 0, lastStoredBytes: 0, lastForm: '' };
  let lastVersion: string | undefined;
  let lastHash: string | undefined;
  let controller: AbortController | undefined;
  let stopped = false;
  type Obj = { metadata: { resourceVersion: string; annotations?: Record<string, string> }; data?: Record<string, string>; binaryData?: Record<string, string> };
  const onEvent = (phase: string, obj: Obj) => {
    if (phase !== 'ADDED' && phase !== 'MODIFIED') return;
    const rv = obj.metadata.resourceVersion;
    const hash = obj.metadata.annotations?.[ANNOTATIONS.configHash];
    if (lastVersion === undefined) {
      // The state before the burst (the watch lists it first): a baseline, not a write.
      lastVersion = rv;
      lastHash = hash;
      return;
    }
    if (rv === lastVersion) return;
    lastVersion = rv;
    writes.versions++;
    if (hash !== lastHash) writes.contentWrites++;
    else writes.annotationPatches++;
    lastHash = hash;
    const stored = { ...obj.data, ...obj.binaryData };
    const isBundle = BUNDLE_KEY in stored;
    writes.lastForm = isBundle ? 'gzip bundle' : 'plain';
    // Secret data and binaryData are base64 on the wire; plain ConfigMap data is text.
    writes.lastStoredBytes = Object.entries(stored).reduce((n, [k, v]) => n + k.length + (kind === 'secrets' || isBundle ? Buffer.from(v, 'base64').length : Buffer.byteLength(v)), 0);
  };
  const start = async (): Promise<void> => {
    if (stopped) return;
    controller = await new Watch(kc).watch(
      `/api/v1/namespaces/${INSTALL_NS}/${kind}`,
      { fieldSelector: `metadata.name=${name}`, ...(lastVersion ? { resourceVersion: lastVersion } : {}) },
      onEvent,
      () => {
        if (!stopped) setTimeout(() => void start(), 200);
      },
    );
  };
  await start();
  return {
    writes,
    stop: () => {
      stopped = true;
      controller?.abort();
    },
  };
}

/**
 * The scrape pools Prometheus runs (/api/v1/scrape_pools): the jobs of prometheus.yml and of its
 * scrape_config_files, which /api/v1/status/config does not expand (a partitioned config's jobs).
 */
async function scrapePools(prometheusUrl: string): Promise<string[]> {
  const body = (await (await fetch(`${prometheusUrl}/api/v1/scrape_pools`)).json()) as { data?: { scrapePools?: string[] } };
  return body.data?.scrapePools ?? [];
}

/** Writes of the partition ConfigMaps of a partitioned Prometheus config (PARTITION_OF_LABEL), after the first list. */
async function countPartitionWrites(kc: KubeConfig, main: string): Promise<{ writes: { versions: number; objects: Set<string> }; stop(): void }> {
  const writes = { versions: 0, objects: new Set<string>() };
  const seen = new Map<string, string>();
  let listed = false;
  let controller: AbortController | undefined;
  let stopped = false;
  type Obj = { metadata: { name: string; resourceVersion: string } };
  const onEvent = (phase: string, obj: Obj) => {
    if (phase !== 'ADDED' && phase !== 'MODIFIED') return;
    const { name, resourceVersion } = obj.metadata;
    if (seen.get(name) === resourceVersion) return;
    seen.set(name, resourceVersion);
    if (!listed) return;
    writes.versions++;
    writes.objects.add(name);
  };
  const start = async (): Promise<void> => {
    if (stopped) return;
    controller = await new Watch(kc).watch(`/api/v1/namespaces/${INSTALL_NS}/configmaps`, { labelSelector: `${PARTITION_OF_LABEL}=${main}` }, onEvent, () => {
      if (!stopped) setTimeout(() => void start(), 200);
    });
  };
  await start();
  // The watch's initial ADDED events are the state before the burst, not writes.
  await sleep(1000);
  listed = true;
  return {
    writes,
    stop: () => {
      stopped = true;
      controller?.abort();
    },
  };
}

async function metricValue(url: string, series: string): Promise<number> {
  const text = await (await fetch(url)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : NaN;
}

/** Sum of every sample of a metric at a /metrics URL, whatever its labels (e.g. a histogram's _count over results). */
async function metricSum(url: string, name: string): Promise<number> {
  return sumSamples(await (await fetch(url)).text(), name);
}

/** Peak and current resident memory of a process, from /proc (MiB). */
async function memoryOf(pid: number): Promise<{ peakMiB: number; rssMiB: number } | undefined> {
  try {
    const m = memoryFromStatus(await readFile(`/proc/${pid}/status`, 'utf8'));
    return { peakMiB: m.peakRssMiB, rssMiB: m.rssMiB };
  } catch {
    return undefined;
  }
}

/** The PID whose command line contains `needle` (the sidecars' --dir is a unique temp path). */
async function pidByCmdline(needle: string): Promise<number | undefined> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if ((await readFile(`/proc/${entry}/cmdline`, 'utf8')).includes(needle)) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

function table(rows: Array<[string, string]>): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** CPU seconds (user + system) a process used so far, from /proc/<pid>/stat; undefined once it is gone. */
async function cpuSecondsOf(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    return cpuSecondsFromStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

async function loadAverage(): Promise<string> {
  return (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
}

interface ServiceProgress {
  /** MonitoredServices the watch has seen created. */
  created: number;
  /** Of those, with ConfigApplied=True now. */
  applied: number;
  /** When the watch saw the last object created (Date.now()). */
  lastCreatedAt: number | undefined;
  /** Status writes seen (MODIFIED events whose status changed). */
  statusWrites: number;
}

/**
 * Follows every MonitoredService with one watch (as the admin): created objects and their
 * ConfigApplied condition. The time an ADDED event arrives is when the object reached the API
 * server, plus the watch's own delay (milliseconds on loopback).
 */
async function watchServices(kc: KubeConfig): Promise<{ progress: ServiceProgress; stop(): void }> {
  const progress: ServiceProgress = { created: 0, applied: 0, lastCreatedAt: undefined, statusWrites: 0 };
  const applied = new Map<string, boolean>();
  const statusOf = new Map<string, string>();
  let lastVersion: string | undefined;
  let controller: AbortController | undefined;
  let stopped = false;
  type Obj = { metadata: { namespace: string; name: string; resourceVersion: string }; status?: { conditions?: Array<{ type: string; status: string }> } };
  const onEvent = (phase: string, obj: Obj) => {
    if (phase === 'BOOKMARK') return;
    lastVersion = obj.metadata.resourceVersion;
    const key = `${obj.metadata.namespace}/${obj.metadata.name}`;
    if (phase === 'DELETED') return;
    if (!applied.has(key)) {
      progress.created++;
      progress.lastCreatedAt = Date.now();
    }
    const status = JSON.stringify(obj.status ?? {});
    if (statusOf.has(key) && statusOf.get(key) !== status) progress.statusWrites++;
    statusOf.set(key, status);
    const isApplied = obj.status?.conditions?.some((c) => c.type === 'ConfigApplied' && c.status === 'True') ?? false;
    if (isApplied !== applied.get(key)) progress.applied += isApplied ? 1 : applied.has(key) ? -1 : 0;
    applied.set(key, isApplied);
  };
  const start = async (): Promise<void> => {
    if (stopped) return;
    controller = await new Watch(kc).watch(`/apis/${API_GROUP}/${API_VERSION}/${PLURAL}`, lastVersion ? { resourceVersion: lastVersion } : {}, onEvent, () => {
      if (!stopped) setTimeout(() => void start(), 200);
    });
  };
  await start();
  return {
    progress,
    stop: () => {
      stopped = true;
      controller?.abort();
    },
  };
}

/** JSON log lines of a Vigil process (operator, sync) with a given msg, each with its time in ms. */
async function logLines(file: string, msg: string): Promise<Array<Record<string, unknown> & { at: number }>> {
  const lines = (await readFile(file, 'utf8').catch(() => '')).split('\n');
  const out: Array<Record<string, unknown> & { at: number }> = [];
  for (const line of lines) {
    if (!line.includes(msg)) continue;
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry.msg === msg && typeof entry.ts === 'string') out.push({ ...entry, at: Date.parse(entry.ts) });
    } catch {
      // not a JSON line
    }
  }
  return out;
}

/** Prometheus's "Completed loading of configuration file" lines: when, the rules part and the total (seconds). */
async function prometheusLoads(file: string): Promise<Array<{ at: number; rulesS: number; totalS: number }>> {
  // Go's time.Duration text: 437.5µs, 8.35s, 1m50.65s.
  const unit: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 1e-3, µs: 1e-6, us: 1e-6, ns: 1e-9 };
  const seconds = (v: string | undefined) => {
    const parts = [...(v ?? '').matchAll(/([\d.]+)(h|ms|µs|us|ns|m|s)/g)];
    return parts.length === 0 ? NaN : parts.reduce((n, m) => n + Number(m[1]) * (unit[m[2] as string] ?? NaN), 0);
  };
  return (await readFile(file, 'utf8').catch(() => ''))
    .split('\n')
    .filter((l) => l.includes('Completed loading of configuration file'))
    .map((l) => ({
      at: Date.parse(/time=(\S+)/.exec(l)?.[1] ?? ''),
      rulesS: seconds(/ rules=(\S+)/.exec(l)?.[1]),
      totalS: seconds(/totalDuration=(\S+)/.exec(l)?.[1]),
    }));
}

/** Sum of the API server's own counters (as the admin): requests rejected by priority and fairness, answers 429. */
async function apiServerRejections(stack: HostileStack): Promise<{ rejected: number; tooMany: number; byFlow: Record<string, number> }> {
  const text = await stack.cluster.kubectl(['get', '--raw', '/metrics'], { timeoutMs: 120_000 });
  const tooMany = text
    .split('\n')
    .filter((l) => l.startsWith('apiserver_request_total{') && l.includes('code="429"'))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  const byFlow: Record<string, number> = {};
  for (const line of text.split('\n').filter((l) => l.startsWith('apiserver_flowcontrol_rejected_requests_total{'))) {
    const flow = `${/flow_schema="([^"]*)"/.exec(line)?.[1]}/${/priority_level="([^"]*)"/.exec(line)?.[1]}`;
    byFlow[flow] = (byFlow[flow] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return { rejected: sumSamples(text, 'apiserver_flowcontrol_rejected_requests_total'), tooMany, byFlow };
}

interface SeriesPoint {
  /** Seconds since the burst started. */
  s: number;
  created: number;
  applied: number;
  operatorRssMiB: number | undefined;
  /** The operator's V8 heap (allocated, used) and external memory (Buffers, ArrayBuffers), from its /metrics. */
  operatorHeapTotalMiB?: number;
  operatorHeapUsedMiB?: number;
  operatorExternalMiB?: number;
  /** CPU seconds used since the burst started, per process (same order and names as the table). */
  cpuS: Record<string, number>;
}

/** The per-second series as a plot: objects created and ConfigApplied=True, and the operator's RSS. */
async function plotSeries(file: string, series: SeriesPoint[], title: string): Promise<void> {
  const counts = series.flatMap((p) => [
    { s: p.s, what: 'MonitoredServices created', n: p.created },
    { s: p.s, what: 'ConfigApplied=True', n: p.applied },
  ]);
  const rss = series.flatMap((p) =>
    (
      [
        ['operator RSS', p.operatorRssMiB],
        ['V8 heap allocated', p.operatorHeapTotalMiB],
        ['V8 heap used', p.operatorHeapUsedMiB],
        ['external (Buffers)', p.operatorExternalMiB],
      ] as const
    )
      .filter(([, mib]) => mib !== undefined)
      .map(([what, mib]) => ({ s: p.s, what, mib })),
  );
  await writeSvg(
    {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title,
      vconcat: [
        {
          width: 520,
          height: 200,
          data: { values: counts },
          mark: { type: 'line' },
          encoding: {
            x: { field: 's', type: 'quantitative', title: 'seconds since kubectl apply started' },
            y: { field: 'n', type: 'quantitative', title: 'objects' },
            color: { field: 'what', type: 'nominal', title: null },
          },
        },
        {
          width: 520,
          height: 140,
          layer: [
            {
              data: { values: rss },
              mark: { type: 'line' },
              encoding: {
                x: { field: 's', type: 'quantitative', title: 'seconds since kubectl apply started' },
                y: { field: 'mib', type: 'quantitative', title: 'operator memory (MiB)' },
                color: { field: 'what', type: 'nominal', title: null },
              },
            },
            { data: { values: [{ mib: 256 }] }, mark: { type: 'rule', strokeDash: [4, 4], color: 'red' }, encoding: { y: { field: 'mib', type: 'quantitative' } } },
          ],
        },
      ],
    },
    file,
  );
}

async function main(): Promise<void> {
  const set = scaleSet(services, namespaceCount);
  console.log(`starting the API server, operator, Prometheus, Alertmanager and both sync sidecars ...`);
  const stack: HostileStack = await startHostileStack({ namespaces: set.namespaces, intervals, ...(operatorNodeOptions ? { operatorNodeOptions } : {}) });
  const watches: Array<{ stop(): void }> = [];
  let sampler: NodeJS.Timeout | undefined;
  // Ctrl-C or kill: stop every process of the stack before leaving.
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`bench-load: ${signal}, stopping the stack ...`);
    for (const w of watches) w.stop();
    if (sampler) clearInterval(sampler);
    void stack.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(stack.cluster.kubeconfigPath);
    const [operatorMetrics, promSyncMetrics, amSyncMetrics] = stack.metricsUrls as [string, string, string];
    // The empty config must be in place first, so the burst is all that is measured.
    await waitForConfigApplied(stack);
    const cm = await countWrites(kc, 'configmaps', OBJECT_NAMES.prometheusConfigMap);
    const secret = await countWrites(kc, 'secrets', OBJECT_NAMES.alertmanagerSecret);
    const partitions = await countPartitionWrites(kc, OBJECT_NAMES.prometheusConfigMap);
    const ms = await watchServices(kc);
    watches.push(cm, secret, partitions, ms);
    const reloadSeries = 'vigil_sync_reloads_total{result="success"}';
    const failedSeries = 'vigil_sync_reloads_total{result="failure"}';
    const processes: Array<[string, number | undefined]> = [
      ['vigil operator', stack.operator.pid],
      ['vigil sync (Prometheus)', await pidByCmdline(`--dir=${stack.prometheus.configDir}`)],
      ['vigil sync (Alertmanager)', await pidByCmdline(`--dir=${stack.alertmanager.configDir}`)],
      ['Prometheus 3.15', stack.prometheus.process.pid],
      ['Alertmanager 0.35', stack.alertmanager.process.pid],
      ['kube-apiserver', await pidByCmdline(`--etcd-servers=${stack.cluster.etcdUrl}`)],
      ['etcd', await pidByCmdline(`--listen-client-urls=${stack.cluster.etcdUrl}`)],
      ['this benchmark (watches, polls)', process.pid],
    ];
    const cpuAt = async () => Promise.all(processes.map(([, pid]) => cpuSecondsOf(pid)));
    const reconcilesBefore = {
      count: await metricSum(operatorMetrics, 'vigil_reconcile_duration_seconds_count'),
      sum: await metricSum(operatorMetrics, 'vigil_reconcile_duration_seconds_sum'),
    };
    const before = {
      prom: await metricValue(promSyncMetrics, reloadSeries),
      am: await metricValue(amSyncMetrics, reloadSeries),
      promFailed: await metricValue(promSyncMetrics, failedSeries),
      amFailed: await metricValue(amSyncMetrics, failedSeries),
    };
    const rejectedBefore = await apiServerRejections(stack);
    const loadBefore = await loadAverage();
    const cpuBefore = await cpuAt();

    console.log(`applying ${services} MonitoredServices in ${namespaceCount} namespaces with one kubectl apply (load average ${loadBefore}) ...`);
    const started = Date.now();
    const series: SeriesPoint[] = [];
    sampler = setInterval(() => {
      const s = Math.round((Date.now() - started) / 100) / 10;
      const { created, applied } = ms.progress;
      const mib = (text: string, name: string) => Math.round(sumSamples(text, name) / 1048576);
      const heap = fetch(operatorMetrics, { signal: AbortSignal.timeout(900) })
        .then((r) => r.text())
        .catch(() => undefined);
      void Promise.all([memoryOf(stack.operator.pid), cpuAt(), heap]).then(([m, cpu, text]) =>
        series.push({
          s,
          created,
          applied,
          operatorRssMiB: m?.rssMiB,
          ...(text
            ? {
                operatorHeapTotalMiB: mib(text, 'vigil_operator_nodejs_heap_size_total_bytes'),
                operatorHeapUsedMiB: mib(text, 'vigil_operator_nodejs_heap_size_used_bytes'),
                operatorExternalMiB: mib(text, 'vigil_operator_nodejs_external_memory_bytes'),
              }
            : {}),
          cpuS: Object.fromEntries(processes.map(([name], i) => [name, Math.round(((cpu[i] ?? NaN) - (cpuBefore[i] ?? NaN)) * 100) / 100])),
        }),
      );
    }, 1000);
    const applyPromise = applyBurst(stack.cluster, set.objects, join(stack.dir, 'burst.yaml'));
    const lastJob = jobOf(set.last);
    let lastJobLoadedMs: number | undefined;
    let allAppliedMs: number | undefined;
    let applyMs: number | undefined;
    void applyPromise.then((r) => (applyMs = r.ms));
    let lastReport = 0;
    let lastJobPoll = 0;
    while (allAppliedMs === undefined) {
      if (Date.now() - started > TIMEOUT_MS) throw new Error(`not all ConfigApplied after ${seconds(TIMEOUT_MS)}`);
      if (!stack.operator.isRunning()) throw new Error(`the operator exited:\n${stack.logs(40)}`);
      // Every 2 s is enough (the list has every job: 2,000 names).
      if (lastJobLoadedMs === undefined && Date.now() - lastJobPoll >= 2000) {
        lastJobPoll = Date.now();
        if ((await scrapePools(stack.prometheus.url).catch(() => [] as string[])).includes(lastJob)) lastJobLoadedMs = Date.now() - started;
      }
      const p = ms.progress;
      if (p.created === services && p.applied === services) allAppliedMs = Date.now() - started;
      else if (Date.now() - lastReport > 15_000) {
        lastReport = Date.now();
        console.log(`  ${seconds(Date.now() - started)}: ${p.created} created, ${p.applied} ConfigApplied=True, ${p.statusWrites} status writes`);
      }
      await sleep(200);
    }
    const cpuAtApplied = await cpuAt();
    clearInterval(sampler);
    await applyPromise;
    // Let trailing annotation patches land before counting.
    await sleep(3000);
    const loadAfter = await loadAverage();
    const rejectedAfter = await apiServerRejections(stack);

    const after = {
      prom: await metricValue(promSyncMetrics, reloadSeries),
      am: await metricValue(amSyncMetrics, reloadSeries),
      promFailed: await metricValue(promSyncMetrics, failedSeries),
      amFailed: await metricValue(amSyncMetrics, failedSeries),
    };
    const reconciles = {
      count: (await metricSum(operatorMetrics, 'vigil_reconcile_duration_seconds_count')) - reconcilesBefore.count,
      sum: (await metricSum(operatorMetrics, 'vigil_reconcile_duration_seconds_sum')) - reconcilesBefore.sum,
    };
    const operatorWrites = {
      cm: await metricValue(operatorMetrics, 'vigil_config_writes_total{object="configmap"}'),
      secret: await metricValue(operatorMetrics, 'vigil_config_writes_total{object="secret"}'),
    };

    // The parts of "last object created → all ConfigApplied=True", from the logs' timestamps (same clock).
    const t0 = ms.progress.lastCreatedAt ?? started;
    const after0 = (at: number | undefined) => (at !== undefined && Number.isFinite(at) ? seconds(at - t0) : 'n/a');
    const promWrites = (await logLines(stack.vigilLogs.operator, 'wrote Prometheus config')).filter((l) => l.at >= started);
    const amWrites = (await logLines(stack.vigilLogs.operator, 'wrote Alertmanager config')).filter((l) => l.at >= started);
    const fullWrite = promWrites.find((l) => l.services === services);
    const lastPromWrite = promWrites.at(-1);
    const lastAmWrite = amWrites.at(-1);
    const promConfirms = (await logLines(stack.vigilLogs.prometheusSync, 'config reloaded and confirmed')).filter((l) => l.at >= started);
    const amConfirms = (await logLines(stack.vigilLogs.alertmanagerSync, 'config reloaded and confirmed')).filter((l) => l.at >= started);
    const promFinal = promConfirms.find((l) => l.hash === lastPromWrite?.hash);
    const amFinal = amConfirms.find((l) => l.hash === lastAmWrite?.hash);
    const loads = (await prometheusLoads(join(stack.dir, 'prometheus', 'prometheus.log'))).filter((l) => l.at >= started);
    const finalLoad = loads.at(-1);
    const retries = (await logLines(stack.vigilLogs.operator, 'reconcile failed; retrying')).filter((l) => l.at >= started);
    const statusReady = Math.max(promFinal?.at ?? NaN, amFinal?.at ?? NaN);

    const cpuRows: Array<[string, string]> = processes.map(([name], i) => {
      const b = cpuBefore[i];
      const a = cpuAtApplied[i];
      return [`CPU s: ${name}`, b !== undefined && a !== undefined ? `${(a - b).toFixed(1)} s` : 'n/a'];
    });
    const memory: Array<[string, string, number | undefined]> = [];
    for (const [name, pid] of processes.slice(0, 5)) {
      const m = pid ? await memoryOf(pid) : undefined;
      memory.push([`${name} peak RSS (VmHWM)`, m ? `${m.peakMiB.toFixed(0)} MiB (now ${m.rssMiB.toFixed(0)} MiB)` : 'n/a', m?.peakMiB]);
    }
    const c = cm.writes;
    const s = secret.writes;
    const rows: Array<[string, string]> = [
      ['load average (1/5/15 min) before, after', `${loadBefore}; ${loadAfter}`],
      ['operator Node flags (NODE_OPTIONS added)', operatorNodeOptions ?? 'none'],
      ['scrape / evaluation interval', `${intervals.scrapeInterval} / ${intervals.evaluationInterval}`],
      ['kubectl apply (client side, sequential)', applyMs !== undefined ? seconds(applyMs) : 'n/a'],
      ['last object created (watch) after', ms.progress.lastCreatedAt !== undefined ? seconds(ms.progress.lastCreatedAt - started) : 'n/a'],
      ["Prometheus runs the last service's job after", lastJobLoadedMs !== undefined ? seconds(lastJobLoadedMs) : 'n/a'],
      [`all ${services} ConfigApplied=True after`, seconds(allAppliedMs)],
      // Issue #13's target: within 20 s of the last apply reaching the API server.
      ['LAST CREATED → ALL ConfigApplied=True', seconds(started + allAppliedMs - t0)],
      ['  operator wrote the config with every service', after0(fullWrite?.at)],
      ['  operator wrote its last Prometheus / Alertmanager config', `${after0(lastPromWrite?.at)} / ${after0(lastAmWrite?.at)}`],
      ['  Prometheus sidecar confirmed that config', `${after0(promFinal?.at)}${promFinal ? ` (reload + confirmation ${seconds(Number(promFinal.durationMs))})` : ''}`],
      ['  Prometheus: that reload (rules part / total)', finalLoad ? `${finalLoad.rulesS.toFixed(1)} s / ${finalLoad.totalS.toFixed(1)} s` : 'n/a'],
      ['  Alertmanager sidecar confirmed its config', `${after0(amFinal?.at)}${amFinal ? ` (reload + confirmation ${seconds(Number(amFinal.durationMs))})` : ''}`],
      ['  status writes after both confirmations', Number.isFinite(statusReady) ? seconds(started + allAppliedMs - statusReady) : 'n/a'],
      [
        'operator reconciles (incl. their status writes)',
        `${reconciles.count} taking ${reconciles.sum.toFixed(1)} s in all; ${retries.length} failed and retried${retries[0] ? ` (first: ${String(retries[0].error)})` : ''}`,
      ],
      ['MonitoredService status writes (watch)', `${ms.progress.statusWrites}`],
      [
        'API server: rejected by priority and fairness / 429 answers',
        `${rejectedAfter.rejected - rejectedBefore.rejected} / ${rejectedAfter.tooMany - rejectedBefore.tooMany}${Object.entries(rejectedAfter.byFlow)
          .map(([flow, n]) => [flow, n - (rejectedBefore.byFlow[flow] ?? 0)] as const)
          .filter(([, n]) => n > 0)
          .map(([flow, n]) => ` ${flow}: ${n}`)
          .join(',')}`,
      ],
      ...cpuRows,
      ['ConfigMap writes (resourceVersion changes)', `${c.versions} = ${c.contentWrites} content (operator) + ${c.annotationPatches} annotation patches (sidecar)`],
      ['partition ConfigMap writes (resourceVersion changes)', `${partitions.writes.versions} to ${partitions.writes.objects.size} partition objects`],
      ['Secret writes (resourceVersion changes)', `${s.versions} = ${s.contentWrites} content (operator) + ${s.annotationPatches} annotation patches (sidecar)`],
      ['operator vigil_config_writes_total (whole run)', `configmap ${operatorWrites.cm}, secret ${operatorWrites.secret}`],
      [
        'Prometheus reloads (vigil_sync_reloads_total)',
        `${after.prom - before.prom} ok, ${after.promFailed - before.promFailed} failed; Prometheus loads: ${loads.map((l) => l.totalS.toFixed(1)).join(', ')} s`,
      ],
      ['Alertmanager reloads (vigil_sync_reloads_total)', `${after.am - before.am} ok, ${after.amFailed - before.amFailed} failed`],
      ['ConfigMap stored as', `${c.lastForm}, ${c.lastStoredBytes} bytes`],
      ['Secret stored as', `${s.lastForm}, ${s.lastStoredBytes} bytes`],
      ...memory.map(([k, v]) => [k, v] as [string, string]),
    ];
    console.log(`\nbench-load: ${services} MonitoredServices in ${namespaceCount} namespaces, one burst\n`);
    console.log(table(rows));
    if (jsonOut) {
      await writeFile(jsonOut, `${JSON.stringify({ services, namespaces: namespaceCount, operatorNodeOptions: operatorNodeOptions ?? null, rows: Object.fromEntries(rows), series }, null, 1)}\n`);
      console.log(`wrote ${jsonOut}`);
      await plotSeries(jsonOut.replace(/\.json$/, '.svg'), series, `bench-load: ${services} MonitoredServices applied in one burst`);
    }
  } finally {
    if (sampler) clearInterval(sampler);
    for (const w of watches) w.stop();
    await stack.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench-load failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
