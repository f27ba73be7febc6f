// Faults of the alert path, with the real programs as local processes (hack/local-stack: API
// server, operator, Prometheus 3 + sync sidecar, Alertmanager 0.35 + sync sidecar, stunnel on a
// free loopback port (implicit TLS forced), Mailpit, demo target). Demo timings: scrape, evaluation and `for` are 5 s;
// Alertmanager group_wait 0s, group_interval 1s, repeat_interval 1h.
//
// What "no duplicate beyond Alertmanager's dedup" means here: Alertmanager's notification log
// records, per alert group and receiver, the set of firing alerts it last notified. It notifies
// again only when that set changes (an alert starts firing or resolves) or when repeat_interval
// (1h in the demo profile) has passed. A Prometheus restart changes neither the alert's labels
// (its fingerprint) nor, if short, whether Alertmanager considers it active, so zero new
// emails are allowed. (Prometheus sends each firing alert with endsAt = 4 x max(resend delay 1m,
// evaluation interval) ahead: a Prometheus outage longer than 4 minutes makes Alertmanager
// resolve the alert, and the restarted Prometheus then starts a new firing email. Not tested.)
//
// Needs root, like the pipeline test: Prometheus runs in a private mount namespace.
import { demoMonitoredService } from '../../hack/local-stack/demo.js';
import { useStack } from '../../hack/local-stack/fixture.js';
import { waitForAlertEmail } from '../../hack/local-stack/mailpit.js';
import { getJson, pollUntil, sleep } from '../../hack/local-stack/net.js';
import type { Stack } from '../../hack/local-stack/stack.js';
import { alertmanagerConfigHashValue } from '../../operator/sync/confirm.js';
import { OBJECT_NAMES } from '../../operator/rbac.js';
import {
  DEMO,
  addresses,
  alertEmails,
  alertmanagerServiceDown,
  cameThroughStunnel,
  condition,
  failedEmailNotifications,
  mailDiagnostics,
  metricsText,
  prometheusAlertStates,
  restartStopped,
  settle,
  sumSamples,
  watchMailbox,
  type ServiceRef,
} from './helpers.js';

const DEMO_RECIPIENTS = [...(demoMonitoredService().spec.notify?.email?.to ?? [])].sort();
/** Long enough for several evaluation rounds (5 s) and many group_interval flushes (1 s). */
const QUIET_WINDOW_MS = 15_000;
const SMTP_OUTAGE_MS = 120_000;

const theStack = useStack({ name: 'faults' });
const log = (m: string) => console.log(`[faults] ${m}`);

/** Waits for the demo's firing email and checks it is the complete, correctly addressed one. */
async function firstFiringEmail(s: Stack, since: number, timeoutMs: number) {
  const { mail, elapsedS } = await waitForAlertEmail(s.mailpit.client, { state: 'firing', ...DEMO, since, timeoutMs });
  expect(addresses(mail)).toEqual(DEMO_RECIPIENTS);
  expect(mail.Subject).toBe(`[FIRING:1] ServiceDown ${DEMO.namespace}/${DEMO.name} (critical)`);
  expect(await cameThroughStunnel(s, mail)).toBe(true);
  return { mail, elapsedS };
}

/** Brings the target back and expects exactly one resolved email, after exactly one firing one. */
async function resolveDemoOutage(s: Stack): Promise<void> {
  const startedAt = Date.now();
  await s.startTarget();
  const { mail } = await waitForAlertEmail(s.mailpit.client, { state: 'resolved', ...DEMO, since: startedAt, timeoutMs: 90_000 });
  expect(addresses(mail)).toEqual(DEMO_RECIPIENTS);
  await sleep(5000);
  expect(await alertEmails(s, 'resolved', DEMO)).toHaveLength(1);
  expect(await alertEmails(s, 'firing', DEMO)).toHaveLength(1);
}

