// Prometheus shards on the real single-node Kubernetes (hack/node/cluster.sh), issue 23's Done-when: the chart with
// prometheus.shards=2, prometheus.replicas=2 and thanos.enabled (4 Prometheus pods, each with its sync sidecar and a
// Thanos sidecar), services in three namespaces spread over both shards (chosen with the operator's own
// shardOfNamespace); an outage of a service on each shard emails its owners exactly once; Thanos Query answers `up`
// for every service's target, once with deduplication and once per replica without; the restore sends one RESOLVED
// each. Then a reshard 2 -> 3 (`helm upgrade --set prometheus.shards=3`) under a running outage of a service whose
// namespace moves to the new shard: no lost, duplicated or fake (RESOLVED while still down) email.
// The kind values (demo timings, one Alertmanager, the mail catcher) with small resources: 6 Prometheus pods at the end.
// Needs root; the node is one per machine: run it under `flock /tmp/vigil-node.lock`.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { REPO_ROOT } from '../../hack/local-stack/cluster.js';
import { MailpitClient, isAlertEmailFor, waitForAlertEmail, type AlertState } from '../../hack/local-stack/mailpit.js';
import { getJson, pollUntil, sleep } from '../../hack/local-stack/net.js';
import { durationSeconds } from '../../hack/local-stack/demo.js';
import { KIND_VALUES, mergeValues } from '../../cdk8s/values.js';
import { shardOfNamespace } from '../../operator/assemble/shards.js';
import { MAIL_URL, NODE_DIR, NODE_IP, clusterDown, clusterUp, helm, kubectl } from './node.js';
import { TARGET_IMAGE, targetObjects } from './target.js';

const NS = 'vigil-shards';
const RELEASE = 'vigil';
const CHART = join(REPO_ROOT, 'charts', 'vigil');
const LOG = join(NODE_DIR, 'logs', 'shards-test.log');
const THANOS_NODE_PORT = 30902;
const THANOS_URL = `http://${NODE_IP}:${THANOS_NODE_PORT}`;
const APP = 'api';
/** downAlert.for of every service: short, so that each step's emails come within a minute. */
const DOWN_FOR = '10s';
/**
 * Prometheus's --rules.alert.resend-delay here. A firing alert is sent with endsAt = 4 x max(evaluation interval,
 * resend delay): that long after a shard stops sending it (its namespace moved away), Alertmanager resolves it unless
 * another shard sends it meanwhile. At the default 1m that grace (4 min) hides any gap shorter than it: the moved
 * alert, pending again on the new shard, fires there within it whenever its `for` is short, handover or not. At 5s
 * the grace (20 s) is shorter than the new shard needs to fire the alert from scratch (about 40 s on the node: its
 * first evaluations plus `for: 10s`), as a `for` of minutes would be at the default: only a handover (the old shard
 * keeps the namespace until the new one fires it) avoids the fake RESOLVED.
 */
const RESEND_DELAY_S = 5;
const EVALUATION_INTERVAL_S = durationSeconds(KIND_VALUES.evaluationInterval ?? '');
const ALERT_VALID_S = 4 * Math.max(EVALUATION_INTERVAL_S, RESEND_DELAY_S);

const small = (cpu: string, memory: string, memoryLimit: string) => ({ requests: { cpu, memory }, limits: { cpu: '500m', memory: memoryLimit } });
const VALUES = mergeValues(KIND_VALUES, {
  // The release's own demo target would be one more service on some shard; the three teams are the test.
  demoTarget: { enabled: false },
  prometheus: { shards: 2, replicas: 2, resources: small('20m', '64Mi', '512Mi'), extraArgs: [`--rules.alert.resend-delay=${RESEND_DELAY_S}s`] },
  sync: { resources: small('5m', '48Mi', '128Mi') },
  thanos: { enabled: true, sidecarResources: small('5m', '32Mi', '128Mi'), query: { service: { type: 'NodePort', nodePort: THANOS_NODE_PORT }, resources: small('10m', '32Mi', '256Mi') } },
});

/**
 * Three namespaces (the first of team-0, team-1, ... that fit, a pure function of the names): `stays0` on shard 0 with 2
 * and with 3 shards, `stays1` on shard 1 with both, `moves` on shard 0 or 1 with 2 shards and on shard 2 with 3.
 */
