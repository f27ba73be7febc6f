// `vigil sync`: the sidecar that delivers one ConfigMap (Prometheus) or Secret (Alertmanager) into
// the server's config directory through the API, without the kubelet's 60-120 s volume lag.
// Flags per the operator contract; each also reads VIGIL_<FLAG> from the environment.
import { loadRestConfig, RestClient } from '../kube/rest.js';
import { createLogger, startHealthServer, type Logger } from '../observability/index.js';
import { CONFIG_FILE, type ServerKind } from '../sync/confirm.js';
import { filesFromConfigMap, filesFromSecret } from '../sync/files.js';
import { replicaOrdinal } from '../sync/annotations.js';
import { createKubeReporter } from '../sync/kube-reporter.js';
import { createSyncMetrics } from '../sync/metrics.js';
import { createHttpReloader } from '../sync/reloader.js';
import { Syncer, type ObservedObject } from '../sync/syncer.js';
import { watchObjects, watchOneObject, type WatchedKind, type WatchedObject } from '../sync/watcher.js';
import {
  defineCommand,
  type Env,
  envFooter,
  type FlagValues,
  httpUrl,
  kubeconfigFlag,
  listenFlag,
  logLevelFlag,
  namespaceFlag,
  objectName,
  oneOf,
  switchFlag,
  UsageError,
  valueFlag,
} from './flags.js';
import { ANNOTATIONS, PARTITION_OF_LABEL } from '../contract.js';
import { mergePartitions, type DecodedObject } from '../sync/partitions.js';
import { podIdentity, runService, SERVICE_EXIT_STATUS, type ServiceIO } from './service.js';

/** prometheus, alertmanager: the servers the syncer knows the config file of. */
const SERVER_KINDS = Object.keys(CONFIG_FILE) as ServerKind[];
const RELOAD_URL_EXAMPLE = 'http://127.0.0.1:9090/-/reload';

/** The flags of `vigil sync`: parser and usage text (flags.ts). */
export const SYNC_COMMAND = defineCommand({
  name: 'sync',
  synopsis: '--namespace <ns> (--configmap <name> | --secret <name>) --dir <dir> --reload-url <url> [options]',
  description: `Watches one ConfigMap or Secret through the Kubernetes API, writes its keys atomically as files
into --dir, asks the server to reload, confirms it runs the new config, and reports the result in
the object's annotations (vigil.dev/applied-hash, vigil.dev/reload-error) and Events.`,
  flags: {
    namespace: namespaceFlag('namespace of the object'),
    configmap: valueFlag({ placeholder: '<name>', help: 'watch this ConfigMap (Prometheus)', parse: objectName('ConfigMap') }),
    secret: valueFlag({ placeholder: '<name>', help: 'watch this Secret (Alertmanager)', parse: objectName('Secret') }),
    dir: valueFlag({ placeholder: '<dir>', help: 'directory the server reads its config from (shared volume)', required: 'the directory the server reads its config from' }),
    'reload-url': valueFlag({ placeholder: '<url>', help: `e.g. ${RELOAD_URL_EXAMPLE}`, parse: httpUrl(RELOAD_URL_EXAMPLE), required: `the server's reload endpoint, e.g. ${RELOAD_URL_EXAMPLE}` }),
    'ready-url': valueFlag({ placeholder: '<url>', help: 'polled until 200 before each reload, e.g. http://127.0.0.1:9090/-/ready', parse: httpUrl('http://127.0.0.1:9090/-/ready') }),
    server: valueFlag({ placeholder: '<kind>', help: 'prometheus | alertmanager', parse: oneOf(SERVER_KINDS), defaultHelp: 'from prometheus.yml / alertmanager.yml' }),
    'credentials-secret': valueFlag({
      placeholder: '<name>',
      help: "also watch this Secret (the operator's scrape credentials) and write its keys into --credentials-dir, before any config naming them; no reload for their changes",
      parse: objectName('Secret'),
    }),
    'credentials-dir': valueFlag({ placeholder: '<dir>', help: 'directory of the scrape credential files (with --credentials-secret)' }),
    partitions: switchFlag({
      help: `also watch the ConfigMaps labelled ${PARTITION_OF_LABEL}=<the --configmap name> and apply the main object together with the partitions its ${ANNOTATIONS.partitions} annotation names (needs list and watch of ConfigMaps in the namespace)`,
    }),
    replica: valueFlag({
      placeholder: '<ordinal>',
      help: 'the replica this sidecar reports as: 0 writes the plain report annotations, i > 0 writes them with the suffix .replica-<i> (one report per Prometheus/Alertmanager pod)',
      parse: replicaNumber,
      default: (env) => replicaOrdinal(env.POD_NAME),
      defaultHelp: 'the StatefulSet ordinal at the end of $POD_NAME, else 0',
    }),
    kubeconfig: kubeconfigFlag,
    listen: listenFlag('/healthz, /readyz, /metrics', '127.0.0.1:8081'),
    'log-level': logLevelFlag,
  },
  footer: [envFooter('VIGIL_RELOAD_URL'), SERVICE_EXIT_STATUS],
});

