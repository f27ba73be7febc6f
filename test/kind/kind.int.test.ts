// The user's kind path, unmodified, on this machine: `make kind-up` against a kind node image built here
// (hack/kind/node-image.sh) with the Docker engine and the cluster inside a network namespace of the test's own
// (hack/kind/env.sh). Every pod Ready → helm test → `make demo-outage` → FIRING email through stunnel →
// `make demo-restore` → RESOLVED → a team's Service, Deployment and MonitoredService → Ready → scaled to 0 → email
// to its own recipients only → `make kind-down` and the environment's down leave nothing on the host.
// Needs root (network namespace, dockerd). The first run builds the node image and the chart's images (cached in
// ~/.cache/vigil); the environment is torn down in afterAll, also when a step fails.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../../hack/local-stack/cluster.js';
import { alertBoundSeconds } from '../../hack/local-stack/demo.js';
import { isAlertEmailFor, waitForAlertEmail, type AlertState, type MailSummary } from '../../hack/local-stack/mailpit.js';
import { pollUntil } from '../../hack/local-stack/net.js';
import { targetObjects, TARGET_IMAGE } from '../node/target.js';
import {
  ALERTMANAGER_URL,
  DOCKER_RUN_DIR,
  KIND_DIR,
  MAIL_URL,
  NETNS_PATH,
  NamespacedMailpit,
  PROMETHEUS_URL,
  docker,
  envDown,
  envUp,
  helm,
  inNamespace,
  kindEnv,
  kubectl,
  machineDiff,
  machineSnapshot,
  make,
  netnsInode,
  nsGetJson,
  processesOf,
  stillRunning,
  type MachineSnapshot,
} from './kind.js';

const NS = 'vigil-system';
const RELEASE = 'vigil';
const DEMO = 'vigil-demo-target';
const LOG = join(KIND_DIR, 'logs', 'kind-test.log');
const kindValues = parse(readFileSync(join(REPO_ROOT, 'charts', 'vigil', 'values-kind.yaml'), 'utf8')) as {
  scrapeInterval: string;
  evaluationInterval: string;
  smtp: { defaultRecipients: string[] };
};
// The demo MonitoredService's `for: 5s` (charts/vigil/templates/vigil-demo-target-monitoredservice.yaml).
const BOUND_S = alertBoundSeconds(kindValues.scrapeInterval, kindValues.evaluationInterval, '5s');
// Beyond the pipeline bound: the endpoint must leave the EndpointSlice and Prometheus's discovery must see it.
const EMAIL_TIMEOUT_MS = (BOUND_S + 90) * 1000;

const mail = new NamespacedMailpit(MAIL_URL);
let before: MachineSnapshot | undefined;
let envStarted = false;
let clusterDown = false;
let envIsDown = false;

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('the kind test needs root (network namespace, dockerd)');
  before = await machineSnapshot();
  envStarted = true;
  // Cold: builds the node image and the chart's images (debootstrap, Go builds, npm ci in docker) first.
  await envUp(LOG, 60 * 60_000);
}, 65 * 60_000);

afterAll(async () => {
  if (process.env.VIGIL_KEEP_KIND === '1' || !envStarted) return;
  try {
    if (!clusterDown) await make('kind-down', LOG, 300_000).catch((err: Error) => console.error(err.message));
  } finally {
    if (!envIsDown) await envDown(LOG);
  }
}, 600_000);

interface Condition {
  type: string;
  status: string;
}
interface PodView {
  metadata: { name: string; namespace: string };
  status: { phase: string; conditions?: Condition[] };
}

async function pods(args: string[]): Promise<PodView[]> {
  return (JSON.parse(await kubectl(['get', 'pods', ...args, '-o', 'json'])) as { items: PodView[] }).items;
}
const ready = (p: PodView) => p.status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';

