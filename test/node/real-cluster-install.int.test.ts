// The real-cluster install of docs/deployment.md on the real single-node Kubernetes (hack/node/cluster.sh), as a
// user without kind would do it: the images Vigil builds come from global.imageRegistry (imported into the node
// under the registry's names only, the bare names removed, so nothing else can start), both external URLs carry a
// path (Prometheus and Alertmanager serve under it: probes, reloads, the operator's polls and helm test must follow),
// the alert email's links are those URLs, and the CRD is upgraded the documented way (an older chart's CRD first,
// then `helm upgrade` and `kubectl apply --server-side --force-conflicts -f charts/vigil/crds/`). It runs the
// production profile with the chart's default Alertmanager replicas (two): during a team's outage a `helm upgrade`
// that replaces every pod sends no second FIRING email; then `helm uninstall` and a `helm install` into another
// namespace, which takes the team's service over, scrapes it and pages its owners again, once.
// Needs root; the node is one per machine: run it under `flock /tmp/vigil-node.lock`.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { REPO_ROOT } from '../../hack/local-stack/cluster.js';
import { MailpitClient, isAlertEmailFor, waitForAlertEmail } from '../../hack/local-stack/mailpit.js';
import { pollUntil, sleep } from '../../hack/local-stack/net.js';
import { alertmanagerReplicas, DEFAULT_VALUES, KIND_VALUES, mergeValues } from '../../cdk8s/values.js';
import { PACKAGE_VERSION, VIGIL_IMAGE_NAMES } from '../../cdk8s/versions.js';
import { NOTIFICATION_TIMINGS } from '../../operator/render/alertmanager.js';
import { INSTALL_REMOVED_REASON } from '../../operator/controller/uninstall.js';
import { durationSeconds } from '../../hack/local-stack/demo.js';
import { MAIL_URL, NODE_DIR, NODE_IP, clusterDown, clusterUp, helm, kubectl } from './node.js';
import { targetObjects } from './target.js';

const run = promisify(execFile);
const NS = 'vigil-real-install';
/** Where the second `helm install` goes after the first is uninstalled. */
const NS2 = 'vigil-real-install-2';
const RELEASE = 'vigil';
const CHART = join(REPO_ROOT, 'charts', 'vigil');
const CRD_FILE = 'vigil.dev_monitoredservices.yaml';
const LOG = join(NODE_DIR, 'logs', 'real-cluster-install-test.log');
const CTRD_SOCK = '/run/vigil-node/containerd/containerd.sock';
const REGISTRY = 'registry.vigil.test/platform';
const PROMETHEUS_EXTERNAL = `http://${NODE_IP}:30090/monitoring/prometheus`;
const ALERTMANAGER_EXTERNAL = `http://${NODE_IP}:30093/monitoring/alertmanager`;
const DEMO = 'vigil-demo-target';

/**
 * values-kind.yaml's mail catcher, demo target and node ports, with what a real cluster sets instead of localhost and
 * bare image names, the production profile and the chart's default Alertmanager replicas (values-kind has demo and 1).
 */
const VALUES = mergeValues(KIND_VALUES, {
  profile: 'production',
  global: { imageRegistry: REGISTRY },
  prometheus: { externalUrl: PROMETHEUS_EXTERNAL },
  alertmanager: { replicas: alertmanagerReplicas(DEFAULT_VALUES), externalUrl: ALERTMANAGER_EXTERNAL },
  // As on a real cluster: pulled when missing (here never missing: imported under the registry's names).
  operator: { image: { pullPolicy: 'IfNotPresent' } },
  mailCatcher: { stunnelImage: { pullPolicy: 'IfNotPresent' } },
  demoTarget: { image: { pullPolicy: 'IfNotPresent' } },
});
const mail = new MailpitClient(MAIL_URL);
/** A team's service outside the release: its outage runs across the upgrade, the uninstall and the reinstall. */
const TEAM_NS = 'shop';
const TEAM_APP = 'cart';
const TEAM_OWNER = 'cart-oncall@example.com';
/** Alertmanager's --cluster.peer-timeout default: replica n waits n times it before it notifies. */
const PEER_TIMEOUT_S = 15;

