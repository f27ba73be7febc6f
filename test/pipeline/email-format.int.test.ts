// The email as it arrives (issue #11), through the real programs of the local stack: Prometheus
// fires a rule, Alertmanager sends through stunnel's TLS listener (implicit TLS forced), Mailpit keeps
// the raw message. Checked on what arrived, not on the templates:
// - 100 recipients of 60 characters (the schema's maximum count): every line of every message within
//   RFC 5322's 998 characters, and every recipient in exactly one message;
// - the annotation names the rule's own label, alertname and severity: their values arrive (Prometheus
//   alone would print them empty);
// - the value is in the description, and the multi-line description stays indented in the text part
//   (a line reading "Bcc: ..." must not start a line);
// - the text part's amtool command, run as printed, silences exactly the email's group;
// - the objects validation refuses (a label holding $value; .Value.foo) are Valid=False naming the
//   field, and no email ever comes from them.
// Needs root (Prometheus runs in a private mount namespace, as in the local stack); every listener
// is a free loopback port. VIGIL_EMAIL_SAMPLE=<file> writes one arrived email as JSON (the examples
// in the README's "The email you get" and docs/monitoredservice.md's "The alert email").
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { MAX_HEADER_LINE, recipientGroups } from '../../operator/render/alertmanager.js';
import { isAlertEmailFor, type MailSummary } from '../../hack/local-stack/mailpit.js';
import { BIN_DIR } from '../../hack/local-stack/components.js';
import { useStack } from '../../hack/local-stack/fixture.js';
import { getJson, pollUntil } from '../../hack/local-stack/net.js';

const run = promisify(execFile);
const NAMESPACE = 'mail-format';
const NAME = 'orders';
const RECIPIENTS = Array.from({ length: 100 }, (_, i) => `oncall-${String(i).padStart(3, '0')}-`.padEnd(48, 'x') + '@example.com');

const monitoredService = (name: string, rule: Record<string, unknown>, to: string[]) => ({
  apiVersion: 'vigil.dev/v1alpha1',
  kind: 'MonitoredService',
  metadata: { namespace: NAMESPACE, name },
  spec: {
    // Nothing to scrape: the rule below fires on its own.
    selector: { matchLabels: { app: `${name}-none` } },
    endpoints: [{ port: 'metrics' }],
    downAlert: { enabled: false },
    rules: [{ name: 'OrdersBacklog', expr: 'vector(42) > 0', ...rule }],
    notify: { email: { to, sendResolved: false } },
  },
});

// Started before the tests, stopped after them (hack/local-stack/fixture.ts); the objects go in once it is up.
const theStack = useStack({
  name: 'email-format',
  applyDemo: false,
  setup: async (stack) => {
    await stack.kubectl(['create', 'namespace', NAMESPACE]);
    const objects = [
      monitoredService(
        NAME,
        {
          labels: { team: 'payments' },
          summary: '{{ $labels.alertname }} for team {{ $labels.team }} ({{ $labels.severity }})',
          description: 'Backlog is {{ $value }} orders.\nBcc: intruder@example.com\nSee the runbook.',
        },
        RECIPIENTS,
      ),
      monitoredService('label-holds-value', { labels: { current: '{{ $value }}' } }, ['refused@example.com']),
      monitoredService('field-of-value', { summary: '{{ .Value.foo }}' }, ['refused@example.com']),
    ];
    await stack.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
  },
});