function chooseNamespaces(): { stays0: string; stays1: string; moves: string } {
  const candidates = Array.from({ length: 200 }, (_, i) => `team-${i}`);
  const pick = (ok: (ns: string) => boolean) => {
    const ns = candidates.find(ok);
    if (!ns) throw new Error('no candidate namespace fits');
    return ns;
  };
  return {
    stays0: pick((ns) => shardOfNamespace(ns, 2) === 0 && shardOfNamespace(ns, 3) === 0),
    stays1: pick((ns) => shardOfNamespace(ns, 2) === 1 && shardOfNamespace(ns, 3) === 1),
    moves: pick((ns) => shardOfNamespace(ns, 3) === 2),
  };
}
const TEAMS = chooseNamespaces();
const ALL_TEAMS = [TEAMS.stays0, TEAMS.stays1, TEAMS.moves];
const owner = (ns: string) => `${ns}-oncall@example.com`;

const mail = new MailpitClient(MAIL_URL);
let dir: string;
let installed = false;

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('the real-node test needs root (network namespace, containerd, kubelet)');
  const upAt = Date.now();
  await clusterUp(LOG, 40 * 60_000);
  console.log(`shards: cluster up in ${((Date.now() - upAt) / 1000).toFixed(1)} s; namespaces ${JSON.stringify(TEAMS)}`);
  dir = await mkdtemp(join(tmpdir(), 'vigil-shards-'));
  await writeFile(join(dir, 'values.yaml'), stringify(VALUES));
}, 45 * 60_000);

afterAll(async () => {
  try {
    if (installed && process.env.VIGIL_KEEP_NODE !== '1') await helm(['uninstall', RELEASE, '-n', NS, '--wait', '--timeout', '120s']);
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
    if (process.env.VIGIL_KEEP_NODE !== '1') {
      const downAt = Date.now();
      await clusterDown(LOG);
      console.log(`shards: cluster down in ${((Date.now() - downAt) / 1000).toFixed(1)} s`);
    }
  }
}, 300_000);

interface Status {
  healthyTargets?: number;
  conditions?: { type: string; status: string; reason: string; message?: string }[];
}
async function status(ns: string): Promise<Status> {
  const out = await kubectl(['get', 'monitoredservice', APP, '-n', ns, '-o', 'jsonpath={.status}']);
  return (out.trim() ? JSON.parse(out) : {}) as Status;
}
const condition = (st: Status, type: string) => st.conditions?.find((c) => c.type === type);

/** Emails of `state` about ns/api that arrived at or after `since` (ms), with their recipients. */
async function emails(state: AlertState, ns: string, since: number): Promise<{ created: string; to: string[] }[]> {
  return (await mail.list())
    .filter((m) => Date.parse(m.Created) >= since && isAlertEmailFor(m.Subject, state, ns, APP) && m.Subject.split(' ').includes('ServiceDown'))
    .map((m) => ({ created: m.Created, to: (m.To ?? []).map((a) => a.Address) }));
}

/** The team's target, and its MonitoredService: scraped every 5s, down after DOWN_FOR, paged to its owner only. */
function teamObjects(ns: string): object[] {
  return [
    ...targetObjects({ namespace: ns, app: APP, image: TARGET_IMAGE, namespaceLabels: { 'pod-security.kubernetes.io/enforce': 'restricted' } }),
    {
      apiVersion: 'vigil.dev/v1alpha1',
      kind: 'MonitoredService',
      metadata: { name: APP, namespace: ns },
      spec: {
        selector: { matchLabels: { 'app.kubernetes.io/name': APP } },
        endpoints: [{ port: 'metrics', interval: '5s' }],
        downAlert: { for: DOWN_FOR },
        notify: { email: { to: [owner(ns)] } },
      },
    },
  ];
}

async function waitReady(ns: string, timeoutMs = 240_000): Promise<void> {
  await pollUntil(
    `${ns}/${APP} Ready with a healthy target`,
    timeoutMs,
    async () => {
      const st = await status(ns);
      return (st.healthyTargets ?? 0) >= 1 && condition(st, 'Ready')?.status === 'True';
    },
    { intervalMs: 1000 },
  );
}

const scale = (ns: string, replicas: number) => kubectl(['scale', 'deployment', APP, '-n', ns, `--replicas=${replicas}`]);

