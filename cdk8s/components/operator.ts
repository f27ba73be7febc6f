// The operator Deployment: its identity (rules from operator/rbac.ts), the GlobalSettings file it
// reads (--settings), SMTP credentials only by reference to an existing Secret (--smtp-secret).
import { createHash } from 'node:crypto';
import { Construct } from 'constructs';
import { stringify } from 'yaml';
import { kubeObject, type Count, type Flag, type RenderContext } from '../context.js';
import { OBJECT_NAMES } from '../../operator/rbac.js';
import { configMap, container, httpProbe, labels, podMetadata, podSpec, POD_IDENTITY_ENV, selectorLabels, type ImageRef, type Resources, type Scheduling } from './common.js';
import { Identity } from './rbac.js';
import { templateFileName } from '../chart/paths.js';
import { moreThanOneShard, PROMETHEUS_NAME, PROMETHEUS_PORT, prometheusShardName, prometheusShardUrl } from './prometheus.js';
import { ALERTMANAGER_NAME, ALERTMANAGER_PORT } from './alertmanager.js';

export const OPERATOR_NAME = OBJECT_NAMES.operatorServiceAccount;
export const OPERATOR_PORT = 8080;
export const SETTINGS_CONFIGMAP = `${OPERATOR_NAME}-settings`;
export const SETTINGS_KEY = 'settings.yaml';
/** Pod template annotation: sha256 of the settings, so that new settings restart the operator. */
export const SETTINGS_CHECKSUM_ANNOTATION = 'checksum/settings';
const SETTINGS_DIR = '/etc/vigil';
/**
 * V8 heap bounds of the operator process (issue #13; docs/benchmarks.md, "Burst"). Unbounded, V8
 * sizes the heap from the container's memory limit (259 MiB of heap in a 256Mi container: more than
 * the limit, so the kernel kills the pod before V8 collects hard) and lets the young generation grow
 * to 3 x 64 MiB on a big node: the operator peaked at 537-566 MiB RSS in bench-load's 2,000-service
 * burst (heap in use up to 109 MiB with the bound). Half the container's memory limit for the old space (256 MiB of
 * the default 512Mi, which leaves room for operator/wasm's ~135 MiB outside the V8 heap; it follows
 * when operator.resources.limits.memory is changed) and 8 MiB
 * semi-spaces (a 24 MiB young generation): 152 MiB of heap in a 256Mi container, checked in a
 * memory cgroup. Node 24.21 reads both from NODE_OPTIONS.
 */
export const OPERATOR_NODE_OPTIONS = '--max-old-space-size-percentage=50 --max-semi-space-size=8';

export interface OperatorProps {
  ctx: RenderContext;
  image: ImageRef;
  replicas: number;
  /** Comma-separated namespaces; empty = all. */
  watchNamespaces: string;
  /** Label selector on MonitoredServices; empty = all (operator/controller/install-scope.ts). */
  selector: string;
  /** Existing Secret with username/password; used when `hasSmtpSecret` holds. */
  smtpSecret: string;
  hasSmtpSecret: Flag;
  logLevel: string;
  /** Appended after the generated flags (values operator.extraArgs). */
  extraArgs: string[];
  /** GlobalSettings (operator/render/types.ts) minus credentials; may contain tokens. */
  settings: Record<string, unknown>;
  /** Route prefixes of Prometheus and Alertmanager ('' at the root): the operator polls under them. */
  prometheusRoutePrefix: string;
  alertmanagerRoutePrefix: string;
  /** Pods of the Prometheus and Alertmanager StatefulSets: ConfigApplied waits for every one's sidecar report (--prometheus-replicas, --alertmanager-replicas). */
  prometheusReplicas: number;
  alertmanagerReplicas: number;
  /** prometheus.shards: above 1, --prometheus-shards and a --prometheus-url template naming each shard's Service. */
  prometheusShards: Count;
  resources: Resources;
  scheduling: Scheduling;
}

