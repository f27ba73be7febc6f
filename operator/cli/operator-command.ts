// `vigil operator`: the controller process. Flags per the operator contract; each also reads
// VIGIL_<FLAG> from the environment (VIGIL_LEADER_ELECT=true for the boolean).
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { Controller } from '../controller/controller.js';
import type { V1OwnerReference } from '@kubernetes/client-node';
import { describeApiError, loadKubeConfig, makeClients, type KubeClients } from '../kube/client.js';
import { createLogger, parseLogLevel, startHealthServer, type Logger } from '../observability/index.js';
import { createOperatorMetrics, type OperatorMetrics } from '../observability/metrics.js';
import { defaultSettings } from '../render/index.js';
import type { GlobalSettings } from '../render/types.js';

export const OPERATOR_USAGE = `Usage: vigil operator [options]

Reconciles MonitoredServices (vigil.dev/v1alpha1) into the Prometheus config ConfigMap and the
Alertmanager config Secret in the install namespace, and reports status and Events on each object.

  --kubeconfig <path>         default: in-cluster, else $KUBECONFIG or ~/.kube/config
  --namespace <ns>            install namespace: generated ConfigMap/Secret, Lease, SMTP Secret
                              (default: $POD_NAMESPACE or vigil-system)
  --watch-namespaces <a,b>    only these namespaces (default: all)
  --settings <file>           YAML of global settings (profile, smtp, defaultRecipients, ...);
                              SMTP credentials do not belong here, see --smtp-secret
  --smtp-secret <name>        Secret in the install namespace with keys username, password
  --owner-configmap <name>    ConfigMap in the install namespace that owns the generated ConfigMap,
                              Secret and Lease: deleting it deletes them (the chart passes its
                              settings ConfigMap, so helm uninstall leaves none of them behind)
  --prometheus-url <url>      Prometheus base URL, for discovered/healthy target counts
  --listen <host:port>        /metrics, /healthz, /readyz (default 127.0.0.1:8080)
  --leader-elect              take the Lease vigil-operator before writing (for several replicas)
  --log-level <level>         debug | info | warn | error (default info)
Every flag can also be set as VIGIL_<FLAG>, e.g. VIGIL_WATCH_NAMESPACES=team-a,team-b.`;

export interface OperatorConfig {
  kubeconfig?: string;
  namespace: string;
  watchNamespaces: string[];
  settingsFile?: string;
  smtpSecret?: string;
  ownerConfigMap?: string;
  prometheusUrl?: string;
  listen: string;
  leaderElect: boolean;
  logLevel: string;
  identity: string;
}

const STRING_FLAGS = ['kubeconfig', 'namespace', 'watch-namespaces', 'settings', 'smtp-secret', 'owner-configmap', 'prometheus-url', 'listen', 'log-level'] as const;
type StringFlag = (typeof STRING_FLAGS)[number];

function envName(flag: string): string {
  return `VIGIL_${flag.toUpperCase().replace(/-/g, '_')}`;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function parseBool(flag: string, value: string): boolean {
  if (/^(1|true|yes)$/i.test(value)) return true;
  if (/^(0|false|no)$/i.test(value)) return false;
  throw new Error(`${envName(flag)}: "${value}" is not a boolean; use true or false`);
}

/** Flags, then environment, then defaults. Throws an Error naming the flag on bad input. */
export function parseOperatorArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): OperatorConfig | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...Object.fromEntries(STRING_FLAGS.map((f) => [f, { type: 'string' as const }])),
      'leader-elect': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const get = (flag: StringFlag): string | undefined => {
    const v = (values as Record<string, string | undefined>)[flag] ?? env[envName(flag)];
    return v === '' ? undefined : v;
  };
  const namespace = get('namespace') ?? (env.POD_NAMESPACE || 'vigil-system');
  if (!DNS_LABEL.test(namespace)) throw new Error(`--namespace: "${namespace}" is not a valid namespace name`);
  const watchNamespaces = (get('watch-namespaces') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const ns of watchNamespaces) if (!DNS_LABEL.test(ns)) throw new Error(`--watch-namespaces: "${ns}" is not a valid namespace name`);
  const prometheusUrl = get('prometheus-url');
  if (prometheusUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(prometheusUrl);
    } catch {
      throw new Error(`--prometheus-url: "${prometheusUrl}" is not a URL; expected e.g. http://prometheus:9090`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`--prometheus-url: "${prometheusUrl}" must be an http(s) URL`);
  }
  const smtpSecret = get('smtp-secret');
  if (smtpSecret !== undefined && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(smtpSecret)) throw new Error(`--smtp-secret: "${smtpSecret}" is not a valid Secret name`);
  const ownerConfigMap = get('owner-configmap');
  if (ownerConfigMap !== undefined && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(ownerConfigMap)) {
    throw new Error(`--owner-configmap: "${ownerConfigMap}" is not a valid ConfigMap name`);
  }
  const logLevel = get('log-level') ?? 'info';
  try {
    parseLogLevel(logLevel);
  } catch (err) {
    throw new Error(`--log-level: ${(err as Error).message}`);
  }
  const leaderEnv = env[envName('leader-elect')];
  const leaderElect = values['leader-elect'] ?? (leaderEnv ? parseBool('leader-elect', leaderEnv) : false);
  const kubeconfig = get('kubeconfig');
  const settingsFile = get('settings');
  return {
    ...(kubeconfig ? { kubeconfig } : {}),
    namespace,
    watchNamespaces,
    ...(settingsFile ? { settingsFile } : {}),
    ...(smtpSecret ? { smtpSecret } : {}),
    ...(ownerConfigMap ? { ownerConfigMap } : {}),
    ...(prometheusUrl ? { prometheusUrl } : {}),
    listen: get('listen') ?? '127.0.0.1:8080',
    leaderElect,
    logLevel,
    identity: env.POD_NAME || `${hostname()}-${process.pid}`,
  };
}

