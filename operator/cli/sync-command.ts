// `vigil sync`: the sidecar that delivers one ConfigMap (Prometheus) or Secret (Alertmanager) into
// the server's config directory through the API, without the kubelet's 60-120 s volume lag.
// Flags per the operator contract; each also reads VIGIL_<FLAG> from the environment.
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { loadKubeConfig } from '../kube/client.js';
import { createLogger, parseLogLevel, startHealthServer, type Logger } from '../observability/index.js';
import type { ServerKind } from '../sync/confirm.js';
import { filesFromConfigMap, filesFromSecret } from '../sync/files.js';
import { createKubeReporter } from '../sync/kube-reporter.js';
import { createSyncMetrics } from '../sync/metrics.js';
import { createHttpReloader } from '../sync/reloader.js';
import { Syncer, type ObservedObject } from '../sync/syncer.js';
import { watchOneObject, type WatchedKind, type WatchedObject } from '../sync/watcher.js';

export const SYNC_USAGE = `Usage: vigil sync --namespace <ns> (--configmap <name> | --secret <name>) --dir <dir> --reload-url <url> [options]

Watches one ConfigMap or Secret through the Kubernetes API, writes its keys atomically as files
into --dir, asks the server to reload, confirms it runs the new config, and reports the result in
the object's annotations (vigil.dev/applied-hash, vigil.dev/reload-error) and Events.

  --namespace <ns>        namespace of the object (default: $POD_NAMESPACE or vigil-system)
  --configmap <name>      watch this ConfigMap (Prometheus)
  --secret <name>         watch this Secret (Alertmanager)
  --dir <dir>             directory the server reads its config from (shared volume)
  --reload-url <url>      e.g. http://127.0.0.1:9090/-/reload
  --ready-url <url>       polled until 200 before each reload, e.g. http://127.0.0.1:9090/-/ready
  --server <kind>         prometheus | alertmanager (default: from prometheus.yml / alertmanager.yml)
  --kubeconfig <path>     default: in-cluster, else $KUBECONFIG or ~/.kube/config
  --listen <host:port>    /healthz, /readyz, /metrics (default 127.0.0.1:8081)
  --log-level <level>     debug | info | warn | error (default info)
Every flag can also be set as VIGIL_<FLAG>, e.g. VIGIL_RELOAD_URL.`;

export interface SyncConfig {
  namespace: string;
  kind: WatchedKind;
  name: string;
  dir: string;
  reloadUrl: string;
  readyUrl?: string;
  server?: ServerKind;
  kubeconfig?: string;
  listen: string;
  logLevel: string;
}

const FLAGS = ['namespace', 'configmap', 'secret', 'dir', 'reload-url', 'ready-url', 'server', 'kubeconfig', 'listen', 'log-level'] as const;

function envName(flag: string): string {
  return `VIGIL_${flag.toUpperCase().replace(/-/g, '_')}`;
}

function checkHttpUrl(flag: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`--${flag}: "${value}" is not a URL; expected e.g. http://127.0.0.1:9090/-/reload`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`--${flag}: "${value}" must be an http(s) URL`);
  return value;
}

/** Flags, then environment, then defaults. Throws an Error naming the flag on bad input. */
export function parseSyncArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): SyncConfig | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: { ...Object.fromEntries(FLAGS.map((f) => [f, { type: 'string' as const }])), help: { type: 'boolean', short: 'h' } },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const get = (flag: (typeof FLAGS)[number]): string | undefined => {
    const v = (values as Record<string, string | undefined>)[flag] ?? env[envName(flag)];
    return v === '' ? undefined : v;
  };
  const configmap = get('configmap');
  const secret = get('secret');
  if ((configmap === undefined) === (secret === undefined)) throw new Error('exactly one of --configmap <name> or --secret <name> is required');
  const dir = get('dir');
  if (!dir) throw new Error('--dir <dir> is required: the directory the server reads its config from');
  const reloadUrl = get('reload-url');
  if (!reloadUrl) throw new Error('--reload-url <url> is required, e.g. http://127.0.0.1:9090/-/reload');
  const server = get('server');
  if (server !== undefined && server !== 'prometheus' && server !== 'alertmanager') throw new Error(`--server: "${server}" is not one of prometheus, alertmanager`);
  const logLevel = get('log-level') ?? 'info';
  parseLogLevel(logLevel);
  const readyUrl = get('ready-url');
  const kubeconfig = get('kubeconfig');
  return {
    namespace: get('namespace') ?? (env.POD_NAMESPACE || 'vigil-system'),
    kind: configmap !== undefined ? 'ConfigMap' : 'Secret',
    name: (configmap ?? secret) as string,
    dir,
    reloadUrl: checkHttpUrl('reload-url', reloadUrl),
    ...(readyUrl ? { readyUrl: checkHttpUrl('ready-url', readyUrl) } : {}),
    ...(server ? { server } : {}),
    ...(kubeconfig ? { kubeconfig } : {}),
    listen: get('listen') ?? '127.0.0.1:8081',
    logLevel,
  };
}