export class Operator extends Construct {
  constructor(scope: Construct, id: string, props: OperatorProps) {
    super(scope, id);
    const { ctx } = props;
    const name = OPERATOR_NAME;

    new Identity(this, 'identity', { ctx, component: 'operator', name });

    const settingsYaml = ctx.yamlDocument(props.settings);
    configMap(this, ctx, 'settings', { name: SETTINGS_CONFIGMAP, labels: labels(name) }, { [SETTINGS_KEY]: settingsYaml });
    // The operator reads its settings once, at start: a changed ConfigMap must roll the pods
    // (`helm upgrade --set ...`, `kubectl apply` of new manifests). Helm hashes the rendered
    // ConfigMap template; the concrete rendering hashes the settings text.
    const settingsChecksum = ctx.raw(
      `{{ include (print $.Template.BasePath "/${templateFileName({ kind: 'ConfigMap', metadata: { name: SETTINGS_CONFIGMAP, labels: labels(name) } })}") $ | sha256sum | quote }}`,
      createHash('sha256').update(stringify(props.settings)).digest('hex'),
    );

    const sharded = moreThanOneShard(props.prometheusShards);
    const unshardedUrl = `http://${PROMETHEUS_NAME}:${PROMETHEUS_PORT}${props.prometheusRoutePrefix}`;
    const shardedUrl = prometheusShardUrl(props.prometheusRoutePrefix);
    // One URL, or a template naming each shard's Service; a ternary, since the route prefix is a token inside both.
    const prometheusUrl = ctx.isHelm
      ? shardedUrl.replace(prometheusShardName('{shard}'), ctx.expr(`ternary ${JSON.stringify(prometheusShardName('{shard}'))} ${JSON.stringify(PROMETHEUS_NAME)} (${sharded.expr})`, ''))
      : sharded.value
        ? shardedUrl
        : unshardedUrl;
    const args = [
      'operator',
      '--namespace=$(POD_NAMESPACE)',
      `--watch-namespaces=${props.watchNamespaces}`,
      `--selector=${props.selector}`,
      `--settings=${SETTINGS_DIR}/${SETTINGS_KEY}`,
      // The generated ConfigMap, Secret and Lease are owned by the settings ConfigMap: helm uninstall removes them.
      `--owner-configmap=${SETTINGS_CONFIGMAP}`,
      `--prometheus-url=${prometheusUrl}`,
      ...ctx.optionalItems(sharded, [`--prometheus-shards=${ctx.expr(props.prometheusShards.expr, props.prometheusShards.value)}`]),
      `--alertmanager-url=http://${ALERTMANAGER_NAME}:${ALERTMANAGER_PORT}${props.alertmanagerRoutePrefix}`,
      `--listen=0.0.0.0:${OPERATOR_PORT}`,
      '--leader-elect',
      // The Prometheus config as partition ConfigMaps (docs/contract.md): no install outgrows one object.
      '--config-partitions',
      // Each pod's sync sidecar reports as its StatefulSet ordinal (POD_NAME): the operator waits for all of them.
      `--prometheus-replicas=${props.prometheusReplicas}`,
      `--alertmanager-replicas=${props.alertmanagerReplicas}`,
      `--log-level=${props.logLevel}`,
      ...ctx.optionalItems(props.hasSmtpSecret, [`--smtp-secret=${props.smtpSecret}`]),
      ...props.extraArgs,
    ];
    const operator = container({
      name: 'operator',
      image: props.image,
      args,
      env: [...POD_IDENTITY_ENV, { name: 'NODE_OPTIONS', value: OPERATOR_NODE_OPTIONS }],
      ports: [{ name: 'http-metrics', containerPort: OPERATOR_PORT }],
      volumeMounts: [
        { name: 'settings', mountPath: SETTINGS_DIR, readOnly: true },
        { name: 'tmp', mountPath: '/tmp' },
      ],
      resources: props.resources,
      readinessProbe: httpProbe('/readyz', 'http-metrics', 5),
      livenessProbe: httpProbe('/healthz', 'http-metrics', 15),
    });

    kubeObject(
      this,
      ctx,
      'deployment',
      'apps/v1',
      'Deployment',
      { name, labels: labels(name) },
      {
        spec: {
          replicas: props.replicas,
          selector: { matchLabels: selectorLabels(name) },
          template: {
            metadata: podMetadata(props.scheduling, name, { [SETTINGS_CHECKSUM_ANNOTATION]: settingsChecksum }),
            spec: podSpec(props.scheduling, {
              serviceAccountName: OBJECT_NAMES.operatorServiceAccount,
              containers: [operator],
              volumes: [
                { name: 'settings', configMap: { name: SETTINGS_CONFIGMAP } },
                { name: 'tmp', emptyDir: {} },
              ],
            }),
          },
        },
      },
    );
  }
}
