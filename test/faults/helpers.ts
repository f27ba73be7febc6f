// What the fault tests observe of the local stack (hack/local-stack): alerts as Prometheus and
// Alertmanager hold them, Alertmanager's own counters, the demo service's emails in Mailpit, and
// getting the stack back to a known quiet state between faults.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { DEMO_NAME, DEMO_NAMESPACE } from '../../hack/local-stack/demo.js';
import { isAlertEmailFor, type AlertState, type MailSummary } from '../../hack/local-stack/mailpit.js';
import { metricsText, sumSamples } from '../../hack/local-stack/metrics.js';
import { getJson, pollUntil } from '../../hack/local-stack/net.js';
import { COMPONENT_NAMES, type ComponentName, type Stack } from '../../hack/local-stack/stack.js';
import { STUNNEL_UPSTREAM_SOURCE } from '../../hack/local-stack/stunnel.js';

export interface ServiceRef {
  namespace: string;
  name: string;
}

export const DEMO: ServiceRef = { namespace: DEMO_NAMESPACE, name: DEMO_NAME };

export interface AlertmanagerAlert {
  labels: Record<string, string>;
  startsAt: string;
  updatedAt: string;
  endsAt: string;
  status: { state: string };
}

const isFor = (labels: Record<string, string>, ref: ServiceRef) => labels.vigil_namespace === ref.namespace && labels.vigil_monitoredservice === ref.name;

/** The ServiceDown alerts Alertmanager holds for a service (active ones only). */
export async function alertmanagerServiceDown(s: Stack, ref: ServiceRef): Promise<AlertmanagerAlert[]> {
  const alerts = await getJson<AlertmanagerAlert[]>(`${s.alertmanager.url}/api/v2/alerts?active=true&silenced=false&inhibited=false`);
  return alerts.filter((a) => a.labels.alertname === 'ServiceDown' && isFor(a.labels, ref));
}

/** Any alert of the service in Alertmanager (any state). */
async function alertmanagerAlertsFor(s: Stack, ref: ServiceRef): Promise<AlertmanagerAlert[]> {
  const alerts = await getJson<AlertmanagerAlert[]>(`${s.alertmanager.url}/api/v2/alerts`);
  return alerts.filter((a) => isFor(a.labels, ref));
}

/** The state ("pending" / "firing") of the service's alerts in Prometheus, by alert name. */
export async function prometheusAlertStates(s: Stack, ref: ServiceRef): Promise<Map<string, string>> {
  const r = await getJson<{ data: { alerts: { labels: Record<string, string>; state: string }[] } }>(`${s.prometheus.url}/api/v1/alerts`);
  return new Map(r.data.alerts.filter((a) => isFor(a.labels, ref)).map((a) => [a.labels.alertname ?? '', a.state]));
}

// Shared with every stack (hack/local-stack/metrics.ts); re-exported for the fault tests.
export { metricsText, sumSamples };

/** Email notifications Alertmanager gave up on (one per failed flush of a group, retries inside). */
export async function failedEmailNotifications(s: Stack): Promise<number> {
  return sumSamples(await metricsText(s.alertmanager.url), 'alertmanager_notifications_failed_total', { integration: 'email' });
}

export async function alertEmails(s: Stack, state: AlertState, ref: ServiceRef): Promise<MailSummary[]> {
  return (await s.mailpit.client.list()).filter((m) => isAlertEmailFor(m.Subject, state, ref.namespace, ref.name));
}

export const addresses = (mail: MailSummary) => (mail.To ?? []).map((a) => a.Address).sort();

/** Went through the TLS hop: only stunnel connects to Mailpit, and only from 127.0.0.2. */
export async function cameThroughStunnel(s: Stack, mail: MailSummary): Promise<boolean> {
  const headers = await s.mailpit.client.headers(mail.ID);
  return (headers.Received ?? []).join('\n').includes(`[${STUNNEL_UPSTREAM_SOURCE}]`);
}

/** Starts every stack component and the demo target a failed earlier test may have left stopped. */
export async function restartStopped(s: Stack): Promise<void> {
  for (const p of s.processes()) {
    const name = p.name as ComponentName;
    if (!p.isRunning() && COMPONENT_NAMES.includes(name)) await s.startComponent(name);
  }
  if (!s.isTargetRunning()) await s.startTarget();
}

interface MonitoredServiceStatus {
  conditions?: { type: string; status: string; reason: string; message: string }[];
}

export async function condition(s: Stack, ref: ServiceRef, type: string): Promise<{ status: string; reason: string; message: string } | undefined> {
  const out = await s.kubectl(['get', 'monitoredservice', ref.name, '-n', ref.namespace, '-o', 'jsonpath={.status}']);
  const status = (out.trim() ? JSON.parse(out) : {}) as MonitoredServiceStatus;
  return status.conditions?.find((c) => c.type === type);
}

/**
 * The demo target scraped and Ready, no alert of the demo service anywhere (Prometheus or
 * Alertmanager) and an empty mailbox, so the next email's cause is unambiguous.
 */
export async function settle(s: Stack): Promise<void> {
  await restartStopped(s);
  await s.waitForHealthyTarget();
  await pollUntil('the demo MonitoredService to be Ready', 60_000, async () => (await condition(s, DEMO, 'Ready'))?.status === 'True', { intervalMs: 1000 });
  await pollUntil('no alert of the demo service in Prometheus', 60_000, async () => (await prometheusAlertStates(s, DEMO)).size === 0, { intervalMs: 500 });
  // Resolved alerts stay listed for a while; only active ones matter for the next email.
  await pollUntil('no active alert of the demo service in Alertmanager', 60_000, async () => (await alertmanagerAlertsFor(s, DEMO)).every((a) => a.status.state !== 'active'), { intervalMs: 500 });
  await s.mailpit.client.deleteAll();
}

