// The test email on demand (issue 22), through the real programs of the local stack: the operator
// (with --alertmanager-url, as the chart runs it), Alertmanager, stunnel and Mailpit. Annotating a
// MonitoredService with vigil.dev/test-email=<token> must send one email, clearly a test, to exactly
// that service's recipients (not another team's, though both teams' routes are in the config), and
// record the token and the result in status.testEmail; the same token again sends nothing; a new
// token sends a new email at once; a silence of the service's alerts holds it back as it would a
// real alert, and it is emailed once the silence is gone; with Alertmanager down the status says
// Failed with the error, and the next token after it is back goes through; annotated at creation it
// waits for the route to run; `vigil test-email` does the same from a shell. Needs root (the local stack's Prometheus runs in a private mount
// namespace).
import { expect, test } from '@jest/globals';
import type { TestEmailStatus } from '../../operator/api/schema.js';
import { useStack } from '../../hack/local-stack/fixture.js';
import type { MailSummary } from '../../hack/local-stack/mailpit.js';
import { pollUntil } from '../../hack/local-stack/net.js';
import { waitForCondition } from './helpers.js';
import { runTestEmailCommand } from '../../operator/cli/test-email-command.js';

const TEAM_A = { namespace: 'team-a', name: 'orders', to: ['orders-oncall@team-a.example.com'] };
const TEAM_B = { namespace: 'team-b', name: 'billing', to: ['billing-oncall@team-b.example.com'] };

const monitoredService = (t: typeof TEAM_A) => ({
  apiVersion: 'vigil.dev/v1alpha1',
  kind: 'MonitoredService',
  metadata: { namespace: t.namespace, name: t.name },
  // Nothing to scrape and no alert of its own: every email seen here is a test email.
  spec: { selector: { matchLabels: { app: `${t.name}-none` } }, endpoints: [{ port: 'metrics' }], downAlert: { enabled: false }, notify: { email: { to: t.to } } },
});

const theStack = useStack({
  name: 'test-email',
  applyDemo: false,
  setup: async (stack) => {
    for (const t of [TEAM_A, TEAM_B]) await stack.kubectl(['create', 'namespace', t.namespace]);
    await stack.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [monitoredService(TEAM_A), monitoredService(TEAM_B)] }));
  },
});

async function statusOf(t: typeof TEAM_A): Promise<{ testEmail?: TestEmailStatus; conditions?: { type: string; status: string }[] }> {
  return JSON.parse((await theStack().kubectl(['get', 'monitoredservice', t.name, '-n', t.namespace, '-o', 'jsonpath={.status}'])) || '{}');
}

function configApplied(t: typeof TEAM_A): Promise<unknown> {
  return waitForCondition(theStack().cluster, t, 'ConfigApplied', { status: 'True' }, { timeoutMs: 120_000, intervalMs: 1000 });
}

function annotate(t: typeof TEAM_A, token: string): Promise<string> {
  return theStack().kubectl(['annotate', 'monitoredservice', t.name, '-n', t.namespace, `vigil.dev/test-email=${token}`, '--overwrite']);
}

function recordedFor(t: typeof TEAM_A, token: string, timeoutMs = 120_000): Promise<TestEmailStatus> {
  return pollUntil(
    `${t.namespace}/${t.name} status.testEmail for token ${token}`,
    timeoutMs,
    async () => {
      const e = (await statusOf(t)).testEmail;
      return e?.token === token && e.result !== 'Waiting' ? e : undefined;
    },
    { intervalMs: 1000 },
  );
}

/** Test emails in the catcher, oldest first. */
async function testEmails(): Promise<MailSummary[]> {
  return (await theStack().mailpit.client.list()).filter((m) => m.Subject.includes('VigilTestEmail')).sort((a, b) => Date.parse(a.Created) - Date.parse(b.Created));
}

function waitForTestEmails(count: number): Promise<MailSummary[]> {
  return pollUntil(
    `${count} test emails`,
    120_000,
    async () => {
      const mails = await testEmails();
      return mails.length >= count ? mails : undefined;
    },
    { intervalMs: 1000 },
  );
}