test('Prometheus is killed and restarted while the service is down: the alert resumes, no second firing email, the resolution still arrives', async () => {
  const s = theStack();
  await settle(s);
  const stoppedAt = await s.stopTarget();
  const { elapsedS } = await firstFiringEmail(s, stoppedAt, (s.alertBoundSeconds() + 60) * 1000);
  log(`firing email ${elapsedS.toFixed(1)} s after the target stopped`);
  const [before] = await alertmanagerServiceDown(s, DEMO);
  expect(before).toBeDefined();
  // Why a short Prometheus outage resolves nothing: Alertmanager keeps the alert active until
  // the endsAt Prometheus sent, well beyond the restart.
  const activeAheadS = (Date.parse(before!.endsAt) - Date.parse(before!.updatedAt)) / 1000;
  log(`Alertmanager keeps the alert active ${activeAheadS.toFixed(0)} s past Prometheus's last send`);
  expect(activeAheadS).toBeGreaterThan(60);

  const killedAt = Date.now();
  await s.stopComponent('prometheus', 'SIGKILL');
  // Alertmanager keeps the alert active on its own: endsAt is minutes ahead.
  expect(await alertmanagerServiceDown(s, DEMO)).toHaveLength(1);
  await s.startComponent('prometheus');
  log(`Prometheus back ${((Date.now() - killedAt) / 1000).toFixed(1)} s after SIGKILL`);

  // The restarted Prometheus (config from the files the sidecar left on disk) evaluates the rule
  // again, fires after `for`, and sends the alert: Alertmanager sees an update after the restart.
  await pollUntil('the restarted Prometheus to fire ServiceDown again', 60_000, async () => (await prometheusAlertStates(s, DEMO)).get('ServiceDown') === 'firing', { intervalMs: 500 });
  const resent = await pollUntil(
    'Alertmanager to receive the alert from the restarted Prometheus',
    60_000,
    async () => {
      const [a] = await alertmanagerServiceDown(s, DEMO);
      return a && Date.parse(a.updatedAt) > killedAt ? a : undefined;
    },
    { intervalMs: 500 },
  );
  expect(sumSamples(await metricsText(s.prometheus.url), 'prometheus_notifications_sent_total')).toBeGreaterThan(0);
  // Same labels, same fingerprint: one alert, still active, never resolved in between.
  expect(resent.labels).toEqual(before!.labels);
  expect(resent.status.state).toBe('active');

  // Dedup: the notification log already has this firing set; nothing new before repeat_interval.
  await sleep(QUIET_WINDOW_MS);
  expect(await alertEmails(s, 'firing', DEMO)).toHaveLength(1);
  expect(await alertEmails(s, 'resolved', DEMO)).toHaveLength(0);

  // The restarted Prometheus also carries the resolution through.
  await resolveDemoOutage(s);
}, 300_000);

