// Alertmanager routes by recipient set (operator/render/alertmanager.ts), through real programs: a
// Prometheus evaluating the rendered rule files, Alertmanager running the rendered alertmanager.yml,
// Mailpit receiving. Every service's rule fires at once (`vector(1) > 0`), so each step's emails are
// known exactly:
// 1. upgrade: services A and B (same owners) first run as the previous release rendered them (rules
//    without vigil_receiver, a route and receiver per service) and email their owners; then the new
//    rules and alertmanager.yml are loaded. Measured: what the owners get at that moment;
// 2. A and B share one receiver, yet each email names its own service and goes to the owners;
// 3. adding C with the same owners sends C's email only: A's and B's are not sent again;
// 4. deleting C (its owners still own A and B): measured;
// 5. upgrade again (D and E, other owners), Prometheus reloaded well before Alertmanager: measured.
// Every listener is a free loopback port; every process is stopped by PID in afterAll, also after a failure.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { BIN_DIR, startAlertmanager, type Alertmanager } from '../../hack/local-stack/components.js';
import { isAlertEmailFor, startMailpit, type Mailpit, type MailSummary } from '../../hack/local-stack/mailpit.js';
import { freePorts, getJson, httpGet, pollUntil, sleep } from '../../hack/local-stack/net.js';
import { logTail, startProcess, type ManagedProcess } from '../../hack/local-stack/process.js';
import { MonitoredServiceSchema, type MonitoredService } from '../../operator/api/schema.js';
import { renderConfig } from '../../operator/assemble/config.js';
import { defaultSettings } from '../../operator/render/index.js';
import { recipientSetReceiver } from '../../operator/render/names.js';
import type { RenderedConfig } from '../../operator/render/types.js';

const NAMESPACE = 'shop';
const OWNERS = ['team@example.com', 'lead@example.com'];
const RECEIVER = recipientSetReceiver({ to: OWNERS, sendResolved: true });
/** Long enough for a second email to follow the first: the demo profile's group_interval is 1s, Prometheus evaluates every 1s. */
const QUIET_MS = 15_000;

const service = (name: string, owners = OWNERS): MonitoredService =>
  MonitoredServiceSchema.parse({
    apiVersion: 'vigil.dev/v1alpha1',
    kind: 'MonitoredService',
    metadata: { namespace: NAMESPACE, name },
    spec: {
      // Nothing to scrape: the rule fires on its own.
      selector: { matchLabels: { app: name } },
      endpoints: [{ port: 'metrics' }],
      downAlert: { enabled: false },
      rules: [{ name: 'Outage', expr: 'vector(1) > 0', severity: 'critical' }],
      notify: { email: { to: owners } },
    },
  });

interface Run {
  work: string;
  processes: ManagedProcess[];
  mailpit?: Mailpit;
  alertmanager?: Alertmanager;
  prometheusUrl: string;
  promConfigDir: string;
  settings: ReturnType<typeof defaultSettings>;
}
const run: Run = { work: '', processes: [], prometheusUrl: '', promConfigDir: '', settings: defaultSettings() };

/** The rendered config with Prometheus's scrape jobs left out (no Kubernetes here): rules and alerting as rendered. */
function prometheusFiles(rendered: RenderedConfig): Record<string, string> {
  const doc = parse(rendered.prometheus['prometheus.yml']!) as Record<string, unknown>;
  doc.scrape_configs = [];
  return { ...rendered.prometheus, 'prometheus.yml': stringify(doc) };
}

/**
 * What the previous release rendered for `services` (sharing `receiver`; the rest as rendered now):
 * their rules without vigil_receiver, a route and an email receiver per service.
 */
function previousRelease(rendered: RenderedConfig, services: MonitoredService[], receiver = RECEIVER): { prometheus: Record<string, string>; alertmanager: Record<string, string> } {
  const prometheus = prometheusFiles(rendered);
  const ruleFiles = new Set(services.map((s) => `${s.metadata.namespace}__${s.metadata.name}.rules.yaml`));
  for (const [file, text] of Object.entries(prometheus)) {
    if (!ruleFiles.has(file)) continue;
    const doc = parse(text) as { groups: { rules: { labels?: Record<string, string> }[] }[] };
    for (const rule of doc.groups.flatMap((g) => g.rules)) delete rule.labels?.vigil_receiver;
    prometheus[file] = stringify(doc);
  }
  const am = parse(rendered.alertmanager['alertmanager.yml']!) as {
    route: { routes: { receiver: string; matchers?: string[] }[] };
    receivers: { name: string; email_configs?: unknown[] }[];
  };
  const shared = am.receivers.find((r) => r.name === receiver)!;
  const perService = services.map((s) => ({ name: `${s.metadata.namespace}/${s.metadata.name}`, email_configs: shared.email_configs }));
  am.route.routes = am.route.routes.flatMap((r) =>
    r.receiver === receiver
      ? services.map((s) => ({
          receiver: `${s.metadata.namespace}/${s.metadata.name}`,
          matchers: [`vigil_namespace="${s.metadata.namespace}"`, `vigil_monitoredservice="${s.metadata.name}"`],
          continue: false,
        }))
      : [r],
  );
  am.receivers = am.receivers.flatMap((r) => (r.name === receiver ? perService : [r]));
  return { prometheus, alertmanager: { ...rendered.alertmanager, 'alertmanager.yml': stringify(am) } };
}

