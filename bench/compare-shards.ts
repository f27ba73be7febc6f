// `make bench-compare-shards`: Vigil's shards against prometheus-operator's `shards` at equal N, in one
// run, against one real etcd + kube-apiserver (issue #23, item 4, last bullet). For S services
// (bench/compare-objects.ts: one FQDN EndpointSlice each, all served by one small HTTP target on
// 127.0.0.1) and each shard count N (BENCH_SHARDS_N, default 2):
//
//   - Vigil: `vigil operator --prometheus-shards N --config-partitions` and N Prometheus processes, each
//     with its own `vigil sync --partitions` on its shard's ConfigMap (test/hostile/stack.ts startShard).
//     Vigil puts whole namespaces on a shard (docs/contract.md "Shards"): a shard loads the jobs and
//     the rules of its own services only.
//   - prometheus-operator v0.85.0: a Prometheus custom resource with `shards: N` (ServiceMonitor +
//     PrometheusRule per service). It generates ONE config for every shard: each job keeps the targets
//     whose address hashes (hashmod N) to `$(SHARD)`, which its config-reloader substitutes from the
//     pod's SHARD variable. Here each of the N Prometheus processes gets that config with `$(SHARD)`
//     set to its index (bench/compare-objects.ts runnablePrometheusOperatorConfig), and every rule
//     ConfigMap, as its StatefulSets mount them on every shard. No kubelet runs: the files are
//     written and reloaded as soon as the generated objects hold all S services.
//
// Measured per shard, after all S targets are up and a steady window: Prometheus peak and current RSS,
// the bytes of the config it loads (main file + scrape partitions) and of its rule files, its targets,
// and the ServiceDown alerts it holds (pending or firing) while every service is healthy: false
// alerts. A shard holding no target of a service evaluates that service's ServiceDown on nothing.
// Prints a table, writes docs/benchmarks/compare-shards.json and compare-shards.svg. Asserts nothing
// about time.
//
//   BENCH_SHARDS_SERVICES=200     services S
//   BENCH_SHARDS_NAMESPACES=10    namespaces they are spread over (round-robin)
//   BENCH_SHARDS_N=2              shard counts, run in this order (e.g. 2,3)
//   BENCH_SHARDS_STEADY_S=75      steady window after all targets are up (above ServiceDown's `for: 1m`,
//                                 so a false alert is seen firing, not only pending)
//   BENCH_SHARDS_OUT=docs/benchmarks
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { stringify } from 'yaml';
import { startCluster, type Cluster } from '../hack/local-stack/cluster.js';
import { BIN_DIR, startOperator, startPrometheus, type Prometheus } from '../hack/local-stack/components.js';
import { freePorts, pollUntil, sleep } from '../hack/local-stack/net.js';
import { startProcess, type ManagedProcess } from '../hack/local-stack/process.js';
import { installRbac, vigilKubeconfigs } from '../hack/local-stack/rbac.js';
import { freeShardPorts, INSTALL_NS, startShard } from '../test/hostile/stack.js';
import { applyServerSide, benchOperatorSettings, kb, loadAverage, startTarget, table, versions } from './compare.js';
import {
  compareSet,
  EVALUATION_INTERVAL,
  PO_NAME,
  prometheusOperatorInstances,
  prometheusOperatorObjects,
  runnablePrometheusOperatorConfig,
  SCRAPE_INTERVAL,
  SIZE_LABEL,
  targetObjects,
  vigilObjects,
  type CompareSet,
} from './compare-objects.js';
import { plotCompareShards } from './plot.js';
import { memoryOf } from './proc.js';

