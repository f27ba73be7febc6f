// Thanos Query (thanos.enabled): one Prometheus-compatible endpoint, with Thanos's Query UI, over the
// sidecar of every Prometheus pod (components/prometheus.ts), found through their headless Services
// (shard 0's vigil-prometheus-thanos, then one per further shard).
// Replicas are deduplicated on the replica external label; rules and alerts stay in each Prometheus.
import { Construct } from 'constructs';
import { kubeObject, type Count, type RenderContext } from '../context.js';
import { REPLICA_EXTERNAL_LABEL } from '../../operator/render/names.js';
import { container, exposedService, httpProbe, labels, podMetadata, podSpec, selectorLabels, type ImageRef, type Resources, type Scheduling, type ServiceExposure } from './common.js';
import { prometheusShardName, THANOS_GRPC_PORT, THANOS_HTTP_PORT, THANOS_QUERY_NAME, THANOS_SIDECARS_NAME } from './prometheus.js';

export interface ThanosQueryProps {
  ctx: RenderContext;
  image: ImageRef;
  replicas: number;
  service: ServiceExposure;
  resources: Resources;
  /** Appended after the generated flags (values thanos.query.extraArgs). */
  extraArgs: string[];
  scheduling: Scheduling;
  logLevel: string;
  /** prometheus.shards: an endpoint per shard. */
  shards: Count;
}

/**
 * The flags of `thanos query` besides the values' extra ones: every sidecar by DNS (shard 0's, then
 * `shardEndpoints`), deduplicated on the replica label.
 */
export function thanosQueryArgs(namespace: string, logLevel: string, shardEndpoints: string[] = []): string[] {
  return [
    'query',
    `--http-address=0.0.0.0:${THANOS_HTTP_PORT}`,
    `--grpc-address=0.0.0.0:${THANOS_GRPC_PORT}`,
    `--query.replica-label=${REPLICA_EXTERNAL_LABEL}`,
    // dns+: every A record of the headless Service, i.e. every Prometheus pod, re-resolved as pods come and go.
    `--endpoint=dns+${THANOS_SIDECARS_NAME}.${namespace}.svc:${THANOS_GRPC_PORT}`,
    ...shardEndpoints,
    `--log.level=${logLevel}`,
  ];
}

/** `--endpoint` of shard i's headless Service (i = 1 .. shards-1): every pod of that shard. */
export function shardEndpoint(namespace: string, shard: string | number): string {
  return `--endpoint=dns+${prometheusShardName(shard)}.${namespace}.svc:${THANOS_GRPC_PORT}`;
}

/** shardEndpoint for shards 1 .. N-1: concrete, or in the chart one `range` printing them. */
function shardEndpoints(ctx: RenderContext, shards: Count): string[] {
  if (!ctx.isHelm) return Array.from({ length: shards.value - 1 }, (_, i) => shardEndpoint(ctx.namespace, i + 1));
  const item = JSON.stringify(shardEndpoint('NAMESPACE', 'SHARD')).replace('NAMESPACE', '{{ include "vigil.namespace" $ }}').replace('SHARD', '{{ $shard }}');
  const pad = (indent: number) => ' '.repeat(indent);
  return [ctx.block((indent) => [`${pad(indent)}{{- range $shard := untilStep 1 (int ${shards.expr}) 1 }}`, `${pad(indent)}- ${item}`, `${pad(indent)}{{- end }}`], '')];
}

export class ThanosQuery extends Construct {
  constructor(scope: Construct, id: string, props: ThanosQueryProps) {
    super(scope, id);
    const { ctx } = props;
    const name = THANOS_QUERY_NAME;
    const query = container({
      name: 'thanos-query',
      image: props.image,
      args: [...thanosQueryArgs(ctx.namespace, props.logLevel, shardEndpoints(ctx, props.shards)), ...props.extraArgs],
      ports: [
        { name: 'http-web', containerPort: THANOS_HTTP_PORT },
        { name: 'grpc', containerPort: THANOS_GRPC_PORT },
      ],
      resources: props.resources,
      readinessProbe: httpProbe('/-/ready', 'http-web', 5),
      livenessProbe: httpProbe('/-/healthy', 'http-web', 15, 4),
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
            metadata: podMetadata(props.scheduling, name),
            // It talks to the sidecars only, never to the Kubernetes API.
            spec: podSpec(props.scheduling, { automountServiceAccountToken: false, containers: [query] }),
          },
        },
      },
    );
    exposedService(this, ctx, 'service', name, name, props.service, [{ name: 'http-web', port: THANOS_HTTP_PORT, targetPort: 'http-web', protocol: 'TCP' }], 'http-web');
  }
}