test('the refused objects say why, naming the field', async () => {
  const s = theStack();
  const valid = async (name: string) => {
    const out = await s.kubectl(['get', 'monitoredservice', name, '-n', NAMESPACE, '-o', 'jsonpath={.status.conditions[?(@.type=="Valid")]}']);
    return out.trim() ? (JSON.parse(out) as { status: string; message: string }) : undefined;
  };
  await pollUntil('Valid conditions on the three objects', 120_000, async () => (await Promise.all([NAME, 'label-holds-value', 'field-of-value'].map(valid))).every((c) => c !== undefined));
  expect((await valid(NAME))?.status).toBe('True');
  expect(await valid('label-holds-value')).toMatchObject({ status: 'False', message: expect.stringMatching(/spec\.rules\[0\]\.labels\.current: depends on the alert's value/) });
  expect(await valid('field-of-value')).toMatchObject({ status: 'False', message: expect.stringMatching(/spec\.rules\[0\]\.summary: fails when Prometheus expands it.*can't evaluate field foo/) });
}, 180_000);

test('100 recipients: every one gets exactly one email, every line within 998 characters, text indented, labels filled in', async () => {
  const s = theStack();
  const groups = recipientGroups(RECIPIENTS);
  expect(groups.length).toBeGreaterThan(1); // one To line of all 100 would be 6,000+ characters
  let mails: MailSummary[] = [];
  await pollUntil(
    `${groups.length} firing emails for ${NAMESPACE}/${NAME}`,
    240_000,
    async () => {
      mails = (await s.mailpit.client.list()).filter((m) => isAlertEmailFor(m.Subject, 'firing', NAMESPACE, NAME));
      return mails.length >= groups.length;
    },
    { intervalMs: 1000 },
  );
  // Two more evaluation rounds: no extra email (each recipient exactly once).
  await new Promise((r) => setTimeout(r, 12_000));
  mails = (await s.mailpit.client.list()).filter((m) => isAlertEmailFor(m.Subject, 'firing', NAMESPACE, NAME));
  const received = mails.flatMap((m) => (m.To ?? []).map((a) => a.Address)).sort();
  expect(received).toEqual([...RECIPIENTS].sort());

  // One real email as it arrived, for the README's and docs' email examples (VIGIL_EMAIL_SAMPLE=<file>).
  if (process.env.VIGIL_EMAIL_SAMPLE && mails[0]) {
    const { writeFile } = await import('node:fs/promises');
    const sample = mails[0];
    const headers = await s.mailpit.client.headers(sample.ID);
    const full = await s.mailpit.client.message(sample.ID);
    await writeFile(process.env.VIGIL_EMAIL_SAMPLE, JSON.stringify({ subject: sample.Subject, headers, text: full.Text, html: full.HTML }, null, 2));
  }
  for (const mail of mails) {
    const raw = await s.mailpit.client.raw(mail.ID);
    const tooLong = raw.split(/\r?\n/).filter((line) => line.length > MAX_HEADER_LINE);
    expect(tooLong.map((l) => `${l.slice(0, 60)}... (${l.length})`)).toEqual([]);
    const full = await s.mailpit.client.message(mail.ID);
    // Known labels arrive filled in; nothing printed empty or failed.
    expect(full.Text).toContain('OrdersBacklog [warning]: OrdersBacklog for team payments (warning)');
    expect(full.HTML).toContain('OrdersBacklog for team payments (warning)');
    // The text part arrives with CRLF line ends (quoted-printable); compare lines.
    expect(full.Text.replace(/\r\n/g, '\n')).toContain('\n    Backlog is 42 orders.\n    Bcc: intruder@example.com\n    See the runbook.\n');
    expect(full.Text).not.toMatch(/^Bcc:/m);
    expect(full.Text).not.toMatch(/<no value>|<error expanding template/);
  }
  // The text part's amtool command, run as printed, silences exactly this group in the real Alertmanager.
  const first = await s.mailpit.client.message((mails[0] as MailSummary).ID);
  const command = /^ {2}or from a shell: {4}(amtool silence add .*)$/m.exec(first.Text.replace(/\r\n/g, '\n'))?.[1];
  expect(command).toBeDefined();
  await run('sh', ['-c', command as string], { env: { ...process.env, PATH: `${BIN_DIR}:${process.env.PATH}` }, timeout: 30_000 });
  const silences = await getJson<{ status: { state: string }; comment: string; matchers: { name: string; value: string; isEqual: boolean; isRegex: boolean }[] }[]>(
    `${s.alertmanager.url}/api/v2/silences`,
  );
  expect(silences.filter((x) => x.status.state === 'active').map((x) => [x.comment, [...x.matchers].sort((a, b) => a.name.localeCompare(b.name))])).toEqual([
    [
      'silenced from the alert email',
      [
        { name: 'alertname', value: 'OrdersBacklog', isEqual: true, isRegex: false },
        { name: 'vigil_monitoredservice', value: NAME, isEqual: true, isRegex: false },
        { name: 'vigil_namespace', value: NAMESPACE, isEqual: true, isRegex: false },
      ],
    ],
  ]);
  // Nothing ever came from the refused objects.
  expect((await s.mailpit.client.list()).filter((m) => /label-holds-value|field-of-value/.test(m.Subject))).toEqual([]);
}, 300_000);
