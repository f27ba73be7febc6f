// Measures what a Prometheus config costs to discover and scrape a workload (issue #13): a fresh
// etcd + kube-apiserver (hack/local-stack/cluster.ts), the workload's Services and FQDN
// EndpointSlices applied as real objects, one small loopback HTTP server answering every target
// (distinct host names on one listener are distinct targets), and the shipped Prometheus
// (bin/prometheus, through hack/local-stack/components.ts with the host names in its private hosts
// file). Everything listens on 127.0.0.1; every process is stopped by PID in `finally`, also when
// the run fails or is interrupted (SIGINT/SIGTERM).
//
// Phases of one run (measureDiscovery):
//   start     Prometheus starts with the config; the namespaces and the Pods exist (applied
//             now), the Services and EndpointSlices do not yet
//   discovery kubectl apply of every Service + EndpointSlice → until every target is up
//   steady    nothing changes for steadyMs: scraping and idle discovery
//   churn     rounds of EndpointSlice updates (one endpoint per touched Service flips ready), as
//             rolling updates do, then everything ready again
// Figures per phase: Prometheus CPU seconds (/proc/<pid>/stat), RSS (/proc/<pid>/status), the
// deltas of prometheus_sd_kubernetes_* and prometheus_target_sync_length_seconds, and at the end
// the watches the API server serves (apiserver_longrunning_requests{verb="WATCH"}, minus those
// open before Prometheus started) and the active targets.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../../hack/local-stack/cluster.js';
import { startPrometheus, type Prometheus } from '../../hack/local-stack/components.js';
import { freePorts, getJson, pollUntil, sleep } from '../../hack/local-stack/net.js';
import {
  cpuSecondsFromStat,
  discoveryWorkload,
  endpointSlice,
  memoryFromStatus,
  pointKubernetesSdAt,
  sdBlockCounts,
  WORKLOAD_HOST_SUFFIX,
  workloadHostsLines,
  workloadObjects,
  workloadPods,
  workloadTargets,
  type Workload,
  type WorkloadOptions,
} from './workload.js';
import { sumBy, sumsByPrefix } from '../../hack/local-stack/metrics.js';

export interface ChurnOptions {
  /** Rounds of updates. */
  rounds: number;
  /** Services whose EndpointSlice each round updates. */
  servicesPerRound: number;
  /** Pause between rounds. */
  intervalMs: number;
}

export interface DiscoveryRunOptions {
  /** Shown in logs and results (e.g. "per-job selectors"). */
  name: string;
  workload: Omit<WorkloadOptions, 'targetPort'>;
  /**
   * The Prometheus config (YAML text) for this workload. Its kubernetes_sd_configs blocks are
   * pointed at the harness's API server by pointKubernetesSdAt (any api_server/credentials in it
   * are replaced), so a config written for in-cluster discovery works unchanged. Receives the
   * workload (names, namespaces, target port) it has to scrape.
   */
  prometheusConfig: (workload: Workload) => string;
  /** Targets the config has besides the workload's (e.g. a self-scrape job); default 0. */
  otherTargets?: number;
  /** Time scrape targets must all be up within (default 10 min). */
  timeoutMs?: number;
  /** Length of the steady phase (default 60 s). */
  steadyMs?: number;
  /** Churn phase; undefined skips it. */
  churn?: ChurnOptions;
  /**
   * Checks the active targets once all are up (e.g. tenancy: each job's targets belong to its own
   * namespace and Service); returns problems, which fail the run.
   */
  checkTargets?: (targets: ActiveTarget[], workload: Workload) => string[];
  /** Extra Prometheus flags. */
  prometheusArgs?: string[];
  /** Progress messages; default console.error with the run's name. */
  log?: (message: string) => void;
}

/** One active target of Prometheus's /api/v1/targets. */
export interface ActiveTarget {
  scrapePool: string;
  labels: Record<string, string>;
  health: string;
}

/** Deltas over one phase. */
export interface PhaseFigures {
  wallSeconds: number;
  /** Prometheus process, user + system. */
  cpuSeconds: number;
  /** VmRSS at the end of the phase. */
  rssMiB: number;
  /** Sum over scrape pools of prometheus_target_sync_length_seconds: the phase's time re-syncing (relabelling) targets, and how many syncs. */
  targetSyncSeconds: number;
  targetSyncs: number;
  /** Deltas of every prometheus_sd_kubernetes_* metric (summed over labels). */
  sdKubernetes: Record<string, number>;
}