// The settings parser lives with the renderers; re-exported for the command's callers and tests.
import { settingsFromYaml } from '../render/settings.js';

export { settingsFromYaml };

export interface RunningOperator {
  controller: Controller;
  metrics: OperatorMetrics;
  listen: { host: string; port: number };
  /** Graceful: finishes the in-flight write, releases the Lease, closes the server. */
  stop(): Promise<void>;
}

export async function startOperator(config: OperatorConfig, log: Logger, tuning: { debounceMs?: number; maxDelayMs?: number; targetsIntervalMs?: number } = {}): Promise<RunningOperator> {
  const settings = config.settingsFile ? settingsFromYaml(await readFile(config.settingsFile, 'utf8'), config.settingsFile) : defaultSettings();
  const kc = loadKubeConfig(config.kubeconfig);
  const metrics = createOperatorMetrics();
  const clients = makeClients(kc);
  const controller = new Controller({
    clients,
    ownerReferences: config.ownerConfigMap ? [await ownerReference(clients, config.namespace, config.ownerConfigMap)] : undefined,
    installNamespace: config.namespace,
    watchNamespaces: config.watchNamespaces,
    settings,
    smtpSecretName: config.smtpSecret,
    prometheusUrl: config.prometheusUrl,
    identity: config.identity,
    leaderElect: config.leaderElect,
    log,
    metrics,
    ...tuning,
  });
  const health = await startHealthServer({ listen: config.listen, registry: metrics.registry, ready: () => controller.ready() });
  await controller.start();
  log.info('operator started', {
    server: kc.getCurrentCluster()?.server,
    installNamespace: config.namespace,
    watchNamespaces: config.watchNamespaces.length > 0 ? config.watchNamespaces : 'all',
    leaderElect: config.leaderElect,
    identity: config.identity,
    listen: `${health.host}:${health.port}`,
  });
  return {
    controller,
    metrics,
    listen: { host: health.host, port: health.port },
    async stop() {
      await controller.stop();
      await health.close();
    },
  };
}

/**
 * The ownerReference to ConfigMap `namespace/name` (its uid, read now). Not a controller reference and not blocking
 * the owner's deletion: the generated objects simply go with it. Throws when the ConfigMap cannot be read.
 */
async function ownerReference(clients: KubeClients, namespace: string, name: string): Promise<V1OwnerReference> {
  let uid: string | undefined;
  try {
    uid = (await clients.core.readNamespacedConfigMap({ name, namespace })).metadata?.uid;
  } catch (err) {
    throw new Error(`--owner-configmap: cannot read ConfigMap ${namespace}/${name}: ${describeApiError(err)}`);
  }
  if (!uid) throw new Error(`--owner-configmap: ConfigMap ${namespace}/${name} has no uid`);
  return { apiVersion: 'v1', kind: 'ConfigMap', name, uid };
}

export async function runOperatorCommand(argv: string[]): Promise<number> {
  let config: OperatorConfig | 'help';
  try {
    config = parseOperatorArgs(argv);
  } catch (err) {
    process.stderr.write(`vigil operator: ${(err as Error).message}\n\n${OPERATOR_USAGE}\n`);
    return 2;
  }
  if (config === 'help') {
    process.stdout.write(`${OPERATOR_USAGE}\n`);
    return 0;
  }
  const log = createLogger('operator', config.logLevel);
  let running: RunningOperator;
  try {
    running = await startOperator(config, log);
  } catch (err) {
    log.error('could not start', { error: err });
    return 1;
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log.info('stopping', { signal });
  await running.stop();
  log.info('stopped', {});
  return 0;
}