export const SYNC_USAGE = SYNC_COMMAND.usage;

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
  /** The scrape-credentials Secret and where its files go (both or neither). */
  credentials?: { secret: string; dir: string };
  /** Also watch the main ConfigMap's partition objects (sync/partitions.ts). */
  partitions?: boolean;
  /** The replica whose report this sidecar writes (contract.ts replicaAnnotation). */
  replica: number;
  /** POD_NAME, when set: written beside the report. */
  podName?: string;
}

/** --replica: a StatefulSet ordinal. */
function replicaNumber(value: string): number {
  if (!/^\d{1,6}$/.test(value)) throw new Error(`"${value}" is not a replica ordinal: expected an integer from 0 to 999999 (the StatefulSet ordinal of the pod)`);
  return Number(value);
}

function syncConfig(v: FlagValues<typeof SYNC_COMMAND.flags>, env: Env): SyncConfig {
  const { configmap, secret } = v;
  if ((configmap === undefined) === (secret === undefined)) throw new UsageError('exactly one of --configmap <name> or --secret <name> is required');
  if ((v['credentials-secret'] === undefined) !== (v['credentials-dir'] === undefined)) {
    throw new UsageError('--credentials-secret <name> and --credentials-dir <dir> go together: the Secret to watch and where its files go');
  }
  if (v.partitions && configmap === undefined) throw new UsageError('--partitions goes with --configmap <name>: partitions are ConfigMaps of a partitioned Prometheus config');
  return {
    namespace: v.namespace,
    kind: configmap !== undefined ? 'ConfigMap' : 'Secret',
    name: (configmap ?? secret) as string,
    dir: v.dir,
    reloadUrl: v['reload-url'],
    ...(v['ready-url'] !== undefined ? { readyUrl: v['ready-url'] } : {}),
    ...(v.server !== undefined ? { server: v.server } : {}),
    ...(v.kubeconfig !== undefined ? { kubeconfig: v.kubeconfig } : {}),
    listen: v.listen,
    logLevel: v['log-level'],
    ...(v['credentials-secret'] !== undefined && v['credentials-dir'] !== undefined ? { credentials: { secret: v['credentials-secret'], dir: v['credentials-dir'] } } : {}),
    ...(v.partitions ? { partitions: true } : {}),
    replica: v.replica,
    ...(env.POD_NAME ? { podName: env.POD_NAME } : {}),
  };
}

