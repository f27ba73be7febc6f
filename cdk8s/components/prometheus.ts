// Prometheus with the config sync sidecar. The sidecar (`vigil sync --configmap vigil-prometheus-config`)
// watches the operator's ConfigMap through the API and writes it into an emptyDir Prometheus reads,
// then reloads Prometheus: no kubelet volume lag. Until its first sync, Prometheus runs on a bootstrap
// config that an init container copies into that emptyDir (Prometheus refuses to start without one).
import { Construct } from 'constructs';
import { stringify } from 'yaml';
import { kubeObject, not, type Flag, type RenderContext } from '../context.js';
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
  /** prometheus.replicas: pods of the StatefulSet, told apart by the replica external label (settings.ts). */
  replicas: number;
  thanos: ThanosSidecarProps;
}

export class Prometheus extends Construct {
  constructor(scope: Construct, id: string, props: PrometheusProps) {
    super(scope, id);
    const { ctx } = props;
    const { retention, externalUrl } = props;
    const name = PROMETHEUS_NAME;

    new Identity(this, 'identity', { ctx, component: 'prometheus', name });

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
    const sync = syncSidecar({
      image: props.syncImage,
      resources: props.syncResources,
      source: ['--configmap', OBJECT_NAMES.prometheusConfigMap],
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

    kubeObject(
      this,
      ctx,
      'statefulset',
      'apps/v1',
      'StatefulSet',
      { name, labels: labels(name) },
      {
        spec: {
          replicas: props.replicas,
          serviceName: name,
          selector: { matchLabels: selectorLabels(name) },
          template: {
            metadata: podMetadata(props.scheduling, name),
            spec: podSpec(props.scheduling, {
              serviceAccountName: OBJECT_NAMES.prometheusServiceAccount,
              terminationGracePeriodSeconds: 60,
              initContainers: [bootstrap],
              containers: [prometheus, sync, ...ctx.optionalItems(props.thanos.enabled, [thanosSidecar])],
              volumes: [...baseVolumes, ...ctx.optionalItems(not(props.persistence.enabled), [{ name: 'data', emptyDir: {} }])],
            }),
          },
          ...ctx.optionalFields(props.persistence.enabled, { volumeClaimTemplates: [dataVolumeClaim] }),
        },
      },
    );

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
  }
}