test('the SMTP path fails for 2 minutes while the alert fires (stunnel down, then the mail catcher behind it): exactly one firing email once it is back', async () => {
  const s = theStack();
  await settle(s);
  const failuresAtStart = await failedEmailNotifications(s);

  // Phase 1 (first minute): nothing listens on stunnel's port, connections are refused.
  const outageAt = Date.now();
  await s.stopComponent('stunnel');
  const stoppedAt = await s.stopTarget();
  await pollUntil('Alertmanager to fail to send the firing email', 90_000, async () => (await failedEmailNotifications(s)) > failuresAtStart, { intervalMs: 1000 });
  log(`first failed email notification ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s after the target stopped`);
  expect(await alertmanagerServiceDown(s, DEMO)).toHaveLength(1);
  // The status says so too (EmailDelivered, from the operator's poll of Alertmanager's counters).
  await pollUntil('EmailDelivered=False on the demo service', 90_000, async () => (await condition(s, DEMO, 'EmailDelivered'))?.status === 'False', { intervalMs: 1000 });
  expect((await condition(s, DEMO, 'EmailDelivered'))?.reason).toBe('NotificationsFailing');
  await sleep(Math.max(0, outageAt + SMTP_OUTAGE_MS / 2 - Date.now()));
  expect(await s.mailpit.client.list()).toHaveLength(0);

  // Phase 2 (second minute): stunnel accepts the TLS connection but cannot reach the catcher.
  await s.stopComponent('mailpit');
  await s.startComponent('stunnel');
  const failuresAtPhase2 = await failedEmailNotifications(s);
  await pollUntil('Alertmanager to fail again through stunnel', 60_000, async () => (await failedEmailNotifications(s)) > failuresAtPhase2, { intervalMs: 1000 });
  await sleep(Math.max(0, outageAt + SMTP_OUTAGE_MS - Date.now()));
  const failures = (await failedEmailNotifications(s)) - failuresAtStart;
  expect(await alertmanagerServiceDown(s, DEMO)).toHaveLength(1);
  // The alert is still firing in Prometheus: what the email will say is current.
  expect((await prometheusAlertStates(s, DEMO)).get('ServiceDown')).toBe('firing');
  expect(await condition(s, DEMO, 'EmailDelivered')).toMatchObject({ status: 'False', reason: 'NotificationsFailing' });

  // Back: Alertmanager's next flush (every group_interval, 1 s) delivers.
  const restoredAt = Date.now();
  await s.startComponent('mailpit');
  log(`SMTP path restored after ${((restoredAt - outageAt) / 1000).toFixed(0)} s; ${failures} failed email notifications meanwhile`);
  const { mail, elapsedS } = await firstFiringEmail(s, stoppedAt, Date.now() - stoppedAt + 60_000);
  log(`firing email ${((Date.parse(mail.Created) - restoredAt) / 1000).toFixed(1)} s after the SMTP path came back (${elapsedS.toFixed(0)} s after the outage)`);
  expect(Date.parse(mail.Created)).toBeGreaterThanOrEqual(restoredAt - 1000);
  expect(failures).toBeGreaterThanOrEqual(2);
  // Sampled rather than slept through: if the email goes missing, the samples show when and how.
  const samples = await watchMailbox(s, QUIET_WINDOW_MS);
  const firing = await alertEmails(s, 'firing', DEMO);
  // Only this stack's Alertmanager should send here (every port is this stack's own); anything
  // else is logged, not an error for this test, which counts only its own.
  const foreign = (await s.mailpit.client.list()).filter((m) => !m.Subject.split(' ').includes(`${DEMO.namespace}/${DEMO.name}`));
  if (foreign.length > 0) log(`note: ${foreign.length} email(s) not about ${DEMO.namespace}/${DEMO.name} in the catcher, e.g. ${JSON.stringify(foreign[0]?.Subject)}`);
  if (firing.length !== 1 || firing[0]?.ID !== mail.ID) {
    log(`expected exactly the firing email ${mail.ID} (${mail.Created}); diagnostics (times from the restore):\n${await mailDiagnostics(s, samples, restoredAt, mail.ID)}`);
  }
  expect(firing.map((m) => m.ID)).toEqual([mail.ID]);
  await pollUntil('EmailDelivered=True again', 60_000, async () => (await condition(s, DEMO, 'EmailDelivered'))?.status === 'True', { intervalMs: 1000 });

  await resolveDemoOutage(s);
}, 360_000);