/** Flags, then environment, then defaults. Throws a UsageError naming the flag on bad input. */
export function parseSyncArgs(argv: string[], env: Env = process.env): SyncConfig | 'help' {
  const values = SYNC_COMMAND.parse(argv, env);
  return values === 'help' ? 'help' : syncConfig(values, env);
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
  // node:https, not @kubernetes/client-node: the sidecar's memory (kube/rest.ts says why).
  const client = new RestClient(loadRestConfig(config.kubeconfig));
  const metrics = createSyncMetrics();
  let latestUid: string | undefined;
  const reporter = createKubeReporter({
    client,
    kind: config.kind,
    namespace: config.namespace,
    name: config.name,
    uid: () => latestUid,
    instance: podIdentity(process.env),
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
    ...(config.credentials ? { credentialsDir: config.credentials.dir } : {}),
    ...(config.partitions ? { partitionsReader: true } : {}),
    replica: config.replica,
    ...(config.podName ? { podName: config.podName } : {}),
  });
  await syncer.init();
  const health = await startHealthServer({ listen: config.listen, registry: metrics.registry, ready: () => syncer.hasGoodConfig() });
  // The main object, and with --partitions its partition objects: the syncer gets them joined,
  // only once every partition the main object names is there at its hash (sync/partitions.ts).
  let main: DecodedObject | undefined;
  let partitions = new Map<string, DecodedObject>();
  /** Decoded partitions by name and resourceVersion: a change of one does not decode all again. */
  let decoded = new Map<string, { resourceVersion: string | undefined; object: DecodedObject }>();
  let waitingFor: string | undefined;
  const deliver = () => {
    if (main === undefined) return;
    const merged = mergePartitions(config.name, main, partitions);
    if (!merged.ready) {
      if (merged.waitingFor !== waitingFor) log.info('waiting for a partition the config names', { partition: merged.waitingFor });
      waitingFor = merged.waitingFor;
      return;
    }
    waitingFor = undefined;
    syncer.observe({ annotations: { ...merged.object.annotations }, files: merged.object.files });
  };
  const watch = watchOneObject({
    client,
    kind: config.kind,
    namespace: config.namespace,
    name: config.name,
    log,
    onObject(object) {
      if (object === undefined) {
        main = undefined; // a partition event must not bring back the deleted object's config
        return syncer.observe(undefined);
      }
      latestUid = object.metadata?.uid;
      main = toObservedObject(config.kind, object);
      deliver();
    },
  });
  const partitionsWatch =
    config.partitions &&
    watchObjects({
      client,
      kind: 'ConfigMap',
      namespace: config.namespace,
      labelSelector: `${PARTITION_OF_LABEL}=${config.name}`,
      log,
      onObjects(objects) {
        const next = new Map<string, { resourceVersion: string | undefined; object: DecodedObject }>();
        for (const [name, object] of objects) {
          const resourceVersion = object.metadata?.resourceVersion;
          const known = decoded.get(name);
          next.set(name, known && known.resourceVersion === resourceVersion ? known : { resourceVersion, object: toObservedObject('ConfigMap', object) });
        }
        decoded = next;
        partitions = new Map([...next].map(([name, entry]) => [name, entry.object]));
        deliver();
      },
    });
  const credentialsWatch =
    config.credentials &&
    watchOneObject({
      client,
      kind: 'Secret',
      namespace: config.namespace,
      name: config.credentials.secret,
      log,
      onObject(object) {
        if (object === undefined) return syncer.observeCredentials(undefined);
        let files: ReturnType<typeof filesFromSecret> | { error: string };
        try {
          files = filesFromSecret(object);
        } catch (err) {
          files = { error: (err as Error).message };
        }
        syncer.observeCredentials(files);
      },
    });
  log.info('sync started', { kind: config.kind, namespace: config.namespace, name: config.name, dir: config.dir, listen: `${health.host}:${health.port}` });
  return {
    listen: { host: health.host, port: health.port },
    async stop() {
      await watch.stop();
      if (partitionsWatch) await partitionsWatch.stop();
      await credentialsWatch?.stop();
      await syncer.stop(); // lets an in-flight write + reload finish
      await health.close();
      client.close();
    },
  };
}

export function runSyncCommand(argv: string[], io?: ServiceIO): Promise<number> {
  return runService(
    {
      command: SYNC_COMMAND,
      config: syncConfig,
      logger: (config) => createLogger('sync', config.logLevel).child({ object: `${config.kind}/${config.namespace}/${config.name}` }),
      start: (config, log) => startSync(config, log),
    },
    argv,
    io,
  );
}
