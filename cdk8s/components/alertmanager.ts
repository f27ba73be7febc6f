// Alertmanager with its sync sidecar (`vigil sync --secret vigil-alertmanager-config`). Replicas > 1
// gossip through the headless Service: Alertmanager resolves the peer name to every pod IP and
// re-resolves it as pods come and go, so the flags do not depend on the replica count.
// Replicas > 1 are also what keeps silences and the notification log across a `helm upgrade` without
// a volume: a new pod joins before it serves (a full push/pull of that state with its peers) and holds
// notifications until gossip settles, so it must never find every peer replaced at once: the rolling
// update replaces one pod at a time, and a PodDisruptionBudget keeps evictions to one.
import { Construct } from 'constructs';
import { stringify } from 'yaml';
import { kubeObject, not, type Flag, type RenderContext } from '../context.js';
import { OBJECT_NAMES } from '../../operator/rbac.js';
import { ALERTMANAGER_FEATURES } from '../../operator/render/names.js';
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
import { syncSidecar } from './sync.js';
import { ALERTMANAGER_REPLICAS_GO } from '../values.js';
import { Identity } from './rbac.js';
import type { PersistenceProps } from './prometheus.js';

export const ALERTMANAGER_NAME = 'vigil-alertmanager';
export const ALERTMANAGER_HEADLESS = `${ALERTMANAGER_NAME}-headless`;
export const ALERTMANAGER_PORT = 9093;
export const ALERTMANAGER_MESH_PORT = 9094;
export const ALERTMANAGER_GENERATED_DIR = '/etc/alertmanager/generated';

/** Valid on its own (amtool-checked in test/deploy): drops everything until the first sync. */
export const ALERTMANAGER_BOOTSTRAP_CONFIG = stringify({
  route: { receiver: 'bootstrap' },
  receivers: [{ name: 'bootstrap' }],
});

/**
 * Seconds a replaced replica must stay Ready before the next one is replaced. Alertmanager's
 * /-/ready answers as soon as it listens, after its first join attempt; a failed attempt is retried
 * at the reconnect interval (10s), so 15 s lets one retry pull the peer's state before that peer goes.
 */
export const ALERTMANAGER_MIN_READY_SECONDS = 15;

/** Extra volume mounted into Alertmanager, e.g. the CA of the in-cluster mail catcher. */
export interface ExtraVolume {
  volume: Json;
  mount: Json;
}

export interface AlertmanagerProps {
  ctx: RenderContext;
  image: ImageRef;
  syncImage: ImageRef;
  replicas: number;
  /** --data.maintenance-interval: how often silences and the notification log are written to the data volume. */
  maintenanceInterval: string;
  /** The data volume (silences, notification log): a PVC per replica, or emptyDir. */
  persistence: PersistenceProps;
  /** Holds when replicas > 1 (in helm mode a template condition). */
  clustered: Flag;
  /** Holds when replicas > 1 and the values set no affinity: the replicas prefer different nodes (replicaSpread). */
  spreadReplicas: Flag;
  externalUrl: string;
  /** Path of externalUrl ('' at the root): every URL of Alertmanager starts with it. */
  routePrefix: string;
  /** Appended after the generated flags (values alertmanager.extraArgs). */
  extraArgs: string[];
  service: ServiceExposure;
  resources: Resources;
  syncResources: Resources;
  scheduling: Scheduling;
  /** Mounted only while `extraVolumeEnabled` holds. */
  extraVolume: ExtraVolume;
  extraVolumeEnabled: Flag;
  logLevel: string;
}