/** The Prometheus pods of shard `shard` (shard 0: vigil-prometheus-<n>; shard i: vigil-prometheus-shard-<i>-<n>). */
async function shardPods(shard: number): Promise<string[]> {
  const selector = shard === 0 ? 'app.kubernetes.io/name=vigil-prometheus' : `app.kubernetes.io/name=vigil-prometheus-shard,vigil.dev/prometheus-shard=${shard}`;
  return (await kubectl(['get', 'pods', '-n', NS, '-l', selector, '-o', 'jsonpath={.items[*].metadata.name}'])).split(/\s+/).filter(Boolean).sort();
}

/** The namespaces of the active targets of one Prometheus pod's MonitoredService jobs (through the API server's pod proxy). */
async function targetNamespaces(pod: string): Promise<string[]> {
  const body = JSON.parse(await kubectl(['get', '--raw', `/api/v1/namespaces/${NS}/pods/${pod}:9090/proxy/api/v1/targets?state=active`])) as {
    data: { activeTargets: { labels: Record<string, string> }[] };
  };
  return [...new Set(body.data.activeTargets.map((t) => t.labels.namespace).filter((n): n is string => n?.startsWith('team-') ?? false))].sort();
}

/** The namespaces whose rules one Prometheus pod evaluates (vigil_namespace of its rules), through the pod proxy. */
async function ruleNamespaces(pod: string): Promise<string[]> {
  const body = JSON.parse(await kubectl(['get', '--raw', `/api/v1/namespaces/${NS}/pods/${pod}:9090/proxy/api/v1/rules`])) as {
    data: { groups: { rules: { labels?: Record<string, string> }[] }[] };
  };
  return [...new Set(body.data.groups.flatMap((g) => g.rules.map((r) => r.labels?.vigil_namespace)).filter((n): n is string => n?.startsWith('team-') ?? false))].sort();
}

/** The state of ns/api's ServiceDown alert in one Prometheus pod: pending, firing or none. */
async function serviceDownState(pod: string, ns: string): Promise<string> {
  const body = JSON.parse(await kubectl(['get', '--raw', `/api/v1/namespaces/${NS}/pods/${pod}:9090/proxy/api/v1/alerts`])) as {
    data: { alerts: { labels: Record<string, string>; state: string }[] };
  };
  return body.data.alerts.find((a) => a.labels.alertname === 'ServiceDown' && a.labels.vigil_namespace === ns)?.state ?? 'none';
}

/** Thanos Query's `up` series of a namespace's targets, deduplicated over the replicas or not. */
async function thanosUp(ns: string, dedup: boolean): Promise<Record<string, string>[]> {
  const q = new URLSearchParams({ query: `up{namespace="${ns}"}`, dedup: String(dedup) });
  const body = await getJson<{ status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } }>(`${THANOS_URL}/api/v1/query?${q}`);
  return body.data.result.map((r) => ({ ...r.metric, value: r.value[1] }));
}

test('helm install with prometheus.shards=2, prometheus.replicas=2, thanos.enabled: every pod Ready, each shard loads only its namespaces, every service Ready', async () => {
  await kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } }),
  });
  const installAt = Date.now();
  const install = await helm(['install', RELEASE, CHART, '-n', NS, '-f', join(dir, 'values.yaml'), '--wait', '--timeout', '400s'], 450_000);
  installed = true;
  expect({ code: install.code, stderr: install.stderr }).toEqual({ code: 0, stderr: '' });
  await kubectl(['wait', '-n', NS, '--for=condition=Ready', 'pod', '--all', '--timeout=240s'], { timeoutMs: 260_000 });
  console.log(`shards: helm install and every pod Ready in ${((Date.now() - installAt) / 1000).toFixed(1)} s`);
  expect(await shardPods(0)).toEqual(['vigil-prometheus-0', 'vigil-prometheus-1']);
  expect(await shardPods(1)).toEqual(['vigil-prometheus-shard-1-0', 'vigil-prometheus-shard-1-1']);

  await kubectl(['apply', '-f', '-'], {
    input: ALL_TEAMS.flatMap(teamObjects)
      .map((o) => JSON.stringify(o))
      .join('\n'),
  });
  const appliedAt = Date.now();
  for (const ns of ALL_TEAMS) await waitReady(ns);
  console.log(`shards: the three services Ready ${((Date.now() - appliedAt) / 1000).toFixed(1)} s after they were applied`);
  // ConfigApplied names the shard each service is on.
  for (const ns of ALL_TEAMS) expect({ ns, message: condition(await status(ns), 'ConfigApplied')?.message }).toEqual({ ns, message: expect.stringContaining(`shard ${shardOfNamespace(ns, 2)}`) });
  // Each replica of each shard scrapes exactly its shard's namespaces: whole namespaces, on one shard.
  for (const shard of [0, 1]) {
    const expected = ALL_TEAMS.filter((ns) => shardOfNamespace(ns, 2) === shard).sort();
    expect(expected.length).toBeGreaterThan(0);
    for (const pod of await shardPods(shard)) {
      await pollUntil(`${pod} to scrape ${expected.join(', ')}`, 60_000, async () => JSON.stringify(await targetNamespaces(pod)) === JSON.stringify(expected), { intervalMs: 2000 });
    }
  }
}, 900_000);