const ctr = (args: string[]) => run('ctr', ['-a', CTRD_SOCK, '-n', 'k8s.io', ...args]);
let dir: string;
/** The namespace of the install that is up, for afterAll. */
let installedNs: string | undefined;

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
    if (installedNs && process.env.VIGIL_KEEP_NODE !== '1') await helm(['uninstall', RELEASE, '-n', installedNs, '--wait', '--timeout', '120s']);
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
  installedNs = NS;
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

/** The team's service: the demo target image under the registry's name, scraped every 5s, down after 10s, paged to its owner. */
function teamObjects(): object[] {
  return [
    ...targetObjects({
      namespace: TEAM_NS,
      app: TEAM_APP,
      image: `${REGISTRY}/vigil/target-service:${PACKAGE_VERSION}`,
      namespaceLabels: { 'pod-security.kubernetes.io/enforce': 'restricted' },
    }),
    {
      apiVersion: 'vigil.dev/v1alpha1',
      kind: 'MonitoredService',
      metadata: { name: TEAM_APP, namespace: TEAM_NS },
      spec: {
        selector: { matchLabels: { 'app.kubernetes.io/name': TEAM_APP } },
        endpoints: [{ port: 'metrics', interval: '5s' }],
        downAlert: { for: '10s' },
        notify: { email: { to: [TEAM_OWNER] } },
      },
    },
  ];
}

interface TeamStatus {
  install?: { namespace?: string };
  healthyTargets?: number;
  conditions?: { type: string; status: string; reason: string; message?: string }[];
}
async function teamStatus(): Promise<TeamStatus> {
  const out = await kubectl(['get', 'monitoredservice', TEAM_APP, '-n', TEAM_NS, '-o', 'jsonpath={.status}']);
  return (out.trim() ? JSON.parse(out) : {}) as TeamStatus;
}
const teamReady = (st: TeamStatus) => st.conditions?.find((c) => c.type === 'Ready')?.status;

/** ServiceDown FIRING emails about the team's service that arrived at or after `since` (ms), with their recipients. */
async function teamFiring(since: number): Promise<{ created: string; to: string[] }[]> {
  return (await mail.list())
    .filter((m) => Date.parse(m.Created) >= since && isAlertEmailFor(m.Subject, 'firing', TEAM_NS, TEAM_APP) && m.Subject.split(' ').includes('ServiceDown'))
    .map((m) => ({ created: m.Created, to: (m.To ?? []).map((a) => a.Address) }));
}

/** The pods of the Alertmanager StatefulSet, name → uid. */
async function alertmanagerPods(ns: string): Promise<Map<string, string>> {
  const pods = JSON.parse(await kubectl(['get', 'pods', '-n', ns, '-l', 'app.kubernetes.io/name=vigil-alertmanager', '-o', 'json'])) as { items: { metadata: { name: string; uid: string } }[] };
  return new Map(pods.items.map((p) => [p.metadata.name, p.metadata.uid]));
}

/** Whether one Alertmanager pod (through the API server's pod proxy) holds the team's ServiceDown alert active. */
async function podHoldsTeamAlert(ns: string, pod: string): Promise<boolean> {
  const path = `/api/v1/namespaces/${ns}/pods/${pod}:9093/proxy${new URL(ALERTMANAGER_EXTERNAL).pathname}/api/v2/alerts?active=true`;
  const alerts = JSON.parse(await kubectl(['get', '--raw', path])) as { labels: Record<string, string> }[];
  return alerts.some((a) => a.labels.alertname === 'ServiceDown' && a.labels.vigil_namespace === TEAM_NS && a.labels.vigil_monitoredservice === TEAM_APP);
}