export class Alertmanager extends Construct {
  constructor(scope: Construct, id: string, props: AlertmanagerProps) {
    super(scope, id);
    const { ctx } = props;
    const name = ALERTMANAGER_NAME;
    const { externalUrl } = props;

    new Identity(this, 'identity', { ctx, component: 'alertmanager', name });

    configMap(this, ctx, 'bootstrap', { name: `${name}-bootstrap`, labels: labels(name) }, { 'alertmanager.yml': ALERTMANAGER_BOOTSTRAP_CONFIG });

    const commonArgs = [
      `--config.file=${ALERTMANAGER_GENERATED_DIR}/alertmanager.yml`,
      '--storage.path=/alertmanager',
      `--data.maintenance-interval=${props.maintenanceInterval}`,
      `--web.listen-address=0.0.0.0:${ALERTMANAGER_PORT}`,
      `--web.external-url=${externalUrl}`,
      // receiver_name on the notification counters: the operator's EmailDelivered reads them per receiver.
      `--enable-feature=${ALERTMANAGER_FEATURES}`,
    ];
    const clusterArgs = [
      `--cluster.listen-address=0.0.0.0:${ALERTMANAGER_MESH_PORT}`,
      `--cluster.advertise-address=$(POD_IP):${ALERTMANAGER_MESH_PORT}`,
      `--cluster.peer=${ALERTMANAGER_HEADLESS}.${ctx.namespace}.svc:${ALERTMANAGER_MESH_PORT}`,
    ];
    // An empty listen address turns gossip off: a single replica does not wait for peers.
    const args = [...commonArgs, ...ctx.optionalItems(props.clustered, clusterArgs), ...ctx.optionalItems(not(props.clustered), ['--cluster.listen-address=']), ...props.extraArgs];

    const baseMounts: Json[] = [
      { name: 'generated-config', mountPath: ALERTMANAGER_GENERATED_DIR, readOnly: true },
      { name: 'data', mountPath: '/alertmanager' },
    ];
    const baseVolumes: Json[] = [
      { name: 'generated-config', emptyDir: {} },
      { name: 'bootstrap-config', configMap: { name: `${name}-bootstrap` } },
      ...ctx.optionalItems(not(props.persistence.enabled), [{ name: 'data', emptyDir: {} }]),
    ];
    const dataVolumeClaim = {
      metadata: { name: 'data' },
      spec: {
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: props.persistence.size } },
        ...ctx.optionalFields(props.persistence.hasStorageClass, { storageClassName: props.persistence.storageClassName }),
      },
    };
    const mounts = [...baseMounts, ...ctx.optionalItems(props.extraVolumeEnabled, [props.extraVolume.mount])];
    const volumes = [...baseVolumes, ...ctx.optionalItems(props.extraVolumeEnabled, [props.extraVolume.volume])];

    const bootstrap = container({
      name: 'bootstrap-config',
      image: props.image,
      command: ['cp', '/etc/alertmanager/bootstrap/alertmanager.yml', `${ALERTMANAGER_GENERATED_DIR}/alertmanager.yml`],
      volumeMounts: [
        { name: 'bootstrap-config', mountPath: '/etc/alertmanager/bootstrap', readOnly: true },
        { name: 'generated-config', mountPath: ALERTMANAGER_GENERATED_DIR },
      ],
      resources: props.syncResources,
    });
    const alertmanager = container({
      name: 'alertmanager',
      image: props.image,
      args,
      env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
      ports: [
        { name: 'http-web', containerPort: ALERTMANAGER_PORT },
        { name: 'mesh-tcp', containerPort: ALERTMANAGER_MESH_PORT, protocol: 'TCP' },
        { name: 'mesh-udp', containerPort: ALERTMANAGER_MESH_PORT, protocol: 'UDP' },
      ],
      volumeMounts: mounts,
      resources: props.resources,
      readinessProbe: httpProbe(`${props.routePrefix}/-/ready`, 'http-web', 5),
      livenessProbe: httpProbe(`${props.routePrefix}/-/healthy`, 'http-web', 15, 4),
    });
    const sync = syncSidecar({
      image: props.syncImage,
      resources: props.syncResources,
      source: ['--secret', OBJECT_NAMES.alertmanagerSecret],
      server: 'alertmanager',
      dir: ALERTMANAGER_GENERATED_DIR,
      serverPort: ALERTMANAGER_PORT,
      routePrefix: props.routePrefix,
      logLevel: props.logLevel,
    });

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
          serviceName: ALERTMANAGER_HEADLESS,
          // Peers find each other through DNS; starting them together is fine. Updates still go one pod at a time.
          podManagementPolicy: 'Parallel',
          updateStrategy: { type: 'RollingUpdate' },
          ...ctx.optionalFields(props.clustered, { minReadySeconds: ALERTMANAGER_MIN_READY_SECONDS }),
          selector: { matchLabels: selectorLabels(name) },
          template: {
            metadata: podMetadata(props.scheduling, name),
            spec: podSpec(props.scheduling, {
              serviceAccountName: OBJECT_NAMES.alertmanagerServiceAccount,
              initContainers: [bootstrap],
              containers: [alertmanager, sync],
              volumes,
              ...ctx.optionalFields(props.spreadReplicas, { affinity: replicaSpread(name) }),
            }),
          },
          ...ctx.optionalFields(props.persistence.enabled, { volumeClaimTemplates: [dataVolumeClaim] }),
        },
      },
    );

    kubeObject(
      this,
      ctx,
      'headless',
      'v1',
      'Service',
      { name: ALERTMANAGER_HEADLESS, labels: labels(name) },
      {
        spec: {
          clusterIP: 'None',
          // Peers must find each other before they are ready (readiness needs the cluster to settle).
          publishNotReadyAddresses: true,
          selector: selectorLabels(name),
          ports: [
            { name: 'http-web', port: ALERTMANAGER_PORT, targetPort: 'http-web', protocol: 'TCP' },
            { name: 'mesh-tcp', port: ALERTMANAGER_MESH_PORT, targetPort: 'mesh-tcp', protocol: 'TCP' },
            { name: 'mesh-udp', port: ALERTMANAGER_MESH_PORT, targetPort: 'mesh-udp', protocol: 'UDP' },
          ],
        },
      },
    );
    // A drain or other eviction takes one replica at a time, so the other keeps the shared state.
    ctx.when(props.clustered, () => {
      kubeObject(this, ctx, 'pdb', 'policy/v1', 'PodDisruptionBudget', { name, labels: labels(name) }, { spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(name) } } });
    });
    exposedService(this, ctx, 'service', name, name, props.service, [{ name: 'http-web', port: ALERTMANAGER_PORT, targetPort: 'http-web', protocol: 'TCP' }], 'http-web');
  }
}

