// `helm test`: a Pod that waits (up to a minute) for Prometheus and Alertmanager to answer /-/ready.
// It runs the operator image, whose Node has fetch; no extra image to pull.
import { Construct } from 'constructs';
import { kubeObject, type RenderContext } from '../context.js';
import { Identity } from './rbac.js';
import { container, labels, podSpec, type ImageRef, type Resources, type Scheduling } from './common.js';
import { ALERTMANAGER_NAME, ALERTMANAGER_PORT } from './alertmanager.js';
import { PROMETHEUS_NAME, PROMETHEUS_PORT } from './prometheus.js';
import { OBJECT_NAMES } from '../../operator/rbac.js';

/** The /-/ready URLs of Prometheus and Alertmanager under their route prefixes. */
export function readyUrls(prometheusRoutePrefix: string, alertmanagerRoutePrefix: string): string[] {
  return [`http://${PROMETHEUS_NAME}:${PROMETHEUS_PORT}${prometheusRoutePrefix}/-/ready`, `http://${ALERTMANAGER_NAME}:${ALERTMANAGER_PORT}${alertmanagerRoutePrefix}/-/ready`];
}

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

/**
 * Init container of the test pod: sets the pod's ownerReference to the settings ConfigMap (uid read through the
 * API), so that `helm uninstall` garbage-collects the pod with the release. Helm deletes test hooks only by their
 * delete policy, never on uninstall, and a `hook-succeeded` policy deletes the pod before `helm test --logs` reads
 * it ("pods ... not found", exit 1; helm/helm#9098). Needs NODE_EXTRA_CA_CERTS = the ServiceAccount's ca.crt.
 */
export const ADOPT_SCRIPT = [
  "import { readFileSync } from 'node:fs';",
  "const sa = '/var/run/secrets/kubernetes.io/serviceaccount';",
  "const ns = readFileSync(`${sa}/namespace`, 'utf8');",
  "const headers = { authorization: `Bearer ${readFileSync(`${sa}/token`, 'utf8')}` };",
  'const api = `https://${process.env.KUBERNETES_SERVICE_HOST}:${process.env.KUBERNETES_SERVICE_PORT}/api/v1/namespaces/${ns}`;',
  'const [owner, pod] = process.argv.slice(1);',
  'const res = await fetch(`${api}/configmaps/${owner}`, { headers });',
  'if (!res.ok) { console.error(`GET configmap ${owner}: HTTP ${res.status}`); process.exit(1); }',
  'const { uid } = (await res.json()).metadata;',
  // written without `key: {`/`key: [` so that the chart's block-YAML check does not take it for a flow map
  "const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: owner, uid };",
  'const metadata = {};',
  'metadata.ownerReferences = Array.of(ref);',
  'const body = JSON.stringify({ metadata });',
  "const patchHeaders = Object.assign({ 'content-type': 'application/merge-patch+json' }, headers);",
  "const patch = await fetch(`${api}/pods/${pod}`, { method: 'PATCH', headers: patchHeaders, body });",
  'if (!patch.ok) { console.error(`PATCH pod ${pod}: HTTP ${patch.status}`); process.exit(1); }',
  'console.log(`pod ${pod} is owned by configmap ${owner}: deleted with the release`);',
].join('\n');

export interface HelmTestProps {
  ctx: RenderContext;
  image: ImageRef;
  resources: Resources;
  scheduling: Scheduling;
  prometheusRoutePrefix: string;
  alertmanagerRoutePrefix: string;
}

export class HelmTest extends Construct {
  constructor(scope: Construct, id: string, props: HelmTestProps) {
    super(scope, id);
    const name = OBJECT_NAMES.helmTestPod;
    new Identity(this, 'identity', { ctx: props.ctx, component: 'helm-test', name });
    kubeObject(
      this,
      props.ctx,
      'pod',
      'v1',
      'Pod',
      {
        name,
        labels: labels(name),
        // Kept after success so that `helm test --logs` can read it; garbage-collected on uninstall (ADOPT_SCRIPT).
        annotations: { 'helm.sh/hook': 'test', 'helm.sh/hook-delete-policy': 'before-hook-creation' },
      },
      {
        spec: podSpec(props.scheduling, {
          restartPolicy: 'Never',
          serviceAccountName: OBJECT_NAMES.helmTestServiceAccount,
          initContainers: [
            container({
              name: 'adopt',
              image: props.image,
              command: ['node', '--input-type=module', '-e', ADOPT_SCRIPT],
              args: [OBJECT_NAMES.settingsConfigMap, name],
              env: [{ name: 'NODE_EXTRA_CA_CERTS', value: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt' }],
              resources: props.resources,
            }),
          ],
          containers: [
            container({
              name: 'check-ready',
              image: props.image,
              command: ['node', '--input-type=module', '-e', READY_CHECK_SCRIPT],
              args: readyUrls(props.prometheusRoutePrefix, props.alertmanagerRoutePrefix),
              resources: props.resources,
            }),
          ],
        }),
      },
    );
  }
}