test("helm upgrade during a team's outage replaces every Alertmanager pod and sends no second FIRING email", async () => {
  await kubectl(['apply', '-f', '-'], {
    input: teamObjects()
      .map((o) => JSON.stringify(o))
      .join('\n'),
  });
  await pollUntil(
    `${TEAM_NS}/${TEAM_APP} Ready under ${NS}`,
    180_000,
    async () => {
      const st = await teamStatus();
      return st.install?.namespace === NS && teamReady(st) === 'True' && (st.healthyTargets ?? 0) >= 1;
    },
    { intervalMs: 1000 },
  );
  const downAt = Date.now();
  await kubectl(['scale', 'deployment', TEAM_APP, '-n', TEAM_NS, '--replicas=0']);
  const firing = await waitForAlertEmail(mail, { state: 'firing', namespace: TEAM_NS, name: TEAM_APP, since: downAt, timeoutMs: 240_000 });
  console.log(`real cluster install: team FIRING email ${firing.elapsedS.toFixed(1)} s after the outage began`);
  expect(await teamFiring(downAt)).toEqual([{ created: firing.mail.Created, to: [TEAM_OWNER] }]);

  // What an upgrade to a new version does: every Vigil pod is replaced (operator, Prometheus, Alertmanager, mail catcher).
  const before = await alertmanagerPods(NS);
  expect(before.size).toBe(2);
  const upgradeAt = Date.now();
  const up = await helm(['upgrade', RELEASE, CHART, '-n', NS, '-f', join(dir, 'values.yaml'), '--set-string', `podAnnotations.vigil\\.test/rollout=${upgradeAt}`, '--wait', '--timeout', '300s']);
  expect({ code: up.code, stderr: up.stderr }).toEqual({ code: 0, stderr: '' });
  await kubectl(['rollout', 'status', 'statefulset/vigil-alertmanager', '-n', NS, '--timeout=180s'], { timeoutMs: 200_000 });
  const after = await alertmanagerPods(NS);
  expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
  for (const [pod, uid] of after) expect({ pod, replaced: uid !== before.get(pod) }).toEqual({ pod, replaced: true });
  console.log(`real cluster install: helm upgrade and the Alertmanager rollout took ${((Date.now() - upgradeAt) / 1000).toFixed(1)} s`);

  // A new Alertmanager that had lost the notification log would email the alert group_wait after it holds the
  // alert (plus its peer position's wait): wait until both new pods hold it, then that long and 30 s more.
  await pollUntil('both new Alertmanager pods to hold the ServiceDown alert', 240_000, async () => (await Promise.all([...after.keys()].map((pod) => podHoldsTeamAlert(NS, pod)))).every(Boolean), {
    intervalMs: 2000,
  });
  const heldAt = Date.now();
  const windowS = durationSeconds(NOTIFICATION_TIMINGS.production.group_wait) + PEER_TIMEOUT_S * (after.size - 1) + 30;
  console.log(`real cluster install: both Alertmanagers held the alert ${((heldAt - upgradeAt) / 1000).toFixed(1)} s after the upgrade began; watching ${windowS} s more`);
  // Meanwhile a test email through the same route shows the upgraded Alertmanagers do send to the owner.
  await kubectl(['annotate', 'monitoredservice', TEAM_APP, '-n', TEAM_NS, `vigil.dev/test-email=${heldAt}`, '--overwrite']);
  await sleep(windowS * 1000);
  const testEmails = (await mail.list()).filter(
    (m) => Date.parse(m.Created) >= upgradeAt && m.Subject.split(' ').includes('VigilTestEmail') && m.Subject.split(' ').includes(`${TEAM_NS}/${TEAM_APP}`),
  );
  expect(testEmails.map((m) => (m.To ?? []).map((a) => a.Address))).toEqual([[TEAM_OWNER]]);
  expect(await teamFiring(upgradeAt)).toEqual([]);
  expect(await teamStatus()).toMatchObject({ install: { namespace: NS } });
}, 900_000);

