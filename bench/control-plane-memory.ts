// `make bench-memory`: memory of Vigil's control plane (the operator and the two `vigil sync` sidecars),
// each as its own process against a real etcd + kube-apiserver, a real Prometheus and Alertmanager, run
// from the compiled dist/ as in the image (not through tsx). Measured from /proc/<pid>/status at idle
// (the empty config applied) and after N MonitoredServices are applied and both sidecars have applied
// the config that holds all of them (counted in the files the servers read):
//
//   RSS (VmRSS), its anonymous part (RssAnon: heap, code space, malloc; what a container's working set
//   mostly counts, since the node binary's file pages are shared page cache) and file part (RssFile),
//   the peak (VmHWM), and the V8 heap from the process's own /metrics (nodejs_heap_size_used_bytes).
//
// Prints a table, writes docs/benchmarks/control-plane-memory.json. Asserts nothing.
//
//   BENCH_MEMORY_SERVICES=10          MonitoredServices applied (in BENCH_MEMORY_NAMESPACES namespaces)
//   BENCH_MEMORY_NAMESPACES=2
//   BENCH_MEMORY_SETTLE_S=10          wait after each phase before reading /proc (GC, timers)
//   BENCH_MEMORY_SYNC_NODE_OPTIONS=   Node/V8 flags of the two sidecars (e.g. --max-semi-space-size=1)
//   BENCH_MEMORY_OPERATOR_NODE_OPTIONS="--max-old-space-size=128 --max-semi-space-size=8"  the operator's:
//                                     the chart's heap bounds in its default 256Mi container (cdk8s/components/operator.ts)
//   BENCH_MEMORY_TIMEOUT_S=900        stops a stuck run (nothing here asserts time)
//   BENCH_MEMORY_LABEL=               names the run in the JSON (e.g. before, after)
//   BENCH_MEMORY_OUT=docs/benchmarks
//   VIGIL_CLI_ENTRY=<dir>/dist/operator/cli/main.js   another build (default: this checkout's dist/)
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { readSyncReport } from '../operator/controller/annotations.js';
import { ANNOTATIONS, OBJECT_NAMES } from '../operator/contract.js';
import type { GlobalSettings } from '../operator/render/types.js';
import { DEFAULT_SCRAPE_LIMIT_SETTINGS } from '../operator/render/scrape-limits.js';
import { REPO_ROOT, startCluster, type Cluster } from '../hack/local-stack/cluster.js';
import { startAlertmanager, startOperator, startPrometheus, startServerSync } from '../hack/local-stack/components.js';
import { freePorts, pollUntil, sleep } from '../hack/local-stack/net.js';
import type { ManagedProcess } from '../hack/local-stack/process.js';
import { installRbac, vigilKubeconfigs } from '../hack/local-stack/rbac.js';
import { compareSet, EVALUATION_INTERVAL, SCRAPE_INTERVAL, targetObjects, vigilObjects } from './compare-objects.js';

const SERVICES = Number(process.env.BENCH_MEMORY_SERVICES ?? '10');
const NAMESPACES = Number(process.env.BENCH_MEMORY_NAMESPACES ?? '2');
const SETTLE_S = Number(process.env.BENCH_MEMORY_SETTLE_S ?? '10');
const SYNC_NODE_OPTIONS = process.env.BENCH_MEMORY_SYNC_NODE_OPTIONS ?? '';
const OPERATOR_NODE_OPTIONS = process.env.BENCH_MEMORY_OPERATOR_NODE_OPTIONS ?? '--max-old-space-size=128 --max-semi-space-size=8';
const TIMEOUT_MS = Number(process.env.BENCH_MEMORY_TIMEOUT_S ?? '900') * 1000;
const LABEL = process.env.BENCH_MEMORY_LABEL ?? 'run';
const OUT_DIR = process.env.BENCH_MEMORY_OUT ?? 'docs/benchmarks';
/** VIGIL_CLI_ENTRY: another build's entry, e.g. an older commit compiled elsewhere (before/after figures). */
const BUILT_CLI = process.env.VIGIL_CLI_ENTRY || join(REPO_ROOT, 'dist', 'operator', 'cli', 'main.js');
const NS = 'vigil-mem';

export interface ProcessMemory {
  rssMiB: number;
  anonMiB: number;
  fileMiB: number;
  peakMiB: number;
  heapUsedMiB: number;
  heapTotalMiB: number;
}

/** VmRSS, RssAnon, RssFile and VmHWM of a /proc/<pid>/status text, in MiB. Throws naming a missing field. */
export function memoryFields(status: string): Omit<ProcessMemory, 'heapUsedMiB' | 'heapTotalMiB'> {
  const kb = (field: string) => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!m) throw new Error(`/proc status has no ${field}`);
    return Math.round((Number(m[1]) / 1024) * 10) / 10;
  };
  return { rssMiB: kb('VmRSS'), anonMiB: kb('RssAnon'), fileMiB: kb('RssFile'), peakMiB: kb('VmHWM') };
}

