// `vigil operator`: the controller process. Flags per the operator contract; each also reads
// VIGIL_<FLAG> from the environment (VIGIL_LEADER_ELECT=true for the boolean).
import { readFile } from 'node:fs/promises';
import { Controller, ORPHAN_AFTER_MS } from '../controller/controller.js';
import { parseDurationMs } from '../validate/duration.js';
import { parseLabelSelector } from '../controller/install-scope.js';
import type { V1OwnerReference } from '@kubernetes/client-node';
import { describeApiError, loadKubeConfig, makeClients, type KubeClients } from '../kube/client.js';
import { OBJECT_NAMES, SHARD_PLACEHOLDER } from '../contract.js';
import { MAX_SHARDS } from '../assemble/shards.js';
import { createLogger, startHealthServer, type Logger } from '../observability/index.js';
import { createOperatorMetrics, type OperatorMetrics } from '../observability/metrics.js';
import { initPrometheusWasm } from '../promql/wasm.js';
import { defaultSettings } from '../render/index.js';
import {
  commaList,
  defineCommand,
  type Env,
  envFooter,
  type FlagValues,
  httpUrl,
  kubeconfigFlag,
  listenFlag,
  logLevelFlag,
  namespaceFlag,
  namespaceName,
  objectName,
  switchFlag,
  UsageError,
  valueFlag,
} from './flags.js';
import { podIdentity, runService, SERVICE_EXIT_STATUS, type ServiceIO } from './service.js';

/** --orphan-after in ms: at least two Lease durations (15 s each), so a rolling update of the other install's operator is not taken for its end. */
function orphanAfter(raw: string): number {
  const ms = parseDurationMs(raw);
  if (ms === undefined || ms < 30_000) throw new Error(`"${raw}" is not accepted: a duration of at least 30s, such as 2m or 90s`);
  return ms;
}

/** A label selector as text, checked by the same parser the install scope uses (trimmed). */
function labelSelectorText(raw: string): string {
  parseLabelSelector(raw);
  return raw.trim();
}

/** The largest --prometheus-replicas / --alertmanager-replicas: each replica adds its report's annotations to one object. */
const MAX_REPLICAS = 32;

/** --prometheus-replicas, --alertmanager-replicas: an integer from 1 to MAX_REPLICAS. */
function replicaCount(raw: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > MAX_REPLICAS) throw new Error(`"${raw}" is not a replica count: expected an integer from 1 to ${MAX_REPLICAS}`);
  return n;
}