/**
 * A soft anti-affinity: the scheduler places the replicas on different nodes when it can, so one
 * node going away does not take silences and the notification log with it; on a single node they
 * still schedule (preferred, not required).
 */
export function replicaSpread(component: string): Json {
  return {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { labelSelector: { matchLabels: selectorLabels(component) }, topologyKey: 'kubernetes.io/hostname' } }],
    },
  };
}

/** host:port of every Alertmanager replica, which Prometheus must all notify (GlobalSettings.alertmanagerTargets). */
export function alertmanagerTargets(ctx: RenderContext, replicas: number): string[] {
  const concrete = Array.from({ length: replicas }, (_, i) => `${ALERTMANAGER_NAME}-${i}.${ALERTMANAGER_HEADLESS}.${ctx.namespace}.svc:${ALERTMANAGER_PORT}`);
  const item = `printf "${ALERTMANAGER_NAME}-%d.${ALERTMANAGER_HEADLESS}.%s.svc:${ALERTMANAGER_PORT}" $i (include "vigil.namespace" $) | quote`;
  return ctx.block((i) => [`${' '.repeat(i)}{{- range $i := until ${ALERTMANAGER_REPLICAS_GO} }}`, `${' '.repeat(i)}- {{ ${item} }}`, `${' '.repeat(i)}{{- end }}`], concrete);
}