test("Thanos Query answers `up` for every service's target: once deduplicated, once per replica (2) without", async () => {
  for (const ns of ALL_TEAMS) {
    const deduplicated = await pollUntil(`Thanos Query to answer up{namespace="${ns}"}`, 120_000, async () => {
      const r = await thanosUp(ns, true);
      return r.length > 0 && r;
    });
    expect(deduplicated).toEqual([expect.objectContaining({ namespace: ns, value: '1' })]);
    expect(deduplicated[0]).not.toHaveProperty('prometheus_replica');
    // Without deduplication the replicas of its shard, told apart by prometheus_replica (their pod names).
    const replicas = await pollUntil(`both replicas' up{namespace="${ns}"}`, 60_000, async () => {
      const r = await thanosUp(ns, false);
      return r.length === 2 && r;
    });
    expect(replicas.map((s) => s.prometheus_replica).sort()).toEqual(await shardPods(shardOfNamespace(ns, 2)));
  }
}, 300_000);

test('an outage of a service on each shard emails its owners exactly once; the restore, one RESOLVED each', async () => {
  const down = [TEAMS.stays0, TEAMS.stays1];
  expect(down.map((ns) => shardOfNamespace(ns, 2)).sort()).toEqual([0, 1]);
  const downAt = Date.now();
  for (const ns of down) await scale(ns, 0);
  const firing = await Promise.all(down.map((ns) => waitForAlertEmail(mail, { state: 'firing', namespace: ns, name: APP, since: downAt, timeoutMs: 180_000 })));
  console.log(`shards: FIRING emails ${firing.map((f) => f.elapsedS.toFixed(1)).join(' s, ')} s after the outages began`);
  // Two replicas per shard send each alert; Alertmanager deduplicates. 30 s more for a late duplicate.
  await sleep(30_000);
  for (const [i, ns] of down.entries()) expect({ ns, firing: await emails('firing', ns, downAt) }).toEqual({ ns, firing: [{ created: firing[i]?.mail.Created, to: [owner(ns)] }] });
  expect(await emails('firing', TEAMS.moves, downAt)).toEqual([]);

  const upAt = Date.now();
  for (const ns of down) await scale(ns, 1);
  const resolved = await Promise.all(down.map((ns) => waitForAlertEmail(mail, { state: 'resolved', namespace: ns, name: APP, since: upAt, timeoutMs: 180_000 })));
  console.log(`shards: RESOLVED emails ${resolved.map((r) => r.elapsedS.toFixed(1)).join(' s, ')} s after the restore`);
  await sleep(30_000);
  for (const [i, ns] of down.entries()) {
    expect({ ns, resolved: await emails('resolved', ns, downAt) }).toEqual({ ns, resolved: [{ created: resolved[i]?.mail.Created, to: [owner(ns)] }] });
    expect({ ns, firing: (await emails('firing', ns, downAt)).length }).toEqual({ ns, firing: 1 });
  }
  for (const ns of down) await waitReady(ns);
}, 600_000);