const recipients = (m: MailSummary) => (m.To ?? []).map((a) => a.Address).sort();

test("a token sends one test email to exactly the service's recipients, marked as a test; the same token never again; a new one at once", async () => {
  const s = theStack();
  await Promise.all([configApplied(TEAM_A), configApplied(TEAM_B)]);
  await annotate(TEAM_A, 'after-install-1');
  const sent = await recordedFor(TEAM_A, 'after-install-1');
  expect(sent).toMatchObject({ result: 'Sent', message: expect.stringContaining(`to spec.notify.email.to (${TEAM_A.to[0]})`) });

  const [mail] = await waitForTestEmails(1);
  expect(mail!.Subject).toBe('[FIRING:1] VigilTestEmail team-a/orders (info)');
  expect(recipients(mail!)).toEqual(TEAM_A.to);
  const full = await s.mailpit.client.message(mail!.ID);
  expect(full.Text).toContain('TEST EMAIL for MonitoredService team-a/orders: nothing is wrong, no action needed');
  expect(full.Text).toContain('This is a test, not an outage.');
  expect(full.Text).toContain('vigil.dev/test-email="after-install-1"');

  // The same token again, with another change that makes the operator look at the object: nothing more.
  await s.kubectl(['annotate', 'monitoredservice', TEAM_A.name, '-n', TEAM_A.namespace, 'vigil.dev/test-email=after-install-1', 'example.com/touched=1', '--overwrite']);
  await new Promise((r) => setTimeout(r, 15_000));
  expect((await testEmails()).length).toBe(1);
  expect((await statusOf(TEAM_A)).testEmail).toEqual(sent);

  // A new token while the first test alert still fires: its own email, at once (its own group).
  await annotate(TEAM_A, 'after-install-2');
  expect(await recordedFor(TEAM_A, 'after-install-2')).toMatchObject({ result: 'Sent' });
  const mails = await waitForTestEmails(2);
  expect(mails.map((m) => [m.Subject, recipients(m)])).toEqual([
    ['[FIRING:1] VigilTestEmail team-a/orders (info)', TEAM_A.to],
    ['[FIRING:1] VigilTestEmail team-a/orders (info)', TEAM_A.to],
  ]);
  // Team B's route is in the same config, and nothing reached it.
  expect((await s.mailpit.client.list()).filter((m) => recipients(m).some((a) => TEAM_B.to.includes(a)))).toEqual([]);
}, 420_000);

test("a silence of the service's alerts holds the test email back, as it would a real alert", async () => {
  const s = theStack();
  const before = (await testEmails()).length;
  const now = Date.now();
  const res = await fetch(`${s.alertmanager.url}/api/v2/silences`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      matchers: [
        { name: 'vigil_namespace', value: TEAM_B.namespace, isRegex: false, isEqual: true },
        { name: 'vigil_monitoredservice', value: TEAM_B.name, isRegex: false, isEqual: true },
      ],
      startsAt: new Date(now).toISOString(),
      endsAt: new Date(now + 3_600_000).toISOString(),
      createdBy: 'test-email.int.test.ts',
      comment: 'maintenance of team-b/billing',
    }),
  });
  expect(res.status).toBe(200);
  const { silenceID } = (await res.json()) as { silenceID: string };
  try {
    await annotate(TEAM_B, 'while-silenced');
    expect(await recordedFor(TEAM_B, 'while-silenced')).toMatchObject({ result: 'Sent' });
    await new Promise((r) => setTimeout(r, 15_000));
    expect((await testEmails()).length).toBe(before);
  } finally {
    await fetch(`${s.alertmanager.url}/api/v2/silence/${silenceID}`, { method: 'DELETE' });
  }
  // Held back, not lost: once the silence is gone, the still firing test alert is emailed.
  const mails = await waitForTestEmails(before + 1);
  const last = mails[mails.length - 1]!;
  expect([last.Subject, recipients(last)]).toEqual(['[FIRING:1] VigilTestEmail team-b/billing (info)', TEAM_B.to]);
  expect((await s.mailpit.client.message(last.ID)).Text).toContain('vigil.dev/test-email="while-silenced"');
}, 300_000);