export interface DiscoveryMeasurement {
  name: string;
  services: number;
  namespaces: number;
  targets: number;
  /** kubernetes_sd_configs blocks in the config, and distinct ones (Prometheus: one provider each). */
  sdBlocks: { blocks: number; distinct: number };
  configBytes: number;
  /** `kubectl apply` of every Service and EndpointSlice. */
  applySeconds: number;
  /** From the end of that apply until every target was up (up == 1). */
  applyToAllUpSeconds: number;
  /** From the end of that apply until the scrape pools held every target (prometheus_target_scrape_pool_targets). */
  applyToAllDiscoveredSeconds: number;
  /** From the start of that apply until Prometheus's first target was up. */
  applyToFirstUpSeconds: number;
  start: PhaseFigures;
  discovery: PhaseFigures;
  steady: PhaseFigures;
  churn?: PhaseFigures & { updates: number };
  /** VmHWM of Prometheus at the end of the run. */
  peakRssMiB: number;
  /** Watches the API server serves because of Prometheus: total and per resource (after all targets are up). */
  apiServerWatches: { total: number; byResource: Record<string, number> };
  /** Scrape pools and active targets (Prometheus's /api/v1/targets) once all were up. */
  scrapePools: number;
  activeTargets: number;
  loadAverage: { before: number[]; after: number[] };
}

interface Snapshot {
  at: number;
  cpuSeconds: number;
  rssMiB: number;
  peakRssMiB: number;
  metrics: Record<string, number>;
}

/** The loopback server behind every target: any path answers a tiny text exposition. */
async function startTargetServer(port: number): Promise<{ server: Server; scrapes: () => number }> {
  let scrapes = 0;
  const body = '# HELP bench_target_info A discovery-benchmark target.\n# TYPE bench_target_info gauge\nbench_target_info 1\n';
  const server = createServer((_req, res) => {
    scrapes++;
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(body);
  });
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return { server, scrapes: () => scrapes };
}

async function snapshot(prometheus: Prometheus): Promise<Snapshot> {
  const pid = prometheus.process.pid;
  const [stat, status, text] = await Promise.all([
    readFile(`/proc/${pid}/stat`, 'utf8'),
    readFile(`/proc/${pid}/status`, 'utf8'),
    (await fetch(`${prometheus.url}/metrics`, { signal: AbortSignal.timeout(30_000) })).text(),
  ]);
  return {
    at: Date.now(),
    cpuSeconds: cpuSecondsFromStat(stat),
    ...memoryFromStatus(status),
    metrics: { ...sumsByPrefix(text, 'prometheus_sd_kubernetes_'), ...sumsByPrefix(text, 'prometheus_target_sync_length_seconds') },
  };
}

function phase(a: Snapshot, b: Snapshot): PhaseFigures {
  const d = (name: string) => (b.metrics[name] ?? 0) - (a.metrics[name] ?? 0);
  const sd = Object.fromEntries(
    Object.keys(b.metrics)
      .filter((k) => k.startsWith('prometheus_sd_kubernetes_'))
      .map((k) => [k, d(k)]),
  );
  return {
    wallSeconds: (b.at - a.at) / 1000,
    cpuSeconds: b.cpuSeconds - a.cpuSeconds,
    rssMiB: b.rssMiB,
    targetSyncSeconds: d('prometheus_target_sync_length_seconds_sum'),
    targetSyncs: d('prometheus_target_sync_length_seconds_count'),
    sdKubernetes: sd,
  };
}

/** Waits (at most 5 min) until Prometheus used less than 0.1 CPU seconds in 2 s: discovery has nothing left to process. */
async function settle(prometheus: Prometheus): Promise<void> {
  const cpu = async () => cpuSecondsFromStat(await readFile(`/proc/${prometheus.process.pid}/stat`, 'utf8'));
  await sleep(2000);
  let last = await cpu();
  await pollUntil(
    'Prometheus to idle',
    5 * 60_000,
    async () => {
      const now = await cpu();
      const idle = now - last < 0.1;
      last = now;
      return idle;
    },
    { intervalMs: 2000 },
  );
}

/** Watches served by the API server, per resource (its own /metrics). */
async function apiServerWatches(cluster: Cluster): Promise<Record<string, number>> {
  const text = await cluster.kubectl(['get', '--raw', '/metrics'], { timeoutMs: 120_000 });
  return sumBy(text, 'apiserver_longrunning_requests', 'resource', { verb: 'WATCH' });
}

