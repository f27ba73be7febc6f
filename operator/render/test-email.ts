// The test alert a team asks for with the vigil.dev/test-email annotation: one alert posted to
// Alertmanager that carries exactly the routing labels of the service's own alerts, so it takes
// the same route, reaches the same recipients and is held back by the same silences.
import { NotifySchema } from '../api/schema.js';
import { LABEL_MONITORED_SERVICE, LABEL_NAMESPACE, LABEL_RECEIVER, recipientSetReceiver, TEST_EMAIL_ALERT } from './names.js';
import type { GlobalSettings } from './types.js';

export { TEST_EMAIL_ALERT };

/** Annotation on a MonitoredService: a token not handled yet (status.testEmail.token) sends one test alert. */
export const TEST_EMAIL_ANNOTATION = 'vigil.dev/test-email';
/**
 * Label carrying the token. It is in the route's group_by (alertmanager.ts GROUP_BY), so each token is
 * its own group and sends its own email at once, even while an earlier test alert still fires;
 * real alerts never carry it (rule labels starting with vigil_ are refused), so their groups are unchanged.
 */
export const LABEL_TEST_TOKEN = 'vigil_test_token';
/** Severity of the test alert: it shows in the subject; Vigil's routes do not match on severity. */
export const TEST_EMAIL_SEVERITY = 'info';
/**
 * How long the test alert fires (ms): longer than any group_wait (30 s in production) so the email
 * is sent while it fires; after it the alert resolves by itself ([RESOLVED] follows with sendResolved).
 */
export const TEST_EMAIL_DURATION_MS = 5 * 60_000;
/** Longest token accepted (it becomes a label value and appears in the subject's filter). */
export const MAX_TEST_TOKEN_LENGTH = 128;

/** One alert as Alertmanager's API v2 takes it (POST /api/v2/alerts, postableAlert). Times are RFC 3339. */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
}

/** Why a token cannot be used, or undefined when it can: 1..MAX_TEST_TOKEN_LENGTH characters, no control characters. */
export function testTokenProblem(token: string): string | undefined {
  if (token.length > MAX_TEST_TOKEN_LENGTH || /[\u0000-\u001f\u007f]/.test(token)) {
    return `annotation ${TEST_EMAIL_ANNOTATION}: the token must be 1 to ${MAX_TEST_TOKEN_LENGTH} characters without control characters (got ${token.length} characters); e.g. $(date +%s)`;
  }
  return undefined;
}

/**
 * The test alert of MonitoredService `ref` (its namespace, name and spec as stored) for `token`, firing from `now` for TEST_EMAIL_DURATION_MS.
 * Labels: the install's external labels (Prometheus adds them to every alert it sends), then the
 * labels Vigil puts on every alert of the service (rules.ts reservedLabels) and the token.
 */
export function testEmailAlert(ref: { namespace: string; name: string; spec: unknown }, token: string, settings: Pick<GlobalSettings, 'externalLabels' | 'alertmanagerUrl'>, now: Date): PostableAlert {
  const labels: Record<string, string> = {
    ...settings.externalLabels,
    alertname: TEST_EMAIL_ALERT,
    severity: TEST_EMAIL_SEVERITY,
    namespace: ref.namespace,
    [LABEL_NAMESPACE]: ref.namespace,
    [LABEL_MONITORED_SERVICE]: ref.name,
    [LABEL_RECEIVER]: specReceiver(ref.spec),
    [LABEL_TEST_TOKEN]: token,
  };
  const object = `MonitoredService ${ref.namespace}/${ref.name}`;
  const filter = `{${LABEL_TEST_TOKEN}=${JSON.stringify(token)}}`;
  return {
    labels,
    annotations: {
      summary: `TEST EMAIL for ${object}: nothing is wrong, no action needed`,
      description:
        `This is a test, not an outage. The annotation ${TEST_EMAIL_ANNOTATION}="${token}" on ${object} asked the Vigil operator to send it ` +
        `through the route this service's own alerts take: it reached you because you get this service's alerts. ` +
        `It resolves by itself ${TEST_EMAIL_DURATION_MS / 60_000} minutes after it started.`,
    },
    startsAt: now.toISOString(),
    endsAt: new Date(now.getTime() + TEST_EMAIL_DURATION_MS).toISOString(),
    generatorURL: `${settings.alertmanagerUrl.replace(/\/+$/, '')}/#/alerts?filter=${encodeURIComponent(filter)}`,
  };
}

/**
 * The receiver a stored spec's alerts are routed to (LABEL_RECEIVER), with the schema's defaults
 * (sendResolved) applied as the rules get them; the default receiver when spec.notify does not
 * parse (such a spec is not the one in force, and ConfigApplied holds the test email back).
 */
function specReceiver(spec: unknown): string {
  const notify = NotifySchema.safeParse((spec as { notify?: unknown } | undefined)?.notify ?? {});
  return recipientSetReceiver(notify.success ? notify.data.email : undefined);
}
