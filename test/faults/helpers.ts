// What the fault tests observe of the local stack (hack/local-stack): alerts as Prometheus and
// Alertmanager hold them, Alertmanager's own counters, the demo service's emails in Mailpit, and
// getting the stack back to a known quiet state between faults.
import { DEMO_NAME, DEMO_NAMESPACE } from '../../hack/local-stack/demo.js';
import { isAlertEmailFor, type AlertState, type MailSummary } from '../../hack/local-stack/mailpit.js';
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

const isFor = (labels: Record<string, string>, ref: ServiceRef) =>
  labels.vigil_namespace === ref.namespace && labels.vigil_monitoredservice === ref.name;

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

/** Sum of the samples of `name` whose label set contains every `labels` pair (text exposition). */
export function sumSamples(exposition: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of exposition.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const set = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => set.includes(`${k}=${JSON.stringify(v)}`))) sum += Number(m[3]);
  }
  return sum;
}

export async function metricsText(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`GET ${url}/metrics: HTTP ${res.status}`);
  return res.text();
}

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
  await pollUntil('no active alert of the demo service in Alertmanager', 60_000, async () =>
    (await alertmanagerAlertsFor(s, DEMO)).every((a) => a.status.state !== 'active'), { intervalMs: 500 });
  await s.mailpit.client.deleteAll();
}
