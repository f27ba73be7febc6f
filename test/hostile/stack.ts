// The real programs the hostile-input and secret tests run against, as local processes:
// etcd + kube-apiserver (harness, RBAC on, CRD installed), `vigil operator` with its own
// ServiceAccount, Prometheus 3.15 and Alertmanager 0.35, each fed by its `vigil sync` sidecar.
// No mail path: these tests look at configs, statuses and alerts, not at emails.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { OBJECT_NAMES } from '../../operator/rbac.js';
import { ANNOTATIONS, partitionObjectName, shardObjectName } from '../../operator/contract.js';
import { scrapeConfigFiles, scrapeJobNames } from '../../operator/sync/job-names.js';
import { filesFromConfigMap, filesFromSecret } from '../../operator/sync/files.js';
import type { GlobalSettings } from '../../operator/render/types.js';
import { DEFAULT_SCRAPE_LIMIT_SETTINGS } from '../../operator/render/scrape-limits.js';
import { scrapeCredentialsDirOf, startAlertmanager, startOperator, startPrometheus, startServerSync, startSync, type Alertmanager, type Prometheus } from '../../hack/local-stack/components.js';
import { type GeneratedKind, generatedAnnotations as annotationsOf, waitForConfigApplied as waitForConfigAppliedIn } from '../../hack/local-stack/config-applied.js';
import { freePorts, probePort } from '../../hack/local-stack/net.js';
import { startCluster, type Cluster } from '../../hack/local-stack/cluster.js';
import { logTail, type ManagedProcess } from '../../hack/local-stack/process.js';
import { installRbac, vigilKubeconfigs } from '../../hack/local-stack/rbac.js';

export const INSTALL_NS = 'vigil-system';

export interface HostileStack {
  dir: string;
  cluster: Cluster;
  prometheus: Prometheus;
  alertmanager: Alertmanager;
  operator: ManagedProcess;
  /** The Prometheus sync sidecar (the layout handshake test stops it). */
  prometheusSync: ManagedProcess;
  /** Log files of the Vigil processes (operator, both sidecars). */
  vigilLogs: { operator: string; prometheusSync: string; alertmanagerSync: string };
  /** /metrics of the operator and both sidecars. */
  metricsUrls: string[];
  settings: GlobalSettings;
  /** Tails of every log, for failure messages. */
  logs(lines?: number): string;
  /**
   * Stops the operator (SIGTERM) and starts it again with the same flags and log file, or with
   * `operatorArgs`/`operatorEnv` instead of the stack's (reshard.int: another --prometheus-shards); `operator` is the new process.
   */
  restartOperator(changes?: { operatorArgs?: string[]; operatorEnv?: Record<string, string> }): Promise<void>;
  stop(): Promise<void>;
}

export interface HostileStackOptions {
  namespaces: string[];
  logLevel?: 'debug' | 'info';
  /** /etc/hosts lines only Prometheus sees (EndpointSlice FQDNs of local targets, see startPrometheus). */
  extraHosts?: string[];
  /** Created in the install namespace before the operator starts, and passed as --smtp-secret. */
  smtpSecret?: { name: string; username: string; password: string };
  /** Extra Node flags of the operator process (bench-load: heap bounds, --cpu-prof). */
  operatorNodeOptions?: string;
  /** Pass --alertmanager-url as the chart does: the operator polls what Alertmanager runs (ConfigApplied). */
  pollAlertmanager?: boolean;
  /** Extra environment variables of the operator process (test seams, operator/controller/test-seam.ts). */
  operatorEnv?: Record<string, string>;
  /** A partitioned Prometheus config, as the chart runs it: the operator's --config-partitions, the sidecar's --partitions and their RBAC. Default true. */
  configPartitions?: boolean;
  /** The Prometheus sidecar's --partitions; default configPartitions (false: a sidecar from before partitions). */
  prometheusSyncPartitions?: boolean;
  /** The operator's --prometheus-url (what it polls) instead of the stack's Prometheus (a proxy standing for a Service). */
  operatorPrometheusUrl?: string;
  /** The stack's Prometheus port instead of a free one (shards.int: shard URLs from one template). */
  prometheusPort?: number;
  /** Extra operator flags (shards.int: --prometheus-shards). */
  operatorArgs?: string[];
  /** Intervals instead of the tests' short 5 s scrape / 2 s evaluation (bench-load runs the chart's defaults). */
  intervals?: { scrapeInterval: string; evaluationInterval: string };
  /** Where Alertmanager sends mail (host:port, plain SMTP) instead of a port nothing listens on (reshard.int: a Mailpit). */
  smtpSmarthost?: string;
  /** Extra flags of the stack's Prometheus (reshard.int: a short --rules.alert.resend-delay). */
  prometheusArgs?: string[];
}

