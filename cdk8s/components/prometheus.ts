// Prometheus with the config sync sidecar. The sidecar (`vigil sync --configmap vigil-prometheus-config`)
// watches the operator's ConfigMap through the API and writes it into an emptyDir Prometheus reads,
// then reloads Prometheus: no kubelet volume lag. Until its first sync, Prometheus runs on a bootstrap
// config that an init container copies into that emptyDir (Prometheus refuses to start without one).
// With prometheus.shards N > 1 there is one StatefulSet per shard (docs/contract.md, "Shards"): shard 0
// is the StatefulSet of the install without shards, shard i (1 .. N-1) vigil-prometheus-shard-<i>, a
// `range` in the chart; each pod's sidecar reads its shard's main object.
import { Construct } from 'constructs';
import { stringify } from 'yaml';
import { kubeObject, not, type Count, type Flag, type RenderContext } from '../context.js';
import { OBJECT_NAMES } from '../../operator/rbac.js';
import { DEFAULT_SCRAPE_CREDENTIALS_DIR } from '../../operator/render/scrape-auth.js';
import {
  configMap,
  container,
  exposedService,
  httpProbe,
  labels,
  podMetadata,
  podSpec,
  selectorLabels,
  type ImageRef,
  type Json,
  type Resources,
  type Scheduling,
  type ServiceExposure,
} from './common.js';
import { Identity } from './rbac.js';
import { syncSidecar } from './sync.js';

export const PROMETHEUS_NAME = 'vigil-prometheus';
export const PROMETHEUS_PORT = 9090;
/** `app.kubernetes.io/name` of the pods of shards 1 .. N-1 (shard 0's are PROMETHEUS_NAME's): shard 0's selectors never match them. */
export const PROMETHEUS_SHARD_NAME = 'vigil-prometheus-shard';
/** The label telling the shards 1 .. N-1 apart (their selectors; a value such as "1"). */
export const PROMETHEUS_SHARD_LABEL = 'vigil.dev/prometheus-shard';

/**
 * Shard `shard`'s headless Service (and, from shard 1 on, its StatefulSet): vigil-prometheus-shard-<i>.
 * Shard 0's StatefulSet keeps PROMETHEUS_NAME; with N > 1 it gets this Service too, so that one
 * `--prometheus-url` template (PROMETHEUS_SHARD_URL) names every shard.
 */
export function prometheusShardName(shard: string | number): string {
  return `${PROMETHEUS_SHARD_NAME}-${shard}`;
}

/** Whether prometheus.shards is above 1: the operator shards, shard 0 gets its prometheusShardName Service. */
export function moreThanOneShard(shards: Count): Flag {
  return { expr: `gt (int ${shards.expr}) 1`, value: shards.value > 1 };
}

/** The operator's `--prometheus-url` with shards: `{shard}` (operator/contract.ts SHARD_PLACEHOLDER) stands for the index. */
export function prometheusShardUrl(routePrefix: string): string {
  return `http://${prometheusShardName('{shard}')}:${PROMETHEUS_PORT}${routePrefix}`;
}
/** Where the sync sidecar writes prometheus.yml and the rule files (GlobalSettings.rulesDir). */
export const PROMETHEUS_GENERATED_DIR = '/etc/prometheus/generated';

/** Valid on its own (promtool-checked in test/deploy): scrapes Prometheus itself until the first sync. */
export const PROMETHEUS_BOOTSTRAP_CONFIG = stringify({
  global: { scrape_interval: '15s', evaluation_interval: '15s' },
  scrape_configs: [{ job_name: 'prometheus', static_configs: [{ targets: [`localhost:${PROMETHEUS_PORT}`] }] }],
});

export interface PersistenceProps {
  enabled: Flag;
  size: string;
  storageClassName: string;
  /** Whether a storageClassName is set (empty = the cluster default). */
  hasStorageClass: Flag;
}

/** Ports of the Thanos sidecar in each Prometheus pod and of Thanos Query (upstream's defaults). */
export const THANOS_GRPC_PORT = 10901;
export const THANOS_HTTP_PORT = 10902;
/** The headless Service through which Thanos Query finds every Prometheus pod's sidecar (its StoreAPI). */
export const THANOS_SIDECARS_NAME = 'vigil-prometheus-thanos';
export const THANOS_QUERY_NAME = 'vigil-thanos-query';

export interface ThanosSidecarProps {
  enabled: Flag;
  image: ImageRef;
  resources: Resources;
}

