// Thanos Query (thanos.enabled): one Prometheus-compatible endpoint, with Thanos's Query UI, over the
// sidecar of every Prometheus pod (components/prometheus.ts), found through their headless Service.
// Replicas are deduplicated on the replica external label; rules and alerts stay in each Prometheus.
import { Construct } from 'constructs';
import { kubeObject, type RenderContext } from '../context.js';
import { REPLICA_EXTERNAL_LABEL } from '../../operator/render/names.js';
import { container, exposedService, httpProbe, labels, podMetadata, podSpec, selectorLabels, type ImageRef, type Resources, type Scheduling, type ServiceExposure } from './common.js';
import { THANOS_GRPC_PORT, THANOS_HTTP_PORT, THANOS_QUERY_NAME, THANOS_SIDECARS_NAME } from './prometheus.js';

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
}

/** The flags of `thanos query` besides the values' extra ones: every sidecar by DNS, deduplicated on the replica label. */
export function thanosQueryArgs(namespace: string, logLevel: string): string[] {
  return [
    'query',
    `--http-address=0.0.0.0:${THANOS_HTTP_PORT}`,
    `--grpc-address=0.0.0.0:${THANOS_GRPC_PORT}`,
    `--query.replica-label=${REPLICA_EXTERNAL_LABEL}`,
    // dns+: every A record of the headless Service, i.e. every Prometheus pod, re-resolved as pods come and go.
    `--endpoint=dns+${THANOS_SIDECARS_NAME}.${namespace}.svc:${THANOS_GRPC_PORT}`,
    `--log.level=${logLevel}`,
  ];
}

export class ThanosQuery extends Construct {
  constructor(scope: Construct, id: string, props: ThanosQueryProps) {
    super(scope, id);
    const { ctx } = props;
    const name = THANOS_QUERY_NAME;
    const query = container({
      name: 'thanos-query',
      image: props.image,
      args: [...thanosQueryArgs(ctx.namespace, props.logLevel), ...props.extraArgs],
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
