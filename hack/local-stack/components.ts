// Starting the stack's servers as local processes: Prometheus, Alertmanager, the Vigil programs
// (operator, sync sidecars) and the demo target. Each start function waits until its process
// answers, and fails with the tail of its log when the process dies first.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { OBJECT_NAMES } from '../../operator/rbac.js';
import { ALERTMANAGER_FEATURES } from '../../operator/render/names.js';
import { REPO_ROOT } from './cluster.js';
import { logTail, startProcess, type ManagedProcess } from './process.js';
import { httpGet, pollUntil } from './net.js';

export const BIN_DIR = join(REPO_ROOT, 'bin');
const NODE = process.execPath;
/** tsx's loader, so TypeScript entry points run in one Node process (stop() then reaches it by PID). */
const TSX_LOADER = pathToFileURL(join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

export function diedCheck(proc: ManagedProcess): () => void {
  return () => {
    if (!proc.isRunning()) throw new Error(`${proc.name} exited; last log lines (${proc.logFile}):\n${logTail(proc.logFile)}`);
  };
}

/** Waits until `url` answers 200; if it never does, stops the process (no server left behind) and throws. */
async function waitHttpOk(what: string, url: string, proc: ManagedProcess, timeoutMs = 60_000): Promise<void> {
  try {
    await pollUntil(what, timeoutMs, async () => (await httpGet(url)).status === 200, { check: diedCheck(proc), intervalMs: 200 });
  } catch (err) {
    await proc.stop(5000);
    throw err;
  }
}

/** Runs a TypeScript program of this repository (through tsx) as a child process. */
export function startTsProgram(name: string, entry: string, args: string[], logFile: string, env?: NodeJS.ProcessEnv): ManagedProcess {
  return startProcess(name, NODE, ['--import', TSX_LOADER, join(REPO_ROOT, entry), ...args], logFile, { ...process.env, ...env });
}

/**
 * The `vigil` CLI (operator/bin/vigil.js: the TypeScript sources through tsx when installed, else the
 * compiled dist/). VIGIL_CLI_ENTRY names another entry, e.g. dist/operator/cli/main.js (bench-memory
 * measures the compiled program as the image runs it, without tsx in the process).
 */
export function startVigil(name: string, args: string[], logFile: string, env?: NodeJS.ProcessEnv): ManagedProcess {
  return startProcess(name, NODE, [process.env.VIGIL_CLI_ENTRY || join(REPO_ROOT, 'operator', 'bin', 'vigil.js'), ...args], logFile, env);
}

// --- Prometheus ---------------------------------------------------------------------------------

/** A config Prometheus can start with before the sync sidecar writes the operator's one. */
export const BOOTSTRAP_PROMETHEUS_CONFIG = '# Replaced by the vigil sync sidecar with the operator-generated config.\nglobal: {}\n';

export interface PrometheusOptions {
  /** Holds data/, the log and (unless configDir is given) config/. */
  dir: string;
  port: number;
  /** Where prometheus.yml is (a bootstrap one is written if missing); default <dir>/config. */
  configDir?: string;
  /** Extra /etc/hosts lines Prometheus alone sees (see below); none: no mount namespace, no root needed. */
  extraHosts: string[];
  /** Extra command-line flags (tests: e.g. a short --rules.alert.resend-delay). */
  extraArgs?: string[];
}

export interface Prometheus {
  process: ManagedProcess;
  url: string;
  configDir: string;
  configFile: string;
}

/**
 * Starts Prometheus 3 on 127.0.0.1 with lifecycle (reload) enabled and its config dir shared
 * with the sync sidecar. It sees the extra host names through a private mount namespace whose
 * /etc/hosts has them (util-linux `unshare`, root): the local stack's targets are published as
 * EndpointSlice FQDNs because the API server refuses loopback IPs in endpoints. Its
 * /etc/resolv.conf there names only 127.0.0.1, so no lookup leaves the machine.
 */
export async function startPrometheus(o: PrometheusOptions): Promise<Prometheus> {
  const configDir = o.configDir ?? join(o.dir, 'config');
  const dataDir = join(o.dir, 'data');
  await mkdir(configDir, { recursive: true });
  await mkdir(dataDir, { recursive: true });
  const configFile = join(configDir, 'prometheus.yml');
  if (!existsSync(configFile)) await writeFile(configFile, BOOTSTRAP_PROMETHEUS_CONFIG);
  const url = `http://127.0.0.1:${o.port}`;
  const prometheusArgs = [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${dataDir}`,
    `--web.listen-address=127.0.0.1:${o.port}`,
    `--web.external-url=${url}`,
    '--web.enable-lifecycle',
    '--log.level=info',
    ...(o.extraArgs ?? []),
  ];
  const logFile = join(o.dir, 'prometheus.log');
  let proc: ManagedProcess;
  if (o.extraHosts.length === 0) {
    proc = startProcess('prometheus', join(BIN_DIR, 'prometheus'), prometheusArgs, logFile);
  } else {
    const hostsFile = join(o.dir, 'hosts');
    // A restart keeps what `make local-target` appended since: those targets would fail to resolve.
    const existing = existsSync(hostsFile) ? readFileSync(hostsFile, 'utf8') : undefined;
    await writeFile(hostsFile, prometheusHostsFile(existing, readFileSync('/etc/hosts', 'utf8'), o.extraHosts));
    // Go re-reads /etc/hosts at most every 5 s, so a host appended a moment ago falls through to DNS:
    // the private resolv.conf keeps that lookup on loopback instead of the machine's resolver.
    const resolvFile = join(o.dir, 'resolv.conf');
    await writeFile(resolvFile, PROMETHEUS_RESOLV_CONF);
    proc = startProcess(
      'prometheus',
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        '--',
        'sh',
        '-c',
        'mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/resolv.conf && shift 2 && exec "$@"',
        'sh',
        hostsFile,
        resolvFile,
        join(BIN_DIR, 'prometheus'),
        ...prometheusArgs,
      ],
      logFile,
    );
  }
  await waitHttpOk('Prometheus /-/ready', `${url}/-/ready`, proc);
  return { process: proc, url, configDir, configFile };
}

/** Prometheus's private resolv.conf: a name missing from its hosts file is asked of loopback only, once. */
export const PROMETHEUS_RESOLV_CONF = 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n';

/**
 * The text of Prometheus's private hosts file: the machine's /etc/hosts and the stack's own lines at the
 * first start; on a restart (`existing`) every line already there, plus any of `extraHosts` missing.
 */
export function prometheusHostsFile(existing: string | undefined, machineHosts: string, extraHosts: readonly string[]): string {
  if (existing === undefined) return `${machineHosts.trimEnd()}\n# vigil local stack\n${extraHosts.map((h) => `${h}\n`).join('')}`;
  const present = new Set(existing.split('\n').map((l) => l.trim()));
  const missing = extraHosts.filter((h) => !present.has(h.trim()));
  const base = existing === '' || existing.endsWith('\n') ? existing : `${existing}\n`;
  return `${base}${missing.map((h) => `${h}\n`).join('')}`;
}

// --- Alertmanager -------------------------------------------------------------------------------

export const BOOTSTRAP_ALERTMANAGER_CONFIG = [
  '# Replaced by the vigil sync sidecar with the operator-generated config.',
  'route:',
  '  receiver: bootstrap',
  'receivers:',
  '  - name: bootstrap',
  '',
].join('\n');

export interface Alertmanager {
  process: ManagedProcess;
  url: string;
  configDir: string;
}

export interface AlertmanagerOptions {
  /** Holds data/, the log and (unless configDir is given) config/. */
  dir: string;
  port: number;
  /** Where alertmanager.yml is (a bootstrap one is written if missing); default <dir>/config. */
  configDir?: string;
  /** Process name in logs (default alertmanager). */
  name?: string;
  /**
   * Gossip cluster on loopback (HA tests): this peer's port, the other peers' ports, and the
   * peer timeout (how long each peer position waits for the ones before it; default 15s).
   * Undefined: one instance, clustering off.
   */
  cluster?: { listenPort: number; peerPorts: number[]; peerTimeout?: string };
  /** --data.maintenance-interval; default LOCAL_ALERTMANAGER_MAINTENANCE_INTERVAL. */
  maintenanceInterval?: string;
}

/**
 * How often Alertmanager writes its silences and notification log to <dir>/data (--data.maintenance-interval;
 * its default is 15m, and it writes them at no other time but a clean shutdown): a SIGKILL loses at most
 * this much. The chart's default (alertmanager.maintenanceInterval) is the same.
 */
export const LOCAL_ALERTMANAGER_MAINTENANCE_INTERVAL = '10s';

export async function startAlertmanager(o: AlertmanagerOptions): Promise<Alertmanager> {
  const configDir = o.configDir ?? join(o.dir, 'config');
  const dataDir = join(o.dir, 'data');
  await mkdir(configDir, { recursive: true });
  await mkdir(dataDir, { recursive: true });
  const configFile = join(configDir, 'alertmanager.yml');
  if (!existsSync(configFile)) await writeFile(configFile, BOOTSTRAP_ALERTMANAGER_CONFIG);
  const url = `http://127.0.0.1:${o.port}`;
  const clusterArgs = o.cluster
    ? [
        `--cluster.listen-address=127.0.0.1:${o.cluster.listenPort}`,
        `--cluster.advertise-address=127.0.0.1:${o.cluster.listenPort}`,
        ...o.cluster.peerPorts.map((p) => `--cluster.peer=127.0.0.1:${p}`),
        ...(o.cluster.peerTimeout ? [`--cluster.peer-timeout=${o.cluster.peerTimeout}`] : []),
      ]
    : // One instance: no gossip cluster (it would listen on 0.0.0.0:9094).
      ['--cluster.listen-address='];
  const proc = startProcess(
    o.name ?? 'alertmanager',
    join(BIN_DIR, 'alertmanager'),
    [
      `--config.file=${configFile}`,
      `--storage.path=${dataDir}`,
      `--data.maintenance-interval=${o.maintenanceInterval ?? LOCAL_ALERTMANAGER_MAINTENANCE_INTERVAL}`,
      `--web.listen-address=127.0.0.1:${o.port}`,
      `--web.external-url=${url}`,
      `--enable-feature=${ALERTMANAGER_FEATURES}`,
      ...clusterArgs,
      '--log.level=info',
    ],
    join(o.dir, 'alertmanager.log'),
  );
  await waitHttpOk('Alertmanager /-/ready', `${url}/-/ready`, proc);
  return { process: proc, url, configDir };
}

// --- Vigil operator and sync sidecars -----------------------------------------------------------

export interface OperatorOptions {
  logFile: string;
  kubeconfig: string;
  namespace: string;
  settingsFile: string;
  prometheusUrl: string;
  alertmanagerUrl?: string;
  listenPort: number;
  /** --log-level; default info. */
  logLevel?: 'debug' | 'info';
  /** Appended to the generated flags (e.g. --selector for a second install's scope, --smtp-secret). */
  extraArgs?: string[];
  /** Extra Node flags of the operator process alone (bench-load: heap bounds, --cpu-prof), appended to NODE_OPTIONS. */
  nodeOptions?: string;
  /** Extra environment variables of the operator process alone (tests: operator/controller/test-seam.ts). */
  env?: Record<string, string>;
  /** --config-partitions, as the chart passes it; default true. */
  configPartitions?: boolean;
}

export async function startOperator(o: OperatorOptions): Promise<ManagedProcess> {
  const proc = startVigil(
    'vigil-operator',
    [
      'operator',
      `--kubeconfig=${o.kubeconfig}`,
      `--namespace=${o.namespace}`,
      `--settings=${o.settingsFile}`,
      `--prometheus-url=${o.prometheusUrl}`,
      ...(o.alertmanagerUrl ? [`--alertmanager-url=${o.alertmanagerUrl}`] : []),
      `--listen=127.0.0.1:${o.listenPort}`,
      `--log-level=${o.logLevel ?? 'info'}`,
      ...((o.configPartitions ?? true) ? ['--config-partitions'] : []),
      ...(o.extraArgs ?? []),
    ],
    o.logFile,
    o.nodeOptions || o.env ? { ...process.env, ...o.env, ...(o.nodeOptions ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} ${o.nodeOptions}`.trim() } : {}) } : undefined,
  );
  await waitHttpOk('vigil operator /readyz', `http://127.0.0.1:${o.listenPort}/readyz`, proc, 90_000);
  return proc;
}

export interface SyncOptions {
  name: string;
  logFile: string;
  kubeconfig: string;
  namespace: string;
  object: { configmap: string } | { secret: string };
  dir: string;
  reloadUrl: string;
  readyUrl: string;
  listenPort: number;
  /** --log-level; default info. */
  logLevel?: 'debug' | 'info';
  /** --credentials-secret and --credentials-dir (the Prometheus sidecar). */
  credentials?: { secret: string; dir: string };
  /** --partitions (the Prometheus sidecar of an operator with --config-partitions). */
  partitions?: boolean;
  /** Extra Node flags of the sidecar process alone (bench-memory: V8 heap flags), appended to NODE_OPTIONS. */
  nodeOptions?: string;
  /** Extra environment of the sidecar process, e.g. POD_NAME (the replica it reports as, as in a StatefulSet pod). */
  env?: Record<string, string>;
}

/**
 * Where a local Prometheus finds its scrape credential files (settings.scrapeCredentialsDir): beside
 * its config dir, as the chart mounts them beside /etc/prometheus/generated.
 */
export function scrapeCredentialsDirOf(prometheus: { configDir: string }): string {
  return join(dirname(prometheus.configDir), 'scrape-credentials');
}

export async function startSync(o: SyncOptions): Promise<ManagedProcess> {
  const objectFlag = 'configmap' in o.object ? `--configmap=${o.object.configmap}` : `--secret=${o.object.secret}`;
  const proc = startVigil(
    o.name,
    [
      'sync',
      `--kubeconfig=${o.kubeconfig}`,
      `--namespace=${o.namespace}`,
      objectFlag,
      `--dir=${o.dir}`,
      `--reload-url=${o.reloadUrl}`,
      `--ready-url=${o.readyUrl}`,
      `--listen=127.0.0.1:${o.listenPort}`,
      `--log-level=${o.logLevel ?? 'info'}`,
      ...(o.credentials ? [`--credentials-secret=${o.credentials.secret}`, `--credentials-dir=${o.credentials.dir}`] : []),
      ...(o.partitions ? ['--partitions'] : []),
    ],
    o.logFile,
    o.nodeOptions || o.env ? { ...process.env, ...o.env, ...(o.nodeOptions ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} ${o.nodeOptions}`.trim() } : {}) } : undefined,
  );
  await waitHttpOk(`${o.name} /healthz`, `http://127.0.0.1:${o.listenPort}/healthz`, proc, 90_000);
  return proc;
}

export interface ServerSyncOptions {
  /** The sidecar's log is <logDir>/<kind>-sync.log. */
  logDir: string;
  /** The ServiceAccount kubeconfig of this server (vigilKubeconfigs). */
  kubeconfig: string;
  /** The install namespace, where the operator writes the ConfigMap and the Secret. */
  namespace: string;
  listenPort: number;
  logLevel?: 'debug' | 'info';
  /** The Prometheus sidecar applies a partitioned config (`vigil sync --partitions`), as in the chart; default true. */
  partitions?: boolean;
  /** Extra Node flags of the sidecar (SyncOptions.nodeOptions). */
  nodeOptions?: string;
  /** Extra environment of the sidecar (SyncOptions.env). */
  env?: Record<string, string>;
}

/**
 * The sync sidecar of a Prometheus (the operator's ConfigMap) or an Alertmanager (its Secret), as
 * in the pod: named <kind>-sync, writing into the server's config dir, reloading it by its URL.
 */
export function startServerSync(kind: 'prometheus' | 'alertmanager', server: { url: string; configDir: string }, o: ServerSyncOptions): Promise<ManagedProcess> {
  const name = `${kind}-sync`;
  return startSync({
    name,
    logFile: join(o.logDir, `${name}.log`),
    kubeconfig: o.kubeconfig,
    namespace: o.namespace,
    object: kind === 'prometheus' ? { configmap: OBJECT_NAMES.prometheusConfigMap } : { secret: OBJECT_NAMES.alertmanagerSecret },
    dir: server.configDir,
    reloadUrl: `${server.url}/-/reload`,
    readyUrl: `${server.url}/-/ready`,
    listenPort: o.listenPort,
    ...(o.logLevel ? { logLevel: o.logLevel } : {}),
    ...(kind === 'prometheus' ? { credentials: { secret: OBJECT_NAMES.scrapeCredentialsSecret, dir: scrapeCredentialsDirOf(server) } } : {}),
    ...(kind === 'prometheus' && (o.partitions ?? true) ? { partitions: true } : {}),
    ...(o.nodeOptions ? { nodeOptions: o.nodeOptions } : {}),
    ...(o.env ? { env: o.env } : {}),
  });
}

// --- The demo target ----------------------------------------------------------------------------

export async function startDemoTarget(o: { logFile: string; port: number }): Promise<ManagedProcess> {
  const proc = startTsProgram('demo-target', 'target-service/src/main.ts', [], o.logFile, {
    PORT: String(o.port),
    HOST: '127.0.0.1',
    // The outage is "the process is gone": do not linger on keep-alive connections.
    SHUTDOWN_GRACE_MS: '1000',
  });
  await waitHttpOk('demo target /metrics', `http://127.0.0.1:${o.port}/metrics`, proc, 60_000);
  return proc;
}