export interface PrometheusProps {
  ctx: RenderContext;
  image: ImageRef;
  /** The operator image, which also runs the sync sidecar. */
  syncImage: ImageRef;
  retention: string;
  externalUrl: string;
  /** Path of externalUrl ('' at the root): every URL of Prometheus starts with it. */
  routePrefix: string;
  /** Appended after the generated flags (values prometheus.extraArgs). */
  extraArgs: string[];
  persistence: PersistenceProps;
  service: ServiceExposure;
  resources: Resources;
  syncResources: Resources;
  scheduling: Scheduling;
  logLevel: string;
  /** prometheus.replicas: pods of each shard's StatefulSet, told apart by the replica external label (settings.ts). */
  replicas: number;
  /** prometheus.shards: StatefulSets, each with its own config (operator --prometheus-shards). */
  shards: Count;
  thanos: ThanosSidecarProps;
}

/** One shard's StatefulSet: its name, pod labels and selector, and the main object its sidecars read. */
interface ShardWorkload {
  name: string;
  podLabels: Record<string, string>;
  selector: Record<string, string>;
  configMap: string;
}

export class Prometheus extends Construct {
  constructor(scope: Construct, id: string, props: PrometheusProps) {
    super(scope, id);
    const { ctx } = props;
    const { retention, externalUrl } = props;
    const name = PROMETHEUS_NAME;

    new Identity(this, 'identity', { ctx, component: 'prometheus', name, prometheusShards: props.shards });

    configMap(this, ctx, 'bootstrap', { name: `${name}-bootstrap`, labels: labels(name) }, { 'prometheus.yml': PROMETHEUS_BOOTSTRAP_CONFIG });

    const claimSpec: Json = { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: props.persistence.size } } };
    const dataVolumeClaim = {
      metadata: { name: 'data' },
      spec: { ...claimSpec, ...ctx.optionalFields(props.persistence.hasStorageClass, { storageClassName: props.persistence.storageClassName }) },
    };
    // Prometheus and the init container use the same image; `cp` comes with its busybox base.
    const bootstrap = container({
      name: 'bootstrap-config',
      image: props.image,
      command: ['cp', '/etc/prometheus/bootstrap/prometheus.yml', `${PROMETHEUS_GENERATED_DIR}/prometheus.yml`],
      volumeMounts: [
        { name: 'bootstrap-config', mountPath: '/etc/prometheus/bootstrap', readOnly: true },
        { name: 'generated-config', mountPath: PROMETHEUS_GENERATED_DIR },
      ],
      resources: props.syncResources,
    });
    const prometheus = container({
      name: 'prometheus',
      image: props.image,
      args: [
        `--config.file=${PROMETHEUS_GENERATED_DIR}/prometheus.yml`,
        '--storage.tsdb.path=/prometheus',
        `--storage.tsdb.retention.time=${retention}`,
        `--web.listen-address=0.0.0.0:${PROMETHEUS_PORT}`,
        '--web.enable-lifecycle',
        `--web.external-url=${externalUrl}`,
        ...props.extraArgs,
      ],
      // The replica external label's value: Prometheus expands ${POD_NAME} in external_labels (settings.ts).
      env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
      ports: [{ name: 'http-web', containerPort: PROMETHEUS_PORT }],
      volumeMounts: [
        { name: 'generated-config', mountPath: PROMETHEUS_GENERATED_DIR, readOnly: true },
        { name: 'scrape-credentials', mountPath: DEFAULT_SCRAPE_CREDENTIALS_DIR, readOnly: true },
        { name: 'data', mountPath: '/prometheus' },
      ],
      resources: props.resources,
      readinessProbe: httpProbe(`${props.routePrefix}/-/ready`, 'http-web', 5),
      livenessProbe: httpProbe(`${props.routePrefix}/-/healthy`, 'http-web', 15, 4),
      // WAL replay after a restart with persistent storage can take minutes.
      startupProbe: httpProbe(`${props.routePrefix}/-/ready`, 'http-web', 5, 120),
    });
    const sync = (configMapName: string) =>
      syncSidecar({
        image: props.syncImage,
        resources: props.syncResources,
        source: ['--configmap', configMapName],
        server: 'prometheus',
        dir: PROMETHEUS_GENERATED_DIR,
        serverPort: PROMETHEUS_PORT,
        routePrefix: props.routePrefix,
        logLevel: props.logLevel,
        credentials: { secret: OBJECT_NAMES.scrapeCredentialsSecret, dir: DEFAULT_SCRAPE_CREDENTIALS_DIR },
        partitions: true,
      });
    // Thanos's sidecar serves this Prometheus's data to Thanos Query (StoreAPI, gRPC), reading it through
    // Prometheus's HTTP API and its TSDB directory; it uploads nothing (no object storage is configured).
    const thanosSidecar = container({
      name: 'thanos-sidecar',
      image: props.thanos.image,
      args: [
        'sidecar',
        `--prometheus.url=http://localhost:${PROMETHEUS_PORT}${props.routePrefix}`,
        '--tsdb.path=/prometheus',
        `--grpc-address=0.0.0.0:${THANOS_GRPC_PORT}`,
        `--http-address=0.0.0.0:${THANOS_HTTP_PORT}`,
        `--log.level=${props.logLevel}`,
      ],
      ports: [
        { name: 'grpc', containerPort: THANOS_GRPC_PORT },
        { name: 'http-sidecar', containerPort: THANOS_HTTP_PORT },
      ],
      volumeMounts: [{ name: 'data', mountPath: '/prometheus' }],
      resources: props.thanos.resources,
      readinessProbe: httpProbe('/-/ready', 'http-sidecar', 5),
      livenessProbe: httpProbe('/-/healthy', 'http-sidecar', 15, 4),
    });
    const baseVolumes: Json[] = [
      { name: 'generated-config', emptyDir: {} },
      // The files scrape jobs read (ca_file, credentials_file, ...): in memory, never on the node's disk.
      { name: 'scrape-credentials', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
      { name: 'bootstrap-config', configMap: { name: `${name}-bootstrap` } },
    ];

    const statefulSet = (id: string, shard: ShardWorkload) =>
      kubeObject(
        this,
        ctx,
        id,
        'apps/v1',
        'StatefulSet',
        { name: shard.name, labels: shard.podLabels },
        {
          spec: {
            replicas: props.replicas,
            serviceName: shard.name,
            selector: { matchLabels: shard.selector },
            template: {
              metadata: { ...podMetadata(props.scheduling, name), labels: shard.podLabels },
              spec: podSpec(props.scheduling, {
                serviceAccountName: OBJECT_NAMES.prometheusServiceAccount,
                terminationGracePeriodSeconds: 60,
                initContainers: [bootstrap],
                containers: [prometheus, sync(shard.configMap), ...ctx.optionalItems(props.thanos.enabled, [thanosSidecar])],
                volumes: [...baseVolumes, ...ctx.optionalItems(not(props.persistence.enabled), [{ name: 'data', emptyDir: {} }])],
              }),
            },
            ...ctx.optionalFields(props.persistence.enabled, { volumeClaimTemplates: [dataVolumeClaim] }),
          },
        },
      );
    statefulSet('statefulset', { name, podLabels: labels(name), selector: selectorLabels(name), configMap: OBJECT_NAMES.prometheusConfigMap });

    exposedService(this, ctx, 'service', name, name, props.service, [{ name: 'http-web', port: PROMETHEUS_PORT, targetPort: 'http-web', protocol: 'TCP' }], 'http-web');

    ctx.when(props.thanos.enabled, () => {
      // Headless: one A record per Prometheus pod, so Thanos Query (`dns+`) reaches every replica's sidecar.
      kubeObject(
        this,
        ctx,
        'thanos-sidecars',
        'v1',
        'Service',
        { name: THANOS_SIDECARS_NAME, labels: labels(name) },
        { spec: { clusterIP: 'None', selector: selectorLabels(name), ports: [{ name: 'grpc', port: THANOS_GRPC_PORT, targetPort: 'grpc', protocol: 'TCP' }] } },
      );
    });

    // Headless, one per shard: the operator's --prometheus-url template (prometheusShardUrl) resolves
    // to a pod of that shard, and Thanos Query (`dns+`) finds every pod of shards 1 .. N-1 by it.
    const shardService = (id: string, serviceName: string, component: string, selector: Record<string, string>) =>
      kubeObject(
        this,
        ctx,
        id,
        'v1',
        'Service',
        { name: serviceName, labels: labels(component) },
        {
          spec: {
            clusterIP: 'None',
            selector,
            ports: [
              { name: 'http-web', port: PROMETHEUS_PORT, targetPort: 'http-web', protocol: 'TCP' },
              { name: 'grpc', port: THANOS_GRPC_PORT, targetPort: 'grpc', protocol: 'TCP' },
            ],
          },
        },
      );
    ctx.when(moreThanOneShard(props.shards), () => {
      shardService('shard-0-service', prometheusShardName(0), name, selectorLabels(name));
    });
    ctx.repeat('shard', props.shards, 1, (shard) => {
      const shardName = prometheusShardName(shard);
      const shardLabel = { [PROMETHEUS_SHARD_LABEL]: shard };
      const selector = { ...selectorLabels(PROMETHEUS_SHARD_NAME), ...shardLabel };
      statefulSet(`shard-${shard}-statefulset`, {
        name: shardName,
        podLabels: { ...labels(PROMETHEUS_SHARD_NAME), ...shardLabel },
        selector,
        // shardObjectName's name for a shard above 0, written out: in the chart `shard` is `{{ $shard }}`.
        configMap: `${OBJECT_NAMES.prometheusConfigMap}-shard-${shard}`,
      });
      shardService(`shard-${shard}-service`, shardName, PROMETHEUS_SHARD_NAME, selector);
    });
  }
}
