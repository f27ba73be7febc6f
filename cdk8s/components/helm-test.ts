// `helm test`: a Pod that waits (up to a minute) for Prometheus and Alertmanager to answer /-/ready.
// It runs the operator image, whose Node has fetch; no extra image to pull.
import { Construct } from 'constructs';
import { kubeObject, type RenderContext } from '../context.js';
import { container, labels, podSpec, type ImageRef, type Resources, type Scheduling } from './common.js';
import { ALERTMANAGER_NAME, ALERTMANAGER_PORT } from './alertmanager.js';
import { PROMETHEUS_NAME, PROMETHEUS_PORT } from './prometheus.js';

export const READY_URLS = [`http://${PROMETHEUS_NAME}:${PROMETHEUS_PORT}/-/ready`, `http://${ALERTMANAGER_NAME}:${ALERTMANAGER_PORT}/-/ready`];

export const READY_CHECK_SCRIPT = [
  'const urls = process.argv.slice(1);',
  'const deadline = Date.now() + 60000;',
  'for (const url of urls) {',
  '  for (;;) {',
  '    const status = await fetch(url).then((r) => r.status, (e) => String(e));',
  '    if (status === 200) { console.log(`ready: ${url}`); break; }',
  '    if (Date.now() > deadline) { console.error(`not ready: ${url}: ${status}`); process.exit(1); }',
  '    await new Promise((r) => setTimeout(r, 2000));',
  '  }',
  '}',
].join('\n');

export interface HelmTestProps {
  ctx: RenderContext;
  image: ImageRef;
  resources: Resources;
  scheduling: Scheduling;
}

export class HelmTest extends Construct {
  constructor(scope: Construct, id: string, props: HelmTestProps) {
    super(scope, id);
    const name = 'vigil-test-ready';
    kubeObject(
      this,
      props.ctx,
      'pod',
      'v1',
      'Pod',
      {
        name,
        labels: labels(name),
        annotations: { 'helm.sh/hook': 'test', 'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded' },
      },
      {
        spec: podSpec(props.scheduling, {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          containers: [
            container({
              name: 'check-ready',
              image: props.image,
              command: ['node', '--input-type=module', '-e', READY_CHECK_SCRIPT],
              args: READY_URLS,
              resources: props.resources,
            }),
          ],
        }),
      },
    );
  }
}