async function waitReady(ns: string, name: string): Promise<void> {
  await pollUntil(
    `MonitoredService ${ns}/${name} Ready with a healthy target`,
    240_000,
    async () => {
      const out = await kubectl(['get', 'monitoredservice', name, '-n', ns, '-o', 'jsonpath={.status}']);
      const st = (out.trim() ? JSON.parse(out) : {}) as { healthyTargets?: number; conditions?: Condition[] };
      return (st.healthyTargets ?? 0) >= 1 && st.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    },
    { intervalMs: 2000 },
  );
}

async function noActiveAlerts(ns: string, name: string): Promise<void> {
  await pollUntil(
    `no active alert for ${ns}/${name}`,
    180_000,
    async () => {
      const alerts = await nsGetJson<{ labels: Record<string, string> }[]>(`${ALERTMANAGER_URL}/api/v2/alerts?active=true`);
      return !alerts.some((a) => a.labels.vigil_namespace === ns && a.labels.vigil_monitoredservice === name);
    },
    { intervalMs: 2000 },
  );
}

/** Prometheus's active targets of a MonitoredService that are up. */
async function upTargets(ns: string, name: string): Promise<number> {
  const r = await nsGetJson<{ data: { activeTargets: { scrapePool: string; health: string }[] } }>(`${PROMETHEUS_URL}/api/v1/targets?state=active`);
  return r.data.activeTargets.filter((t) => t.health === 'up' && t.scrapePool.startsWith(`vigil/${ns}/${name}/`)).length;
}

/** "connected remote server" lines of the stunnel sidecar: one per SMTP connection it forwarded to the catcher. */
async function stunnelForwarded(): Promise<number> {
  const log = await kubectl(['logs', '-n', NS, 'deployment/vigil-mail-catcher', '-c', 'stunnel']);
  return log.split('\n').filter((l) => /Service \[smtps\] connected remote server from /.test(l)).length;
}

async function emailsAbout(state: AlertState, ns: string, name: string): Promise<MailSummary[]> {
  return (await mail.list()).filter((m) => isAlertEmailFor(m.Subject, state, ns, name));
}

const recipients = (m: MailSummary) => (m.To ?? []).map((a) => a.Address).sort();

test(
  'make kind-up: the cluster comes up with every pod Ready',
  async () => {
    const started = Date.now();
    const out = await make('kind-up', LOG, 30 * 60_000);
    console.log(`kind: make kind-up took ${((Date.now() - started) / 1000).toFixed(0)} s`);
    expect(out).toContain('Vigil is up (kind cluster "vigil", namespace vigil-system)');
    expect(out).toMatch(/vigil-demo-target\s+.*True/);
    // Every pod of the cluster, the control plane's and CoreDNS included.
    const all = await pollUntil('every pod Running and Ready', 300_000, async () => {
      const now = await pods(['-A']);
      return now.every((p) => p.status.phase === 'Running' && ready(p)) && now;
    });
    const names = all.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
    for (const prefix of [
      'kube-system/etcd-',
      'kube-system/kube-apiserver-',
      'kube-system/coredns-',
      'kube-system/kube-proxy-',
      `${NS}/vigil-operator-`,
      `${NS}/vigil-prometheus-`,
      `${NS}/vigil-alertmanager-`,
      `${NS}/vigil-mail-catcher-`,
    ]) {
      expect(names.filter((n) => n.startsWith(prefix)).length).toBeGreaterThanOrEqual(1);
    }
    expect(names).toContain(`${NS}/${DEMO}`);
    // kind's node is the image built here, not kindest/node.
    const nodeImage = await docker(['inspect', '-f', '{{.Config.Image}}', 'vigil-control-plane']);
    expect(nodeImage.trim()).toMatch(/^vigil\.local\/kind-node:/);
  },
  35 * 60_000,
);

test('helm test passes', async () => {
  const t = await helm(['test', RELEASE, '-n', NS, '--logs', '--timeout', '300s'], 330_000);
  expect(t.stderr).toBe('');
  expect(t.code).toBe(0);
  expect(t.stdout).toMatch(/TEST SUITE:\s+vigil-test-ready[\s\S]*Phase:\s+Succeeded/);
}, 360_000);

