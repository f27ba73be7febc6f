// The real-cluster install of docs/deployment.md on the real single-node Kubernetes (hack/node/cluster.sh), as a
// user without kind would do it: the images Vigil builds come from global.imageRegistry (imported into the node
// under the registry's names only, the bare names removed, so nothing else can start), both external URLs carry a
// path (Prometheus and Alertmanager serve under it: probes, reloads, the operator's polls and helm test must follow),
// the alert email's links are those URLs, and the CRD is upgraded the documented way (an older chart's CRD first,
// then `helm upgrade` and `kubectl apply --server-side --force-conflicts -f charts/vigil/crds/`).
// Needs root; the node is one per machine: run it under `flock /tmp/vigil-node.lock`.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { REPO_ROOT } from '../../hack/local-stack/cluster.js';
import { MailpitClient, waitForAlertEmail } from '../../hack/local-stack/mailpit.js';
import { pollUntil } from '../../hack/local-stack/net.js';
import { KIND_VALUES, mergeValues } from '../../cdk8s/values.js';
import { PACKAGE_VERSION, VIGIL_IMAGE_NAMES } from '../../cdk8s/versions.js';
import { MAIL_URL, NODE_DIR, NODE_IP, clusterDown, clusterUp, helm, kubectl } from './node.js';

const run = promisify(execFile);
const NS = 'vigil-real-install';
const RELEASE = 'vigil';
const CHART = join(REPO_ROOT, 'charts', 'vigil');
const CRD_FILE = 'vigil.dev_monitoredservices.yaml';
const LOG = join(NODE_DIR, 'logs', 'real-cluster-install-test.log');
const CTRD_SOCK = '/run/vigil-node/containerd/containerd.sock';
const REGISTRY = 'registry.vigil.test/platform';
const PROMETHEUS_EXTERNAL = `http://${NODE_IP}:30090/monitoring/prometheus`;
const ALERTMANAGER_EXTERNAL = `http://${NODE_IP}:30093/monitoring/alertmanager`;
const DEMO = 'vigil-demo-target';

/** values-kind.yaml's mail catcher, demo target and node ports, with what a real cluster sets instead of localhost and bare image names. */
const VALUES = mergeValues(KIND_VALUES, {
  global: { imageRegistry: REGISTRY },
  prometheus: { externalUrl: PROMETHEUS_EXTERNAL },
  alertmanager: { externalUrl: ALERTMANAGER_EXTERNAL },
  // As on a real cluster: pulled when missing (here never missing: imported under the registry's names).
  operator: { image: { pullPolicy: 'IfNotPresent' } },
  mailCatcher: { stunnelImage: { pullPolicy: 'IfNotPresent' } },
  demoTarget: { image: { pullPolicy: 'IfNotPresent' } },
});
const mail = new MailpitClient(MAIL_URL);

const ctr = (args: string[]) => run('ctr', ['-a', CTRD_SOCK, '-n', 'k8s.io', ...args]);
let dir: string;
let installed = false;

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('the real-node test needs root (network namespace, containerd, kubelet)');
  await clusterUp(LOG, 40 * 60_000);
  dir = await mkdtemp(join(tmpdir(), 'vigil-real-install-'));
  // The images as `make push REGISTRY=...` names them, and only so.
  for (const name of VIGIL_IMAGE_NAMES) {
    await ctr(['images', 'tag', '--force', `docker.io/vigil/${name}:${PACKAGE_VERSION}`, `${REGISTRY}/vigil/${name}:${PACKAGE_VERSION}`]);
    await ctr(['images', 'rm', `docker.io/vigil/${name}:${PACKAGE_VERSION}`]);
  }
  // An older chart: this one with a CRD that has no spec.notify.
  await cp(CHART, join(dir, 'vigil'), { recursive: true });
  const crd = parse(await readFile(join(CHART, 'crds', CRD_FILE), 'utf8')) as {
    spec: { versions: { schema: { openAPIV3Schema: { properties: { spec: { properties: Record<string, unknown> } } } } }[] };
  };
  for (const v of crd.spec.versions) delete v.schema.openAPIV3Schema.properties.spec.properties.notify;
  await writeFile(join(dir, 'vigil', 'crds', CRD_FILE), stringify(crd));
  await writeFile(join(dir, 'values.yaml'), stringify(VALUES));
}, 45 * 60_000);

afterAll(async () => {
  try {
    if (installed && process.env.VIGIL_KEEP_NODE !== '1') await helm(['uninstall', RELEASE, '-n', NS, '--wait', '--timeout', '120s']);
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
    if (process.env.VIGIL_KEEP_NODE !== '1') await clusterDown(LOG);
  }
}, 300_000);