const SERVICES = Number(process.env.BENCH_SHARDS_SERVICES ?? '200');
const NAMESPACES = Number(process.env.BENCH_SHARDS_NAMESPACES ?? '10');
const SHARD_COUNTS = (process.env.BENCH_SHARDS_N ?? '2').split(',').map((s) => Number(s.trim()));
const STEADY_S = Number(process.env.BENCH_SHARDS_STEADY_S ?? '75');
const OUT_DIR = process.env.BENCH_SHARDS_OUT ?? 'docs/benchmarks';
if (!Number.isInteger(SERVICES) || SERVICES < 1 || SERVICES > 5000) throw new Error('BENCH_SHARDS_SERVICES must be an integer from 1 to 5000');
if (!Number.isInteger(NAMESPACES) || NAMESPACES < 1 || NAMESPACES > 100) throw new Error('BENCH_SHARDS_NAMESPACES must be an integer from 1 to 100');
for (const n of SHARD_COUNTS) if (!Number.isInteger(n) || n < 2 || n > 10) throw new Error(`BENCH_SHARDS_N: every shard count must be an integer from 2 to 10, got "${process.env.BENCH_SHARDS_N}"`);
if (!Number.isFinite(STEADY_S) || STEADY_S < 5) throw new Error('BENCH_SHARDS_STEADY_S must be at least 5 (seconds)');

const PO_BIN = join(BIN_DIR, 'prometheus-operator');
const PO_CRDS = join(BIN_DIR, 'prometheus-operator-crds');
/** Generous: a loaded 2-core machine; nothing here asserts time, this only stops a stuck run. */
const STEP_TIMEOUT_MS = 600_000;

type Tool = 'vigil' | 'prometheus-operator';

export interface ShardFigures {
  shard: number;
  /** Prometheus VmHWM and VmRSS at the end of the steady window, MiB. */
  prometheusPeakRssMiB: number;
  prometheusRssMiB: number;
  /** Vigil's sync sidecar of this shard (prometheus-operator's config-reloader does not run here). */
  sidecarPeakRssMiB?: number;
  /** Bytes of the files this Prometheus loads: main config + scrape partitions, and rule files. */
  configBytes: number;
  ruleBytes: number;
  /** Scrape jobs in the files it loads, its active targets and of them up. */
  jobs: number;
  targets: number;
  targetsUp: number;
  /** ServiceDown alerting rules it evaluates. */
  serviceDownRules: number;
  /** ServiceDown alerts it holds at the end of the steady window while every service is healthy. */
  falseServiceDown: { pending: number; firing: number };
}

