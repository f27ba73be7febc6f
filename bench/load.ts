// `make bench-load`: 2,000 MonitoredServices applied in one burst (one `kubectl apply -f` of a
// multi-document file) to the real programs: etcd + kube-apiserver, `vigil operator`, Prometheus
// 3.15 and Alertmanager 0.35 each fed by its `vigil sync` sidecar (test/hostile/stack.ts).
// Records and prints: writes of the generated ConfigMap/Secret (resourceVersion changes seen by a
// watch, split into content writes by the operator and annotation patches by the sidecars),
// reloads (the sidecars' vigil_sync_reloads_total), time until Prometheus runs the last service's
// job and until every MonitoredService is ConfigApplied=True, the operator's reconciles, CPU time
// of the operator and both sidecars during the burst (their process_cpu_seconds_total), and peak
// RSS (VmHWM) per process.
// Asserts nothing about time.
//
//   BENCH_SERVICES=2000 (default)   how many MonitoredServices
//   BENCH_NAMESPACES=20 (default)   spread over this many namespaces
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { sumSamples } from '../hack/local-stack/metrics.js';
import { ANNOTATIONS } from '../operator/controller/annotations.js';
import { BUNDLE_KEY } from '../operator/kube/config-bundle.js';
import { OBJECT_NAMES } from '../operator/rbac.js';
import { INSTALL_NS, startHostileStack, waitForConfigApplied, type HostileStack } from '../test/hostile/stack.js';
import { applyBurst, countConfigApplied, jobOf, scaleSet } from '../test/operator/scale.js';
import { loadedPrometheusJobs } from '../test/sync/servers.js';

const services = Number(process.env.BENCH_SERVICES ?? '2000');
const namespaceCount = Number(process.env.BENCH_NAMESPACES ?? '20');
if (!Number.isInteger(services) || services < 1 || services > 20_000) throw new Error(`BENCH_SERVICES must be an integer from 1 to 20000, got "${process.env.BENCH_SERVICES}"`);
if (!Number.isInteger(namespaceCount) || namespaceCount < 1 || namespaceCount > 200) throw new Error(`BENCH_NAMESPACES must be an integer from 1 to 200`);
const TIMEOUT_MS = 30 * 60_000;
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
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(/(\d+) kB/.exec(status.split('\n').find((l) => l.startsWith(`${field}:`)) ?? '')?.[1] ?? NaN);
    return { peakMiB: kb('VmHWM') / 1024, rssMiB: kb('VmRSS') / 1024 };
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