test('with Alertmanager down the status says Failed with the error; once it is back the next token goes through', async () => {
  const s = theStack();
  const before = (await testEmails()).length;
  await s.stopComponent('alertmanager');
  try {
    await annotate(TEAM_B, 'while-down');
    const failed = await recordedFor(TEAM_B, 'while-down');
    expect(failed).toMatchObject({ result: 'Failed', message: expect.stringContaining(`Alertmanager did not take the test alert: POST ${s.alertmanager.url}/api/v2/alerts: fetch failed`) });
  } finally {
    await s.startComponent('alertmanager');
  }
  // Nothing else harmed: team A's service is applied and Ready again, and a new token on B goes through.
  await Promise.all([configApplied(TEAM_A), configApplied(TEAM_B)]);
  await annotate(TEAM_B, 'after-restart');
  expect(await recordedFor(TEAM_B, 'after-restart')).toMatchObject({ result: 'Sent', message: expect.stringContaining(TEAM_B.to[0]!) });
  const mails = await waitForTestEmails(before + 1);
  const last = mails[mails.length - 1]!;
  expect(last.Subject).toBe('[FIRING:1] VigilTestEmail team-b/billing (info)');
  expect(recipients(last)).toEqual(TEAM_B.to);
}, 420_000);

test("annotated at creation: it waits for Alertmanager to run the service's route, then goes to its recipients", async () => {
  const s = theStack();
  const TEAM_C = { namespace: 'team-c', name: 'search', to: ['search-oncall@team-c.example.com'] };
  const before = (await testEmails()).length;
  await s.kubectl(['create', 'namespace', TEAM_C.namespace]);
  const object = monitoredService(TEAM_C);
  await s.kubectl(['apply', '-f', '-'], JSON.stringify({ ...object, metadata: { ...object.metadata, annotations: { 'vigil.dev/test-email': 'at-creation' } } }));
  // Sent only once ConfigApplied is True: before, the alert would match no service route and reach nobody.
  expect(await recordedFor(TEAM_C, 'at-creation')).toMatchObject({ result: 'Sent', message: expect.stringContaining(TEAM_C.to[0]!) });
  const mails = await waitForTestEmails(before + 1);
  const last = mails[mails.length - 1]!;
  expect([last.Subject, recipients(last)]).toEqual(['[FIRING:1] VigilTestEmail team-c/search (info)', TEAM_C.to]);
}, 300_000);

test('vigil test-email <namespace>/<name> sets a new token, waits for the result and exits 0 on Sent', async () => {
  const s = theStack();
  const before = (await testEmails()).length;
  const out: string[] = [];
  const err: string[] = [];
  const code = await runTestEmailCommand([`${TEAM_A.namespace}/${TEAM_A.name}`, '--kubeconfig', s.kubeconfigPath, '--timeout', '2m'], {
    out: (l) => void out.push(l),
    err: (l) => void err.push(l),
    env: {},
    token: () => 'from-the-cli',
  });
  expect({ code, err }).toEqual({ code: 0, err: [] });
  expect(out).toEqual([
    'MonitoredService team-a/orders: vigil.dev/test-email=from-the-cli set; waiting for the operator (status.testEmail)',
    expect.stringMatching(/^MonitoredService team-a\/orders: Sent: Alertmanager accepted the test alert VigilTestEmail at .*, to spec\.notify\.email\.to \(orders-oncall@team-a\.example\.com\)/),
  ]);
  const mails = await waitForTestEmails(before + 1);
  const last = mails[mails.length - 1]!;
  expect([last.Subject, recipients(last)]).toEqual(['[FIRING:1] VigilTestEmail team-a/orders (info)', TEAM_A.to]);
  expect((await s.mailpit.client.message(last.ID)).Text).toContain('vigil.dev/test-email="from-the-cli"');
}, 300_000);
