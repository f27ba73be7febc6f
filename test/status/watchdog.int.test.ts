// The dead man's switch (issue #15) against the real programs of the local stack: the operator
// renders the always-firing Watchdog rule and its Alertmanager route to a webhook; Prometheus
// evaluates it and sends it to Alertmanager, which posts it to a webhook receiver on loopback every
// `watchdog.interval`. When Prometheus is SIGKILLed, Alertmanager keeps the alert only until the
// endsAt Prometheus last sent (4 x max(--rules.alert.resend-delay, evaluation interval): 20 s
// here, 4 min with Prometheus's default 1m resend delay) and the posts stop; that silence is what an
// outside heartbeat monitor pages on. Timings are printed, never asserted beyond generous bounds.
//
// Root is needed for Prometheus's private mount namespace (hack/local-stack/components.ts).
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getJson, pollUntil, sleep } from '../../hack/local-stack/net.js';
import { ANY_FREE_PORTS, startStack, type Stack } from '../../hack/local-stack/stack.js';

const INTERVAL_S = 2;
const TIMEOUT_MS = 300_000;

interface Heartbeat {
  at: number;
  body: { receiver?: string; status?: string; alerts?: { labels: Record<string, string>; status: string }[] };
}

const heartbeats: Heartbeat[] = [];
let server: Server | undefined;
let stack: Stack | undefined;
let stateDir: string | undefined;

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('the watchdog test needs root: Prometheus runs in a private mount namespace with its own /etc/hosts');
  server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString('utf8')));
    req.on('end', () => {
      heartbeats.push({ at: Date.now(), body: JSON.parse(data) as Heartbeat['body'] });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const webhookUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/heartbeat`;
  stateDir = await mkdtemp(join(tmpdir(), 'vigil-watchdog-'));
  stack = await startStack({
    stateDir,
    ports: ANY_FREE_PORTS,
    applyDemo: false,
    watchdog: { webhookUrl, interval: `${INTERVAL_S}s` },
    // endsAt = 4 x max(resend delay, evaluation interval 5 s) = 20 s instead of 4 min.
    prometheusArgs: ['--rules.alert.resend-delay=1s'],
  });
}, TIMEOUT_MS);

afterAll(async () => {
  try {
    await stack?.stop();
  } finally {
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  }
}, 60_000);

async function watchdogActiveInAlertmanager(s: Stack): Promise<boolean> {
  const alerts = await getJson<{ labels: Record<string, string> }[]>(`${s.alertmanager.url}/api/v2/alerts?active=true`);
  return alerts.some((a) => a.labels.alertname === 'Watchdog' && a.labels.vigil_watchdog === 'true');
}

test(
  'heartbeats arrive every interval while the pipeline works, stop after Prometheus is SIGKILLed, and resume when it is back',
  async () => {
    const s = stack!;
    await pollUntil('3 Watchdog heartbeats at the webhook', 90_000, async () => heartbeats.length >= 3, { intervalMs: 250 });
    for (const h of heartbeats) {
      expect(h.body.receiver).toBe('vigil-watchdog');
      expect(h.body.status).toBe('firing');
      expect(h.body.alerts?.map((a) => a.labels.alertname)).toEqual(['Watchdog']);
      expect(h.body.alerts?.[0]?.labels).toMatchObject({ vigil_watchdog: 'true', severity: 'none', cluster: 'local' });
    }
    const gaps = heartbeats.slice(1).map((h, i) => (h.at - heartbeats[i]!.at) / 1000);
    // Alertmanager re-sends a firing group after repeat_interval, checked every group_interval.
    for (const g of gaps) expect(g).toBeGreaterThanOrEqual(INTERVAL_S * 0.5);
    // The heartbeat is no email: the Watchdog's route comes first and has no email receiver.
    const mails = await s.mailpit.client.list();
    expect(mails.filter((m) => m.Subject.includes('Watchdog'))).toEqual([]);

    const killedAt = Date.now();
    await s.stopComponent('prometheus', 'SIGKILL');
    // Alertmanager drops the alert once the endsAt Prometheus last sent has passed (~20 s here).
    await pollUntil('Alertmanager to let the Watchdog alert expire', 90_000, async () => !(await watchdogActiveInAlertmanager(s)), { intervalMs: 500 });
    const expiredAfter = (Date.now() - killedAt) / 1000;
    const countAtExpiry = heartbeats.length;
    const lastBeforeSilence = heartbeats[heartbeats.length - 1]!.at;
    // Silence: not one post in 5 intervals (+ slack) after the alert expired.
    await sleep((5 * INTERVAL_S + 3) * 1000);
    expect(heartbeats.length).toBe(countAtExpiry);
    const stoppedAfter = (lastBeforeSilence - killedAt) / 1000;
    expect(stoppedAfter).toBeLessThan(60);
    const duringOutage = heartbeats.filter((h) => h.at > killedAt).length;

    // Back: Prometheus restarts from the files the sidecar left and the heartbeats resume.
    await s.startComponent('prometheus');
    const restartedAt = Date.now();
    await pollUntil('the heartbeats to resume', 90_000, async () => heartbeats.some((h) => h.at > restartedAt), { intervalMs: 250 });
    process.stderr.write(
      `[watchdog.int] heartbeat gaps ${gaps.map((g) => g.toFixed(1)).join(', ')} s; Prometheus SIGKILLed: ${duringOutage} more heartbeat(s), ` +
        `the last ${stoppedAfter.toFixed(1)} s after the kill, Watchdog gone from Alertmanager after ${expiredAfter.toFixed(1)} s; ` +
        `resumed ${((heartbeats.find((h) => h.at > restartedAt)!.at - restartedAt) / 1000).toFixed(1)} s after the restart\n`,
    );
  },
  TIMEOUT_MS,
);
