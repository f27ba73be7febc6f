// The alert pipeline end to end, with the real programs as local processes (hack/local-stack):
// a target goes down, Prometheus (config from the operator, delivered by the sync sidecar) fires
// the demo MonitoredService's ServiceDown alert, Alertmanager emails it through stunnel's TLS
// listener (implicit TLS forced by smtp_force_implicit_tls), and it lands in Mailpit. Timings are
// the demo's: S = E = F = 5 s.
//
// Everything listens on free loopback ports, stunnel included; root is needed for Prometheus's
// private mount namespace (hack/local-stack/components.ts).
import { DEMO_NAME, DEMO_NAMESPACE, demoMonitoredService } from '../../hack/local-stack/demo.js';
import { isAlertEmailFor, waitForAlertEmail, type AlertState, type MailSummary } from '../../hack/local-stack/mailpit.js';
import { getJson, pollUntil, sleep } from '../../hack/local-stack/net.js';
import { useStack } from '../../hack/local-stack/fixture.js';
import type { Stack } from '../../hack/local-stack/stack.js';
import { STUNNEL_UPSTREAM_SOURCE } from '../../hack/local-stack/stunnel.js';

// Per test: settle (up to ~2.5 min on a slow machine) + outage + resolve.
const TEST_TIMEOUT_MS = 300_000;

const recipients = [...(demoMonitoredService().spec.notify?.email?.to ?? [])].sort();
// Started before the tests, stopped after them (hack/local-stack/fixture.ts).
const theStack = useStack({ name: 'pipeline' });

interface MonitoredServiceStatus {
  healthyTargets?: number;
  discoveredTargets?: number;
  conditions?: { type: string; status: string; reason: string; message: string }[];
}

async function monitoredServiceStatus(s: Stack): Promise<MonitoredServiceStatus> {
  const out = await s.kubectl(['get', 'monitoredservice', DEMO_NAME, '-n', DEMO_NAMESPACE, '-o', 'jsonpath={.status}']);
  return (out.trim() ? JSON.parse(out) : {}) as MonitoredServiceStatus;
}

/** Alerts Alertmanager holds for the demo service (any state). */
async function activeDemoAlerts(s: Stack): Promise<unknown[]> {
  const alerts = await getJson<{ labels: Record<string, string> }[]>(`${s.alertmanager.url}/api/v2/alerts?active=true&silenced=false&inhibited=false`);
  return alerts.filter((a) => a.labels.vigil_namespace === DEMO_NAMESPACE && a.labels.vigil_monitoredservice === DEMO_NAME);
}

/**
 * Healthy target, nothing firing or pending (the ServiceDown rule can be pending for the few
 * seconds before the first scrape), and an empty mailbox: what the next email is about is then
 * unambiguous.
 */
async function settle(s: Stack): Promise<void> {
  await s.waitForHealthyTarget();
  await pollUntil(
    'the demo MonitoredService to report a healthy target in its status',
    60_000,
    async () => {
      const st = await monitoredServiceStatus(s);
      return (st.healthyTargets ?? 0) >= 1 && st.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    },
    { intervalMs: 1000 },
  );
  await pollUntil('no active alert for the demo service in Alertmanager', 60_000, async () => (await activeDemoAlerts(s)).length === 0, { intervalMs: 500 });
  await pollUntil(
    'no pending or firing demo alert in Prometheus',
    30_000,
    async () => {
      const r = await getJson<{ data: { alerts: { labels: Record<string, string> }[] } }>(`${s.prometheus.url}/api/v1/alerts`);
      return !r.data.alerts.some((a) => a.labels.vigil_namespace === DEMO_NAMESPACE && a.labels.vigil_monitoredservice === DEMO_NAME);
    },
    { intervalMs: 500 },
  );
  await s.mailpit.client.deleteAll();
}

async function demoEmails(s: Stack, state: AlertState): Promise<MailSummary[]> {
  return (await s.mailpit.client.list()).filter((m) => isAlertEmailFor(m.Subject, state, DEMO_NAMESPACE, DEMO_NAME));
}