export async function startHostileStack(opts: HostileStackOptions): Promise<HostileStack> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-hostile-'));
  const started: ManagedProcess[] = [];
  let cluster: Cluster | undefined;
  const stop = async () => {
    for (const p of [...started].reverse()) await p.stop(5000);
    await cluster?.stop();
    if (process.env.VIGIL_KEEP_STACK !== '1') await rm(dir, { recursive: true, force: true });
  };
  try {
    cluster = await startCluster();
    const c = cluster;
    await installRbac(c, INSTALL_NS, { configPartitions: opts.configPartitions ?? true });
    for (const ns of opts.namespaces) await c.ensureNamespace(ns);
    const kubeconfigs = await vigilKubeconfigs(c, INSTALL_NS);
    if (opts.smtpSecret) {
      const s = opts.smtpSecret;
      await c.kubectl(['create', 'secret', 'generic', s.name, '-n', INSTALL_NS, `--from-literal=username=${s.username}`, `--from-literal=password=${s.password}`]);
    }
    const [promPort, amPort, operatorPort, promSyncPort, amSyncPort, noSmtpPort] = (await freePorts(6)) as [number, number, number, number, number, number];

    const prometheus = await startPrometheus({
      dir: join(dir, 'prometheus'),
      port: opts.prometheusPort ?? promPort,
      extraHosts: opts.extraHosts ?? [],
      ...(opts.prometheusArgs ? { extraArgs: opts.prometheusArgs } : {}),
    });
    started.push(prometheus.process);
    const alertmanager = await startAlertmanager({ dir: join(dir, 'alertmanager'), port: amPort });
    started.push(alertmanager.process);

    const settings: GlobalSettings = {
      profile: 'demo',
      scrapeInterval: opts.intervals?.scrapeInterval ?? '5s',
      evaluationInterval: opts.intervals?.evaluationInterval ?? '2s',
      // A free port nothing listens on: these tests never send mail, Alertmanager only has to load
      // the config. Not 465: a pipeline test or `make local-up` running at the same time listens
      // there, and this stack's alerts would flood its mail catcher.
      smtp: { smarthost: opts.smtpSmarthost ?? `127.0.0.1:${noSmtpPort}`, from: 'vigil@vigil.localhost', hello: 'vigil.localhost', requireTls: false, tlsInsecureSkipVerify: true },
      defaultRecipients: ['oncall@vigil.localhost'],
      alertmanagerTargets: [`127.0.0.1:${amPort}`],
      prometheusUrl: prometheus.url,
      alertmanagerUrl: alertmanager.url,
      rulesDir: '.',
      scrapeCredentialsDir: scrapeCredentialsDirOf(prometheus),
      selfScrapeJobs: [],
      kubernetesSd: { apiServer: c.server, kubeconfigFile: kubeconfigs.prometheus },
      externalLabels: { cluster: 'hostile-test' },
      scrapeLimits: DEFAULT_SCRAPE_LIMIT_SETTINGS,
    };
    const settingsFile = join(dir, 'operator-settings.yaml');
    await writeFile(settingsFile, stringify(settings));

    const vigilLogs = {
      operator: join(dir, 'operator.log'),
      prometheusSync: join(dir, 'prometheus-sync.log'),
      alertmanagerSync: join(dir, 'alertmanager-sync.log'),
    };
    const logLevel = opts.logLevel ?? 'info';
    const operatorOptions: Parameters<typeof startOperator>[0] = {
      logFile: vigilLogs.operator,
      kubeconfig: kubeconfigs.operator,
      namespace: INSTALL_NS,
      settingsFile,
      prometheusUrl: opts.operatorPrometheusUrl ?? prometheus.url,
      ...(opts.pollAlertmanager ? { alertmanagerUrl: alertmanager.url } : {}),
      listenPort: operatorPort,
      logLevel,
      configPartitions: opts.configPartitions ?? true,
      extraArgs: [...(opts.smtpSecret ? [`--smtp-secret=${opts.smtpSecret.name}`] : []), ...(opts.operatorArgs ?? [])],
      ...(opts.operatorNodeOptions ? { nodeOptions: opts.operatorNodeOptions } : {}),
      ...(opts.operatorEnv ? { env: opts.operatorEnv } : {}),
    };
    const operator = await startOperator(operatorOptions);
    started.push(operator);
    // The sidecars as in the pod, each with its own ServiceAccount, at the same log level.
    const sidecar = { logDir: dir, namespace: INSTALL_NS, logLevel };
    const prometheusSync = await startServerSync('prometheus', prometheus, {
      ...sidecar,
      kubeconfig: kubeconfigs.prometheus,
      listenPort: promSyncPort,
      partitions: opts.prometheusSyncPartitions ?? opts.configPartitions ?? true,
    });
    started.push(prometheusSync);
    started.push(await startServerSync('alertmanager', alertmanager, { ...sidecar, kubeconfig: kubeconfigs.alertmanager, listenPort: amSyncPort }));
    const metricsUrls = [operatorPort, promSyncPort, amSyncPort].map((p) => `http://127.0.0.1:${p}/metrics`);

    const stack: HostileStack = {
      dir,
      cluster: c,
      prometheus,
      alertmanager,
      operator,
      prometheusSync,
      vigilLogs,
      metricsUrls,
      settings,
      logs: (lines = 30) => [...started.map((p) => `--- ${p.name} (${p.logFile}) ---\n${logTail(p.logFile, lines)}`), c.logs(10)].join('\n'),
      stop,
      restartOperator: async (changes) => {
        await stack.operator.stop(5000);
        if (changes?.operatorArgs) operatorOptions.extraArgs = [...(opts.smtpSecret ? [`--smtp-secret=${opts.smtpSecret.name}`] : []), ...changes.operatorArgs];
        if (changes?.operatorEnv) operatorOptions.env = changes.operatorEnv;
        const next = await startOperator(operatorOptions);
        started.splice(started.indexOf(stack.operator), 1, next);
        stack.operator = next;
      },
    };
    return stack;
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Annotations of the generated ConfigMap or Secret (hack/local-stack/config-applied.ts). */
export function generatedAnnotations(cluster: Cluster, kind: GeneratedKind): Promise<Record<string, string>> {
  return annotationsOf(cluster, INSTALL_NS, kind);
}

/** Waits until both sidecars report that their server runs the config the operator wrote last; returns both hashes. */
export function waitForConfigApplied(stack: HostileStack, timeoutMs = 90_000): Promise<{ prometheus: string; alertmanager: string }> {
  return waitForConfigAppliedIn(stack.cluster, INSTALL_NS, { timeoutMs });
}

/**
 * The generated files, decoded the way the sync sidecar decodes them (plain keys or the gzip bundle);
 * for the ConfigMap, with the files of the partition objects its manifest names (docs/contract.md).
 */
export async function generatedFiles(cluster: Cluster, kind: 'configmap' | 'secret'): Promise<Record<string, string>> {
  const name = kind === 'configmap' ? OBJECT_NAMES.prometheusConfigMap : OBJECT_NAMES.alertmanagerSecret;
  const obj = JSON.parse(await cluster.kubectl(['get', kind, name, '-n', INSTALL_NS, '-o', 'json'])) as Record<string, never>;
  if (kind === 'secret') return filesFromSecret(obj);
  const files = filesFromConfigMap(obj);
  const manifest = (obj as { metadata?: { annotations?: Record<string, string> } }).metadata?.annotations?.[ANNOTATIONS.partitions];
  for (const id of Object.keys(manifest ? (JSON.parse(manifest) as Record<string, string>) : {})) {
    const part = JSON.parse(await cluster.kubectl(['get', 'configmap', partitionObjectName(name, id), '-n', INSTALL_NS, '-o', 'json'])) as Record<string, never>;
    Object.assign(files, filesFromConfigMap(part));
  }
  return files;
}

/** The scrape job names of a generated Prometheus file set: prometheus.yml's and those of the partitions' scrape files. */
export function generatedJobNames(files: Record<string, string>): string[] {
  return Object.entries(files)
    .filter(([name]) => name === 'prometheus.yml' || name.endsWith('.scrape.yaml'))
    .flatMap(([, text]) => scrapeJobNames(text))
    .sort();
}

/**
 * The scrape job names Prometheus runs: those of /api/v1/status/config and of the scrape config files
 * it names there (it reports their names, not their jobs: docs/contract.md), read from its config dir.
 */
export async function loadedJobNames(stack: HostileStack): Promise<string[]> {
  const body = (await (await fetch(`${stack.prometheus.url}/api/v1/status/config`)).json()) as { data: { yaml: string } };
  const files = scrapeConfigFiles(body.data.yaml);
  const texts = await Promise.all(files.map((f) => readFile(join(stack.prometheus.configDir, f), 'utf8').catch(() => '')));
  return [...scrapeJobNames(body.data.yaml), ...texts.flatMap((t) => scrapeJobNames(t))].sort();
}

/** `kubectl apply` of `objects` as one List. */
export async function applyObjects(cluster: Cluster, objects: readonly object[]): Promise<void> {
  await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }) });
}

