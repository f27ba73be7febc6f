// `make bench-compare`: Vigil and prometheus-operator side by side, in one run, against one real etcd +
// kube-apiserver (issue #13, item 3). For each size N (BENCH_COMPARE_SIZES, default 10,100,1000):
//
//   1. N Services with one FQDN EndpointSlice each, all pointing at one small HTTP target on 127.0.0.1
//      (a host name per service, resolved to 127.0.0.1 through Prometheus's private hosts file).
//   2. Vigil: Prometheus 3 (bin/prometheus) fed by `vigil sync`, then `vigil operator`; one
//      `kubectl apply --server-side` of N MonitoredServices.
//   3. prometheus-operator v0.85.0 (bin/prometheus-operator): a Prometheus and an Alertmanager custom
//      resource first, then one `kubectl apply --server-side` of N ServiceMonitors + N PrometheusRules +
//      N AlertmanagerConfigs (bench/compare-objects.ts says how they are equivalent). No kubelet runs:
//      its StatefulSets never start, but it writes the generated Secrets and rule ConfigMaps. Its
//      config reaches Prometheus the way its config-reloader would hand it over once the kubelet has
//      updated the mounted Secret: the file is written and POST /-/reload sent as soon as the generated
//      objects hold all N services. The kubelet's volume delay is not waited for; the docs add it as a
//      modelled figure.
//
// Measured per operator and N: time from the apply to the generated configuration holding all N
// services (Prometheus config, rules, Alertmanager config), operator CPU seconds and peak RSS
// (/proc), generated sizes (uncompressed and stored); and for a real Prometheus (the same binary for
// both) loading that config: time until loaded and until all N targets are up, its CPU seconds
// (until all up, and in a steady window after), peak RSS, discovery metrics and the watches the API
// server serves for it. Prints tables, writes docs/benchmarks/compare.json and the plots. Asserts
// nothing about time.
//
//   BENCH_COMPARE_SIZES=10,100,1000   sizes, run in this order
//   BENCH_COMPARE_NAMESPACES=10       namespaces per size
//   BENCH_COMPARE_STEADY_S=30         steady window after all targets are up (Prometheus CPU per second)
//   BENCH_COMPARE_OUT=docs/benchmarks where compare.json and the SVGs go
//   BENCH_COMPARE_TOOLS=vigil,prometheus-operator   (development: one of them alone)
import { readSyncReport } from '../operator/controller/annotations.js';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { loadavg, cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { startCluster, type Cluster } from '../hack/local-stack/cluster.js';
import { BIN_DIR, startOperator, startPrometheus, startServerSync, type Prometheus } from '../hack/local-stack/components.js';
import { sumSamples } from '../hack/local-stack/metrics.js';
import { freePorts, pollUntil, sleep } from '../hack/local-stack/net.js';
import { startProcess, type ManagedProcess } from '../hack/local-stack/process.js';
import { installRbac, vigilKubeconfigs } from '../hack/local-stack/rbac.js';
import { ANNOTATIONS, OBJECT_NAMES } from '../operator/contract.js';
import type { GlobalSettings } from '../operator/render/types.js';
import { DEFAULT_SCRAPE_LIMIT_SETTINGS } from '../operator/render/scrape-limits.js';
import { filesFromConfigMap, filesFromSecret } from '../operator/sync/files.js';
import {
  compareSet,
  EVALUATION_INTERVAL,
  runnablePrometheusOperatorConfig,
  PO_NAME,
  prometheusOperatorInstances,
  prometheusOperatorObjects,
  SCRAPE_INTERVAL,
  SIZE_LABEL,
  targetObjects,
  vigilObjects,
  type CompareSet,
} from './compare-objects.js';
import { plotCompare } from './plot.js';
import { cpuSeconds, memoryOf } from './proc.js';
import { summary } from './stats.js';

const SIZES = (process.env.BENCH_COMPARE_SIZES ?? '10,100,1000').split(',').map((s) => Number(s.trim()));
const NAMESPACES = Number(process.env.BENCH_COMPARE_NAMESPACES ?? '10');
const STEADY_S = Number(process.env.BENCH_COMPARE_STEADY_S ?? '30');
const OUT_DIR = process.env.BENCH_COMPARE_OUT ?? 'docs/benchmarks';
const TOOLS = (process.env.BENCH_COMPARE_TOOLS ?? 'vigil,prometheus-operator').split(',').map((t) => t.trim());
for (const n of SIZES) if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new Error(`BENCH_COMPARE_SIZES: every size must be an integer from 1 to 10000, got "${process.env.BENCH_COMPARE_SIZES}"`);
if (!Number.isInteger(NAMESPACES) || NAMESPACES < 1 || NAMESPACES > 100) throw new Error(`BENCH_COMPARE_NAMESPACES must be an integer from 1 to 100`);
if (!Number.isFinite(STEADY_S) || STEADY_S < 5) throw new Error(`BENCH_COMPARE_STEADY_S must be at least 5 (seconds)`);

const PO_BIN = join(BIN_DIR, 'prometheus-operator');
const PO_CRDS = join(BIN_DIR, 'prometheus-operator-crds');
/** Generous: a loaded 2-core machine; nothing here asserts time, this only stops a stuck run. */
const STEP_TIMEOUT_MS = Number(process.env.BENCH_COMPARE_STEP_TIMEOUT_S ?? '1200') * 1000;
/** BENCH_COMPARE_DEBUG=1: keep the last generated prometheus-operator objects seen in the run dir (with VIGIL_KEEP_STACK=1). */
const DEBUG = process.env.BENCH_COMPARE_DEBUG === '1';

export type Tool = 'vigil' | 'prometheus-operator';

export interface CompareRow {
  tool: Tool;
  services: number;
  /** kubectl apply --server-side of the N (Vigil) or 3N (prometheus-operator) objects, wall seconds. */
  applyS: number;
  /** Apply start → the generated objects hold all N services: Prometheus config, rules, Alertmanager config. */
  writtenS: { prometheusConfig: number; rules: number; alertmanager: number; all: number };
  /** Operator CPU seconds (user + system) from the apply to `all` written, and to the end of the steady window. */
  operatorCpuS: { toWritten: number; toEnd: number };
  operatorPeakRssMiB: number;
  /** Generated Prometheus configuration incl. rule files, and the Alertmanager configuration, bytes. */
  sizes: { prometheusUncompressed: number; prometheusStored: number; alertmanagerUncompressed: number; alertmanagerStored: number; generatedObjects: number };
  /** Apply start → Prometheus runs all N jobs; → all N targets up (up == 1). Measured, no kubelet delay. */
  liveS: number;
  allUpS: number;
  prometheus: {
    /** CPU seconds from the apply until all targets up, and per second in the steady window after. */
    cpuToAllUpS: number;
    steadyCpuPerS: number;
    peakRssMiB: number;
    rssMiB: number;
    /** prometheus_sd_kubernetes_events_total (all roles, all events) from the apply to the end of the steady window. */
    sdEvents: number;
    /** prometheus_target_sync_length_seconds_sum over the same time (seconds spent syncing scrape pools). */
    targetSyncS: number;
    /** prometheus_sd_discovered_targets at the end (targets before relabelling, summed over jobs). */
    discoveredTargets: number;
    /** Watch requests the API server serves more than before the config was loaded (apiserver_longrunning_requests{verb="WATCH"}). */
    apiServerWatches: number;
    /** prometheus_config_last_reload_success... the reload's own duration (log "Completed loading of configuration file" totalDuration). */
    reloadDuration: string;
  };
}

// --- small helpers -----------------------------------------------------------------------------------

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const count = (text: string, re: RegExp) => text.match(re)?.length ?? 0;

async function metrics(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) });
  return res.text();
}