test('make demo-outage: the FIRING email through stunnel; make demo-restore: the RESOLVED email', async () => {
  await noActiveAlerts(NS, DEMO);
  await mail.deleteAll();
  const forwarded = await stunnelForwarded();
  const deletedAt = Date.now();
  const out = await make('demo-outage', LOG, EMAIL_TIMEOUT_MS + 60_000, { TIMEOUT: String(EMAIL_TIMEOUT_MS / 1000) });
  expect(out).toMatch(/email after \d+s: \[FIRING:1\] ServiceDown vigil-system\/vigil-demo-target/);
  const firing = await waitForAlertEmail(mail, { state: 'firing', namespace: NS, name: DEMO, since: deletedAt, timeoutMs: EMAIL_TIMEOUT_MS });
  console.log(`kind: delete pod → FIRING email after ${firing.elapsedS.toFixed(1)} s (pipeline bound ${BOUND_S} s): ${firing.mail.Subject}`);
  expect(recipients(firing.mail)).toEqual([...kindValues.smtp.defaultRecipients].sort());
  // Mailpit's SMTP listens on the pod's 127.0.0.1 only: the email came through the stunnel sidecar.
  expect(((await mail.headers(firing.mail.ID)).Received ?? []).join('\n')).toContain('[127.0.0.1]');
  expect(await stunnelForwarded()).toBeGreaterThan(forwarded);

  const restoredAt = Date.now();
  expect(await make('demo-restore', LOG, EMAIL_TIMEOUT_MS + 180_000, { TIMEOUT: String(EMAIL_TIMEOUT_MS / 1000) })).toMatch(
    /email after \d+s: \[RESOLVED\] ServiceDown vigil-system\/vigil-demo-target/,
  );
  const resolved = await waitForAlertEmail(mail, { state: 'resolved', namespace: NS, name: DEMO, since: restoredAt, timeoutMs: EMAIL_TIMEOUT_MS });
  console.log(`kind: demo-restore → RESOLVED email after ${resolved.elapsedS.toFixed(1)} s`);
  expect(resolved.mail.Subject).toContain('ServiceDown');
  expect(await emailsAbout('firing', NS, DEMO)).toHaveLength(1);
}, 900_000);

const SHOP = 'shop';
const SHOP_RECIPIENTS = ['shop-oncall@example.com'];

test("a team's Service, Deployment and MonitoredService: Ready; scaled to 0: ServiceDown to its own recipients only", async () => {
  // The example's MonitoredService (examples/checkout.yaml) at the demo's timings, over the demo target's image.
  const example = parse(readFileSync(join(REPO_ROOT, 'examples', 'checkout.yaml'), 'utf8')) as {
    metadata: { name: string; namespace: string };
    spec: { endpoints: { interval: string; scrapeTimeout: string }[]; downAlert: { for: string }; rules?: unknown; notify: { email: { to: string[] } } };
  };
  expect(example.metadata).toEqual({ name: 'checkout', namespace: SHOP });
  expect(example.spec.notify.email.to).toEqual(SHOP_RECIPIENTS);
  example.spec.endpoints = example.spec.endpoints.map((e) => ({ ...e, interval: '5s', scrapeTimeout: '4s' }));
  example.spec.downAlert.for = '5s';
  const objects = [...targetObjects({ namespace: SHOP, app: 'checkout', image: TARGET_IMAGE }), example];
  await kubectl(['apply', '-f', '-'], { input: objects.map((o) => JSON.stringify(o)).join('\n') });
  try {
    await waitReady(SHOP, 'checkout');
    expect(await upTargets(SHOP, 'checkout')).toBe(1);

    await noActiveAlerts(SHOP, 'checkout');
    await mail.deleteAll();
    const scaledAt = Date.now();
    await kubectl(['scale', 'deployment/checkout', '-n', SHOP, '--replicas=0']);
    const firing = await waitForAlertEmail(mail, { state: 'firing', namespace: SHOP, name: 'checkout', since: scaledAt, timeoutMs: EMAIL_TIMEOUT_MS });
    console.log(`kind: scale to 0 → FIRING email after ${firing.elapsedS.toFixed(1)} s: ${firing.mail.Subject}`);
    expect(firing.mail.Subject).toContain('ServiceDown');
    expect(recipients(firing.mail)).toEqual(SHOP_RECIPIENTS);
    // nobody else was told: every email since the scale-down is to the shop's recipients
    for (const m of await mail.list()) expect(recipients(m)).toEqual(SHOP_RECIPIENTS);
  } finally {
    await kubectl(['delete', 'namespace', SHOP, '--wait=true', '--timeout=180s'], { timeoutMs: 200_000 });
  }
}, 900_000);