/** The value of an unlabelled sample in a /metrics text, with any prefix (vigil_sync_nodejs_heap_size_used_bytes); NaN when absent. */
export function sampleValue(metricsText: string, name: string): number {
  const m = new RegExp(`^(?:[a-z]+_)*?${name}(?:\\{\\})? ([0-9.eE+-]+)`, 'm').exec(metricsText);
  return m ? Number(m[1]) : NaN;
}

async function measure(pid: number, metricsUrl: string): Promise<ProcessMemory> {
  const fields = memoryFields(await readFile(`/proc/${pid}/status`, 'utf8'));
  const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(10_000) })).text();
  const mib = (name: string) => Math.round((sampleValue(text, name) / 1048576) * 10) / 10;
  return { ...fields, heapUsedMiB: mib('nodejs_heap_size_used_bytes'), heapTotalMiB: mib('nodejs_heap_size_total_bytes') };
}

type Phase = 'idle' | 'applied';
type Role = 'operator' | 'prometheus-sync' | 'alertmanager-sync';

async function applied(cluster: Cluster, kind: 'configmap' | 'secret', name: string, notHash?: string): Promise<string | undefined> {
  const a = JSON.parse((await cluster.kubectl(['get', kind, name, '-n', NS, '-o', 'jsonpath={.metadata.annotations}'])) || '{}') as Record<string, string>;
  const hash = a[ANNOTATIONS.configHash];
  return hash !== undefined && hash !== notHash && readSyncReport(a).appliedHash === hash ? hash : undefined;
}

/** One server-side apply of `objects`, with the run's timeout (cluster.apply allows 60 s: too little for 2,000 objects on a loaded machine). */
async function applyAll(cluster: Cluster, objects: object[]): Promise<void> {
  await cluster.kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=bench', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
    timeoutMs: TIMEOUT_MS,
  });
}

/** Distinct matches of `re` (global) over the config files a server reads (top level of its config dir). */
async function countInFiles(dir: string, re: RegExp): Promise<number> {
  const seen = new Set<string>();
  for (const entry of await readdir(dir, { withFileTypes: true })) if (entry.isFile()) for (const m of (await readFile(join(dir, entry.name), 'utf8')).match(re) ?? []) seen.add(m);
  return seen.size;
}

