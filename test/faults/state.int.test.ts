// State across crashes of the local stack's components (issue 22, "state survives crashes and
// restarts"), with the supervisor of `make local-up` restarting what dies (the real programs as
// local processes: API server, operator, Prometheus 3, Alertmanager 0.35, stunnel, Mailpit).
// - Alertmanager writes its silences and notification log to <data> only every
//   --data.maintenance-interval (Alertmanager's default 15m; the stack's 10s) and at a clean
//   shutdown: a SIGKILL loses what came since. After a write, a SIGKILL must lose nothing: the
//   silence is still there, and no alert emailed before is emailed again before repeat_interval (1h).
// - Prometheus resolves `make local-target` hosts through a private hosts file; its restart must keep
//   the lines registered since the stack started, or every registered target pages as down.
// Needs root, like the other fault tests: Prometheus runs in a private mount namespace.
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BIN_DIR } from '../../hack/local-stack/components.js';
import { useStack } from '../../hack/local-stack/fixture.js';
import { registerLocalTarget } from '../../hack/local-stack/local-target.js';
import { waitForAlertEmail } from '../../hack/local-stack/mailpit.js';
import { getJson, pollUntil, sleep } from '../../hack/local-stack/net.js';
import type { ComponentName, Stack } from '../../hack/local-stack/stack.js';
import { DEMO, alertEmails, metricsText, prometheusAlertStates, settle, sumSamples, type ServiceRef } from './helpers.js';

const run = promisify(execFile);
/** Several evaluation rounds (5 s), Prometheus resends (5 s here) and group_interval flushes (1 s). */
const QUIET_WINDOW_MS = 20_000;
const STEADY: ServiceRef = { namespace: 'state', name: 'steady' };
const LOCAL: ServiceRef = { namespace: 'state-local', name: 'my-app' };

const events: string[] = [];
const theStack = useStack({
  name: 'state',
  // Prometheus resends firing alerts every 5 s (default 1m), so the restarted Alertmanager gets them back soon.
  prometheusArgs: ['--rules.alert.resend-delay=5s'],
  supervise: { limit: 5, backoffMs: 1000, onEvent: (m) => events.push(m) },
});
const log = (m: string) => console.log(`[state] ${m}`);

/** Kills the component as a crash would (the supervisor, not the test, starts it again) and waits until it is back and answers. */
async function crash(s: Stack, name: ComponentName): Promise<{ killedAt: number; backAfterS: number }> {
  const before = (await s.componentStatus()).find((c) => c.name === name)!;
  const killedAt = Date.now();
  process.kill(before.pid!, 'SIGKILL');
  await pollUntil(
    `the supervisor to restart ${name}`,
    60_000,
    async () => {
      const now = (await s.componentStatus()).find((c) => c.name === name)!;
      return now.restarts === before.restarts + 1 && now.running && now.problem === undefined;
    },
    { intervalMs: 200 },
  );
  return { killedAt, backAfterS: (Date.now() - killedAt) / 1000 };
}

/** Alertmanager's counter of maintenance runs (each one writes silences or notification log to disk). */
async function maintenanceRuns(s: Stack, what: 'silences' | 'nflog'): Promise<number> {
  return sumSamples(await metricsText(s.alertmanager.url), `alertmanager_${what}_maintenance_total`);
}

interface Silence {
  id: string;
  status: { state: string };
  matchers: { name: string; value: string }[];
}

const steadyService = {
  apiVersion: 'vigil.dev/v1alpha1',
  kind: 'MonitoredService',
  metadata: STEADY,
  spec: {
    selector: { matchLabels: { app: 'steady' } },
    endpoints: [{ port: 'metrics' }],
    downAlert: { enabled: false },
    rules: [{ name: 'AlwaysFiring', expr: 'vector(1) > 0', severity: 'warning' }],
    notify: { email: { to: ['steady-team@example.com'] } },
  },
};

