// Prometheus with the config sync sidecar. The sidecar (`vigil sync --configmap vigil-prometheus-config`)
// watches the operator's ConfigMap through the API and writes it into an emptyDir Prometheus reads,
// then reloads Prometheus: no kubelet volume lag. Until its first sync, Prometheus runs on a bootstrap
// config that an init container copies into that emptyDir (Prometheus refuses to start without one).
import { Construct } from 'constructs';
import { stringify } from 'yaml';
import { kubeObject, type Flag, type RenderContext } from '../context.js';
import { OBJECT_NAMES } from '../../operator/rbac.js';
import {
  configMap,
  container,
  exposedService,
  httpProbe,
  labels,
  podSpec,
  POD_IDENTITY_ENV,
  selectorLabels,
  type ImageRef,
  type Json,
  type Resources,
  type Scheduling,
  type ServiceExposure,
} from './common.js';
import { Identity } from './rbac.js';

export const PROMETHEUS_NAME = 'vigil-prometheus';
export const PROMETHEUS_PORT = 9090;
/** Where the sync sidecar writes prometheus.yml and the rule files (GlobalSettings.rulesDir). */
export const PROMETHEUS_GENERATED_DIR = '/etc/prometheus/generated';
export const SYNC_PORT = 8081;

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

export interface PrometheusProps {
  ctx: RenderContext;
  image: ImageRef;
  /** The operator image, which also runs the sync sidecar. */
  syncImage: ImageRef;
  retention?: string;
  externalUrl?: string;
  persistence: PersistenceProps;
  service: ServiceExposure;
  resources: Resources;
  syncResources: Resources;
  scheduling: Scheduling;
  logLevel?: string;
}

/**
 * The sidecar container shared by Prometheus and Alertmanager (same image as the operator).
 * An ordinary container next to the server, not a native sidecar (init container with
 * restartPolicy Always, Kubernetes >= 1.29): starting first would not give the server its config
 * at start either, because nothing the sidecar serves says "files written" (its /readyz means a
 * confirmed reload, which needs the running server: as a startupProbe that would deadlock). The
 * bootstrap init container guarantees a config at start; the sidecar then writes the generated
 * files (atomically, whenever it gets them, so a server starting later reads them directly), waits
 * up to 30 s for --ready-url and reloads, retrying with backoff if the server is slower
 * (e.g. a long WAL replay). The chart thereby keeps working on Kubernetes 1.27 and 1.28.
 */
export function syncSidecar(p: {
  image: ImageRef;
  resources: Resources;
  source: ['--configmap' | '--secret', string];
  /** Named explicitly: the sidecar would otherwise guess it from the file names it receives. */
  server: 'prometheus' | 'alertmanager';
  dir: string;
  serverPort: number;
  logLevel: string;
}): Json {
  return container({
    name: 'config-sync',
    image: p.image,
    args: [
      'sync',
      '--namespace=$(POD_NAMESPACE)',
      `${p.source[0]}=${p.source[1]}`,
      `--server=${p.server}`,
      `--dir=${p.dir}`,
      `--reload-url=http://127.0.0.1:${p.serverPort}/-/reload`,
      `--ready-url=http://127.0.0.1:${p.serverPort}/-/ready`,
      `--listen=0.0.0.0:${SYNC_PORT}`,
      `--log-level=${p.logLevel}`,
    ],
    env: POD_IDENTITY_ENV,
    ports: [{ name: 'http-sync', containerPort: SYNC_PORT }],
    volumeMounts: [{ name: 'generated-config', mountPath: p.dir }],
    resources: p.resources,
    livenessProbe: httpProbe('/healthz', 'http-sync'),
  });
}

export class Prometheus extends Construct {
  constructor(scope: Construct, id: string, props: PrometheusProps) {
    super(scope, id);
    const { ctx } = props;
    const retention = props.retention ?? '15d';
    const externalUrl = props.externalUrl ?? `http://localhost:${PROMETHEUS_PORT}`;
    const name = PROMETHEUS_NAME;

    new Identity(this, 'identity', { ctx, component: 'prometheus', name });

    configMap(this, ctx, 'bootstrap', { name: `${name}-bootstrap`, labels: labels(name) }, { 'prometheus.yml': PROMETHEUS_BOOTSTRAP_CONFIG });

    const claimSpec: Json = { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: props.persistence.size } } };
    const dataVolumeClaim = {
      metadata: { name: 'data' },
      spec: ctx.choose(props.persistence.hasStorageClass, { ...claimSpec, storageClassName: props.persistence.storageClassName }, claimSpec),
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
      ],
      ports: [{ name: 'http-web', containerPort: PROMETHEUS_PORT }],
      volumeMounts: [
        { name: 'generated-config', mountPath: PROMETHEUS_GENERATED_DIR, readOnly: true },
        { name: 'data', mountPath: '/prometheus' },
      ],
      resources: props.resources,
      readinessProbe: httpProbe('/-/ready', 'http-web', 5),
      livenessProbe: httpProbe('/-/healthy', 'http-web', 15, 4),
      // WAL replay after a restart with persistent storage can take minutes.
      startupProbe: httpProbe('/-/ready', 'http-web', 5, 120),
    });
    const sync = syncSidecar({
      image: props.syncImage,
      resources: props.syncResources,
      source: ['--configmap', OBJECT_NAMES.prometheusConfigMap],
      server: 'prometheus',
      dir: PROMETHEUS_GENERATED_DIR,
      serverPort: PROMETHEUS_PORT,
      logLevel: props.logLevel ?? 'info',
    });
    const baseVolumes: Json[] = [
      { name: 'generated-config', emptyDir: {} },
      { name: 'bootstrap-config', configMap: { name: `${name}-bootstrap` } },
    ];

    kubeObject(this, ctx, 'statefulset', 'apps/v1', 'StatefulSet', { name, labels: labels(name) }, {
      spec: {
        replicas: 1,
        serviceName: name,
        selector: { matchLabels: selectorLabels(name) },
        template: {
          metadata: { labels: labels(name) },
          spec: podSpec(props.scheduling, {
            serviceAccountName: OBJECT_NAMES.prometheusServiceAccount,
            terminationGracePeriodSeconds: 60,
            initContainers: [bootstrap],
            containers: [prometheus, sync],
            volumes: ctx.choose(props.persistence.enabled, baseVolumes, [...baseVolumes, { name: 'data', emptyDir: {} }]),
          }),
        },
        volumeClaimTemplates: ctx.choose(props.persistence.enabled, [dataVolumeClaim], []),
      },
    });

    exposedService(this, ctx, 'service', name, name, props.service, [{ name: 'http-web', port: PROMETHEUS_PORT, targetPort: 'http-web', protocol: 'TCP' }], 'http-web');
  }
}