export interface ShardRow {
  tool: Tool;
  shards: number;
  services: number;
  /** Apply → the sum over shards of up == 1 is S (wall seconds, no kubelet delay). */
  allUpS: number;
  perShard: ShardFigures[];
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * Every file under `dir` (recursively), path relative to it → bytes; hidden folders left out (Vigil's
 * sidecar keeps its last good copy in .last-good/, which Prometheus does not load).
 */
function filesUnder(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (!e.name.startsWith('.')) walk(p);
      } else if (e.isFile()) out.set(relative(dir, p), statSync(p).size);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/** A file of a config dir is a rule file when its name or a folder says so (Vigil: *.rules.yaml; prometheus-operator: rules/<ConfigMap>/...). */
const isRuleFile = (path: string) => /(^|\/)rules\//.test(path) || /rules?\.ya?ml$/.test(path);

async function alertsOf(url: string, alertname: string): Promise<{ pending: number; firing: number }> {
  const res = await fetch(`${url}/api/v1/alerts`, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as { data: { alerts: Array<{ labels: Record<string, string>; state: string }> } };
  const mine = body.data.alerts.filter((a) => a.labels.alertname === alertname);
  return { pending: mine.filter((a) => a.state === 'pending').length, firing: mine.filter((a) => a.state === 'firing').length };
}

async function serviceDownRules(url: string): Promise<number> {
  const res = await fetch(`${url}/api/v1/rules?type=alert`, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as { data: { groups: Array<{ rules: Array<{ name: string }> }> } };
  return body.data.groups.reduce((n, g) => n + g.rules.filter((r) => r.name === 'ServiceDown').length, 0);
}

/** Active targets of a Prometheus (after relabelling) and of them up: its scrape pools now, not `up` series still in the lookback. */
async function activeTargets(url: string): Promise<{ targets: number; up: number }> {
  const res = await fetch(`${url}/api/v1/targets?state=active`, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as { data: { activeTargets: Array<{ health: string }> } };
  return { targets: body.data.activeTargets.length, up: body.data.activeTargets.filter((t) => t.health === 'up').length };
}

/** Waits until the shards together scrape all S targets up; returns ms after t0. */
async function waitAllUp(proms: Prometheus[], s: number, t0: number, check: () => void): Promise<number> {
  await pollUntil(
    `all ${s} targets up over ${proms.length} shards`,
    STEP_TIMEOUT_MS,
    async () => (await Promise.all(proms.map(async (p) => (await activeTargets(p.url)).up))).reduce((a, b) => a + b, 0) === s,
    { intervalMs: 1000, check },
  );
  return Date.now() - t0;
}

/** The steady window, then each shard's figures. */
async function shardFigures(proms: Prometheus[], sidecars: ManagedProcess[] | undefined): Promise<ShardFigures[]> {
  await sleep(STEADY_S * 1000);
  return Promise.all(
    proms.map(async (p, shard) => {
      const mem = await memoryOf(p.process.pid);
      const sidecar = sidecars?.[shard] ? await memoryOf(sidecars[shard].pid) : undefined;
      const files = [...filesUnder(p.configDir)];
      const configFiles = files.filter(([f]) => !isRuleFile(f));
      return {
        shard,
        prometheusPeakRssMiB: round(mem?.peakMiB ?? NaN, 0),
        prometheusRssMiB: round(mem?.rssMiB ?? NaN, 0),
        ...(sidecar ? { sidecarPeakRssMiB: round(sidecar.peakMiB, 0) } : {}),
        configBytes: configFiles.reduce((n, [, b]) => n + b, 0),
        ruleBytes: files.filter(([f]) => isRuleFile(f)).reduce((n, [, b]) => n + b, 0),
        // Main file and scrape_config_files partitions alike (the status API shows the main file only).
        jobs: configFiles.reduce((n, [f]) => n + (readFileSync(join(p.configDir, f), 'utf8').match(/^\s*- job_name: /gm)?.length ?? 0), 0),
        targets: (await activeTargets(p.url)).targets,
        targetsUp: (await activeTargets(p.url)).up,
        serviceDownRules: await serviceDownRules(p.url),
        falseServiceDown: await alertsOf(p.url, 'ServiceDown'),
      };
    }),
  );
}

function alive(...procs: ManagedProcess[]): () => void {
  return () => {
    for (const p of procs) if (!p.isRunning()) throw new Error(`${p.name} exited (log: ${p.logFile})`);
  };
}

// --- Vigil -------------------------------------------------------------------------------------------

async function runVigil(cluster: Cluster, set: CompareSet, shards: number, dir: string, hosts: string[]): Promise<ShardRow> {
  const runDir = join(dir, `vigil-${shards}`);
  await mkdir(runDir, { recursive: true });
  // A fresh install at N shards: the main objects of an earlier run carry its settled shard count,
  // and a new operator would first hand its namespaces over (docs/contract.md "Shards").
  await cluster.kubectlResult(['delete', 'configmap', '--all', '-n', INSTALL_NS]);
  await installRbac(cluster, INSTALL_NS);
  const kubeconfigs = await vigilKubeconfigs(cluster, INSTALL_NS);
  const base = await freeShardPorts(shards);
  const [operatorPort, noSmtpPort] = (await freePorts(2)) as [number, number];
  const started: ManagedProcess[] = [];
  const proms: Prometheus[] = [];
  const sidecars: ManagedProcess[] = [];
  try {
    for (let i = 0; i < shards; i++) {
      const sh = await startShard({ dir: runDir, cluster }, i, base + i, { extraHosts: hosts });
      started.push(sh.prometheus.process, sh.sync);
      proms.push(sh.prometheus);
      sidecars.push(sh.sync);
    }
    const settings = benchOperatorSettings({ cluster, prometheusKubeconfig: kubeconfigs.prometheus, prometheusUrl: proms[0]!.url, noSmtpPort, clusterLabel: 'bench-compare-shards' });
    const settingsFile = join(runDir, 'operator-settings.yaml');
    await writeFile(settingsFile, stringify(settings));
    const operator = await startOperator({
      logFile: join(runDir, 'operator.log'),
      kubeconfig: kubeconfigs.operator,
      namespace: INSTALL_NS,
      settingsFile,
      prometheusUrl: `http://127.0.0.1:${base / 10}{shard}`,
      listenPort: operatorPort,
      configPartitions: true,
      extraArgs: [`--prometheus-shards=${shards}`, `--selector=${SIZE_LABEL}=${set.size}`],
    });
    started.push(operator);
    const check = alive(...started);
    console.log(`  vigil, ${shards} shards: applying ${set.size} MonitoredServices (load average ${loadAverage()})`);
    const t0 = Date.now();
    await applyServerSide(
      cluster,
      runDir,
      'monitoredservices',
      set.targets.map((t) => vigilObjects(t, set.size)),
    );
    const allUpMs = await waitAllUp(proms, set.size, t0, check);
    console.log(`  vigil, ${shards} shards: all ${set.size} targets up after ${(allUpMs / 1000).toFixed(1)} s; steady window ${STEADY_S} s`);
    const perShard = await shardFigures(proms, sidecars);
    check();
    return { tool: 'vigil', shards, services: set.size, allUpS: round(allUpMs / 1000), perShard };
  } finally {
    // The objects stay: a next shard count's operator finds them applied already.
    for (const p of [...started].reverse()) await p.stop(5000);
  }
}

// --- prometheus-operator -----------------------------------------------------------------------------

interface PoGenerated {
  config: string;
  /** Rule ConfigMap name → its files. */
  rules: Record<string, Record<string, string>>;
}

/** Polls the generated Secret and rule ConfigMaps until they hold all S services. */
async function poGenerated(cluster: Cluster, ns: string, s: number, check: () => void): Promise<PoGenerated> {
  return pollUntil(
    `prometheus-operator's generated config and rules with all ${s} services`,
    STEP_TIMEOUT_MS,
    async () => {
      const secret = await cluster.kubectlResult(['get', 'secret', `prometheus-${PO_NAME}`, '-n', ns, '-o', 'jsonpath={.data.prometheus\\.yaml\\.gz}']);
      if (secret.code !== 0 || !secret.stdout.trim()) return undefined;
      const config = gunzipSync(Buffer.from(secret.stdout.trim(), 'base64')).toString('utf8');
      if ((config.match(/^- job_name: serviceMonitor\//gm)?.length ?? 0) !== s) return undefined;
      const cms = JSON.parse(await cluster.kubectl(['get', 'configmap', '-n', ns, '-l', `prometheus-name=${PO_NAME}`, '-o', 'json'])) as {
        items: Array<{ metadata: { name: string }; data?: Record<string, string> }>;
      };
      const rules = Object.fromEntries(cms.items.map((cm) => [cm.metadata.name, cm.data ?? {}]));
      const alerts = Object.values(rules).reduce((n, files) => n + Object.values(files).reduce((x, f) => x + (f.match(/alert: ServiceDown/g)?.length ?? 0), 0), 0);
      return alerts === s ? { config, rules } : undefined;
    },
    { intervalMs: 1000, check },
  );
}

async function runPrometheusOperator(
  cluster: Cluster,
  set: CompareSet,
  shards: number,
  dir: string,
  hosts: string[],
): Promise<ShardRow & { generated: { configBytes: number; shardRelabel: string } }> {
  const ns = `po-shards-${shards}`;
  const runDir = join(dir, `po-${shards}`);
  await mkdir(runDir, { recursive: true });
  await cluster.ensureNamespace(ns);
  const base = await freeShardPorts(shards);
  const [operatorPort] = (await freePorts(1)) as [number];
  const started: ManagedProcess[] = [];
  const proms: Prometheus[] = [];
  try {
    for (let i = 0; i < shards; i++) {
      const prom = await startPrometheus({ dir: join(runDir, `prometheus-shard-${i}`), port: base + i, extraHosts: hosts });
      started.push(prom.process);
      proms.push(prom);
    }
    const prometheusCr = prometheusOperatorInstances(ns, PROMETHEUS_VERSION)
      .filter((o) => o.kind === 'Prometheus')
      .map((o) => ({ ...o, spec: { ...(o.spec as object), shards } }));
    await cluster.apply(prometheusCr, { fieldManager: 'bench' });
    const operator = startProcess(
      'prometheus-operator',
      PO_BIN,
      [`--namespaces=${[ns, ...set.namespaces].join(',')}`, `--web.listen-address=127.0.0.1:${operatorPort}`, '--log-level=info', '--kubelet-endpoints=false'],
      join(runDir, 'operator.log'),
      { ...process.env, KUBECONFIG: cluster.kubeconfigPath },
    );
    started.push(operator);
    const check = alive(...started);
    // ServiceMonitors and PrometheusRules only: no Alertmanager runs, its config is not compared here.
    const objects = set.targets.flatMap((t) => prometheusOperatorObjects(t, set.size, { smarthost: '127.0.0.1:1', from: 'vigil@vigil.localhost' }).filter((o) => o.kind !== 'AlertmanagerConfig'));
    console.log(`  prometheus-operator, shards: ${shards}: applying ${objects.length} objects (load average ${loadAverage()})`);
    const t0 = Date.now();
    await applyServerSide(cluster, runDir, 'monitors', objects);
    const generated = await poGenerated(cluster, ns, set.size, check);
    const shardRelabel = /regex: \$\(SHARD\)[^\n]*/.exec(generated.config)?.[0] ?? '';
    if (!shardRelabel) throw new Error(`prometheus-operator's config with shards: ${shards} has no $(SHARD) keep rule: the substitution this benchmark models is not what it generates`);
    // What each shard's config-reloader does once the kubelet has updated the mounted Secret and
    // ConfigMaps: the same files on every shard, $(SHARD) expanded from its pod's environment, reload.
    for (const [i, prom] of proms.entries()) {
      const rulesDir = join(prom.configDir, 'rules');
      for (const [cmName, files] of Object.entries(generated.rules)) {
        await mkdir(join(rulesDir, cmName), { recursive: true });
        for (const [f, text] of Object.entries(files)) await writeFile(join(rulesDir, cmName, f), text);
      }
      await writeFile(`${prom.configFile}.tmp`, runnablePrometheusOperatorConfig(generated.config, cluster.kubeconfigPath, rulesDir, i));
      execFileSync('mv', [`${prom.configFile}.tmp`, prom.configFile]);
      const reload = await fetch(`${prom.url}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
      if (!reload.ok) throw new Error(`Prometheus shard ${i} refused prometheus-operator's config: HTTP ${reload.status} ${await reload.text()}`);
    }
    const allUpMs = await waitAllUp(proms, set.size, t0, check);
    console.log(`  prometheus-operator, shards: ${shards}: all ${set.size} targets up after ${(allUpMs / 1000).toFixed(1)} s; steady window ${STEADY_S} s`);
    const perShard = await shardFigures(proms, undefined);
    check();
    return {
      tool: 'prometheus-operator',
      shards,
      services: set.size,
      allUpS: round(allUpMs / 1000),
      perShard,
      generated: { configBytes: Buffer.byteLength(generated.config), shardRelabel: shardRelabel.trim() },
    };
  } finally {
    for (const p of [...started].reverse()) await p.stop(5000);
  }
}

// --- the run -----------------------------------------------------------------------------------------

const PROMETHEUS_VERSION = versions().prometheus ?? '';

export function printShardTable(rows: ShardRow[]): void {
  console.log(`\nPer shard, after all ${SERVICES} targets up and a ${STEADY_S} s steady window, every service healthy\n`);
  console.log(
    table(
      ['tool, N, shard', 'Prom peak RSS MiB', 'Prom RSS MiB', 'sidecar peak MiB', 'config', 'rules', 'jobs', 'targets', 'up', 'ServiceDown rules', 'false pending', 'false firing'],
      rows.flatMap((r) =>
        r.perShard.map((s) => [
          `${r.tool} N=${r.shards} #${s.shard}`,
          String(s.prometheusPeakRssMiB),
          String(s.prometheusRssMiB),
          s.sidecarPeakRssMiB === undefined ? '-' : String(s.sidecarPeakRssMiB),
          kb(s.configBytes),
          kb(s.ruleBytes),
          String(s.jobs),
          String(s.targets),
          String(s.targetsUp),
          String(s.serviceDownRules),
          String(s.falseServiceDown.pending),
          String(s.falseServiceDown.firing),
        ]),
      ),
    ),
  );
}

/** The figures as the Markdown table of docs/benchmarks.md ("Shards side by side with prometheus-operator"). */
export function markdownShardTable(rows: ShardRow[]): string {
  const header = ['tool', 'N', 'shard', 'Prometheus peak RSS', 'config loaded', 'rule files', 'jobs', 'targets (up)', 'ServiceDown rules', 'false ServiceDown pending / firing'];
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i < 1 ? '---' : '---:')).join('|')}|`,
    ...rows.flatMap((r) =>
      r.perShard.map(
        (s) =>
          `| ${r.tool === 'vigil' ? 'Vigil' : 'prometheus-operator'} | ${r.shards} | ${s.shard} | ${s.prometheusPeakRssMiB} MiB | ${kb(s.configBytes)} | ${kb(s.ruleBytes)} | ${s.jobs} | ${s.targets} (${s.targetsUp}) | ${s.serviceDownRules} | ${s.falseServiceDown.pending} / ${s.falseServiceDown.firing} |`,
      ),
    ),
  ].join('\n');
}

async function main(): Promise<void> {
  if (!existsSync(PO_BIN) || !existsSync(PO_CRDS)) throw new Error(`${PO_BIN} or ${PO_CRDS} missing: run hack/install-prometheus-operator.sh (make bench-compare-shards does)`);
  const dir = await mkdtemp(join(tmpdir(), 'vigil-bench-shards-'));
  const loadBefore = loadAverage();
  const startedAt = new Date().toISOString();
  let cluster: Cluster | undefined;
  let target: Server | undefined;
  const rows: Array<ShardRow & { generated?: { configBytes: number; shardRelabel: string } }> = [];
  try {
    console.log(`starting etcd + kube-apiserver (load average ${loadBefore}) ...`);
    cluster = await startCluster();
    await cluster.kubectl(['apply', '--server-side', '-f', realpathSync(PO_CRDS)], { timeoutMs: 120_000 });
    await cluster.kubectl(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=120s'], { timeoutMs: 150_000 });
    const [targetPort] = (await freePorts(1)) as [number];
    target = await startTarget(targetPort);
    const set = compareSet(SERVICES, NAMESPACES);
    console.log(`${SERVICES} Services with FQDN EndpointSlices in ${set.namespaces.length} namespaces`);
    for (const ns of set.namespaces) await cluster.ensureNamespace(ns);
    await cluster.apply(
      set.targets.flatMap((t) => targetObjects(t, targetPort)),
      { fieldManager: 'bench' },
    );
    const hosts = set.targets.map((t) => `127.0.0.1 ${t.host}`);
    for (const n of SHARD_COUNTS) {
      console.log(`\nN = ${n} shards`);
      rows.push(await runVigil(cluster, set, n, dir, hosts));
      rows.push(await runPrometheusOperator(cluster, set, n, dir, hosts));
      printShardTable(rows.filter((r) => r.shards === n));
    }
  } finally {
    target?.close();
    await cluster?.stop();
    if (process.env.VIGIL_KEEP_STACK !== '1') await rm(dir, { recursive: true, force: true });
    else console.log(`kept ${dir}`);
  }
  const loadAfter = loadAverage();
  printShardTable(rows);
  console.log(`\nload average before ${loadBefore}, after ${loadAfter}`);
  const result = {
    startedAt,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', memoryGiB: round(totalmem() / 2 ** 30, 1), loadAverageBefore: loadBefore, loadAverageAfter: loadAfter },
    versions: versions(),
    settings: { services: SERVICES, namespaces: NAMESPACES, scrapeInterval: SCRAPE_INTERVAL, evaluationInterval: EVALUATION_INTERVAL, steadyWindowS: STEADY_S, serviceDownFor: '1m' },
    rows,
  };
  await mkdir(OUT_DIR, { recursive: true });
  await writeFile(join(OUT_DIR, 'compare-shards.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${join(OUT_DIR, 'compare-shards.json')}`);
  await plotCompareShards(OUT_DIR);
  console.log(`\nMarkdown (docs/benchmarks.md):\n\n${markdownShardTable(rows)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(`bench-compare-shards failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exit(1);
    },
  );
}