test("Alertmanager's sync sidecar is killed while the config changes: after its restart Alertmanager runs the new config and routes by it", async () => {
  const s = theStack();
  await settle(s);
  const probe: ServiceRef = { namespace: DEMO.namespace, name: 'sidecar-probe' };
  const probeRecipient = 'probe-owners@demo.example';
  const secretAnnotations = async () => {
    const out = await s.kubectl(['get', 'secret', OBJECT_NAMES.alertmanagerSecret, '-n', s.installNamespace, '-o', 'jsonpath={.metadata.annotations}']);
    return JSON.parse(out) as Record<string, string>;
  };
  const loadedHash = async () => sumSamples(await metricsText(s.alertmanager.url), 'alertmanager_config_hash');
  const hashBefore = await loadedHash();

  await s.stopComponent('alertmanager-sync', 'SIGKILL');
  // A service with no targets: its ServiceDown fires once Prometheus has had its rule for the
  // discovery grace (40 s at these timings) and `for`.
  await s.kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'vigil.dev/v1alpha1',
      kind: 'MonitoredService',
      metadata: { name: probe.name, namespace: probe.namespace },
      spec: {
        selector: { matchLabels: { 'app.kubernetes.io/name': probe.name } },
        endpoints: [{ port: 'http-metrics', interval: '5s', scrapeTimeout: '4s' }],
        downAlert: { for: '5s', severity: 'critical' },
        notify: { email: { to: [probeRecipient], sendResolved: false } },
      },
    }),
  );
  try {
    // The operator writes the new Secret; nobody loads it.
    const pending = await pollUntil(
      'the operator to write a new Alertmanager config',
      60_000,
      async () => {
        const a = await secretAnnotations();
        return a['vigil.dev/config-hash'] !== a['vigil.dev/applied-hash'] ? a : undefined;
      },
      { intervalMs: 500 },
    );
    await pollUntil('the probe service to report ConfigApplied=False (ApplyPending)', 60_000, async () => (await condition(s, probe, 'ConfigApplied'))?.reason === 'ApplyPending', {
      intervalMs: 1000,
    });
    expect(await loadedHash()).toBe(hashBefore);

    // Meanwhile Prometheus (its sidecar alive) has the rule and the alert fires. Alertmanager,
    // still without the probe's route, holds it but sends it to nobody: it carries a service's
    // labels, so it is not the default recipients' (issue #14), and it stays active for its owners.
    const held = await pollUntil(
      'Alertmanager to hold the probe alert on the receiver without integrations',
      150_000,
      async () => {
        const alerts = await getJson<{ labels: Record<string, string>; receivers: { name: string }[]; status: { state: string } }[]>(`${s.alertmanager.url}/api/v2/alerts`);
        return alerts.find((a) => a.labels.vigil_monitoredservice === probe.name && a.status.state === 'active');
      },
      { intervalMs: 1000 },
    );
    expect(held.receivers.map((r) => r.name)).toEqual(['vigil-unowned']);
    await sleep(5000);
    expect((await s.mailpit.client.list()).filter((m) => m.Subject.split(' ').includes(`${probe.namespace}/${probe.name}`))).toEqual([]);
    expect(await secretAnnotations()).toMatchObject({ 'vigil.dev/applied-hash': pending['vigil.dev/applied-hash'] });

    const restartedAt = Date.now();
    await s.startComponent('alertmanager-sync');
    await pollUntil(
      'the restarted sidecar to apply the pending config',
      60_000,
      async () => {
        const a = await secretAnnotations();
        return a['vigil.dev/applied-hash'] === pending['vigil.dev/config-hash'];
      },
      { intervalMs: 500 },
    );
    log(`pending Alertmanager config applied ${((Date.now() - restartedAt) / 1000).toFixed(1)} s after the sidecar restarted`);
    // Alertmanager runs exactly the bytes of the Secret.
    const secretYaml = Buffer.from(await s.kubectl(['get', 'secret', OBJECT_NAMES.alertmanagerSecret, '-n', s.installNamespace, '-o', 'jsonpath={.data.alertmanager\\.yml}']), 'base64');
    expect(secretYaml.toString('utf8')).toContain(probeRecipient);
    expect(await loadedHash()).toBe(alertmanagerConfigHashValue(secretYaml));
    await pollUntil('the probe service to report ConfigApplied=True', 60_000, async () => (await condition(s, probe, 'ConfigApplied'))?.status === 'True', { intervalMs: 1000 });

    // And routes by it: the still-firing alert now reaches the probe's own recipients.
    const { mail: viaRoute } = await waitForAlertEmail(s.mailpit.client, { state: 'firing', ...probe, since: restartedAt, timeoutMs: 60_000 });
    expect(addresses(viaRoute)).toEqual([probeRecipient]);
    expect(await cameThroughStunnel(s, viaRoute)).toBe(true);
    // The demo service was never disturbed.
    expect(await alertEmails(s, 'firing', DEMO)).toHaveLength(0);
  } finally {
    await s.kubectl(['delete', 'monitoredservice', probe.name, '-n', probe.namespace, '--ignore-not-found']);
    await restartStopped(s);
  }
}, 300_000);
