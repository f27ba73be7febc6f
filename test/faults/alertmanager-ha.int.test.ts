// Issue #14, "Alertmanager HA duplicates": three clustered Alertmanagers (real processes gossiping
// on loopback ports) behind the local stack's Prometheus, running the config the operator
// generates for the production profile. One outage of the demo target must send exactly one
// FIRING and one RESOLVED email per recipient.
//
// Timings. The production profile's route timings are group_wait 30s, group_interval 5m,
// repeat_interval 4h, and Alertmanager's peer timeout (how long peer N waits, N x timeout, for the
// ones before it to notify and gossip the notification log) defaults to 15s. A duplicate or a
// stale FIRING after the RESOLVED needs a peer that flushes before it has the other peers' log
// entry, i.e. depends on the ratios between those durations. The test divides each of them by 15:
// group_wait 2s, group_interval 20s, repeat_interval 16m, --cluster.peer-timeout=1s, so an outage
// takes about a minute instead of about eight. Gossip itself (--cluster.gossip-interval 200ms,
// push-pull 1m) is left at its defaults, i.e. 15 times slower relative to the other timings than
// in production: if the log reaches the peers in time here, it does there. Only the timings in
// the generated alertmanager.yml are replaced (checked to be the production ones first); routes,
// receivers, templates and SMTP settings are the operator's. The demo profile (group_interval 1s
// < peer timeout) is what the chart refuses with more than one replica (test/deploy/chart.int.test.ts).
//
// Needs root, like the pipeline test: Prometheus runs in a private mount namespace.
import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { startAlertmanager, type Alertmanager } from '../../hack/local-stack/components.js';
import { DEMO_NAME, DEMO_NAMESPACE, demoMonitoredService } from '../../hack/local-stack/demo.js';
import { useStack } from '../../hack/local-stack/fixture.js';
import { isAlertEmailFor, waitForAlertEmail } from '../../hack/local-stack/mailpit.js';
import { freePorts, getJson, pollUntil, sleep } from '../../hack/local-stack/net.js';
import { NOTIFICATION_TIMINGS } from '../../operator/render/alertmanager.js';
import { WATCHDOG_RECEIVER } from '../../operator/render/watchdog.js';
import { addresses } from './helpers.js';

const REPLICAS = 3;
/** Production duration -> the one this test uses (all divided by 15, see above). */
const SCALED: Record<string, string> = { '30s': '2s', '5m': '20s', '4h': '16m' };
const PEER_TIMEOUT = '1s';
const RECIPIENTS = [...(demoMonitoredService().spec.notify?.email?.to ?? [])].sort();

const peers: Alertmanager[] = [];
const log = (m: string) => console.log(`[alertmanager-ha] ${m}`);

/**
 * The operator's alertmanager.yml with every route timing replaced by its scaled value. Throws if
 * a route carries a timing that is not one of the production profile's (the test would no longer
 * test what the profile does).
 */
function scaleRouteTimings(yamlText: string): string {
  const config = parse(yamlText) as { route: Record<string, unknown> };
  const visit = (route: Record<string, unknown>) => {
    // The Watchdog's route (issue #15) has its own heartbeat timings (settings.watchdog.interval),
    // not the profile's, and a receiver without integrations here: it sends no email to count.
    if (route.receiver === WATCHDOG_RECEIVER) return;
    for (const key of ['group_wait', 'group_interval', 'repeat_interval']) {
      const value = route[key];
      if (value === undefined) continue;
      const scaled = SCALED[String(value)];
      if (!scaled) throw new Error(`route ${key}: ${String(value)} is not a production-profile timing (${JSON.stringify(NOTIFICATION_TIMINGS.production)})`);
      route[key] = scaled;
    }
    for (const child of (route.routes as Record<string, unknown>[] | undefined) ?? []) visit(child);
  };
  const root = config.route;
  expect({ group_wait: root.group_wait, group_interval: root.group_interval, repeat_interval: root.repeat_interval }).toEqual(NOTIFICATION_TIMINGS.production);
  visit(root);
  return stringify(config);
}

let webPorts: number[] = [];
let clusterPorts: number[] = [];