// Needs the operator's handover of a moving namespace (rendered on the old and the new shard until the new one has
// evaluated it long enough, docs/contract.md "Shards"): without it the moved alert starts pending again on the new
// shard while the old shard's copy expires in Alertmanager.
test('reshard 2 -> 3 under a running outage of a service whose namespace moves to the new shard: no lost, duplicated or fake email', async () => {
  const ns = TEAMS.moves;
  expect([shardOfNamespace(ns, 2), shardOfNamespace(ns, 3)]).toEqual([shardOfNamespace(ns, 2), 2]);
  const downAt = Date.now();
  await scale(ns, 0);
  const firing = await waitForAlertEmail(mail, { state: 'firing', namespace: ns, name: APP, since: downAt, timeoutMs: 180_000 });
  console.log(`shards: ${ns} FIRING ${firing.elapsedS.toFixed(1)} s after its outage began; resharding to 3`);

  const reshardAt = Date.now();
  const up = await helm(['upgrade', RELEASE, CHART, '-n', NS, '-f', join(dir, 'values.yaml'), '--set', 'prometheus.shards=3', '--wait', '--timeout', '400s'], 450_000);
  expect({ code: up.code, stderr: up.stderr }).toEqual({ code: 0, stderr: '' });
  expect(await shardPods(2)).toEqual(['vigil-prometheus-shard-2-0', 'vigil-prometheus-shard-2-1']);
  // The namespace runs on shard 2 now: its status says so, and the new shard's replicas evaluate its rules (it has no
  // target to scrape: it is down).
  await pollUntil(`${ns} to be applied on shard 2`, 180_000, async () => condition(await status(ns), 'ConfigApplied')?.message?.includes('shard 2') ?? false, { intervalMs: 1000 });
  for (const pod of await shardPods(2)) await pollUntil(`${pod} to evaluate ${ns}'s rules`, 120_000, async () => (await ruleNamespaces(pod)).includes(ns), { intervalMs: 2000 });
  const movedAt = Date.now();
  console.log(`shards: helm upgrade to 3 shards and ${ns} on shard 2 took ${((movedAt - reshardAt) / 1000).toFixed(1)} s`);

  // Still down, watched until the old shard has dropped the namespace (the handover ended) and then beyond the time
  // the alert it no longer sends stays valid in Alertmanager, and at least 90 s past the new shard's first firing.
  const minimumUntil = Date.now() + (ALERT_VALID_S + 90) * 1000;
  const giveUpAt = Date.now() + 600_000;
  let droppedAt: number | undefined;
  let lastStates = '';
  const oldPod = shardOfNamespace(ns, 2) === 0 ? 'vigil-prometheus-0' : 'vigil-prometheus-shard-1-0';
  while (Date.now() < Math.max(minimumUntil, (droppedAt ?? giveUpAt) + (ALERT_VALID_S + 30) * 1000) && Date.now() < giveUpAt) {
    // What each shard says of the alert (the handover shows as firing on both for a while).
    const [oldState, newState] = await Promise.all([oldPod, 'vigil-prometheus-shard-2-0'].map((pod) => serviceDownState(pod, ns).catch((e: Error) => e.message)));
    const states = `${oldPod}: ${oldState}, vigil-prometheus-shard-2-0: ${newState}`;
    if (states !== lastStates) console.log(`shards: ${((Date.now() - movedAt) / 1000).toFixed(0)} s after the move, ServiceDown ${states}`);
    lastStates = states;
    if (oldState === 'none' && droppedAt === undefined) droppedAt = Date.now();
    expect({ ns, fakeResolved: await emails('resolved', ns, downAt) }).toEqual({ ns, fakeResolved: [] });
    expect({ ns, firing: await emails('firing', ns, downAt) }).toEqual({ ns, firing: [{ created: firing.mail.Created, to: [owner(ns)] }] });
    await sleep(10_000);
  }
  // The old shard let the namespace go, and the watch outlasted its last alert's validity.
  expect({ ns, oldShardDropped: droppedAt !== undefined }).toEqual({ ns, oldShardDropped: true });
  expect(Date.now() - droppedAt!).toBeGreaterThanOrEqual(ALERT_VALID_S * 1000);
  // The services that did not move were not disturbed.
  for (const other of [TEAMS.stays0, TEAMS.stays1])
    expect({ other, mails: [...(await emails('firing', other, reshardAt)), ...(await emails('resolved', other, reshardAt))] }).toEqual({ other, mails: [] });

  const upAt = Date.now();
  await scale(ns, 1);
  const resolved = await waitForAlertEmail(mail, { state: 'resolved', namespace: ns, name: APP, since: upAt, timeoutMs: 180_000 });
  console.log(`shards: ${ns} RESOLVED ${resolved.elapsedS.toFixed(1)} s after the restore`);
  await sleep(30_000);
  expect(await emails('resolved', ns, downAt)).toEqual([{ created: resolved.mail.Created, to: [owner(ns)] }]);
  expect((await emails('firing', ns, downAt)).length).toBe(1);
}, 1_200_000);