async function readyCondition(ns: string, name: string): Promise<{ status?: string; message?: string }> {
  const out = await kubectl(['get', 'monitoredservice', name, '-n', ns, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")]}']);
  return (out.trim() ? JSON.parse(out) : {}) as { status?: string; message?: string };
}

test('helm install of the older chart with the registry value and path-prefixed external URLs: Ready, helm test passes', async () => {
  await kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } }),
  });
  const install = await helm(['install', RELEASE, join(dir, 'vigil'), '-n', NS, '-f', join(dir, 'values.yaml'), '--wait', '--timeout', '300s']);
  installed = true;
  expect({ code: install.code, stderr: install.stderr }).toEqual({ code: 0, stderr: '' });
  await kubectl(['wait', '-n', NS, '--for=condition=Ready', 'pod', '--all', '--timeout=180s'], { timeoutMs: 200_000 });

  // Every container of the images Vigil builds runs the registry's image (the bare names are gone from the node).
  const pods = JSON.parse(await kubectl(['get', 'pods', '-n', NS, '-o', 'json'])) as {
    items: { status: { containerStatuses?: { name: string; image: string }[]; initContainerStatuses?: { name: string; image: string }[] } }[];
  };
  const images = [...new Set(pods.items.flatMap((p) => [...(p.status.containerStatuses ?? []), ...(p.status.initContainerStatuses ?? [])].map((c) => c.image)))].sort();
  const own = images.filter((i) => i.includes('/vigil/'));
  expect(own.sort()).toEqual(VIGIL_IMAGE_NAMES.map((n) => `${REGISTRY}/vigil/${n}:${PACKAGE_VERSION}`).sort());

  // Prometheus and Alertmanager serve under the prefix, and only there.
  for (const base of [PROMETHEUS_EXTERNAL, ALERTMANAGER_EXTERNAL]) {
    expect({ base, status: (await fetch(`${base}/-/ready`)).status }).toEqual({ base, status: 200 });
  }
  expect((await fetch(`http://${NODE_IP}:30090/-/ready`)).status).toBe(404);

  const t = await helm(['test', RELEASE, '-n', NS, '--logs', '--timeout', '180s']);
  expect({ code: t.code, stderr: t.stderr }).toEqual({ code: 0, stderr: '' });
  expect(t.stdout).toContain('ready: http://vigil-prometheus:9090/monitoring/prometheus/-/ready');
  expect(t.stdout).toContain('ready: http://vigil-alertmanager:9093/monitoring/alertmanager/-/ready');

  // Ready needs the sync sidecars' reloads (ConfigApplied), the operator's polls of Alertmanager and of
  // Prometheus's targets (TargetsHealthy), all under the prefixes.
  await pollUntil(`${DEMO} Ready`, 180_000, async () => (await readyCondition(NS, DEMO)).status === 'True', { intervalMs: 1000 });
}, 900_000);