const theStack = useStack({
  name: 'am-ha',
  // Prometheus notifies the three peers (not the stack's own Alertmanager, which only serves to
  // show the operator's config was loaded and confirmed).
  prepare: async () => {
    const ports = await freePorts(2 * REPLICAS);
    webPorts = ports.slice(0, REPLICAS);
    clusterPorts = ports.slice(REPLICAS);
    return { settings: { profile: 'production', alertmanagerTargets: webPorts.map((p) => `127.0.0.1:${p}`) } };
  },
  setup: async (stack) => {
    const generatedDir = stack.alertmanager.configDir;
    // The sidecar's files (config, templates); not its own bookkeeping (.last-good/ and the like).
    const files = (await readdir(generatedDir, { withFileTypes: true })).filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => e.name);
    for (let i = 0; i < REPLICAS; i++) {
      const dir = join(stack.stateDir, `alertmanager-${i}`);
      const configDir = join(dir, 'config');
      await mkdir(configDir, { recursive: true });
      for (const f of files) {
        if (f === 'alertmanager.yml') await writeFile(join(configDir, f), scaleRouteTimings(await readFile(join(generatedDir, f), 'utf8')));
        else await copyFile(join(generatedDir, f), join(configDir, f));
      }
      peers.push(
        await startAlertmanager({
          dir,
          port: webPorts[i]!,
          name: `alertmanager-${i}`,
          cluster: { listenPort: clusterPorts[i]!, peerPorts: clusterPorts.filter((_, j) => j !== i), peerTimeout: PEER_TIMEOUT },
        }),
      );
    }
  },
  teardown: async () => {
    for (const p of peers) await p.process.stop(5000);
  },
  startTimeoutMs: 360_000,
  stopTimeoutMs: 90_000,
});

interface AmStatus {
  cluster: { status: string; peers: { name: string; address: string }[] };
}

test('3 clustered Alertmanagers, production timings scaled 1/15: one outage = exactly one FIRING and one RESOLVED email per recipient', async () => {
  const s = theStack();
  await pollUntil(
    'the three Alertmanagers to form a ready cluster',
    120_000,
    async () => {
      const statuses = await Promise.all(peers.map((p) => getJson<AmStatus>(`${p.url}/api/v2/status`)));
      return statuses.every((st) => st.cluster.status === 'ready' && st.cluster.peers.length === REPLICAS);
    },
    { intervalMs: 1000 },
  );
  await s.waitForHealthyTarget();
  await s.mailpit.client.deleteAll();

  const stoppedAt = await s.stopTarget();
  const { elapsedS: firingS } = await waitForAlertEmail(s.mailpit.client, { state: 'firing', namespace: DEMO_NAMESPACE, name: DEMO_NAME, since: stoppedAt, timeoutMs: 120_000 });
  log(`FIRING ${firingS.toFixed(1)} s after the target stopped`);
  // Prometheus sent the alert to every peer: one email is the cluster's dedup, not one receiver.
  for (const p of peers) {
    const alerts = await getJson<{ labels: Record<string, string>; status: { state: string } }[]>(`${p.url}/api/v2/alerts?active=true`);
    expect(alerts.filter((a) => a.labels.alertname === 'ServiceDown' && a.labels.vigil_monitoredservice === DEMO_NAME).length).toBe(1);
  }
  // Several group_intervals while it fires: no second FIRING from another peer.
  await sleep(45_000);

  const restoredAt = Date.now();
  await s.startTarget();
  const { elapsedS: resolvedS } = await waitForAlertEmail(s.mailpit.client, { state: 'resolved', namespace: DEMO_NAMESPACE, name: DEMO_NAME, since: restoredAt, timeoutMs: 120_000 });
  log(`RESOLVED ${resolvedS.toFixed(1)} s after the target restarted`);
  // The stale FIRING of the demo profile came 15 s after the RESOLVED: wait 3 group_intervals.
  await sleep(60_000);

  const emails = (await s.mailpit.client.list()).filter((m) => Date.parse(m.Created) >= stoppedAt);
  const perRecipient = RECIPIENTS.map((r) => {
    const mine = emails.filter((m) => addresses(m).includes(r));
    const firing = mine.filter((m) => isAlertEmailFor(m.Subject, 'firing', DEMO_NAMESPACE, DEMO_NAME)).length;
    const resolved = mine.filter((m) => isAlertEmailFor(m.Subject, 'resolved', DEMO_NAMESPACE, DEMO_NAME)).length;
    return `${r}: ${firing} firing, ${resolved} resolved, ${mine.length} in all`;
  });
  log(perRecipient.join('; '));
  expect(perRecipient).toEqual(RECIPIENTS.map((r) => `${r}: 1 firing, 1 resolved, 2 in all`));
  // In order: the RESOLVED is the last email.
  const ordered = emails.sort((a, b) => Date.parse(a.Created) - Date.parse(b.Created)).map((m) => m.Subject);
  expect(ordered.map((subject) => (isAlertEmailFor(subject, 'firing', DEMO_NAMESPACE, DEMO_NAME) ? 'FIRING' : 'RESOLVED'))).toEqual(['FIRING', 'RESOLVED']);
}, 600_000);