/** The instant vector of a PromQL query as one number (NaN when empty). */
export async function queryNumber(url: string, promql: string): Promise<number> {
  const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as { data?: { result?: Array<{ value: [number, string] }> } };
  const v = body.data?.result?.[0]?.value[1];
  return v === undefined ? NaN : Number(v);
}

/** API server watch requests in flight (all clients). */
async function apiServerWatches(cluster: Cluster): Promise<number> {
  return sumSamples(await cluster.kubectl(['get', '--raw', '/metrics']), 'apiserver_longrunning_requests', { verb: 'WATCH' });
}

/** One small metrics target on 127.0.0.1 serving every host name (each service scrapes its own host). */
export async function startTarget(port: number): Promise<Server> {
  let requests = 0;
  const server = createServer((_req, res) => {
    requests++;
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(`# HELP http_requests_total Requests served.\n# TYPE http_requests_total counter\nhttp_requests_total{code="200"} ${requests}\nhttp_requests_total{code="500"} 0\n`);
  });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(port, '127.0.0.1', () => res());
  });
  return server;
}

type KubeObject = {
  metadata: { name: string; resourceVersion: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
};

/**
 * Watches the objects of one kind in one namespace (optionally a label selector) and keeps the newest
 * version of each by name; `onChange` runs after every event with all of them. Stop with stop().
 */
async function watchObjects(kc: KubeConfig, path: string, labelSelector: string | undefined, onChange: (objects: Map<string, KubeObject>) => void): Promise<{ stop(): void }> {
  const objects = new Map<string, KubeObject>();
  let stopped = false;
  let controller: AbortController | undefined;
  const start = async (): Promise<void> => {
    if (stopped) return;
    controller = await new Watch(kc).watch(
      path,
      labelSelector ? { labelSelector } : {},
      (phase: string, obj: KubeObject) => {
        if (phase === 'DELETED') objects.delete(obj.metadata.name);
        else if (phase === 'ADDED' || phase === 'MODIFIED') objects.set(obj.metadata.name, obj);
        else return;
        onChange(objects);
      },
      () => {
        if (!stopped) setTimeout(() => void start(), 200);
      },
    );
  };
  await start();
  return {
    stop: () => {
      stopped = true;
      controller?.abort();
    },
  };
}

/**
 * Bytes an object's files take as stored, with their keys: a Secret's `data` and any `binaryData` are
 * base64 on the wire (decoded length counted), a ConfigMap's `data` is plain text (UTF-8 length).
 */
export function storedBytes(obj: KubeObject, kind: 'configmap' | 'secret'): number {
  const decoded = (v: string) => Buffer.from(v, 'base64').length;
  const data = Object.entries(obj.data ?? {}).reduce((n, [k, v]) => n + k.length + (kind === 'secret' ? decoded(v) : Buffer.byteLength(v)), 0);
  return data + Object.entries(obj.binaryData ?? {}).reduce((n, [k, v]) => n + k.length + decoded(v), 0);
}

/**
 * The operator settings of the comparison benchmarks: demo profile, the benchmark's intervals, SMTP
 * and Alertmanager on `noSmtpPort` (a free port nothing listens on: no Alertmanager runs and no email
 * is sent), discovery through `cluster` with Prometheus's kubeconfig, no self-scrape jobs.
 */
export function benchOperatorSettings(o: { cluster: Cluster; prometheusKubeconfig: string; prometheusUrl: string; noSmtpPort: number; clusterLabel: string }): GlobalSettings {
  return {
    profile: 'demo',
    scrapeInterval: SCRAPE_INTERVAL,
    evaluationInterval: EVALUATION_INTERVAL,
    smtp: { smarthost: `127.0.0.1:${o.noSmtpPort}`, from: 'vigil@vigil.localhost', hello: 'vigil.localhost', requireTls: false, tlsInsecureSkipVerify: true },
    defaultRecipients: ['oncall@vigil.localhost'],
    alertmanagerTargets: [`127.0.0.1:${o.noSmtpPort}`],
    prometheusUrl: o.prometheusUrl,
    alertmanagerUrl: `http://127.0.0.1:${o.noSmtpPort}`,
    rulesDir: '.',
    selfScrapeJobs: [],
    kubernetesSd: { apiServer: o.cluster.server, kubeconfigFile: o.prometheusKubeconfig },
    externalLabels: { cluster: o.clusterLabel },
    scrapeLimits: DEFAULT_SCRAPE_LIMIT_SETTINGS,
  };
}

/** Records the first time (ms after `t0`) each named condition holds. */
class Milestones {
  readonly at: Record<string, number> = {};
  constructor(private readonly t0: () => number) {}
  mark(name: string, holds: boolean): void {
    if (holds && this.at[name] === undefined) this.at[name] = Date.now() - this.t0();
  }
  async waitFor(names: string[], what: string, check: () => void): Promise<void> {
    try {
      await pollUntil(what, STEP_TIMEOUT_MS, async () => names.every((n) => this.at[n] !== undefined), { intervalMs: 100, check });
    } catch (err) {
      throw new Error(`${(err as Error).message}; reached: ${JSON.stringify(this.at)}`);
    }
  }
}

export function loadAverage(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

function alive(...procs: ManagedProcess[]): () => void {
  return () => {
    for (const p of procs) if (!p.isRunning()) throw new Error(`${p.name} exited (log: ${p.logFile})`);
  };
}

/** Polls Prometheus until all N targets are up; returns ms after t0. */
async function waitAllUp(prom: Prometheus, n: number, t0: number, check: () => void): Promise<number> {
  await pollUntil(`all ${n} targets up`, STEP_TIMEOUT_MS, async () => (await queryNumber(prom.url, 'count(up == 1)')) === n, { intervalMs: 500, check });
  return Date.now() - t0;
}

function lastReloadDuration(logText: string): string {
  const line = logText
    .split('\n')
    .filter((l) => l.includes('Completed loading of configuration file'))
    .at(-1);
  return /totalDuration=(\S+)/.exec(line ?? '')?.[1] ?? 'n/a';
}

interface PrometheusBaseline {
  cpu: number;
  sdEvents: number;
  targetSync: number;
  watches: number;
}

async function prometheusBaseline(prom: Prometheus, cluster: Cluster): Promise<PrometheusBaseline> {
  const m = await metrics(prom.url);
  return {
    cpu: await cpuSeconds(prom.process.pid),
    sdEvents: sumSamples(m, 'prometheus_sd_kubernetes_events_total'),
    targetSync: sumSamples(m, 'prometheus_target_sync_length_seconds_sum'),
    watches: await apiServerWatches(cluster),
  };
}

/** After all targets are up: the steady window, then Prometheus's figures relative to the baseline. */
async function prometheusFigures(prom: Prometheus, cluster: Cluster, base: PrometheusBaseline, cpuAtAllUp: number): Promise<CompareRow['prometheus']> {
  const watches = await apiServerWatches(cluster);
  await sleep(STEADY_S * 1000);
  const cpuEnd = await cpuSeconds(prom.process.pid);
  const m = await metrics(prom.url);
  const mem = await memoryOf(prom.process.pid);
  return {
    cpuToAllUpS: round(cpuAtAllUp - base.cpu),
    steadyCpuPerS: round((cpuEnd - cpuAtAllUp) / STEADY_S, 3),
    peakRssMiB: round(mem?.peakMiB ?? NaN, 0),
    rssMiB: round(mem?.rssMiB ?? NaN, 0),
    sdEvents: sumSamples(m, 'prometheus_sd_kubernetes_events_total') - base.sdEvents,
    targetSyncS: round(sumSamples(m, 'prometheus_target_sync_length_seconds_sum') - base.targetSync, 3),
    discoveredTargets: sumSamples(m, 'prometheus_sd_discovered_targets'),
    apiServerWatches: watches - base.watches,
    reloadDuration: lastReloadDuration(await readFile(join(prom.configDir, '..', 'prometheus.log'), 'utf8')),
  };
}

export async function applyServerSide(cluster: Cluster, dir: string, name: string, objects: object[]): Promise<number> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, objects.map((o) => stringify(o)).join('---\n'));
  const started = Date.now();
  await cluster.kubectl(['apply', '--server-side', '--field-manager=bench', '-f', file], { timeoutMs: STEP_TIMEOUT_MS });
  return Date.now() - started;
}