/**
 * Writes both file sets and reloads Alertmanager, then Prometheus, or the other way round: their sync
 * sidecars apply each on its own, in no set order.
 */
async function load(
  files: { prometheus: Record<string, string>; alertmanager: Record<string, string> },
  first: 'alertmanager' | 'prometheus' = 'alertmanager',
  between: () => Promise<void> = async () => {},
): Promise<void> {
  for (const [file, text] of Object.entries(files.alertmanager)) await writeFile(join(run.alertmanager!.configDir, file), text);
  for (const [file, text] of Object.entries(files.prometheus)) await writeFile(join(run.promConfigDir, file), text);
  const urls = [`${run.alertmanager!.url}/-/reload`, `${run.prometheusUrl}/-/reload`];
  if (first === 'prometheus') urls.reverse();
  for (const [i, url] of urls.entries()) {
    if (i === 1) await between();
    const r = await fetch(url, { method: 'POST' });
    expect([url, r.status]).toEqual([url, 200]);
  }
}

const outageEmails = async (since: number): Promise<MailSummary[]> =>
  (await run.mailpit!.client.list()).filter((m) => Date.parse(m.Created) >= since && m.Subject.includes(' Outage ')).sort((a, b) => Date.parse(a.Created) - Date.parse(b.Created));
const summaryOf = (m: MailSummary) => `${m.Subject} -> ${(m.To ?? []).map((a) => a.Address).join(',')}`;
const firing = (name: string, owners = OWNERS, count = 1) => `[FIRING:${count}] Outage ${NAMESPACE}/${name} (critical) -> ${owners.join(',')}`;

