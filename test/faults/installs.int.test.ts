// Issue #14, "two installs page twice": two Vigil installs against one real API server, each with
// its own operator, Prometheus and Alertmanager (+ sync sidecars), sharing stunnel and Mailpit.
// Install A is the local stack's (namespace vigil-system, --selector 'vigil.dev/install!=b': every
// MonitoredService not meant for B, the demo target included); install B (namespace vigil-b,
// --selector vigil.dev/install=b). Each install reconciles, scrapes and alerts only for its own
// objects, records itself in status.install, and never writes the other's statuses; an object
// relabelled from A to B moves: A lets go, B takes it over, and nothing reaches anyone but the
// object's owners.
//
// Needs root, like the pipeline test: each Prometheus runs in a private mount namespace.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEMO_NAME, DEMO_NAMESPACE } from '../../hack/local-stack/demo.js';
import { useStack } from '../../hack/local-stack/fixture.js';
import { waitForAlertEmail, type MailSummary } from '../../hack/local-stack/mailpit.js';
import { getJson, pollUntil, sleep } from '../../hack/local-stack/net.js';
import { startSecondInstall, type SecondInstall } from '../../hack/local-stack/second-install.js';
import type { Stack } from '../../hack/local-stack/stack.js';
import { recipientSetReceiver } from '../../operator/render/names.js';
import { addresses } from './helpers.js';
import { alwaysFiring, apply, deleteMs, deleteTargets, monitoredService, targetObjects } from './objects.js';

const INSTALL_LABEL = 'vigil.dev/install';
const SELECTOR_A = `${INSTALL_LABEL}!=b`;
const SELECTOR_B = `${INSTALL_LABEL}=b`;
const B_NAMESPACE = 'vigil-b';
const B_DEFAULT_RECIPIENTS = ['oncall-b@vigil.localhost'];

let installB: SecondInstall | undefined;
const log = (m: string) => console.log(`[installs] ${m}`);

const theStack = useStack({
  name: 'installs',
  operatorArgs: [`--selector=${SELECTOR_A}`],
  setup: async (stack) => {
    const verbose = process.env.VIGIL_TEST_VERBOSE === '1' ? { log } : {};
    installB = await startSecondInstall(stack, { namespace: B_NAMESPACE, operatorArgs: [`--selector=${SELECTOR_B}`], defaultRecipients: B_DEFAULT_RECIPIENTS, ...verbose });
  },
  teardown: async () => {
    await installB?.stop();
  },
  startTimeoutMs: 360_000,
  stopTimeoutMs: 90_000,
});

interface Targets {
  data: { activeTargets: { scrapePool: string; health: string }[] };
}

/** The scrape pools of MonitoredServices in the demo namespace that a Prometheus has, e.g. ["demo-target", "inst-a"]. */
async function scrapedServices(prometheusUrl: string): Promise<string[]> {
  const r = await getJson<Targets>(`${prometheusUrl}/api/v1/targets?state=active`);
  const prefix = `vigil/${DEMO_NAMESPACE}/`;
  return [...new Set(r.data.activeTargets.filter((t) => t.scrapePool.startsWith(prefix)).map((t) => t.scrapePool.slice(prefix.length).split('/')[0]!))].sort();
}

interface AmAlert {
  labels: Record<string, string>;
  receivers: { name: string }[];
  status: { state: string };
}

/** Active alerts an Alertmanager holds for MonitoredServices of the demo namespace: "<service> -> <receiver>". */
async function activeAlerts(alertmanagerUrl: string): Promise<string[]> {
  const alerts = await getJson<AmAlert[]>(`${alertmanagerUrl}/api/v2/alerts?active=true`);
  return alerts
    .filter((a) => a.labels.vigil_namespace === DEMO_NAMESPACE)
    .map((a) => `${a.labels.vigil_monitoredservice} -> ${a.receivers.map((x) => x.name).join(',')}`)
    .sort();
}

interface Status {
  install?: Record<string, unknown>;
  healthyTargets?: number;
  conditions?: { type: string; status: string; reason?: string }[];
}

