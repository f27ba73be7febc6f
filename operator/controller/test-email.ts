// The test email on demand: a MonitoredService annotated vigil.dev/test-email=<token> gets one test
// alert posted to Alertmanager (render/test-email.ts), and status.testEmail records the outcome.
// Kept apart from the reconcile plan: it writes only status.testEmail, which the plan's status
// patch never touches (conditions.ts statusMergePatch), so neither overwrites the other.
import type { Condition, TestEmailStatus } from '../api/schema.js';
import { TEST_EMAIL_ANNOTATION, testEmailAlert, testTokenProblem, type PostableAlert } from '../render/test-email.js';
import type { GlobalSettings } from '../render/types.js';
import { serverUrl } from './server-poller.js';
import { REASONS } from './conditions.js';

export { TEST_EMAIL_ANNOTATION };

/** What decideTestEmail reads of one MonitoredService. */
export interface TestEmailInput {
  annotations: Record<string, string> | undefined;
  /** status.testEmail as stored (or as this operator last wrote it, when the cache lags). */
  recorded: TestEmailStatus | undefined;
  /** The service's ConfigApplied condition as the operator last computed it. */
  configApplied: Pick<Condition, 'status' | 'reason' | 'message'> | undefined;
}

/**
 * - none: no annotation, or its token was handled (Sent, Failed, Refused), or Waiting is already recorded as is.
 * - record: write `status` without sending (Refused: a token that cannot be a label value; Waiting:
 *   Alertmanager does not run this service's route yet, so the alert would go elsewhere or nowhere).
 * - send: post the test alert for `token`.
 */
export type TestEmailDecision = { action: 'none' } | { action: 'record'; status: Omit<TestEmailStatus, 'time'> } | { action: 'send'; token: string };

const FINAL_RESULTS: ReadonlySet<string> = new Set(['Sent', 'Failed', 'Refused']);

export function decideTestEmail(input: TestEmailInput): TestEmailDecision {
  const token = input.annotations?.[TEST_EMAIL_ANNOTATION];
  if (token === undefined || token === '') return { action: 'none' };
  const recorded = input.recorded;
  if (recorded?.token === token && FINAL_RESULTS.has(recorded.result)) return { action: 'none' };
  const problem = testTokenProblem(token);
  if (problem !== undefined) return { action: 'record', status: { token, result: 'Refused', message: problem } };
  // Unknown means Alertmanager does not answer: try anyway, and record its error.
  const applied = input.configApplied;
  // Isolation is per server: a service only Prometheus refused has its current route in Alertmanager.
  const routed = applied?.status === 'True' || applied?.status === 'Unknown' || applied?.reason === REASONS.rejectedByPrometheus;
  if (!routed) {
    const why = applied ? `ConfigApplied is ${applied.status} (${applied.reason}: ${applied.message})` : 'the operator has not processed this object yet';
    const message = `not sent yet: Alertmanager does not run this service's route, ${why}; it is sent once ConfigApplied is True`;
    if (recorded?.token === token && recorded.result === 'Waiting' && recorded.message === message) return { action: 'none' };
    return { action: 'record', status: { token, result: 'Waiting', message } };
  }
  return { action: 'send', token };
}

/** Who the service's alerts reach, in words, for the Sent message (spec.notify.email.to, else the defaults). */
export function describeRecipients(spec: unknown, defaultRecipients: readonly string[]): string {
  const to = (spec as { notify?: { email?: { to?: unknown } } } | undefined)?.notify?.email?.to;
  if (Array.isArray(to) && to.length > 0) return `spec.notify.email.to (${to.join(', ')})`;
  if (defaultRecipients.length > 0) return `the default recipients (${defaultRecipients.join(', ')})`;
  return 'nobody: the service has no notify and the install has no default recipients, so Alertmanager drops it';
}

/**
 * Posts alerts to Alertmanager's API v2 (POST <url>/api/v2/alerts; the URL's path is its route
 * prefix). Throws with the HTTP status and Alertmanager's answer, or fetch's error. It runs inside a
 * reconcile, hence the short timeout (ms): a hung Alertmanager delays the others' status by that much.
 */
export async function postAlerts(alertmanagerUrl: string, alerts: PostableAlert[], timeoutMs = 5000): Promise<void> {
  const url = serverUrl(alertmanagerUrl, '/api/v2/alerts');
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts), signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const e = err as { message?: unknown; cause?: { message?: unknown } };
    const cause = typeof e.cause?.message === 'string' ? `: ${e.cause.message}` : '';
    throw new Error(`POST ${url}: ${typeof e.message === 'string' ? e.message : String(err)}${cause}`);
  }
  if (!res.ok) {
    const body = (await res.text().catch(() => '')).trim().slice(0, 512);
    throw new Error(`POST ${url}: HTTP ${res.status}${body ? `: ${body}` : ''}`);
  }
}