test('make kind-down and the environment down leave nothing on the host', async () => {
  const inode = netnsInode();
  const ids = (await docker(['ps', '-aq', '--no-trunc'])).split('\n').filter(Boolean);
  expect(ids.length).toBeGreaterThanOrEqual(1);
  const dockerdPid = Number(readFileSync(join(DOCKER_RUN_DIR, 'dockerd.pid'), 'utf8'));
  const ours = processesOf({ netnsInode: inode, containerIds: ids });
  expect(ours.length).toBeGreaterThan(2); // the engine, its containerd, the node's systemd, kubelet, ...

  await make('kind-down', LOG, 300_000);
  clusterDown = true;
  expect(await docker(['ps', '-aq'])).toBe('');
  await envDown(LOG);
  envIsDown = true;

  expect(stillRunning(ours)).toEqual([]);
  expect(processesOf({ containerIds: ids })).toEqual([]);
  expect(() => process.kill(dockerdPid, 0)).toThrow();
  expect(existsSync(NETNS_PATH)).toBe(false);
  expect(existsSync(DOCKER_RUN_DIR)).toBe(false);
  await expectMachineAsBefore();
}, 900_000);

test('after a crash (dockerd and its containerd killed with a kind node running), the environment down leaves nothing', async () => {
  await envUp(LOG, 30 * 60_000);
  envIsDown = false;
  const env = kindEnv();
  const created = await inNamespace(join(REPO_ROOT, 'bin', 'kind'), ['create', 'cluster', '--name', 'vigil-crash', '--image', env.KIND_NODE_IMAGE ?? 'missing', '--wait', '0s'], {
    timeoutMs: 600_000,
  });
  expect(created.stderr).toContain('Starting control-plane');
  expect(created.code).toBe(0);
  const inode = netnsInode();
  const ids = (await docker(['ps', '-aq', '--no-trunc'])).split('\n').filter(Boolean);
  expect(ids).toHaveLength(1);
  // The engine and its containerd die; the node container, its shim and the kubelet inside live on.
  const ours = processesOf({ netnsInode: inode, containerIds: ids });
  const engine = ours.filter((p) => ['dockerd', 'containerd'].includes(p.split(' ')[1] ?? ''));
  expect(engine).toHaveLength(2);
  for (const p of engine) process.kill(Number(p.split(':')[0]), 'SIGKILL');
  await pollUntil('the engine gone', 30_000, async () => stillRunning(engine).length === 0);
  expect(stillRunning(ours).length).toBeGreaterThan(0);

  await envDown(LOG);
  envIsDown = true;
  expect(stillRunning(ours)).toEqual([]);
  expect(processesOf({ containerIds: ids })).toEqual([]);
  expect(existsSync(NETNS_PATH)).toBe(false);
  await expectMachineAsBefore();
}, 1_800_000);

async function expectMachineAsBefore(): Promise<void> {
  if (!before) throw new Error('no snapshot of the machine from before');
  const after = await machineSnapshot();
  if (after.netns.includes('vigil-node') || before.netns.includes('vigil-node')) console.log('kind: the real node ran beside this test; its kubelet sysctls were not compared');
  expect(machineDiff(before, after)).toEqual([]);
}