/** The syncer's view of a watched object: decoded files (or why they cannot be) and annotations. */
export function toObservedObject(kind: WatchedKind, object: WatchedObject): ObservedObject {
  let files: ObservedObject['files'];
  try {
    files = kind === 'ConfigMap' ? filesFromConfigMap(object) : filesFromSecret(object);
  } catch (err) {
    files = { error: (err as Error).message };
  }
  return { annotations: { ...(object.metadata?.annotations ?? {}) }, files };
}

export interface RunningSync {
  /** Where /healthz and /metrics really listen (port 0 resolved). */
  listen: { host: string; port: number };
  stop(): Promise<void>;
}

/** Starts the sidecar; resolves once it is watching and serving /healthz. */
export async function startSync(config: SyncConfig, log: Logger): Promise<RunningSync> {
  const kc = loadKubeConfig(config.kubeconfig);
  const metrics = createSyncMetrics();
  let latestUid: string | undefined;
  const reporter = createKubeReporter({
    kc,
    kind: config.kind,
    namespace: config.namespace,
    name: config.name,
    uid: () => latestUid,
    instance: process.env.POD_NAME || `${hostname()}-${process.pid}`,
  });
  const syncer = new Syncer({
    dir: config.dir,
    ...(config.server ? { server: config.server } : {}),
    // Secrets hold SMTP credentials: readable by the pod's group (fsGroup), not by the world.
    fileMode: config.kind === 'Secret' ? 0o640 : 0o644,
    reloader: createHttpReloader({ reloadUrl: config.reloadUrl, ...(config.readyUrl ? { readyUrl: config.readyUrl } : {}), log }),
    reporter,
    metrics,
    log,
  });
  await syncer.init();
  const health = await startHealthServer({ listen: config.listen, registry: metrics.registry, ready: () => syncer.hasGoodConfig() });
  const watch = watchOneObject({
    kc,
    kind: config.kind,
    namespace: config.namespace,
    name: config.name,
    log,
    onObject(object) {
      if (object === undefined) return syncer.observe(undefined);
      latestUid = object.metadata?.uid;
      syncer.observe(toObservedObject(config.kind, object));
    },
  });
  log.info('sync started', { kind: config.kind, namespace: config.namespace, name: config.name, dir: config.dir, listen: `${health.host}:${health.port}` });
  return {
    listen: { host: health.host, port: health.port },
    async stop() {
      await watch.stop();
      await syncer.stop(); // lets an in-flight write + reload finish
      await health.close();
    },
  };
}

export async function runSyncCommand(argv: string[]): Promise<number> {
  let config: SyncConfig | 'help';
  try {
    config = parseSyncArgs(argv);
  } catch (err) {
    process.stderr.write(`vigil sync: ${(err as Error).message}\n\n${SYNC_USAGE}\n`);
    return 2;
  }
  if (config === 'help') {
    process.stdout.write(`${SYNC_USAGE}\n`);
    return 0;
  }
  const log = createLogger('sync', config.logLevel).child({ object: `${config.kind}/${config.namespace}/${config.name}` });
  let running: RunningSync;
  try {
    running = await startSync(config, log);
  } catch (err) {
    log.error('could not start', { err });
    return 1;
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log.info('stopping', { signal });
  await running.stop();
  return 0;
}