/** Registers an afterEach that prints the tails of the stack's logs after a test with a failed assertion. */
export function printLogsOnFailure(stack: () => HostileStack | undefined, lines = 40): void {
  afterEach(() => {
    const state = expect.getState();
    const s = stack();
    if (s && state.assertionCalls !== state.numPassingAsserts) process.stderr.write(`${s.logs(lines)}\n`);
  });
}

/**
 * A base port B (a multiple of 10) with B .. B+count-1 free, for `count` Prometheus shards: shard i
 * listens on B+i, so the operator's URL template is http://127.0.0.1:<B/10>{shard} (shards.int, reshard.int).
 */
export async function freeShardPorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20_000 + 10 * Math.floor(Math.random() * 3000);
    let free = true;
    for (let i = 0; i < count && free; i++) free = (await probePort(base + i)) === null;
    if (free) return base;
  }
  throw new Error(`no ${count} free ports B .. B+${count - 1} with B a multiple of 10 between 20000 and 50000`);
}

/**
 * Prometheus shard `shard` beside the stack (its own Prometheus on `port` and its sidecar on the
 * shard's main object, with --partitions). Admin credentials: the stack's Prometheus sidecar Role
 * names only shard 0's object (the chart adds the others' names). The caller stops both.
 */
export async function startShard(
  stack: Pick<HostileStack, 'dir' | 'cluster'>,
  shard: number,
  port: number,
  o: { extraHosts?: string[]; extraArgs?: string[] } = {},
): Promise<{ prometheus: Prometheus; sync: ManagedProcess }> {
  const prometheus = await startPrometheus({ dir: join(stack.dir, `prometheus-shard-${shard}`), port, extraHosts: o.extraHosts ?? [], ...(o.extraArgs ? { extraArgs: o.extraArgs } : {}) });
  try {
    const sync = await startSync({
      name: `prometheus-sync-shard-${shard}`,
      logFile: join(stack.dir, `prometheus-sync-shard-${shard}.log`),
      kubeconfig: stack.cluster.kubeconfigPath,
      namespace: INSTALL_NS,
      object: { configmap: shardObjectName(OBJECT_NAMES.prometheusConfigMap, shard) },
      dir: prometheus.configDir,
      reloadUrl: `${prometheus.url}/-/reload`,
      readyUrl: `${prometheus.url}/-/ready`,
      listenPort: (await freePorts(1))[0]!,
      credentials: { secret: OBJECT_NAMES.scrapeCredentialsSecret, dir: scrapeCredentialsDirOf(prometheus) },
      partitions: true,
    });
    return { prometheus, sync };
  } catch (err) {
    await prometheus.process.stop(5000);
    throw err;
  }
}