// --- Vigil -------------------------------------------------------------------------------------------

async function runVigil(cluster: Cluster, kc: KubeConfig, set: CompareSet, dir: string, hosts: string[]): Promise<CompareRow> {
  const n = set.size;
  const ns = `vigil-c${n}`;
  const runDir = join(dir, `vigil-${n}`);
  await mkdir(runDir, { recursive: true });
  await installRbac(cluster, ns);
  const kubeconfigs = await vigilKubeconfigs(cluster, ns);
  const [promPort, operatorPort, syncPort, noSmtpPort] = (await freePorts(4)) as [number, number, number, number];
  const started: ManagedProcess[] = [];
  const watches: Array<{ stop(): void }> = [];
  try {
    const prom = await startPrometheus({ dir: join(runDir, 'prometheus'), port: promPort, extraHosts: hosts });
    started.push(prom.process);
    const settings = benchOperatorSettings({ cluster, prometheusKubeconfig: kubeconfigs.prometheus, prometheusUrl: prom.url, noSmtpPort, clusterLabel: 'bench-compare' });
    const settingsFile = join(runDir, 'operator-settings.yaml');
    await writeFile(settingsFile, stringify(settings));
    const operator = await startOperator({
      logFile: join(runDir, 'operator.log'),
      kubeconfig: kubeconfigs.operator,
      namespace: ns,
      settingsFile,
      prometheusUrl: prom.url,
      listenPort: operatorPort,
      // The one-object layout: what the figures below were measured with, and what the watches read (prometheus.yml's jobs).
      configPartitions: false,
      extraArgs: [`--selector=${SIZE_LABEL}=${n}`],
    });
    started.push(operator);
    const sync = await startServerSync('prometheus', prom, { logDir: runDir, kubeconfig: kubeconfigs.prometheus, namespace: ns, listenPort: syncPort, partitions: false });
    started.push(sync);
    const check = alive(prom.process, operator, sync);
    // The empty config first, written and applied: the apply is all that is measured.
    await pollUntil(
      'the empty Vigil config applied',
      120_000,
      async () => {
        const a = JSON.parse((await cluster.kubectl(['get', 'configmap', OBJECT_NAMES.prometheusConfigMap, '-n', ns, '-o', 'jsonpath={.metadata.annotations}'])) || '{}') as Record<string, string>;
        return a[ANNOTATIONS.configHash] !== undefined && readSyncReport(a).appliedHash === a[ANNOTATIONS.configHash];
      },
      { intervalMs: 500, check },
    );

    let t0 = 0;
    const ms = new Milestones(() => t0);
    const sizes = { prometheusUncompressed: 0, prometheusStored: 0, alertmanagerUncompressed: 0, alertmanagerStored: 0, generatedObjects: 2 };
    watches.push(
      await watchObjects(kc, `/api/v1/namespaces/${ns}/configmaps`, undefined, (objs) => {
        const cm = objs.get(OBJECT_NAMES.prometheusConfigMap);
        if (!cm || t0 === 0 || ms.at.prometheusConfig !== undefined) return;
        const files = filesFromConfigMap(cm);
        const jobs = count(files['prometheus.yml'] ?? '', /^ {2}- job_name: vigil\//gm);
        const ruleFiles = Object.keys(files).filter((f) => f.endsWith('.rules.yaml') && f.startsWith('c')).length;
        if (jobs === n && ruleFiles === n) {
          sizes.prometheusUncompressed = Object.values(files).reduce((s, f) => s + Buffer.byteLength(f), 0);
          sizes.prometheusStored = storedBytes(cm, 'configmap');
        }
        ms.mark('prometheusConfig', jobs === n && ruleFiles === n);
        ms.mark('rules', jobs === n && ruleFiles === n);
      }),
    );
    watches.push(
      await watchObjects(kc, `/api/v1/namespaces/${ns}/secrets`, undefined, (objs) => {
        const s = objs.get(OBJECT_NAMES.alertmanagerSecret);
        if (!s || t0 === 0 || ms.at.alertmanager !== undefined) return;
        const files = filesFromSecret(s);
        // One route per recipient set (render/alertmanager.ts); every service here has its own owners.
        const routes = count(files['alertmanager.yml'] ?? '', /vigil_receiver="vigil-to:svc-\d+-team@example\.com"/g);
        if (routes === n) {
          sizes.alertmanagerUncompressed = Object.values(files).reduce((x, f) => x + Buffer.byteLength(f), 0);
          sizes.alertmanagerStored = storedBytes(s, 'secret');
        }
        ms.mark('alertmanager', routes === n);
      }),
    );

    const base = await prometheusBaseline(prom, cluster);
    const cpu0 = await cpuSeconds(operator.pid);
    console.log(`  vigil: applying ${n} MonitoredServices (load average ${loadAverage()})`);
    t0 = Date.now();
    const applyMs = await applyServerSide(
      cluster,
      runDir,
      'monitoredservices',
      set.targets.map((t) => vigilObjects(t, n)),
    );
    console.log(`  vigil: kubectl apply returned after ${(applyMs / 1000).toFixed(1)} s; written so far: ${JSON.stringify(ms.at)}`);
    await ms.waitFor(['prometheusConfig', 'alertmanager'], `Vigil's generated config with all ${n} services`, check);
    const cpuWritten = await cpuSeconds(operator.pid);
    const writtenAll = Math.max(ms.at.prometheusConfig ?? NaN, ms.at.alertmanager ?? NaN);
    // Vigil's own path to the running Prometheus: the sync sidecar writes the files and reloads.
    await pollUntil(
      `Prometheus running all ${n} Vigil jobs`,
      STEP_TIMEOUT_MS,
      async () => {
        const body = (await (await fetch(`${prom.url}/api/v1/status/config`)).json()) as { data: { yaml: string } };
        return count(body.data.yaml, /^- job_name: vigil\//gm) === n;
      },
      { intervalMs: 500, check },
    );
    const liveMs = Date.now() - t0;
    const allUpMs = await waitAllUp(prom, n, t0, check);
    const promCpuAllUp = await cpuSeconds(prom.process.pid);
    const promFigures = await prometheusFigures(prom, cluster, base, promCpuAllUp);
    const cpuEnd = await cpuSeconds(operator.pid);
    return {
      tool: 'vigil',
      services: n,
      applyS: round(applyMs / 1000),
      writtenS: {
        prometheusConfig: round((ms.at.prometheusConfig ?? NaN) / 1000),
        rules: round((ms.at.rules ?? NaN) / 1000),
        alertmanager: round((ms.at.alertmanager ?? NaN) / 1000),
        all: round(writtenAll / 1000),
      },
      operatorCpuS: { toWritten: round(cpuWritten - cpu0), toEnd: round(cpuEnd - cpu0) },
      operatorPeakRssMiB: round((await memoryOf(operator.pid))?.peakMiB ?? NaN, 0),
      sizes,
      liveS: round(liveMs / 1000),
      allUpS: round(allUpMs / 1000),
      prometheus: promFigures,
    };
  } finally {
    for (const w of watches) w.stop();
    for (const p of [...started].reverse()) await p.stop(5000);
  }
}

// --- prometheus-operator -----------------------------------------------------------------------------

async function runPrometheusOperator(cluster: Cluster, kc: KubeConfig, set: CompareSet, dir: string, hosts: string[]): Promise<CompareRow> {
  const n = set.size;
  const ns = `po-c${n}`;
  const runDir = join(dir, `po-${n}`);
  await mkdir(runDir, { recursive: true });
  await cluster.ensureNamespace(ns);
  const [promPort, operatorPort, noSmtpPort] = (await freePorts(3)) as [number, number, number];
  const started: ManagedProcess[] = [];
  const watches: Array<{ stop(): void }> = [];
  try {
    const prom = await startPrometheus({ dir: join(runDir, 'prometheus'), port: promPort, extraHosts: hosts });
    started.push(prom.process);
    await cluster.apply(prometheusOperatorInstances(ns, PROMETHEUS_VERSION), { fieldManager: 'bench' });
    const operator = startProcess(
      'prometheus-operator',
      PO_BIN,
      [`--namespaces=${[ns, ...set.namespaces].join(',')}`, `--web.listen-address=127.0.0.1:${operatorPort}`, '--log-level=info', '--kubelet-endpoints=false'],
      join(runDir, 'operator.log'),
      { ...process.env, KUBECONFIG: cluster.kubeconfigPath },
    );
    started.push(operator);
    const check = alive(prom.process, operator);
    const promSecret = `prometheus-${PO_NAME}`;
    const amSecret = `alertmanager-${PO_NAME}-generated`;
    await pollUntil(
      'prometheus-operator to write the (empty) generated Secrets',
      120_000,
      async () => {
        const r = await cluster.kubectlResult(['get', 'secret', promSecret, amSecret, '-n', ns, '-o', 'name']);
        return r.code === 0 && r.stdout.trim().split('\n').length === 2;
      },
      { intervalMs: 500, check },
    );

    let t0 = 0;
    const ms = new Milestones(() => t0);
    const sizes = { prometheusUncompressed: 0, prometheusStored: 0, alertmanagerUncompressed: 0, alertmanagerStored: 0, generatedObjects: 0 };
    let promYaml = '';
    let ruleFiles: Record<string, Record<string, string>> = {};
    let promConfigBytes = 0;
    let promConfigStored = 0;
    const finishPromSizes = () => {
      const ruleBytes = Object.values(ruleFiles).reduce((s, files) => s + Object.values(files).reduce((x, f) => x + Buffer.byteLength(f), 0), 0);
      sizes.prometheusUncompressed = promConfigBytes + ruleBytes;
    };
    let ruleStored = 0;
    watches.push(
      await watchObjects(kc, `/api/v1/namespaces/${ns}/secrets`, undefined, (objs) => {
        if (t0 === 0) return;
        const p = objs.get(promSecret);
        if (p && ms.at.prometheusConfig === undefined) {
          const text = gunzipSync(Buffer.from(p.data?.['prometheus.yaml.gz'] ?? '', 'base64')).toString('utf8');
          if (DEBUG) writeFileSync(join(runDir, 'last-prometheus.yaml'), text);
          if (count(text, /^- job_name: serviceMonitor\//gm) === n) {
            promYaml = text;
            promConfigBytes = Buffer.byteLength(text);
            promConfigStored = storedBytes(p, 'secret');
            ms.mark('prometheusConfig', true);
          }
        }
        const a = objs.get(amSecret);
        if (a && ms.at.alertmanager === undefined) {
          const text = gunzipSync(Buffer.from(a.data?.['alertmanager.yaml.gz'] ?? '', 'base64')).toString('utf8');
          if (DEBUG) writeFileSync(join(runDir, 'last-alertmanager.yaml'), text);
          if (count(text, /name: c\d+-\d+\/svc-\d+\/email/g) === n) {
            sizes.alertmanagerUncompressed = Buffer.byteLength(text);
            sizes.alertmanagerStored = storedBytes(a, 'secret');
            ms.mark('alertmanager', true);
          }
        }
      }),
    );
    watches.push(
      await watchObjects(kc, `/api/v1/namespaces/${ns}/configmaps`, `prometheus-name=${PO_NAME}`, (objs) => {
        if (t0 === 0 || ms.at.rules !== undefined) return;
        const all = [...objs.values()];
        if (DEBUG) writeFileSync(join(runDir, 'last-rules.json'), JSON.stringify(all, null, 1));
        const alerts = all.reduce((s, cm) => s + Object.values(cm.data ?? {}).reduce((x, f) => x + count(f, /alert: ServiceDown/g), 0), 0);
        if (alerts === n) {
          ruleFiles = Object.fromEntries(all.map((cm) => [cm.metadata.name, cm.data ?? {}]));
          ruleStored = all.reduce((s, cm) => s + storedBytes(cm, 'configmap'), 0);
          ms.mark('rules', true);
        }
      }),
    );

    const base = await prometheusBaseline(prom, cluster);
    const cpu0 = await cpuSeconds(operator.pid);
    const objects = set.targets.flatMap((t) => prometheusOperatorObjects(t, n, { smarthost: `127.0.0.1:${noSmtpPort}`, from: 'vigil@vigil.localhost' }));
    console.log(`  prometheus-operator: applying ${objects.length} objects for ${n} services (load average ${loadAverage()})`);
    t0 = Date.now();
    const applyMs = await applyServerSide(cluster, runDir, 'monitors', objects);
    console.log(`  prometheus-operator: kubectl apply returned after ${(applyMs / 1000).toFixed(1)} s; written so far: ${JSON.stringify(ms.at)}`);
    await ms.waitFor(['prometheusConfig', 'rules', 'alertmanager'], `prometheus-operator's generated config with all ${n} services`, check);
    const cpuWritten = await cpuSeconds(operator.pid);
    const writtenAll = Math.max(ms.at.prometheusConfig ?? NaN, ms.at.rules ?? NaN, ms.at.alertmanager ?? NaN);
    finishPromSizes();
    sizes.prometheusStored = promConfigStored + ruleStored;
    sizes.generatedObjects = 2 + Object.keys(ruleFiles).length;

    // What the config-reloader does once the kubelet has updated the mounted Secret and ConfigMaps:
    // the files appear, then POST /-/reload.
    const rulesDir = join(prom.configDir, 'rules');
    for (const [cmName, files] of Object.entries(ruleFiles)) {
      await mkdir(join(rulesDir, cmName), { recursive: true });
      for (const [f, text] of Object.entries(files)) await writeFile(join(rulesDir, cmName, f), text);
    }
    await writeFile(`${prom.configFile}.tmp`, runnablePrometheusOperatorConfig(promYaml, cluster.kubeconfigPath, rulesDir));
    execFileSync('mv', [`${prom.configFile}.tmp`, prom.configFile]);
    const reload = await fetch(`${prom.url}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
    if (!reload.ok) throw new Error(`Prometheus refused prometheus-operator's config: HTTP ${reload.status} ${await reload.text()}`);
    const liveMs = Date.now() - t0;
    const allUpMs = await waitAllUp(prom, n, t0, check);
    const promCpuAllUp = await cpuSeconds(prom.process.pid);
    const promFigures = await prometheusFigures(prom, cluster, base, promCpuAllUp);
    const cpuEnd = await cpuSeconds(operator.pid);
    return {
      tool: 'prometheus-operator',
      services: n,
      applyS: round(applyMs / 1000),
      writtenS: {
        prometheusConfig: round((ms.at.prometheusConfig ?? NaN) / 1000),
        rules: round((ms.at.rules ?? NaN) / 1000),
        alertmanager: round((ms.at.alertmanager ?? NaN) / 1000),
        all: round(writtenAll / 1000),
      },
      operatorCpuS: { toWritten: round(cpuWritten - cpu0), toEnd: round(cpuEnd - cpu0) },
      operatorPeakRssMiB: round((await memoryOf(operator.pid))?.peakMiB ?? NaN, 0),
      sizes,
      liveS: round(liveMs / 1000),
      allUpS: round(allUpMs / 1000),
      prometheus: promFigures,
    };
  } finally {
    for (const w of watches) w.stop();
    for (const p of [...started].reverse()) await p.stop(5000);
  }
}

// --- the run -----------------------------------------------------------------------------------------

const PROMETHEUS_VERSION = (() => {
  const env = execFileSync('bash', ['-c', 'source hack/versions.env && echo "$PROMETHEUS_VERSION $PROMETHEUS_OPERATOR_VERSION $KUBERNETES_VERSION $ETCD_VERSION"'], { encoding: 'utf8' })
    .trim()
    .split(' ');
  return env[0] as string;
})();

export function versions(): Record<string, string> {
  const [prometheus, po, kube, etcd] = execFileSync('bash', ['-c', 'source hack/versions.env && echo "$PROMETHEUS_VERSION $PROMETHEUS_OPERATOR_VERSION $KUBERNETES_VERSION $ETCD_VERSION"'], {
    encoding: 'utf8',
  })
    .trim()
    .split(' ');
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  return { vigil: commit, 'prometheus-operator': po ?? '', prometheus: prometheus ?? '', kubernetes: kube ?? '', etcd: etcd ?? '', node: process.version };
}

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export const kb = (bytes: number) => `${(bytes / 1024).toFixed(bytes < 10_240 ? 1 : 0)} KiB`;

export function printTables(rows: CompareRow[]): void {
  const name = (r: CompareRow) => `${r.tool === 'vigil' ? 'Vigil' : 'prometheus-operator'} ${r.services}`;
  console.log('\nOperators (apply → generated config holding all N services; CPU and RSS of the operator process)\n');
  console.log(
    table(
      [
        'operator, N',
        'apply s',
        'prom cfg s',
        'rules s',
        'am cfg s',
        'all written s',
        'CPU s to written',
        'CPU s to end',
        'peak RSS MiB',
        'prom uncompr.',
        'prom stored',
        'am uncompr.',
        'am stored',
        'objects',
      ],
      rows.map((r) => [
        name(r),
        r.applyS.toFixed(1),
        r.writtenS.prometheusConfig.toFixed(1),
        r.writtenS.rules.toFixed(1),
        r.writtenS.alertmanager.toFixed(1),
        r.writtenS.all.toFixed(1),
        r.operatorCpuS.toWritten.toFixed(2),
        r.operatorCpuS.toEnd.toFixed(2),
        String(r.operatorPeakRssMiB),
        kb(r.sizes.prometheusUncompressed),
        kb(r.sizes.prometheusStored),
        kb(r.sizes.alertmanagerUncompressed),
        kb(r.sizes.alertmanagerStored),
        String(r.sizes.generatedObjects),
      ]),
    ),
  );
  console.log(`\nPrometheus ${PROMETHEUS_VERSION} running each generated config (apply → loaded → all N targets up; steady window ${STEADY_S} s)\n`);
  console.log(
    table(
      ['operator, N', 'live s', 'all up s', 'CPU s to all up', 'steady CPU/s', 'peak RSS MiB', 'SD events', 'target sync s', 'discovered', 'API watches', 'reload took'],
      rows.map((r) => [
        name(r),
        r.liveS.toFixed(1),
        r.allUpS.toFixed(1),
        r.prometheus.cpuToAllUpS.toFixed(2),
        r.prometheus.steadyCpuPerS.toFixed(3),
        String(r.prometheus.peakRssMiB),
        String(r.prometheus.sdEvents),
        r.prometheus.targetSyncS.toFixed(3),
        String(r.prometheus.discoveredTargets),
        String(r.prometheus.apiServerWatches),
        r.prometheus.reloadDuration,
      ]),
    ),
  );
}

/**
 * What prometheus-operator's path adds on a real node and this run cannot measure (no kubelet): the time
 * until the kubelet rewrites a mounted Secret/ConfigMap volume. Taken from this project's own measurement
 * on the real node (docs/benchmarks/real-node.json, bench/real-node.ts: a second Prometheus reading the
 * generated ConfigMap as a volume, kubelet syncFrequency 1m). Those figures run from the apply to the target
 * up, so they include discovery and the first scrape too: an upper bound of the volume delay, not the delay alone.
 */
function kubeletVolumeDelay(): { source: string; kubeletSyncFrequency?: string; runs: number; p50: number; max: number } | undefined {
  const file = join('docs', 'benchmarks', 'real-node.json');
  if (!existsSync(file)) return undefined;
  const r = JSON.parse(readFileSync(file, 'utf8')) as { settings?: { kubeletSyncFrequency?: string }; applyToTargetUp?: { runs: Array<{ volumeS: number }> } };
  const volume = (r.applyToTargetUp?.runs ?? []).map((x) => x.volumeS);
  if (volume.length === 0) return undefined;
  const s = summary(volume);
  return {
    source: `${file} (make bench-node): apply → target up, ConfigMap mounted as a volume`,
    ...(r.settings?.kubeletSyncFrequency ? { kubeletSyncFrequency: r.settings.kubeletSyncFrequency } : {}),
    runs: s.n,
    p50: s.p50,
    max: s.max,
  };
}

/** The figures as the Markdown tables of docs/benchmarks.md ("Side by side with prometheus-operator"). */
export function markdownTables(rows: CompareRow[]): string {
  const name = (r: CompareRow) => `${r.tool === 'vigil' ? 'Vigil' : 'prometheus-operator'}`;
  const md = (header: string[], body: string[][]) =>
    [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n');
  const operators = md(
    [
      'N',
      'operator',
      'kubectl apply',
      'apply → all written',
      'of which after kubectl returned',
      'operator CPU until written',
      'operator CPU until end',
      'operator peak RSS',
      'Prometheus config + rules',
      'stored',
      'Alertmanager config',
      'stored',
      'generated objects',
    ],
    rows.map((r) => [
      r.services.toLocaleString('en-US'),
      name(r),
      `${r.applyS.toFixed(1)} s`,
      `${r.writtenS.all.toFixed(1)} s`,
      `${(r.writtenS.all - r.applyS).toFixed(1)} s`,
      `${r.operatorCpuS.toWritten.toFixed(2)} s`,
      `${r.operatorCpuS.toEnd.toFixed(2)} s`,
      `${r.operatorPeakRssMiB} MiB`,
      kb(r.sizes.prometheusUncompressed),
      kb(r.sizes.prometheusStored),
      kb(r.sizes.alertmanagerUncompressed),
      kb(r.sizes.alertmanagerStored),
      String(r.sizes.generatedObjects),
    ]),
  );
  const prometheus = md(
    [
      'N',
      'config from',
      'apply → loaded',
      'apply → all N up',
      'Prometheus CPU until all up',
      'steady CPU',
      'peak RSS',
      'SD events',
      'target sync',
      'discovered targets',
      'API-server watches',
      'reload took',
    ],
    rows.map((r) => [
      r.services.toLocaleString('en-US'),
      name(r),
      `${r.liveS.toFixed(1)} s`,
      `${r.allUpS.toFixed(1)} s`,
      `${r.prometheus.cpuToAllUpS.toFixed(2)} s`,
      `${(r.prometheus.steadyCpuPerS * 1000).toFixed(0)} ms/s`,
      `${r.prometheus.peakRssMiB} MiB`,
      String(r.prometheus.sdEvents),
      `${r.prometheus.targetSyncS.toFixed(2)} s`,
      r.prometheus.discoveredTargets.toLocaleString('en-US'),
      String(r.prometheus.apiServerWatches),
      r.prometheus.reloadDuration,
    ]),
  );
  return `${operators}\n\n${prometheus}\n`;
}

async function main(): Promise<void> {
  if (TOOLS.includes('prometheus-operator') && (!existsSync(PO_BIN) || !existsSync(PO_CRDS)))
    throw new Error(`${PO_BIN} or ${PO_CRDS} missing: run hack/install-prometheus-operator.sh (make bench-compare does)`);
  const dir = await mkdtemp(join(tmpdir(), 'vigil-bench-compare-'));
  const loadBefore = loadAverage();
  const startedAt = new Date().toISOString();
  let cluster: Cluster | undefined;
  let target: Server | undefined;
  const rows: CompareRow[] = [];
  try {
    console.log(`starting etcd + kube-apiserver (load average ${loadBefore}) ...`);
    cluster = await startCluster();
    if (TOOLS.includes('prometheus-operator')) {
      await cluster.kubectl(['apply', '--server-side', '-f', realpathSync(PO_CRDS)], { timeoutMs: 120_000 });
      await cluster.kubectl(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=120s'], { timeoutMs: 150_000 });
    }
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    const [targetPort] = (await freePorts(1)) as [number];
    target = await startTarget(targetPort);
    for (const n of SIZES) {
      const set = compareSet(n, NAMESPACES);
      console.log(`\nN = ${n}: ${n} Services with FQDN EndpointSlices in ${set.namespaces.length} namespaces`);
      for (const ns of set.namespaces) await cluster.ensureNamespace(ns);
      await cluster.apply(
        set.targets.flatMap((t) => targetObjects(t, targetPort)),
        { fieldManager: 'bench' },
      );
      const hosts = set.targets.map((t) => `127.0.0.1 ${t.host}`);
      if (TOOLS.includes('vigil')) rows.push(await runVigil(cluster, kc, set, dir, hosts));
      if (TOOLS.includes('prometheus-operator')) rows.push(await runPrometheusOperator(cluster, kc, set, dir, hosts));
      printTables(rows.filter((r) => r.services === n));
    }
  } finally {
    target?.close();
    await cluster?.stop();
    if (process.env.VIGIL_KEEP_STACK !== '1') await rm(dir, { recursive: true, force: true });
    else console.log(`kept ${dir}`);
  }
  const loadAfter = loadAverage();
  printTables(rows);
  console.log(`\nload average before ${loadBefore}, after ${loadAfter}`);
  const volume = kubeletVolumeDelay();
  if (volume)
    console.log(
      `not measured here (no kubelet): prometheus-operator's mounted Secret reaches the pod at the kubelet's next sync; ${volume.source}: p50 ${volume.p50} s, max ${volume.max} s over ${volume.runs} runs`,
    );
  const result = {
    startedAt,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', memoryGiB: round(totalmem() / 2 ** 30, 1), loadAverageBefore: loadBefore, loadAverageAfter: loadAfter },
    versions: versions(),
    settings: { scrapeInterval: SCRAPE_INTERVAL, evaluationInterval: EVALUATION_INTERVAL, namespacesPerSize: NAMESPACES, steadyWindowS: STEADY_S },
    modelledKubeletVolumeDelayS: kubeletVolumeDelay(),
    rows,
  };
  await mkdir(OUT_DIR, { recursive: true });
  await writeFile(join(OUT_DIR, 'compare.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${join(OUT_DIR, 'compare.json')}`);
  await plotCompare(OUT_DIR);
  console.log(`\nMarkdown (docs/benchmarks.md):\n\n${markdownTables(rows)}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(`bench-compare failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exit(1);
    },
  );
}