test("the alert email's links are the configured external URLs, path included, and they open", async () => {
  await mail.deleteAll();
  const deletedAt = Date.now();
  await kubectl(['delete', 'pod', DEMO, '-n', NS, '--wait=false']);
  const firing = await waitForAlertEmail(mail, { state: 'firing', namespace: NS, name: DEMO, since: deletedAt, timeoutMs: 180_000 });
  console.log(`real cluster install: FIRING email after ${firing.elapsedS.toFixed(1)} s`);
  const message = await mail.message(firing.mail.ID);
  const links = [...new Set([...`${message.Text}\n${message.HTML}`.matchAll(/https?:\/\/[^\s"<>]+/g)].map((m) => m[0].replace(/&amp;/g, '&')))];
  const graph = links.filter((l) => l.includes('/graph?'));
  const silence = links.filter((l) => l.includes('/#/silences/new'));
  expect(graph.length).toBeGreaterThan(0);
  expect(silence.length).toBeGreaterThan(0);
  for (const l of graph) expect(l.startsWith(`${PROMETHEUS_EXTERNAL}/graph?`)).toBe(true);
  for (const l of silence) expect(l.startsWith(`${ALERTMANAGER_EXTERNAL}/#/silences/new?filter=`)).toBe(true);
  expect(links.some((l) => l.includes('localhost'))).toBe(false);
  expect(message.Text).toMatch(new RegExp(`All alerts: +${ALERTMANAGER_EXTERNAL.replace(/[.]/g, '\\.')}\\s`));
  // The links lead somewhere: Prometheus's graph page and Alertmanager's API under the same prefix.
  expect((await fetch(graph[0] as string)).status).toBe(200);
  expect((await fetch(`${ALERTMANAGER_EXTERNAL}/api/v2/alerts?active=true`)).status).toBe(200);
  // The demo pod stays deleted: the `helm upgrade` of the next test creates it again (Helm creates what is missing).
}, 300_000);

test('CRD upgrade: helm upgrade leaves the old CRD (new field refused or pruned); kubectl apply --server-side of crds/ upgrades it; the operator uses the field', async () => {
  const notifyType = async () =>
    (await kubectl(['get', 'crd', 'monitoredservices.vigil.dev', '-o', 'jsonpath={.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.notify.type}'])).trim();
  const service = {
    apiVersion: 'vigil.dev/v1alpha1',
    kind: 'MonitoredService',
    metadata: { name: 'checkout', namespace: NS },
    spec: { selector: { matchLabels: { app: 'checkout' } }, endpoints: [{ port: 'metrics' }], notify: { email: { to: ['checkout-team@example.com'] } } },
  };
  const storedRecipient = async () => (await kubectl(['get', 'monitoredservice', 'checkout', '-n', NS, '-o', 'jsonpath={.spec.notify.email.to[0]}'])).trim();
  expect(await notifyType()).toBe('');

  const upgrade = await helm(['upgrade', RELEASE, CHART, '-n', NS, '-f', join(dir, 'values.yaml'), '--wait', '--timeout', '300s']);
  expect({ code: upgrade.code, stderr: upgrade.stderr }).toEqual({ code: 0, stderr: '' });
  expect(await notifyType()).toBe('');
  // Refused by kubectl's strict validation, silently dropped by a client that does not validate.
  await expect(kubectl(['apply', '--server-side', '-f', '-'], { input: JSON.stringify(service) })).rejects.toThrow('.spec.notify: field not declared in schema');
  await kubectl(['apply', '--validate=false', '-f', '-'], { input: JSON.stringify(service) });
  expect(await storedRecipient()).toBe('');

  await kubectl(['apply', '--server-side', '--force-conflicts', '-f', join(CHART, 'crds')]);
  await kubectl(['wait', '--for=condition=Established', 'crd/monitoredservices.vigil.dev', '--timeout=60s']);
  expect(await notifyType()).toBe('object');
  await kubectl(['apply', '--server-side', '-f', '-'], { input: JSON.stringify(service) });
  expect(await storedRecipient()).toBe('checkout-team@example.com');
  // The operator routes it: Alertmanager (under its prefix) runs a receiver for the new recipients.
  try {
    await pollUntil(
      'Alertmanager to run a receiver for checkout-team@example.com',
      120_000,
      async () => {
        const st = (await (await fetch(`${ALERTMANAGER_EXTERNAL}/api/v2/status`)).json()) as { config: { original: string } };
        return st.config.original.includes('checkout-team@example.com');
      },
      { intervalMs: 2000 },
    );
  } catch (err) {
    const status = await kubectl(['get', 'monitoredservice', 'checkout', '-n', NS, '-o', 'jsonpath={.metadata.generation} {.status}']).catch((e: Error) => e.message);
    const logs = await kubectl(['logs', '-n', NS, 'deployment/vigil-operator', '--tail=40']).catch((e: Error) => e.message);
    console.log(`checkout: ${status}\noperator log:\n${logs}`);
    throw err;
  }
  await kubectl(['delete', 'monitoredservice', 'checkout', '-n', NS]);
}, 600_000);

test('helm uninstall: the CRD stays, the release objects go', async () => {
  const r = await helm(['uninstall', RELEASE, '-n', NS, '--wait', '--timeout', '180s']);
  expect(r.code).toBe(0);
  installed = false;
  await pollUntil(
    'the release objects to be gone',
    120_000,
    async () =>
      (await kubectl(['get', 'deployments,statefulsets,services,configmaps,secrets,pods', '-n', NS, '-o', 'name'])).split('\n').filter((n) => n && n !== 'configmap/kube-root-ca.crt').length === 0,
    { intervalMs: 1000 },
  );
  expect(await kubectl(['get', 'crd', 'monitoredservices.vigil.dev', '-o', 'name'])).toContain('monitoredservices.vigil.dev');
  await kubectl(['delete', 'namespace', NS, '--wait=true', '--timeout=120s'], { timeoutMs: 150_000 });
}, 400_000);