test('Alertmanager is SIGKILLed during an outage with a silence in place: restarted, it keeps the silence and emails no firing alert again', async () => {
  const s = theStack();
  await settle(s);
  await s.kubectl(['create', 'namespace', STEADY.namespace]);
  // A silence made with the email's own amtool line (its group labels), before the outage pages.
  const since = Date.now();
  const { stdout } = await run(join(BIN_DIR, 'amtool'), [
    'silence',
    'add',
    `--alertmanager.url=${s.alertmanager.url}`,
    '--duration=2h',
    '--comment=silenced from the alert email',
    'alertname=ServiceDown',
    `vigil_monitoredservice=${DEMO.name}`,
    `vigil_namespace=${DEMO.namespace}`,
  ]);
  const silenceId = stdout.trim();
  expect(silenceId).toMatch(/^[0-9a-f-]{36}$/);

  // A firing alert that is emailed (not silenced), and the silenced outage.
  await s.kubectl(['apply', '-f', '-'], JSON.stringify(steadyService));
  await waitForAlertEmail(s.mailpit.client, { state: 'firing', ...STEADY, since, timeoutMs: 120_000 });
  await s.stopTarget();
  await pollUntil('ServiceDown to fire in Prometheus', 90_000, async () => (await prometheusAlertStates(s, DEMO)).get('ServiceDown') === 'firing', { intervalMs: 500 });
  const suppressed = async () => {
    const alerts = await getJson<{ labels: Record<string, string>; status: { state: string; silencedBy: string[] } }[]>(`${s.alertmanager.url}/api/v2/alerts`);
    return alerts.find((a) => a.labels.alertname === 'ServiceDown' && a.labels.vigil_namespace === DEMO.namespace && a.status.silencedBy.includes(silenceId));
  };
  await pollUntil('Alertmanager to hold ServiceDown, silenced', 60_000, suppressed, { intervalMs: 500 });

  // Wait for two maintenance runs after the email: the notification was logged, then written.
  const [sil0, nflog0] = [await maintenanceRuns(s, 'silences'), await maintenanceRuns(s, 'nflog')];
  await pollUntil(
    'Alertmanager to write silences and notification log twice more',
    60_000,
    async () => (await maintenanceRuns(s, 'silences')) >= sil0 + 2 && (await maintenanceRuns(s, 'nflog')) >= nflog0 + 2,
    {
      intervalMs: 1000,
    },
  );

  const { killedAt, backAfterS } = await crash(s, 'alertmanager');
  log(`Alertmanager back ${backAfterS.toFixed(1)} s after SIGKILL`);
  expect(events.some((e) => e.startsWith('alertmanager exited with code null (signal SIGKILL); restarting'))).toBe(true);

  // The silence came back from disk.
  const silences = await getJson<Silence[]>(`${s.alertmanager.url}/api/v2/silences`);
  expect(silences.find((x) => x.id === silenceId)?.status.state).toBe('active');
  // Prometheus resends both alerts; ServiceDown is silenced again by the same silence.
  await pollUntil('the restarted Alertmanager to hold ServiceDown, silenced', 60_000, suppressed, { intervalMs: 500 });
  await pollUntil(
    'the restarted Alertmanager to hold AlwaysFiring',
    60_000,
    async () => {
      const alerts = await getJson<{ labels: Record<string, string>; updatedAt: string }[]>(`${s.alertmanager.url}/api/v2/alerts?active=true`);
      return alerts.some((a) => a.labels.alertname === 'AlwaysFiring' && Date.parse(a.updatedAt) > killedAt);
    },
    { intervalMs: 500 },
  );
  // The notification log came back too: nothing is emailed again (repeat_interval is 1h).
  await sleep(QUIET_WINDOW_MS);
  expect(await alertEmails(s, 'firing', STEADY)).toHaveLength(1);
  expect(await alertEmails(s, 'firing', DEMO)).toHaveLength(0);

  await run(join(BIN_DIR, 'amtool'), ['silence', 'expire', `--alertmanager.url=${s.alertmanager.url}`, silenceId]);
  await s.kubectl(['delete', 'namespace', STEADY.namespace, '--wait=false']);
  await s.startTarget();
}, 420_000);

test('Prometheus is SIGKILLed with a target registered by make local-target: restarted, it still resolves and scrapes it, and nothing pages', async () => {
  const s = theStack();
  await settle(s);
  // The user's own process: a metrics endpoint on a loopback port.
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end('my_app_up 1\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as { port: number }).port;
    await registerLocalTarget({ ...LOCAL, port, to: ['my-app-team@example.com'], interval: '5s' }, { hostsFile: join(s.stateDir, 'prometheus', 'hosts'), kubectl: s.kubectl });
    const target = async (after = 0) => {
      const r = await getJson<{ data: { activeTargets: { scrapePool: string; health: string; lastScrape: string; lastError: string }[] } }>(`${s.prometheus.url}/api/v1/targets?state=active`);
      return r.data.activeTargets.find((t) => t.scrapePool.startsWith(`vigil/${LOCAL.namespace}/${LOCAL.name}/`) && Date.parse(t.lastScrape) > after);
    };
    await pollUntil('Prometheus to scrape the local target', 90_000, async () => (await target())?.health === 'up', { intervalMs: 500 });

    const { killedAt, backAfterS } = await crash(s, 'prometheus');
    log(`Prometheus back ${backAfterS.toFixed(1)} s after SIGKILL`);
    const scraped = await pollUntil('the restarted Prometheus to scrape the local target', 90_000, async () => target(killedAt), { intervalMs: 500 });
    expect({ health: scraped.health, lastError: scraped.lastError }).toEqual({ health: 'up', lastError: '' });

    // A few evaluation rounds: no ServiceDown pending or firing for it, no email to its owners.
    await sleep(QUIET_WINDOW_MS);
    expect((await target(killedAt))?.health).toBe('up');
    expect([...(await prometheusAlertStates(s, LOCAL)).entries()]).toEqual([]);
    expect(await alertEmails(s, 'firing', LOCAL)).toHaveLength(0);
  } finally {
    await new Promise((resolve) => server.close(resolve));
    await s.kubectl(['delete', 'namespace', LOCAL.namespace, '--wait=false']);
  }
}, 300_000);