/** One MonitoredService as the sender sees it. */
export interface TestEmailObject {
  namespace: string;
  name: string;
  uid: string;
  annotations: Record<string, string> | undefined;
  spec: unknown;
  testEmail: TestEmailStatus | undefined;
  configApplied: Condition | undefined;
}

export interface TestEmailSenderOptions {
  /** Alertmanager's URL as the operator reaches it (--alertmanager-url); undefined: every test fails saying so. */
  alertmanagerUrl: string | undefined;
  /** Writes status.testEmail (a merge patch of that field only). */
  writeStatus: (namespace: string, name: string, testEmail: TestEmailStatus) => Promise<void>;
  /** A Normal or Warning Event on the object (kubectl describe). */
  recordEvent: (o: TestEmailObject, type: 'Normal' | 'Warning', reason: string, message: string) => Promise<void>;
  now?: () => Date;
}

/**
 * Sends the test alerts the objects ask for and records the outcome. Remembers per object (uid) what it
 * last recorded, so a cache that has not seen that status yet never makes it send twice.
 */
export class TestEmailSender {
  private readonly recorded = new Map<string, TestEmailStatus>();
  /** Objects whose last status.testEmail write failed: written again on the next pass, never re-sent. */
  private readonly unwritten = new Set<string>();

  constructor(private readonly opts: TestEmailSenderOptions) {}

  /** One pass over the objects; a failed status write throws after the others were handled. */
  async handle(objects: readonly TestEmailObject[], settings: GlobalSettings): Promise<void> {
    const live = new Set(objects.map((o) => o.uid));
    for (const uid of this.recorded.keys()) if (!live.has(uid)) this.recorded.delete(uid);
    for (const uid of this.unwritten) if (!live.has(uid)) this.unwritten.delete(uid);
    const errors: unknown[] = [];
    for (const o of objects) {
      try {
        await this.handleOne(o, settings);
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw errors[0];
  }

  private async handleOne(o: TestEmailObject, settings: GlobalSettings): Promise<void> {
    const mine = this.recorded.get(o.uid);
    if (mine && this.unwritten.has(o.uid)) {
      await this.write(o, mine);
      return;
    }
    // What this operator wrote wins over a cache that may not have seen it yet.
    const recorded = mine && (!o.testEmail || o.testEmail.time <= mine.time) ? mine : o.testEmail;
    const decision = decideTestEmail({ annotations: o.annotations, recorded, configApplied: o.configApplied });
    if (decision.action === 'none') return;
    const now = (this.opts.now ?? (() => new Date()))();
    const time = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
    let status: TestEmailStatus;
    if (decision.action === 'record') {
      status = { ...decision.status, time };
    } else {
      const alert = testEmailAlert(o, decision.token, settings, now);
      try {
        if (!this.opts.alertmanagerUrl) throw new Error('the operator runs without --alertmanager-url, so it cannot reach Alertmanager');
        await postAlerts(this.opts.alertmanagerUrl, [alert]);
        status = {
          token: decision.token,
          result: 'Sent',
          time,
          message: `Alertmanager accepted the test alert ${alert.labels.alertname} at ${time}; it routes it like this service's alerts, to ${describeRecipients(o.spec, settings.defaultRecipients)} (a silence matching the service's alerts holds it back too); it resolves by itself at ${alert.endsAt.replace(/\.\d{3}Z$/, 'Z')}`,
        };
      } catch (err) {
        status = { token: decision.token, result: 'Failed', time, message: `Alertmanager did not take the test alert: ${err instanceof Error ? err.message : String(err)}` };
      }
    }
    // Remembered before the write: a send is never repeated, even if recording it fails.
    this.recorded.set(o.uid, status);
    await this.write(o, status);
    if (status.result !== 'Waiting') {
      await this.opts.recordEvent(o, status.result === 'Sent' ? 'Normal' : 'Warning', `TestEmail${status.result}`, status.message);
    }
  }

  private async write(o: TestEmailObject, status: TestEmailStatus): Promise<void> {
    try {
      await this.opts.writeStatus(o.namespace, o.name, status);
      this.unwritten.delete(o.uid);
    } catch (err) {
      this.unwritten.add(o.uid);
      throw err;
    }
  }
}