test('helm uninstall: its pre-delete hook leaves the team service InstallRemoved (not the last green status) and unclaimed; the CRD stays, the release objects go', async () => {
  const uninstallAt = Date.now();
  const r = await helm(['uninstall', RELEASE, '-n', NS, '--wait', '--timeout', '180s']);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  installedNs = undefined;
  console.log(`real cluster install: helm uninstall (with its pre-delete hook) took ${((Date.now() - uninstallAt) / 1000).toFixed(1)} s`);
  await pollUntil(
    'the release objects, the hook Job and the Lease to be gone',
    120_000,
    async () =>
      (await kubectl(['get', 'deployments,statefulsets,services,configmaps,secrets,pods,jobs,leases', '-n', NS, '-o', 'name'])).split('\n').filter((n) => n && n !== 'configmap/kube-root-ca.crt')
        .length === 0,
    { intervalMs: 1000 },
  );
  expect(await kubectl(['get', 'crd', 'monitoredservices.vigil.dev', '-o', 'name'])).toContain('monitoredservices.vigil.dev');
  // The hook wrote it before the operator went, and nothing overwrote it: sampled for 20 s.
  const removed = { install: undefined, ready: { status: 'False', reason: INSTALL_REMOVED_REASON }, configApplied: { status: 'False', reason: INSTALL_REMOVED_REASON } };
  const view = (st: TeamStatus) => {
    const c = (type: string) => st.conditions?.find((x) => x.type === type);
    return { install: st.install, ready: { status: c('Ready')?.status, reason: c('Ready')?.reason }, configApplied: { status: c('ConfigApplied')?.status, reason: c('ConfigApplied')?.reason } };
  };
  for (let i = 0; i < 20; i++) {
    expect(view(await teamStatus())).toEqual(removed);
    await sleep(1000);
  }
  expect((await teamStatus()).conditions?.find((c) => c.type === 'Ready')?.message).toContain(`install in namespace ${NS} was removed`);
  await kubectl(['delete', 'namespace', NS, '--wait=true', '--timeout=120s'], { timeoutMs: 150_000 });
}, 400_000);

test("helm install into another namespace takes the team's service over, scrapes it and pages its owner again, once", async () => {
  await kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS2, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } }),
  });
  const installAt = Date.now();
  const install = await helm(['install', RELEASE, CHART, '-n', NS2, '-f', join(dir, 'values.yaml'), '--wait', '--timeout', '300s']);
  installedNs = NS2;
  expect({ code: install.code, stderr: install.stderr }).toEqual({ code: 0, stderr: '' });
  const installedAt = Date.now();
  // The removed install released its claim (its hook): the new operator takes it at its first reconcile.
  await pollUntil(`${TEAM_NS}/${TEAM_APP} claimed by ${NS2}`, 60_000, async () => (await teamStatus()).install?.namespace === NS2, { intervalMs: 500 });
  console.log(`real cluster install: helm install took ${((installedAt - installAt) / 1000).toFixed(1)} s; the takeover came ${((Date.now() - installedAt) / 1000).toFixed(1)} s after it returned`);
  expect(teamReady(await teamStatus())).not.toBe('True');

  // The new Alertmanagers have no notification log of the old install: the outage pages the owner again.
  const firing = await waitForAlertEmail(mail, { state: 'firing', namespace: TEAM_NS, name: TEAM_APP, since: installAt, timeoutMs: 240_000 });
  console.log(`real cluster install: FIRING again ${firing.elapsedS.toFixed(1)} s after helm install began`);

  // Scraped by the new install: the target back, Ready with a healthy target.
  await kubectl(['scale', 'deployment', TEAM_APP, '-n', TEAM_NS, '--replicas=1']);
  await pollUntil(
    `${TEAM_NS}/${TEAM_APP} Ready under ${NS2}`,
    180_000,
    async () => {
      const st = await teamStatus();
      return st.install?.namespace === NS2 && teamReady(st) === 'True' && (st.healthyTargets ?? 0) >= 1;
    },
    { intervalMs: 1000 },
  );
  // Once: the second replica, had it missed the first one's notification log entry, would send after its peer timeout.
  const quietUntil = Date.parse(firing.mail.Created) + (PEER_TIMEOUT_S + 30) * 1000;
  if (Date.now() < quietUntil) await sleep(quietUntil - Date.now());
  expect(await teamFiring(installAt)).toEqual([{ created: firing.mail.Created, to: [TEAM_OWNER] }]);

  const r = await helm(['uninstall', RELEASE, '-n', NS2, '--wait', '--timeout', '180s']);
  expect(r.code).toBe(0);
  installedNs = undefined;
  await kubectl(['delete', 'namespace', NS2, TEAM_NS, '--wait=true', '--timeout=120s'], { timeoutMs: 150_000 });
}, 900_000);