async function main(): Promise<void> {
  if (!existsSync(BUILT_CLI)) throw new Error(`${BUILT_CLI} missing: run npm run build first (make bench-memory does)`);
  // hack/local-stack/components.ts starts `vigil` from this entry instead of operator/bin/vigil.js (tsx).
  process.env.VIGIL_CLI_ENTRY = BUILT_CLI;
  const dir = await mkdtemp(join(tmpdir(), 'vigil-bench-memory-'));
  let cluster: Cluster | undefined;
  const started: ManagedProcess[] = [];
  const results: Record<Phase, Partial<Record<Role, ProcessMemory>>> = { idle: {}, applied: {} };
  try {
    cluster = await startCluster();
    await installRbac(cluster, NS);
    const kubeconfigs = await vigilKubeconfigs(cluster, NS);
    const set = compareSet(SERVICES, NAMESPACES);
    const [promPort, amPort, operatorPort, promSyncPort, amSyncPort, targetPort, smtpPort] = (await freePorts(7)) as number[] as [number, number, number, number, number, number, number];
    for (const ns of set.namespaces) await cluster.ensureNamespace(ns);
    await applyAll(
      cluster,
      set.targets.flatMap((t) => targetObjects(t, targetPort)),
    );
    const prom = await startPrometheus({ dir: join(dir, 'prometheus'), port: promPort, extraHosts: set.targets.map((t) => `127.0.0.1 ${t.host}`) });
    started.push(prom.process);
    const am = await startAlertmanager({ dir: join(dir, 'alertmanager'), port: amPort });
    started.push(am.process);
    const settings: GlobalSettings = {
      profile: 'demo',
      scrapeInterval: SCRAPE_INTERVAL,
      evaluationInterval: EVALUATION_INTERVAL,
      smtp: { smarthost: `127.0.0.1:${smtpPort}`, from: 'vigil@vigil.localhost', hello: 'vigil.localhost', requireTls: false, tlsInsecureSkipVerify: true },
      defaultRecipients: ['oncall@vigil.localhost'],
      alertmanagerTargets: [`127.0.0.1:${amPort}`],
      prometheusUrl: prom.url,
      alertmanagerUrl: am.url,
      rulesDir: '.',
      selfScrapeJobs: [],
      kubernetesSd: { apiServer: cluster.server, kubeconfigFile: kubeconfigs.prometheus },
      externalLabels: { cluster: 'bench-memory' },
      scrapeLimits: DEFAULT_SCRAPE_LIMIT_SETTINGS,
    };
    const settingsFile = join(dir, 'operator-settings.yaml');
    await writeFile(settingsFile, stringify(settings));
    const operator = await startOperator({
      logFile: join(dir, 'operator.log'),
      kubeconfig: kubeconfigs.operator,
      namespace: NS,
      settingsFile,
      prometheusUrl: prom.url,
      alertmanagerUrl: am.url,
      listenPort: operatorPort,
      ...(OPERATOR_NODE_OPTIONS ? { nodeOptions: OPERATOR_NODE_OPTIONS } : {}),
    });
    started.push(operator);
    const syncEnv = SYNC_NODE_OPTIONS ? { nodeOptions: SYNC_NODE_OPTIONS } : {};
    const promSync = await startServerSync('prometheus', prom, { logDir: dir, kubeconfig: kubeconfigs.prometheus, namespace: NS, listenPort: promSyncPort, ...syncEnv });
    started.push(promSync);
    const amSync = await startServerSync('alertmanager', am, { logDir: dir, kubeconfig: kubeconfigs.alertmanager, namespace: NS, listenPort: amSyncPort, ...syncEnv });
    started.push(amSync);
    const processes: Array<[Role, ManagedProcess, number]> = [
      ['operator', operator, operatorPort],
      ['prometheus-sync', promSync, promSyncPort],
      ['alertmanager-sync', amSync, amSyncPort],
    ];
    const snapshot = async (phase: Phase) => {
      await sleep(SETTLE_S * 1000);
      for (const [role, proc, port] of processes) results[phase][role] = await measure(proc.pid, `http://127.0.0.1:${port}/metrics`);
    };

    const emptyProm = await pollUntil('the empty Prometheus config applied', 120_000, () => applied(cluster!, 'configmap', OBJECT_NAMES.prometheusConfigMap), { intervalMs: 500 });
    const emptyAm = await pollUntil('the empty Alertmanager config applied', 120_000, () => applied(cluster!, 'secret', OBJECT_NAMES.alertmanagerSecret), { intervalMs: 500 });
    await snapshot('idle');
    await applyAll(
      cluster,
      set.targets.map((t) => vigilObjects(t, SERVICES)),
    );
    // The operator may write intermediate configs while the services arrive: wait for the files on
    // disk to hold all N, and for the sidecar to report that very config applied.
    const wait = { intervalMs: 1000 };
    await pollUntil(
      `the Prometheus config of ${SERVICES} services applied`,
      TIMEOUT_MS,
      async () => (await countInFiles(prom.configDir, /^ {2}- job_name: vigil\/\S+/gm)) >= SERVICES && applied(cluster!, 'configmap', OBJECT_NAMES.prometheusConfigMap, emptyProm),
      wait,
    );
    await pollUntil(
      `the Alertmanager config of ${SERVICES} services applied`,
      TIMEOUT_MS,
      async () => (await countInFiles(am.configDir, /vigil_receiver="vigil-to:svc-\d+-team@example\.com"/g)) >= SERVICES && applied(cluster!, 'secret', OBJECT_NAMES.alertmanagerSecret, emptyAm),
      wait,
    );
    await snapshot('applied');
  } finally {
    for (const proc of started.reverse()) await proc.stop().catch(() => undefined);
    await cluster?.stop();
    if (process.env.VIGIL_KEEP_STACK !== '1') await rm(dir, { recursive: true, force: true });
    else console.log(`kept ${dir}`);
  }

  console.log(`\n${LABEL}: ${SERVICES} MonitoredServices, sync NODE_OPTIONS "${SYNC_NODE_OPTIONS}", operator NODE_OPTIONS "${OPERATOR_NODE_OPTIONS}"`);
  console.log('| phase | process | RSS MiB | anon MiB | file MiB | peak MiB | heap used / total MiB |');
  console.log('|---|---|---|---|---|---|---|');
  for (const phase of ['idle', 'applied'] as const)
    for (const [role, m] of Object.entries(results[phase])) console.log(`| ${phase} | ${role} | ${m.rssMiB} | ${m.anonMiB} | ${m.fileMiB} | ${m.peakMiB} | ${m.heapUsedMiB} / ${m.heapTotalMiB} |`);
  await mkdir(OUT_DIR, { recursive: true });
  const out = join(OUT_DIR, 'control-plane-memory.json');
  const previous = existsSync(out) ? (JSON.parse(await readFile(out, 'utf8')) as Record<string, unknown>) : {};
  const run = { services: SERVICES, syncNodeOptions: SYNC_NODE_OPTIONS, operatorNodeOptions: OPERATOR_NODE_OPTIONS, node: process.version, at: new Date().toISOString(), ...results };
  await writeFile(out, `${JSON.stringify({ ...previous, [LABEL]: run }, null, 2)}\n`);
  console.log(`wrote ${out} (${LABEL})`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