// --- Diagnostics of the mail catcher ----------------------------------------------------------------
// When an email the test saw is later missing, what went wrong is only visible at that moment: which
// Mailpit process answered (its uptime and counters), which messages it held, and who listened on
// its ports. These collect that for the failure output.

interface MailpitInfo {
  Database: string;
  Messages: number;
  RuntimeStats: { Uptime: number; MessagesDeleted: number; SMTPAccepted: number; SMTPRejected: number };
}

export interface MailboxSample {
  at: number;
  pid: number;
  running: boolean;
  /** "ID Created Subject" of every message Mailpit lists, or the error of the list call. */
  messages: string[] | string;
  info: string;
}

const describeMail = (m: MailSummary) => `${m.ID} ${m.Created} ${JSON.stringify(m.Subject)} to ${addresses(m).join(',')}`;

export async function sampleMailbox(s: Stack): Promise<MailboxSample> {
  const mp = s.mailpit;
  const at = Date.now();
  let messages: string[] | string;
  try {
    messages = (await mp.client.list()).map(describeMail);
  } catch (err) {
    messages = `list failed: ${(err as Error).message}`;
  }
  let info: string;
  try {
    const i = await getJson<MailpitInfo>(`${mp.uiUrl}/api/v1/info`);
    const r = i.RuntimeStats;
    info = `uptime ${r.Uptime} s, ${i.Messages} messages, deleted ${r.MessagesDeleted}, smtp accepted ${r.SMTPAccepted} rejected ${r.SMTPRejected}, db ${i.Database}`;
  } catch (err) {
    info = `info failed: ${(err as Error).message}`;
  }
  return { at, pid: mp.process.pid, running: mp.process.isRunning(), messages, info };
}

/** Samples the mailbox every `intervalMs` for `durationMs` (instead of a plain sleep). */
export async function watchMailbox(s: Stack, durationMs: number, intervalMs = 1000): Promise<MailboxSample[]> {
  const end = Date.now() + durationMs;
  const samples: MailboxSample[] = [];
  for (;;) {
    samples.push(await sampleMailbox(s));
    const left = end - Date.now();
    if (left <= 0) return samples;
    await new Promise((r) => setTimeout(r, Math.min(intervalMs, left)));
  }
}

function listeners(ports: number[]): string {
  try {
    const out = execFileSync('ss', ['-ltnpH'], { encoding: 'utf8' });
    return (
      out
        .split('\n')
        .filter((l) => ports.some((p) => new RegExp(`:${p}\\s`).test(l)))
        .join('\n') || '(none)'
    );
  } catch (err) {
    return `ss failed: ${(err as Error).message}`;
  }
}

/** The newest few messages and every one about the demo service (a flood of others stays one line). */
function listing(lines: string[]): string[] {
  if (lines.length <= 20) return lines;
  const demo = ` ${DEMO.namespace}/${DEMO.name} `;
  const older = lines.slice(10);
  return [...lines.slice(0, 10), `  ... ${older.length} older message(s), of which about ${DEMO.namespace}/${DEMO.name}:`, ...older.filter((l) => l.includes(demo))];
}

/**
 * Everything about the mail path worth printing when an email count is wrong. `since`: times are
 * printed relative to it; `mailId`: each sample says whether that message was listed.
 */
export async function mailDiagnostics(s: Stack, samples: MailboxSample[] = [], since = 0, mailId?: string): Promise<string> {
  const now = await sampleMailbox(s);
  const mp = s.mailpit;
  const t = (ms: number) => (since ? `+${((ms - since) / 1000).toFixed(1)} s` : new Date(ms).toISOString());
  const has = (x: MailboxSample) => (mailId && typeof x.messages !== 'string' ? `, ${mailId} ${x.messages.some((m) => m.startsWith(`${mailId} `)) ? 'listed' : 'MISSING'}` : '');
  const fmt = (x: MailboxSample) => `  ${t(x.at)} pid ${x.pid}${x.running ? '' : ' (exited)'}: ${typeof x.messages === 'string' ? x.messages : `${x.messages.length} message(s)`}${has(x)}; ${x.info}`;
  const tail = (file: string, n: number, filter?: RegExp) => {
    if (!existsSync(file)) return `(no ${file})`;
    const lines = readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .filter((l) => !filter || filter.test(l));
    return lines.slice(-n).join('\n');
  };
  return [
    `Mailpit pid ${mp.process.pid} (${mp.process.isRunning() ? 'running' : 'exited'}), API ${mp.uiUrl}, SMTP 127.0.0.1:${mp.smtpPort}; ${now.info}`,
    `messages now (newest first):\n${typeof now.messages === 'string' ? now.messages : listing(now.messages.map((m) => `  ${m}`)).join('\n') || '  (none)'}`,
    samples.length ? `mailbox over time:\n${samples.map(fmt).join('\n')}` : '',
    `listeners on the mail ports:\n${listeners([mp.uiPort, mp.smtpPort, s.stunnel.port])}`,
    `--- ${mp.process.logFile} (tail)\n${tail(mp.process.logFile, 60)}`,
    `--- ${s.stunnel.logFile} (tail)\n${tail(s.stunnel.logFile, 30)}`,
    `--- ${s.alertmanager.process.logFile} (notify lines, tail)\n${tail(s.alertmanager.process.logFile, 30, /notif|email|smtp/i)}`,
  ]
    .filter(Boolean)
    .join('\n');
}
