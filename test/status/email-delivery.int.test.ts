// EmailDelivered against the local stack's real programs (issue #22): the demo target goes down while
// the mail catcher is stopped, so Alertmanager's SMTP attempts through stunnel fail; the operator,
// polling Alertmanager's /metrics (--alertmanager-url), reports NotificationsFailing on the demo
// service with a Warning Event; Prometheus scrapes the same counters (job alertmanager). Once the
// mail catcher is back, Alertmanager's retry delivers the firing email and the condition turns True.
// Root is needed for Prometheus's private mount namespace (hack/local-stack).
import { expect, test } from '@jest/globals';
import { MonitoredServiceSchema } from '../../operator/api/schema.js';
import { DEMO_NAME, DEMO_NAMESPACE, demoMonitoredService } from '../../hack/local-stack/demo.js';
import { waitForAlertEmail } from '../../hack/local-stack/mailpit.js';
import { getJson, pollUntil } from '../../hack/local-stack/net.js';
import { waitForConditions, type Condition } from './helpers.js';
import { useStack } from '../../hack/local-stack/fixture.js';
import type { Stack } from '../../hack/local-stack/stack.js';
import { routeReceiver } from '../../operator/render/alertmanager.js';
import { SELF_SCRAPE_JOBS } from '../../operator/render/names.js';

const TEST_TIMEOUT_MS = 480_000;
/** Generous on a loaded machine: a poll every 10 s, an attempt within seconds of the alert. */
const STATUS_WAIT_MS = 120_000;
/** The receiver of the demo service's recipient set (every service with the same recipients shares it). */
const RECEIVER = routeReceiver(MonitoredServiceSchema.parse(demoMonitoredService()));

const theStack = useStack({ name: 'email-delivery' });

const DEMO = { namespace: DEMO_NAMESPACE, name: DEMO_NAME };
const waitFor = (s: Stack, what: string, check: (c: Map<string, Condition>) => boolean) => waitForConditions(s.cluster, DEMO, what, check, { timeoutMs: STATUS_WAIT_MS, intervalMs: 1000 });

async function eventReasons(s: Stack): Promise<{ type: string; reason: string; message: string }[]> {
  const out = await s.kubectl(['get', 'events', '-n', DEMO_NAMESPACE, '--field-selector', `involvedObject.kind=MonitoredService,involvedObject.name=${DEMO_NAME}`, '-o', 'json']);
  return (JSON.parse(out) as { items: { type: string; reason: string; message: string }[] }).items;
}

test(
  'SMTP down during an outage: EmailDelivered False (NotificationsFailing) with a Warning Event; SMTP back: the firing email arrives and EmailDelivered is True',
  async () => {
    const s = theStack();
    await s.waitForHealthyTarget();
    // Nothing was sent yet: not a failure, and Ready does not wait for it.
    const before = await waitFor(s, 'the demo service Ready, EmailDelivered Unknown', (c) => c.get('Ready')?.status === 'True' && c.get('EmailDelivered')?.status === 'Unknown');
    expect(before.get('EmailDelivered')).toMatchObject({ reason: 'NoNotificationsYet' });

    await s.stopComponent('mailpit');
    const stoppedAt = await s.stopTarget();
    const failing = await waitFor(s, 'EmailDelivered=False', (c) => c.get('EmailDelivered')?.status === 'False');
    const seenAfterS = (Date.now() - stoppedAt) / 1000;
    const email = failing.get('EmailDelivered')!;
    expect(email.reason).toBe('NotificationsFailing');
    expect(email.message).toContain(`every email Alertmanager tried to send to receiver ${RECEIVER} failed since`);
    expect(email.message).toContain(`msg="Notify attempt failed" receiver=${RECEIVER}`);
    // The target is down too: Ready names the first failing condition, TargetsHealthy.
    expect(failing.get('Ready')?.status).toBe('False');
    await pollUntil('a Warning NotificationsFailing Event', 30_000, async () => (await eventReasons(s)).some((e) => e.type === 'Warning' && e.reason === 'NotificationsFailing'), {
      intervalMs: 1000,
    });
    // The chart's self-scrape job, here with the local stack's settings: Prometheus has the failures per receiver.
    await pollUntil(
      'Prometheus to have failed email attempts of the receiver',
      60_000,
      async () => {
        const q = encodeURIComponent(`alertmanager_notification_requests_failed_total{job="${SELF_SCRAPE_JOBS.alertmanager}",integration="email",receiver_name="${RECEIVER}"} > 0`);
        const r = await getJson<{ data: { result: unknown[] } }>(`${s.prometheus.url}/api/v1/query?query=${q}`);
        return r.data.result.length > 0;
      },
      { intervalMs: 1000 },
    );

    const restoredAt = Date.now();
    await s.startComponent('mailpit');
    const { mail, elapsedS } = await waitForAlertEmail(s.mailpit.client, { state: 'firing', namespace: DEMO_NAMESPACE, name: DEMO_NAME, since: restoredAt - 1000, timeoutMs: STATUS_WAIT_MS });
    expect(mail.Subject).toContain('ServiceDown');
    const delivered = await waitFor(s, 'EmailDelivered=True', (c) => c.get('EmailDelivered')?.status === 'True');
    expect(delivered.get('EmailDelivered')).toMatchObject({ reason: 'EmailDelivered' });
    expect(delivered.get('EmailDelivered')?.message).toContain(`receiver ${RECEIVER}`);
    expect((await eventReasons(s)).some((e) => e.type === 'Normal' && e.reason === 'EmailDelivered')).toBe(true);

    await s.startTarget();
    await waitFor(s, 'Ready=True again', (c) => c.get('Ready')?.status === 'True');
    process.stderr.write(`[email-delivery.int] NotificationsFailing seen ${seenAfterS.toFixed(1)} s after the target stopped; firing email ${elapsedS.toFixed(1)} s after the mail catcher was back\n`);
  },
  TEST_TIMEOUT_MS,
);
