// The demo target: a single unmanaged Pod (deleting it is an outage, as stopping the container was
// in the original compose stack; a Deployment would replace it and rightly page no one), its
// Service with the named port the MonitoredService scrapes, and that MonitoredService with fast
// timings so `make demo-outage` shows an email within seconds.
import { Construct } from 'constructs';
import { kubeObject, type RenderContext } from '../context.js';
import { API_GROUP, API_VERSION, KIND } from '../../operator/api/schema.js';
import { container, httpProbe, labels, podSpec, selectorLabels, type ImageRef, type Resources, type Scheduling } from './common.js';

export const DEMO_TARGET_NAME = 'vigil-demo-target';
export const DEMO_TARGET_PORT = 8000;
export const DEMO_METRICS_PORT_NAME = 'http-metrics';

export interface DemoTargetProps {
  ctx: RenderContext;
  image: ImageRef;
  resources: Resources;
  scheduling: Scheduling;
  /** Scrape interval / timeout / down-alert delay of the demo MonitoredService. */
  interval?: string;
  scrapeTimeout?: string;
  downFor?: string;
}

export class DemoTarget extends Construct {
  constructor(scope: Construct, id: string, props: DemoTargetProps) {
    super(scope, id);
    const { ctx } = props;
    const name = DEMO_TARGET_NAME;
    const target = container({
      name: 'target',
      image: props.image,
      args: ['--port', String(DEMO_TARGET_PORT), '--host', '0.0.0.0'],
      ports: [{ name: DEMO_METRICS_PORT_NAME, containerPort: DEMO_TARGET_PORT }],
      resources: props.resources,
      readinessProbe: httpProbe('/healthz', DEMO_METRICS_PORT_NAME, 5),
      livenessProbe: httpProbe('/healthz', DEMO_METRICS_PORT_NAME, 15),
    });
    kubeObject(
      this,
      ctx,
      'pod',
      'v1',
      'Pod',
      { name, labels: labels(name) },
      {
        spec: podSpec(props.scheduling, { automountServiceAccountToken: false, restartPolicy: 'Always', containers: [target] }),
      },
    );
    kubeObject(
      this,
      ctx,
      'service',
      'v1',
      'Service',
      { name, labels: labels(name) },
      {
        spec: {
          selector: selectorLabels(name),
          ports: [{ name: DEMO_METRICS_PORT_NAME, port: DEMO_TARGET_PORT, targetPort: DEMO_METRICS_PORT_NAME, protocol: 'TCP' }],
        },
      },
    );
    kubeObject(
      this,
      ctx,
      'monitoredservice',
      `${API_GROUP}/${API_VERSION}`,
      KIND,
      { name, labels: labels(name) },
      {
        spec: {
          selector: { matchLabels: selectorLabels(name) },
          endpoints: [{ port: DEMO_METRICS_PORT_NAME, path: '/metrics', interval: props.interval ?? '5s', scrapeTimeout: props.scrapeTimeout ?? '4s' }],
          downAlert: { enabled: true, for: props.downFor ?? '5s', severity: 'critical' },
        },
      },
    );
  }
}