/** The object's status and resourceVersion (which changes with every write, status included). */
async function statusOf(s: Stack, name: string): Promise<Status & { resourceVersion: string }> {
  const out = await s.kubectl(['get', 'monitoredservice', name, '-n', DEMO_NAMESPACE, '-o', 'json']);
  const o = JSON.parse(out) as { metadata: { resourceVersion: string }; status?: Status };
  return { resourceVersion: o.metadata.resourceVersion, ...(o.status ?? {}) };
}

const emailsAbout = async (s: Stack, name: string): Promise<MailSummary[]> => (await s.mailpit.client.list()).filter((m) => m.Subject.split(' ').includes(`${DEMO_NAMESPACE}/${name}`));

/** Lines of an operator log that name the object `demo/<name>`. */
async function logLinesAbout(file: string, name: string): Promise<string[]> {
  return (await readFile(file, 'utf8')).split('\n').filter((l) => l.includes(`"${DEMO_NAMESPACE}/${name}"`));
}

test('two installs: each reconciles, scrapes and alerts only for its own objects; a relabelled object moves without a leak', async () => {
  const s = theStack();
  if (!installB) throw new Error('the second install did not start (see beforeAll)');
  const b = installB;
  const operatorLogA = join(s.stateDir, 'operator.log');
  await s.mailpit.client.deleteAll();
  const objects = [
    ...targetObjects('inst-a', s.ports.target),
    ...targetObjects('inst-b', s.ports.target),
    monitoredService('inst-a', { rules: [alwaysFiring('inst-a')] }),
    monitoredService('inst-b', { labels: { [INSTALL_LABEL]: 'b' }, rules: [alwaysFiring('inst-b')] }),
  ];
  const createdAt = Date.now();
  await apply(s, objects);
  try {
    // Each service's alert reaches its owners once, from its own install.
    for (const name of ['inst-a', 'inst-b']) {
      const { mail, elapsedS } = await waitForAlertEmail(s.mailpit.client, { state: 'firing', namespace: DEMO_NAMESPACE, name, since: createdAt, timeoutMs: 120_000 });
      expect(addresses(mail)).toEqual([`${name}-owners@demo.example`]);
      log(`${name}: firing email to its owners ${elapsedS.toFixed(1)} s after creation`);
    }

    // The scope each install recorded, and what each Prometheus scrapes and each Alertmanager holds.
    expect((await statusOf(s, 'inst-a')).install).toEqual({ namespace: s.installNamespace, selector: SELECTOR_A });
    expect((await statusOf(s, 'inst-b')).install).toEqual({ namespace: B_NAMESPACE, selector: SELECTOR_B });
    expect((await statusOf(s, DEMO_NAME)).install).toEqual({ namespace: s.installNamespace, selector: SELECTOR_A });
    expect(await scrapedServices(s.prometheus.url)).toEqual([DEMO_NAME, 'inst-a']);
    expect(await scrapedServices(b.prometheus.url)).toEqual(['inst-b']);
    // Each to the receiver of its owners (objects.ts monitoredService: `<name>-owners@demo.example`).
    const ownersReceiver = (name: string) => recipientSetReceiver({ to: [`${name}-owners@demo.example`], sendResolved: true });
    expect(await activeAlerts(s.alertmanager.url)).toEqual([`inst-a -> ${ownersReceiver('inst-a')}`]);
    expect(await activeAlerts(b.alertmanager.url)).toEqual([`inst-b -> ${ownersReceiver('inst-b')}`]);

    // No status fight: once the statuses have settled (Ready, the target counted healthy), neither
    // object is written for 30 s with both operators running (the issue saw 42 writes in 30 s).
    const names = ['inst-a', 'inst-b', DEMO_NAME];
    await pollUntil(
      'the three statuses to settle',
      60_000,
      async () => {
        const all = await Promise.all(names.map((n) => statusOf(s, n)));
        // inst-a and inst-b have emailed: where the operator polls Alertmanager, their EmailDelivered
        // leaves NoNotificationsYet at the poll after the email. Every rule group has been evaluated
        // (RulesHealthy leaves RulesNotEvaluatedYet at the rules poll after it; Ready does not wait for it).
        const reasonOf = (st: (typeof all)[number], type: string) => st.conditions?.find((c) => c.type === type)?.reason;
        const settled = (st: (typeof all)[number], n: string) =>
          reasonOf(st, 'RulesHealthy') !== 'RulesNotEvaluatedYet' && (n === DEMO_NAME || reasonOf(st, 'EmailDelivered') !== 'NoNotificationsYet');
        return all.every((st, i) => st.healthyTargets === 1 && st.conditions?.find((c) => c.type === 'Ready')?.status === 'True' && settled(st, names[i] as string));
      },
      { intervalMs: 1000 },
    );
    const before = await Promise.all(names.map((n) => statusOf(s, n)));
    await sleep(30_000);
    const after = await Promise.all(names.map((n) => statusOf(s, n)));
    expect(after).toEqual(before);

    // Exactly one email per service, to its owners; nothing to either install's default recipients.
    for (const name of ['inst-a', 'inst-b']) {
      expect((await emailsAbout(s, name)).map((m) => `${m.Subject} -> ${addresses(m).join(',')}`)).toEqual([`[FIRING:1] LeakProbe ${DEMO_NAMESPACE}/${name} (warning) -> ${name}-owners@demo.example`]);
    }
    // Neither operator wrote or logged anything about the other install's objects.
    expect(await logLinesAbout(b.operatorLogFile, 'inst-a')).toEqual([]);
    expect(await logLinesAbout(b.operatorLogFile, DEMO_NAME)).toEqual([]);
    expect(await logLinesAbout(operatorLogA, 'inst-b')).toEqual([]);

    // Relabelled into B: A's watch loses it and A leaves it out of its config (its active alert in
    // A's Alertmanager goes to vigil-unowned: no email); B sees A's claim is stale and takes it.
    const movedAt = Date.now();
    await s.kubectl(['label', 'monitoredservice', 'inst-a', '-n', DEMO_NAMESPACE, `${INSTALL_LABEL}=b`]);
    await pollUntil('B to record itself in inst-a status.install', 60_000, async () => (await statusOf(s, 'inst-a')).install?.namespace === B_NAMESPACE, { intervalMs: 1000 });
    expect((await statusOf(s, 'inst-a')).install).toEqual({ namespace: B_NAMESPACE, selector: SELECTOR_B });
    await pollUntil(
      'B to scrape inst-a and A to stop',
      90_000,
      async () => {
        const [inA, inB] = [await scrapedServices(s.prometheus.url), await scrapedServices(b.prometheus.url)];
        return !inA.includes('inst-a') && inB.includes('inst-a');
      },
      { intervalMs: 1000 },
    );
    const { mail: moved } = await waitForAlertEmail(s.mailpit.client, { state: 'firing', namespace: DEMO_NAMESPACE, name: 'inst-a', since: movedAt, timeoutMs: 120_000 });
    expect(addresses(moved)).toEqual(['inst-a-owners@demo.example']);
    await pollUntil(
      'A to hold inst-a only on vigil-unowned',
      60_000,
      async () => {
        const held = (await activeAlerts(s.alertmanager.url)).filter((a) => a.startsWith('inst-a '));
        return held.every((a) => a === 'inst-a -> vigil-unowned');
      },
      { intervalMs: 1000 },
    );
    await sleep(15_000);
    // One email from B (its Alertmanager has never notified this alert), none from A, nobody else.
    const afterMove = (await emailsAbout(s, 'inst-a')).filter((m) => Date.parse(m.Created) >= movedAt);
    expect(afterMove.map((m) => `${m.Subject} -> ${addresses(m).join(',')}`)).toEqual([`[FIRING:1] LeakProbe ${DEMO_NAMESPACE}/inst-a (warning) -> inst-a-owners@demo.example`]);
    const defaults = [...s.settings.defaultRecipients, ...B_DEFAULT_RECIPIENTS];
    const toDefaults = (await s.mailpit.client.list()).filter((m) => addresses(m).some((a) => defaults.includes(a)));
    expect(toDefaults.map((m) => m.Subject)).toEqual([]);
  } finally {
    await deleteMs(s, ['inst-a', 'inst-b']);
    await deleteTargets(s, ['inst-a', 'inst-b']);
  }
}, 600_000);