beforeAll(async () => {
  run.work = await mkdtemp(join(tmpdir(), 'vigil-recipient-sets-'));
  const [promPort, amPort, smtpPort, uiPort] = await freePorts(4);
  run.mailpit = await startMailpit({ bin: join(BIN_DIR, 'mailpit'), dir: run.work, smtpPort: smtpPort!, uiPort: uiPort! });
  run.processes.push(run.mailpit.process);
  run.settings = defaultSettings({
    profile: 'demo',
    evaluationInterval: '1s',
    alertmanagerTargets: [`127.0.0.1:${amPort}`],
    smtp: { smarthost: `127.0.0.1:${smtpPort}`, requireTls: false },
    selfScrapeJobs: [],
  });
  const amConfig = join(run.work, 'alertmanager-config');
  await mkdir(amConfig, { recursive: true });
  run.alertmanager = await startAlertmanager({ dir: join(run.work, 'alertmanager'), configDir: amConfig, port: amPort! });
  run.processes.push(run.alertmanager.process);

  const dir = join(run.work, 'prometheus');
  run.promConfigDir = join(dir, 'config');
  await mkdir(join(dir, 'data'), { recursive: true });
  await mkdir(run.promConfigDir, { recursive: true });
  await writeFile(join(run.promConfigDir, 'prometheus.yml'), 'global: {}\n');
  run.prometheusUrl = `http://127.0.0.1:${promPort}`;
  const prometheus = startProcess(
    'prometheus',
    join(BIN_DIR, 'prometheus'),
    [
      `--config.file=${join(run.promConfigDir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      `--web.external-url=${run.prometheusUrl}`,
      '--web.enable-lifecycle',
      // Prometheus sends a firing alert with endsAt 4 resend delays ahead (default 1m): 5s lets the
      // previous release's alerts end within 20 s of their last send instead of 4 minutes.
      '--rules.alert.resend-delay=5s',
    ],
    join(dir, 'prometheus.log'),
  );
  run.processes.push(prometheus);
  await pollUntil('Prometheus ready', 60_000, async () => (await httpGet(`${run.prometheusUrl}/-/ready`).catch(() => ({ status: 0 }))).status === 200, {
    intervalMs: 200,
    check: () => {
      if (!prometheus.isRunning()) throw new Error(`prometheus exited; last log lines (${prometheus.logFile}):\n${logTail(prometheus.logFile)}`);
    },
  });
}, 120_000);

afterAll(async () => {
  for (const proc of [...run.processes].reverse()) await proc.stop(5000);
  if (run.work) await rm(run.work, { recursive: true, force: true });
}, 60_000);

describe('one Alertmanager receiver per recipient set', () => {
  const ab = [service('a'), service('b')];

  it('upgrade from a route per service: each firing service emails its owners once more (its alert has a new identity); the old alerts end without a RESOLVED', async () => {
    const before = Date.now();
    await load(previousRelease(renderConfig(ab, run.settings), ab));
    const old = await pollUntil('the previous release to email A and B', 90_000, async () => {
      const mails = await outageEmails(before);
      return mails.length >= 2 ? mails : undefined;
    });
    expect(old.map(summaryOf).sort()).toEqual([firing('a'), firing('b')]);

    const upgradedAt = Date.now();
    await load({ prometheus: prometheusFiles(renderConfig(ab, run.settings)), alertmanager: renderConfig(ab, run.settings).alertmanager });
    const again = await pollUntil('the upgraded config to email A and B', 60_000, async () => {
      const mails = await outageEmails(upgradedAt);
      return mails.length >= 2 ? mails : undefined;
    });
    // The old alerts (no vigil_receiver) are held on the receiver without integrations until they end.
    const held = await getJson<{ labels: Record<string, string>; receivers: { name: string }[]; status: { state: string } }[]>(`${run.alertmanager!.url}/api/v2/alerts`);
    const oldHeld = held.filter((a) => a.labels.alertname === 'Outage' && a.labels.vigil_receiver === undefined);
    for (const a of oldHeld) expect(a.receivers.map((r) => r.name)).toEqual(['vigil-unowned']);
    // Prometheus no longer sends them (their rule's labels changed, so its state was not carried over):
    // they end at the endsAt it last sent, and their RESOLVED goes to that receiver too.
    await pollUntil('the old alerts to end at Alertmanager', 120_000, async () => {
      const active = await getJson<{ labels: Record<string, string> }[]>(`${run.alertmanager!.url}/api/v2/alerts?active=true&silenced=true&inhibited=true`);
      return active.every((a) => a.labels.alertname !== 'Outage' || a.labels.vigil_receiver !== undefined);
    });
    const endedAt = Date.now();
    await sleep(QUIET_MS);
    const after = await outageEmails(upgradedAt);
    expect(after.map(summaryOf).sort()).toEqual([firing('a'), firing('b')]);
    process.stderr.write(
      `[recipient-sets] upgrade: ${after.length} emails in the ${Math.round((Date.now() - upgradedAt) / 1000)} s after it: ${after.map(summaryOf).join('; ')}; ` +
        `first after ${((Date.parse(again[0]!.Created) - upgradedAt) / 1000).toFixed(1)} s; ${oldHeld.length} old alerts held on vigil-unowned, ended ${Math.round((endedAt - upgradedAt) / 1000)} s after the upgrade\n`,
    );
  }, 300_000);

  it('A and B share one receiver and route, yet each email names its own service and goes to the owners', async () => {
    const doc = parse(renderConfig(ab, run.settings).alertmanager['alertmanager.yml']!) as { route: { routes: { receiver: string }[] }; receivers: { name: string }[] };
    expect(doc.route.routes.filter((r) => r.receiver === RECEIVER)).toHaveLength(1);
    expect(doc.receivers.filter((r) => r.name === RECEIVER)).toHaveLength(1);
    const alerts = await pollUntil('A and B firing at Alertmanager with the new label', 30_000, async () => {
      const all = await getJson<{ labels: Record<string, string>; receivers: { name: string }[]; status: { state: string } }[]>(
        `${run.alertmanager!.url}/api/v2/alerts?filter=${encodeURIComponent(`vigil_receiver=${JSON.stringify(RECEIVER)}`)}`,
      );
      return all.length === 2 ? all : undefined;
    });
    expect(alerts.map((a) => `${a.labels.vigil_monitoredservice} -> ${a.receivers.map((r) => r.name).join()}`).sort()).toEqual([`a -> ${RECEIVER}`, `b -> ${RECEIVER}`]);
    // The emails of the upgrade step came through that receiver: one per service, each naming its service.
    const mails = await outageEmails(0);
    for (const name of ['a', 'b']) {
      const own = mails.filter((m) => isAlertEmailFor(m.Subject, 'firing', NAMESPACE, name));
      const text = (await run.mailpit!.client.message(own.at(-1)!.ID)).Text;
      expect(text).toContain(`vigil_monitoredservice=${name}`);
      expect(text).toContain(`(receiver ${RECEIVER})`);
      expect(text).not.toContain('vigil_receiver=');
    }
  }, 120_000);

  it('adding C with the same owners sends C its email and re-sends nothing of A or B', async () => {
    const abc = [...ab, service('c')];
    const before = renderConfig(ab, run.settings).alertmanager['alertmanager.yml'];
    const rendered = renderConfig(abc, run.settings);
    // C joins the set: alertmanager.yml is byte for byte the same; only C's rule file is new.
    expect(rendered.alertmanager['alertmanager.yml']).toBe(before);
    const addedAt = Date.now();
    await load({ prometheus: prometheusFiles(rendered), alertmanager: rendered.alertmanager });
    await pollUntil('C to email its owners', 60_000, async () => (await outageEmails(addedAt)).length >= 1);
    await sleep(QUIET_MS);
    expect((await outageEmails(addedAt)).map(summaryOf)).toEqual([firing('c')]);
  }, 120_000);

  it("deleting C, whose owners still own A and B: C's alert keeps its route until it ends, so the owners get C's RESOLVED; A and B send nothing", async () => {
    const rendered = renderConfig(ab, run.settings);
    const deletedAt = Date.now();
    // As the sidecar does: files no longer in the set are removed.
    await rm(join(run.promConfigDir, `${NAMESPACE}__c.rules.yaml`));
    await load({ prometheus: prometheusFiles(rendered), alertmanager: rendered.alertmanager });
    await pollUntil("C's RESOLVED email", 120_000, async () => (await outageEmails(deletedAt)).length >= 1);
    await sleep(QUIET_MS);
    expect((await outageEmails(deletedAt)).map(summaryOf)).toEqual([`[RESOLVED] Outage ${NAMESPACE}/c (critical) -> ${OWNERS.join(',')}`]);
  }, 180_000);

  it('upgrade with Prometheus reloaded well before Alertmanager: the old route takes the new alert into the old group, then the new route sends it again', async () => {
    const owners = ['other-team@example.com'];
    const de = [service('d', owners), service('e', owners)];
    const all = [...ab, ...de];
    const rendered = renderConfig(all, run.settings);
    const before = Date.now();
    await load(previousRelease(rendered, de, recipientSetReceiver({ to: owners, sendResolved: true })));
    await pollUntil('the previous release to email D and E', 90_000, async () => (await outageEmails(before)).filter((m) => /shop\/[de] /.test(m.Subject)).length >= 2);
    const upgradedAt = Date.now();
    // Alertmanager reloads only once it holds the new alerts: the longest window a sidecar's delay can make.
    await load({ prometheus: prometheusFiles(rendered), alertmanager: rendered.alertmanager }, 'prometheus', async () => {
      await pollUntil('the new alerts of D and E at the old Alertmanager config', 60_000, async () => {
        const active = await getJson<{ labels: Record<string, string> }[]>(`${run.alertmanager!.url}/api/v2/alerts?active=true`);
        return active.filter((a) => a.labels.alertname === 'Outage' && a.labels.vigil_receiver !== undefined && /^[de]$/.test(a.labels.vigil_monitoredservice ?? '')).length === 2;
      });
      await sleep(5000);
    });
    await pollUntil('the old alerts to end at Alertmanager', 120_000, async () => {
      const active = await getJson<{ labels: Record<string, string> }[]>(`${run.alertmanager!.url}/api/v2/alerts?active=true`);
      return active.every((a) => a.labels.alertname !== 'Outage' || a.labels.vigil_receiver !== undefined);
    });
    await sleep(QUIET_MS);
    const after = await outageEmails(upgradedAt);
    process.stderr.write(`[recipient-sets] upgrade, Prometheus first: ${after.map(summaryOf).join('; ')}\n`);
    // No RESOLVED. Per service: the old group (old route, same group labels) gains the new alert and
    // notifies [FIRING:2]; after the reload the new route's group notifies [FIRING:1].
    expect(after.filter((m) => m.Subject.startsWith('[RESOLVED]'))).toEqual([]);
    expect(
      after
        .filter((m) => /shop\/[de] /.test(m.Subject))
        .map(summaryOf)
        .sort(),
    ).toEqual([firing('d', owners, 2), firing('d', owners), firing('e', owners, 2), firing('e', owners)].sort());
  }, 300_000);
});