/** The flags of `vigil operator`: parser and usage text (flags.ts). */
export const OPERATOR_COMMAND = defineCommand({
  name: 'operator',
  synopsis: '[options]',
  description: `Reconciles MonitoredServices (vigil.dev/v1alpha1) into the Prometheus config ConfigMap and the
Alertmanager config Secret in the install namespace, and reports status and Events on each object.`,
  flags: {
    kubeconfig: kubeconfigFlag,
    namespace: namespaceFlag('install namespace: generated ConfigMap/Secret, Lease, SMTP Secret'),
    'watch-namespaces': valueFlag({ placeholder: '<a,b>', help: 'only these namespaces', parse: commaList(namespaceName), default: (): string[] => [], defaultHelp: 'all' }),
    selector: valueFlag({
      placeholder: '<selector>',
      help: 'only MonitoredServices with these labels, e.g. vigil.dev/install=team-a (kubectl -l syntax). With --watch-namespaces this is the install\'s scope: give each install of the chart a scope of its own (docs/deployment.md, "Several installs")',
      parse: labelSelectorText,
      default: '',
      defaultHelp: 'all',
    }),
    settings: valueFlag({ placeholder: '<file>', help: 'YAML of global settings (profile, smtp, defaultRecipients, ...); SMTP credentials do not belong here, see --smtp-secret' }),
    'smtp-secret': valueFlag({ placeholder: '<name>', help: 'Secret in the install namespace with keys username, password', parse: objectName('Secret') }),
    'owner-configmap': valueFlag({
      placeholder: '<name>',
      help: 'ConfigMap in the install namespace that owns the generated ConfigMap, Secret and Lease: deleting it deletes them (the chart passes its settings ConfigMap, so helm uninstall leaves none of them behind)',
      parse: objectName('ConfigMap'),
    }),
    'prometheus-url': valueFlag({
      placeholder: '<url>',
      help: `Prometheus base URL, for discovered/healthy target counts; with --prometheus-shards above 1 a template in which ${SHARD_PLACEHOLDER} stands for the shard index, e.g. http://vigil-prometheus-${SHARD_PLACEHOLDER}.vigil-prometheus:9090`,
      parse: shardUrlTemplate,
    }),
    'alertmanager-url': valueFlag({
      placeholder: '<url>',
      help: 'Alertmanager base URL, polled (/metrics) so that ConfigApplied says when it does not answer or runs a config Vigil did not write',
      parse: httpUrl('http://alertmanager:9093'),
    }),
    listen: listenFlag('/metrics, /healthz, /readyz', '127.0.0.1:8080'),
    'leader-elect': switchFlag({ help: `take the Lease ${OBJECT_NAMES.leaderLease} before writing (for several replicas); renewed either way: other installs read it to know this one runs` }),
    'orphan-after': valueFlag({
      placeholder: '<time>',
      help: `take over a MonitoredService this install's scope selects but another install claims (status.install) when that install's Lease ${OBJECT_NAMES.leaderLease} is missing (uninstalled, namespace deleted) or has not been renewed for this long (its operator stopped); a Prometheus duration of at least 30s`,
      parse: orphanAfter,
      default: ORPHAN_AFTER_MS,
      defaultHelp: '2m',
    }),
    'config-partitions': switchFlag({
      help: 'write the Prometheus config as a main ConfigMap and one ConfigMap per partition of services (docs/contract.md), so no install outgrows one object and a change rewrites one partition; the Prometheus sync sidecar needs --partitions',
    }),
    'prometheus-shards': valueFlag({
      placeholder: '<n>',
      help: `spread the MonitoredServices over n Prometheus shards by whole namespaces (1 to ${MAX_SHARDS}; docs/contract.md, "Shards"): shard 0 reads ConfigMap ${OBJECT_NAMES.prometheusConfigMap}, shard i ${OBJECT_NAMES.prometheusConfigMap}-shard-<i>, each with its partitions; needs --config-partitions above 1. Changing n on a running install hands each moving namespace over: it runs on its old and its new shard until the new one has applied it and run it for as long as its alerts need to fire there, then leaves the old one; after a shrink the objects of the removed shards are then deleted`,
      parse: shardCount,
      default: 1,
    }),
    'prometheus-replicas': valueFlag({
      placeholder: '<n>',
      help: `pods of the Prometheus StatefulSet (of each shard), 1 to ${MAX_REPLICAS}: ConfigApplied is True only once the sync sidecar of each of them (vigil sync --replica 0 … n-1) reports the config; reports of replicas beyond n are ignored and removed (docs/contract.md, "One report per replica")`,
      parse: replicaCount,
      default: 1,
    }),
    'alertmanager-replicas': valueFlag({
      placeholder: '<n>',
      help: `pods of the Alertmanager StatefulSet, 1 to ${MAX_REPLICAS}, as --prometheus-replicas`,
      parse: replicaCount,
      default: 1,
    }),
    'log-level': logLevelFlag,
  },
  footer: [envFooter('VIGIL_WATCH_NAMESPACES=team-a,team-b'), SERVICE_EXIT_STATUS],
});

export const OPERATOR_USAGE = OPERATOR_COMMAND.usage;

/** --prometheus-shards: an integer from 1 to MAX_SHARDS. */
function shardCount(raw: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > MAX_SHARDS) throw new Error(`"${raw}" is not a shard count: expected an integer from 1 to ${MAX_SHARDS}`);
  return n;
}

/** --prometheus-url: an http(s) URL, where SHARD_PLACEHOLDER may stand for a shard index (checked with 0 in its place). */
function shardUrlTemplate(raw: string): string {
  httpUrl('http://prometheus:9090')(raw.replaceAll(SHARD_PLACEHOLDER, '0'));
  return raw;
}

export interface OperatorConfig {
  kubeconfig?: string;
  namespace: string;
  watchNamespaces: string[];
  /** Label selector on MonitoredServices (checked); absent or '' = all. */
  selector?: string;
  settingsFile?: string;
  smtpSecret?: string;
  ownerConfigMap?: string;
  prometheusUrl?: string;
  alertmanagerUrl?: string;
  listen: string;
  leaderElect: boolean;
  /** --orphan-after, ms; absent: ORPHAN_AFTER_MS. */
  orphanAfterMs?: number;
  /** --config-partitions: the Prometheus config as partitions. */
  configPartitions?: boolean;
  /** --prometheus-shards; absent: 1. */
  prometheusShards?: number;
  /** --prometheus-replicas, --alertmanager-replicas; absent: 1. */
  prometheusReplicas?: number;
  alertmanagerReplicas?: number;
  logLevel: string;
  identity: string;
}