async function main(): Promise<void> {
  const set = scaleSet(services, namespaceCount);
  console.log(`starting the API server, operator, Prometheus, Alertmanager and both sync sidecars ...`);
  const stack: HostileStack = await startHostileStack({ namespaces: set.namespaces });
  const watches: Array<{ stop(): void }> = [];
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(stack.cluster.kubeconfigPath);
    const [operatorMetrics, promSyncMetrics, amSyncMetrics] = stack.metricsUrls as [string, string, string];
    // The empty config must be in place first, so the burst is all that is measured.
    await waitForConfigApplied(stack);
    const cm = await countWrites(kc, 'configmaps', OBJECT_NAMES.prometheusConfigMap);
    const secret = await countWrites(kc, 'secrets', OBJECT_NAMES.alertmanagerSecret);
    watches.push(cm, secret);
    const reloadSeries = 'vigil_sync_reloads_total{result="success"}';
    const failedSeries = 'vigil_sync_reloads_total{result="failure"}';
    const cpuBefore = {
      operator: await metricSum(operatorMetrics, 'vigil_operator_process_cpu_seconds_total'),
      prom: await metricSum(promSyncMetrics, 'vigil_sync_process_cpu_seconds_total'),
      am: await metricSum(amSyncMetrics, 'vigil_sync_process_cpu_seconds_total'),
    };
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

    console.log(`applying ${services} MonitoredServices in ${namespaceCount} namespaces with one kubectl apply ...`);
    const started = Date.now();
    const applyPromise = applyBurst(stack.cluster, set.objects, join(stack.dir, 'burst.yaml'));
    const lastJob = jobOf(set.last);
    let lastJobLoadedMs: number | undefined;
    let allAppliedMs: number | undefined;
    let applyMs: number | undefined;
    void applyPromise.then((r) => (applyMs = r.ms));
    let lastReport = 0;
    while (allAppliedMs === undefined) {
      if (Date.now() - started > TIMEOUT_MS) throw new Error(`not all ConfigApplied after ${seconds(TIMEOUT_MS)}`);
      if (!stack.operator.isRunning()) throw new Error(`the operator exited:\n${stack.logs(40)}`);
      if (lastJobLoadedMs === undefined && (await loadedPrometheusJobs(stack.prometheus.url).catch(() => [] as string[])).includes(lastJob)) {
        lastJobLoadedMs = Date.now() - started;
      }
      if (applyMs !== undefined) {
        const c = await countConfigApplied(stack.cluster);
        if (c.total === services && c.true === services) allAppliedMs = Date.now() - started;
        else if (Date.now() - lastReport > 15_000) {
          lastReport = Date.now();
          console.log(`  ${seconds(Date.now() - started)}: ${c.true}/${services} ConfigApplied=True`);
        }
      }
      await sleep(1000);
    }
    await applyPromise;
    // Let trailing annotation patches land before counting.
    await sleep(3000);

    const after = {
      prom: await metricValue(promSyncMetrics, reloadSeries),
      am: await metricValue(amSyncMetrics, reloadSeries),
      promFailed: await metricValue(promSyncMetrics, failedSeries),
      amFailed: await metricValue(amSyncMetrics, failedSeries),
    };
    const cpu = {
      operator: (await metricSum(operatorMetrics, 'vigil_operator_process_cpu_seconds_total')) - cpuBefore.operator,
      prom: (await metricSum(promSyncMetrics, 'vigil_sync_process_cpu_seconds_total')) - cpuBefore.prom,
      am: (await metricSum(amSyncMetrics, 'vigil_sync_process_cpu_seconds_total')) - cpuBefore.am,
    };
    const reconciles = {
      count: (await metricSum(operatorMetrics, 'vigil_reconcile_duration_seconds_count')) - reconcilesBefore.count,
      sum: (await metricSum(operatorMetrics, 'vigil_reconcile_duration_seconds_sum')) - reconcilesBefore.sum,
    };
    const operatorWrites = {
      cm: await metricValue(operatorMetrics, 'vigil_config_writes_total{object="configmap"}'),
      secret: await metricValue(operatorMetrics, 'vigil_config_writes_total{object="secret"}'),
    };
    const promLoad = /totalDuration=(\S+)/.exec(
      (await readFile(join(stack.dir, 'prometheus', 'prometheus.log'), 'utf8'))
        .split('\n')
        .filter((l) => l.includes('Completed loading of configuration file'))
        .at(-1) ?? '',
    )?.[1];
    const processes: Array<[string, number | undefined]> = [
      ['vigil operator', stack.operator.pid],
      ['vigil sync (Prometheus)', await pidByCmdline(`--dir=${stack.prometheus.configDir}`)],
      ['vigil sync (Alertmanager)', await pidByCmdline(`--dir=${stack.alertmanager.configDir}`)],
      ['Prometheus 3.15', stack.prometheus.process.pid],
      ['Alertmanager 0.35', stack.alertmanager.process.pid],
    ];
    const memory: Array<[string, string]> = [];
    for (const [name, pid] of processes) {
      const m = pid ? await memoryOf(pid) : undefined;
      memory.push([`${name} peak RSS (VmHWM)`, m ? `${m.peakMiB.toFixed(0)} MiB (now ${m.rssMiB.toFixed(0)} MiB)` : 'n/a']);
    }
    const c = cm.writes;
    const s = secret.writes;
    console.log(`\nbench-load: ${services} MonitoredServices in ${namespaceCount} namespaces, one burst\n`);
    console.log(
      table([
        ['kubectl apply (client side, sequential)', applyMs !== undefined ? seconds(applyMs) : 'n/a'],
        ["Prometheus runs the last service's job after", lastJobLoadedMs !== undefined ? seconds(lastJobLoadedMs) : 'n/a'],
        [`all ${services} ConfigApplied=True after`, seconds(allAppliedMs)],
        // Issue #13's target: within 20 s of the last apply reaching the API server (kubectl returns after its last request).
        ['  of which after kubectl apply returned', applyMs !== undefined ? seconds(allAppliedMs - applyMs) : 'n/a'],
        ['  of which after Prometheus ran the last job', lastJobLoadedMs !== undefined ? seconds(allAppliedMs - lastJobLoadedMs) : 'n/a'],
        ['operator reconciles (incl. their status writes)', `${reconciles.count} taking ${reconciles.sum.toFixed(1)} s in all`],
        ['CPU time during the burst', `operator ${cpu.operator.toFixed(1)} s, Prometheus sync ${cpu.prom.toFixed(1)} s, Alertmanager sync ${cpu.am.toFixed(1)} s`],
        ['ConfigMap writes (resourceVersion changes)', `${c.versions} = ${c.contentWrites} content (operator) + ${c.annotationPatches} annotation patches (sidecar)`],
        ['Secret writes (resourceVersion changes)', `${s.versions} = ${s.contentWrites} content (operator) + ${s.annotationPatches} annotation patches (sidecar)`],
        ['operator vigil_config_writes_total (whole run)', `configmap ${operatorWrites.cm}, secret ${operatorWrites.secret}`],
        ['Prometheus reloads (vigil_sync_reloads_total)', `${after.prom - before.prom} ok, ${after.promFailed - before.promFailed} failed`],
        ['Alertmanager reloads (vigil_sync_reloads_total)', `${after.am - before.am} ok, ${after.amFailed - before.amFailed} failed`],
        ['last Prometheus reload took', promLoad ?? 'n/a'],
        ['ConfigMap stored as', `${c.lastForm}, ${c.lastStoredBytes} bytes`],
        ['Secret stored as', `${s.lastForm}, ${s.lastStoredBytes} bytes`],
        ...memory,
      ]),
    );
  } finally {
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