/** What every alert email must be: to the service's recipients, through stunnel, readable, with links. */
async function expectWellFormedAlertEmail(s: Stack, mail: MailSummary, state: AlertState): Promise<void> {
  expect((mail.To ?? []).map((a) => a.Address).sort()).toEqual(recipients);
  expect(mail.Subject).toContain(`${DEMO_NAMESPACE}/${DEMO_NAME}`);
  expect(mail.Subject).toContain('ServiceDown');
  expect(mail.Subject.startsWith(state === 'firing' ? '[FIRING' : '[RESOLVED]')).toBe(true);

  // The TLS hop: stunnel alone connects to Mailpit, and only from 127.0.0.2.
  const headers = await s.mailpit.client.headers(mail.ID);
  expect((headers.Received ?? []).join('\n')).toContain(`[${STUNNEL_UPSTREAM_SOURCE}]`);

  const full = await s.mailpit.client.message(mail.ID);
  expect(full.Text.length).toBeGreaterThan(0);
  expect(full.HTML.length).toBeGreaterThan(0);
  for (const part of [full.Text, full.HTML]) {
    expect(part).toContain(`${s.prometheus.url}/graph?`);
    expect(part).toContain(`${s.alertmanager.url}/#/silences/new?filter=`);
  }
}

async function expectExactlyOneFiringEmail(s: Stack, since: number): Promise<void> {
  const bound = s.alertBoundSeconds();
  const stunnelBefore = s.stunnel.forwardedConnections();
  const { mail, elapsedS } = await waitForAlertEmail(s.mailpit.client, {
    state: 'firing',
    namespace: DEMO_NAMESPACE,
    name: DEMO_NAME,
    since,
    timeoutMs: (bound + 30) * 1000,
  });
  console.log(`firing email after ${elapsedS.toFixed(1)} s (bound ${bound} s): ${mail.Subject}`);
  expect(elapsedS).toBeLessThanOrEqual(bound + 30);
  expect(s.stunnel.forwardedConnections()).toBeGreaterThan(stunnelBefore);
  await expectWellFormedAlertEmail(s, mail, 'firing');
  // Two more evaluation rounds: Prometheus re-sends the alert, Alertmanager must not email again.
  await sleep(12_000);
  expect(await demoEmails(s, 'firing')).toHaveLength(1);
}

async function expectResolvedEmail(s: Stack, since: number): Promise<void> {
  const { mail, elapsedS } = await waitForAlertEmail(s.mailpit.client, {
    state: 'resolved',
    namespace: DEMO_NAMESPACE,
    name: DEMO_NAME,
    since,
    timeoutMs: (s.alertBoundSeconds() + 30) * 1000,
  });
  console.log(`resolved email after ${elapsedS.toFixed(1)} s: ${mail.Subject}`);
  await expectWellFormedAlertEmail(s, mail, 'resolved');
}

test(
  'the target process stops: exactly one firing email through stunnel, then a resolved one when it is back',
  async () => {
    const s = theStack();
    await settle(s);
    const stoppedAt = await s.stopTarget();
    await expectExactlyOneFiringEmail(s, stoppedAt);

    const restartedAt = Date.now();
    await s.startTarget();
    await expectResolvedEmail(s, restartedAt);
    await s.waitForHealthyTarget();
  },
  TEST_TIMEOUT_MS,
);

test(
  "the target's endpoints are deleted (its pod is gone): the firing email arrives too, then the resolved one",
  async () => {
    const s = theStack();
    await settle(s);
    const removedAt = await s.removeTargetEndpoints();
    await pollUntil('Prometheus to drop the demo target', 30_000, async () => {
      const r = await getJson<{ data: { activeTargets: { scrapePool: string }[] } }>(`${s.prometheus.url}/api/v1/targets?state=active`);
      return !r.data.activeTargets.some((t) => t.scrapePool.startsWith(`vigil/${DEMO_NAMESPACE}/${DEMO_NAME}/`));
    });
    await expectExactlyOneFiringEmail(s, removedAt);

    const restoredAt = Date.now();
    await s.restoreTargetEndpoints();
    await expectResolvedEmail(s, restoredAt);
  },
  TEST_TIMEOUT_MS,
);