function operatorConfig(v: FlagValues<typeof OPERATOR_COMMAND.flags>, env: Env): OperatorConfig {
  const shards = v['prometheus-shards'];
  if (shards > 1 && !v['config-partitions']) throw new UsageError(`--prometheus-shards ${shards} needs --config-partitions: each shard's config is a partitioned config of its own`);
  const url = v['prometheus-url'];
  if (url !== undefined && shards > 1 && !url.includes(SHARD_PLACEHOLDER))
    throw new UsageError(
      `--prometheus-url ${url} names one Prometheus, but --prometheus-shards is ${shards}: give a template with ${SHARD_PLACEHOLDER} for the shard index, e.g. http://vigil-prometheus-${SHARD_PLACEHOLDER}.vigil-prometheus:9090`,
    );
  if (url !== undefined && shards === 1 && url.includes(SHARD_PLACEHOLDER)) throw new UsageError(`--prometheus-url ${url} has ${SHARD_PLACEHOLDER}, which goes with --prometheus-shards above 1`);
  return {
    ...(v.kubeconfig !== undefined ? { kubeconfig: v.kubeconfig } : {}),
    namespace: v.namespace,
    watchNamespaces: v['watch-namespaces'],
    selector: v.selector,
    ...(v.settings !== undefined ? { settingsFile: v.settings } : {}),
    ...(v['smtp-secret'] !== undefined ? { smtpSecret: v['smtp-secret'] } : {}),
    ...(v['owner-configmap'] !== undefined ? { ownerConfigMap: v['owner-configmap'] } : {}),
    ...(v['prometheus-url'] !== undefined ? { prometheusUrl: v['prometheus-url'] } : {}),
    ...(v['alertmanager-url'] !== undefined ? { alertmanagerUrl: v['alertmanager-url'] } : {}),
    listen: v.listen,
    leaderElect: v['leader-elect'],
    orphanAfterMs: v['orphan-after'],
    ...(v['config-partitions'] ? { configPartitions: true } : {}),
    ...(shards > 1 ? { prometheusShards: shards } : {}),
    ...(v['prometheus-replicas'] > 1 ? { prometheusReplicas: v['prometheus-replicas'] } : {}),
    ...(v['alertmanager-replicas'] > 1 ? { alertmanagerReplicas: v['alertmanager-replicas'] } : {}),
    logLevel: v['log-level'],
    identity: podIdentity(env),
  };
}

/** Flags, then environment, then defaults. Throws a UsageError naming the flag on bad input. */
export function parseOperatorArgs(argv: string[], env: Env = process.env): OperatorConfig | 'help' {
  const values = OPERATOR_COMMAND.parse(argv, env);
  return values === 'help' ? 'help' : operatorConfig(values, env);
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
  // Prometheus's parser and templates (operator/wasm): loaded before the first reconcile, so a missing
  // module stops the start with its reason instead of failing every validation.
  const wasmLoadMs = initPrometheusWasm();
  const kc = loadKubeConfig(config.kubeconfig);
  const metrics = createOperatorMetrics();
  const clients = makeClients(kc);
  const controller = new Controller({
    clients,
    ownerReferences: config.ownerConfigMap ? [await ownerReference(clients, config.namespace, config.ownerConfigMap)] : undefined,
    installNamespace: config.namespace,
    watchNamespaces: config.watchNamespaces,
    selector: config.selector,
    settings,
    smtpSecretName: config.smtpSecret,
    prometheusUrl: config.prometheusUrl,
    alertmanagerUrl: config.alertmanagerUrl,
    identity: config.identity,
    leaderElect: config.leaderElect,
    ...(config.orphanAfterMs !== undefined ? { orphanAfterMs: config.orphanAfterMs } : {}),
    ...(config.configPartitions ? { configPartitions: true } : {}),
    ...(config.prometheusShards !== undefined ? { prometheusShards: config.prometheusShards } : {}),
    ...(config.prometheusReplicas !== undefined ? { prometheusReplicas: config.prometheusReplicas } : {}),
    ...(config.alertmanagerReplicas !== undefined ? { alertmanagerReplicas: config.alertmanagerReplicas } : {}),
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
    selector: config.selector || 'all MonitoredServices',
    leaderElect: config.leaderElect,
    identity: config.identity,
    prometheusWasmLoadMs: Math.round(wasmLoadMs),
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

export function runOperatorCommand(argv: string[], io?: ServiceIO): Promise<number> {
  return runService(
    {
      command: OPERATOR_COMMAND,
      config: operatorConfig,
      logger: (config) => createLogger('operator', config.logLevel),
      start: (config, log) => startOperator(config, log),
    },
    argv,
    io,
  );
}