/** PromQL instant query → the single value of a scalar-like result (0 when empty). */
async function queryValue(prometheusUrl: string, query: string): Promise<number> {
  const r = await getJson<{ data: { result: Array<{ value: [number, string] }> } }>(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`, 30_000);
  return Number(r.data.result[0]?.value[1] ?? 0);
}

async function activeTargets(prometheusUrl: string): Promise<ActiveTarget[]> {
  const r = await getJson<{ data: { activeTargets: ActiveTarget[] } }>(`${prometheusUrl}/api/v1/targets?state=active`, 120_000);
  return r.data.activeTargets.map((t) => ({ scrapePool: t.scrapePool, labels: t.labels, health: t.health }));
}

/** Applies objects server-side in chunks (one kubectl per chunk; a 2,000-object List is fine, but a busy machine is not). */
async function applyAll(cluster: Cluster, objects: object[], fieldManager: string): Promise<void> {
  for (let i = 0; i < objects.length; i += 500) {
    await cluster.kubectl(['apply', '--server-side', '--force-conflicts', `--field-manager=${fieldManager}`, '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects.slice(i, i + 500) }),
      timeoutMs: 15 * 60_000,
    });
  }
}

const diff = (a: Record<string, number>, b: Record<string, number>): Record<string, number> =>
  Object.fromEntries<number>([...new Set([...Object.keys(a), ...Object.keys(b)])].map((k): [string, number] => [k, (b[k] ?? 0) - (a[k] ?? 0)]).filter(([, v]) => v !== 0));

/**
 * One measured run (see the header for its phases), in a fresh cluster that is gone afterwards.
 * Throws (after stopping everything) when Prometheus or the API server fails, when not every
 * target is up within timeoutMs, or when checkTargets reports problems.
 */
export async function measureDiscovery(o: DiscoveryRunOptions): Promise<DiscoveryMeasurement> {
  const log = o.log ?? ((m: string) => console.error(`[${o.name}] ${m}`));
  const loadBefore = loadavg();
  const dir = await mkdtemp(join(tmpdir(), 'vigil-bench-discovery-'));
  const cleanups: Array<() => Promise<unknown>> = [];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) await c().catch((err: Error) => console.error(`cleanup: ${err.message}`));
    cleanups.length = 0;
    await rm(dir, { recursive: true, force: true });
  };
  // Interrupted runs must not leave servers behind (process.ts's exit hook does not run on signals).
  const onSignal = (signal: NodeJS.Signals) => {
    void cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const [targetPort, prometheusPort] = (await freePorts(2)) as [number, number];
    const workload = discoveryWorkload({ ...o.workload, targetPort });
    const expected = workloadTargets(workload);
    const target = await startTargetServer(targetPort);
    cleanups.push(
      () =>
        new Promise((r) => {
          target.server.closeAllConnections();
          target.server.close(r);
        }),
    );

    log('starting etcd + kube-apiserver');
    const cluster = await startCluster({ crdDir: null });
    cleanups.push(() => cluster.stop());
    for (const ns of workload.namespaces) await cluster.ensureNamespace(ns);

    const config = pointKubernetesSdAt(o.prometheusConfig(workload), { kubeconfigFile: cluster.kubeconfigPath });
    const watchesBefore = await apiServerWatches(cluster);

    log(`starting Prometheus (${expected} targets expected, config ${config.length} bytes)`);
    const promDir = join(dir, 'prometheus');
    await mkdir(join(promDir, 'config'), { recursive: true });
    await writeFile(join(promDir, 'config', 'prometheus.yml'), config);
    const startedAt = Date.now();
    const prometheus = await startPrometheus({ dir: promDir, port: prometheusPort, extraHosts: workloadHostsLines(workload), extraArgs: o.prometheusArgs ?? [] });
    cleanups.push(() => prometheus.process.stop(10_000));
    const comm = (await readFile(`/proc/${prometheus.process.pid}/comm`, 'utf8')).trim();
    if (comm !== 'prometheus') throw new Error(`PID ${prometheus.process.pid} runs ${comm}, not prometheus: CPU figures would be wrong`);
    const pods = workloadPods(workload);
    if (pods.length > 0) {
      log(`applying ${pods.length} Pods`);
      await applyAll(cluster, pods, 'vigil-bench');
    }
    // The SD providers' initial lists and the Pods reaching every pod cache must be over before
    // the slices come (a pod arriving after its slice never gets attached): wait until Prometheus idles.
    await settle(prometheus);
    const zero: Snapshot = { at: startedAt, cpuSeconds: 0, rssMiB: 0, peakRssMiB: 0, metrics: {} };
    const s1 = await snapshot(prometheus);

    log(`applying ${workload.services.length} Services + EndpointSlices`);
    const upQuery = `count(up{instance=~".*${WORKLOAD_HOST_SUFFIX.replaceAll('.', '[.]')}:[0-9]+"} == 1)`;
    const applyStart = Date.now();
    let firstUpAt = 0;
    let discoveredAt = 0;
    const firstUpWatch = (async () => {
      while (firstUpAt === 0 && prometheus.process.isRunning()) {
        if ((await queryValue(prometheus.url, upQuery).catch(() => 0)) > 0) firstUpAt = Date.now();
        else await sleep(250);
      }
    })();
    // Discovered = in a scrape pool after relabelling (before the first scrape, which waits for the
    // target's offset within its interval).
    const discoveredWatch = (async () => {
      while (discoveredAt === 0 && prometheus.process.isRunning()) {
        const text = await fetch(`${prometheus.url}/metrics`, { signal: AbortSignal.timeout(30_000) })
          .then((r) => r.text())
          .catch(() => '');
        if ((sumsByPrefix(text, 'prometheus_target_scrape_pool_targets').prometheus_target_scrape_pool_targets ?? 0) >= expected + (o.otherTargets ?? 0)) discoveredAt = Date.now();
        else await sleep(1000);
      }
    })();
    await applyAll(cluster, workloadObjects(workload), 'vigil-bench');
    const applyEnd = Date.now();
    log(`applied in ${((applyEnd - applyStart) / 1000).toFixed(1)} s; waiting for ${expected} targets up`);
    await pollUntil(`all ${expected} targets up (${o.name})`, o.timeoutMs ?? 10 * 60_000, async () => (await queryValue(prometheus.url, upQuery)) >= expected, {
      intervalMs: 500,
      check: () => {
        if (!prometheus.process.isRunning()) throw new Error(`Prometheus exited; see ${prometheus.process.logFile}`);
      },
    });
    const allUpAt = Date.now();
    await firstUpWatch;
    await pollUntil('the scrape pools to hold every target', 60_000, async () => discoveredAt > 0 || undefined);
    await discoveredWatch;
    const s2 = await snapshot(prometheus);
    log(`all up ${((allUpAt - applyEnd) / 1000).toFixed(1)} s after the apply`);

    const watchesAfter = diff(watchesBefore, await apiServerWatches(cluster));
    const targets = await activeTargets(prometheus.url);
    const ours = targets.filter((t) => (t.labels.instance ?? '').includes(WORKLOAD_HOST_SUFFIX));
    const problems = [...(ours.length !== expected ? [`${ours.length} active workload targets, expected ${expected}`] : []), ...(o.checkTargets?.(ours, workload) ?? [])];
    if (problems.length > 0) throw new Error(`${o.name}: ${problems.slice(0, 10).join('; ')}${problems.length > 10 ? ` (and ${problems.length - 10} more)` : ''}`);

    log(`steady for ${(o.steadyMs ?? 60_000) / 1000} s`);
    await sleep(o.steadyMs ?? 60_000);
    const s3 = await snapshot(prometheus);

    let churn: DiscoveryMeasurement['churn'];
    if (o.churn) {
      const c = o.churn;
      log(`churn: ${c.rounds} rounds of ${c.servicesPerRound} EndpointSlice updates every ${c.intervalMs} ms`);
      let updates = 0;
      for (let round = 0; round < c.rounds; round++) {
        // Rounds go in pairs over the same Services: the first marks their first endpoint not
        // ready, the second ready again; the last round always leaves everything ready.
        const first = Math.floor(round / 2) * c.servicesPerRound;
        const touched = Array.from({ length: c.servicesPerRound }, (_, i) => workload.services[(first + i) % workload.services.length]!);
        const notReady = round % 2 === 0 && round < c.rounds - 1;
        await applyAll(
          cluster,
          touched.map((s) => endpointSlice(workload, s, notReady)),
          'vigil-bench',
        );
        updates += touched.length;
        await sleep(c.intervalMs);
      }
      // Settle: the last updates reach the scrape manager (discovery updates are batched).
      await sleep(10_000);
      const s4 = await snapshot(prometheus);
      churn = { ...phase(s3, s4), updates };
    }
    const end = await snapshot(prometheus);
    const watchTotal = Object.values(watchesAfter).reduce((a, b) => a + b, 0);
    const result: DiscoveryMeasurement = {
      name: o.name,
      services: workload.services.length,
      namespaces: workload.namespaces.length,
      targets: expected,
      sdBlocks: sdBlockCounts(config),
      configBytes: Buffer.byteLength(config),
      applySeconds: (applyEnd - applyStart) / 1000,
      applyToAllUpSeconds: (allUpAt - applyEnd) / 1000,
      applyToAllDiscoveredSeconds: (discoveredAt - applyEnd) / 1000,
      applyToFirstUpSeconds: firstUpAt > 0 ? (firstUpAt - applyStart) / 1000 : Number.NaN,
      start: phase(zero, s1),
      discovery: phase(s1, s2),
      steady: phase(s2, s3),
      ...(churn ? { churn } : {}),
      peakRssMiB: end.peakRssMiB,
      apiServerWatches: { total: watchTotal, byResource: watchesAfter },
      scrapePools: new Set(targets.map((t) => t.scrapePool)).size,
      activeTargets: targets.length,
      loadAverage: { before: loadBefore, after: loadavg() },
    };
    log(`done: target server answered ${target.scrapes()} scrapes`);
    return result;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await cleanup();
  }
}
