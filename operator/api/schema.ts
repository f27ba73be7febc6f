// The MonitoredService API (vigil.dev/v1alpha1): the single source of truth.
// The CRD in crds/ is generated from these zod schemas (operator/api/generate-crd.ts),
// and the operator, the CLI and the renderers all parse objects with them.
// Patterns here are also enforced by kube-apiserver (Go RE2): keep them free of lookarounds.
import { z } from 'zod';
import { DURATION_PATTERN, SCRAPE_DURATION_PATTERN } from '../validate/duration.js';
import { ScrapeLimitsSchema } from './scrape-limits.js';
import { ALWAYS_SCRAPE_CLASSIC_HISTOGRAMS_DESCRIPTION, NATIVE_HISTOGRAMS_DESCRIPTION, ScrapeAuthorizationSchema, ScrapeBasicAuthSchema, ScrapeTLSConfigSchema } from './scrape-auth.js';
import { API_GROUP } from './group.js';

export { API_GROUP };
export const API_VERSION = 'v1alpha1';
export const KIND = 'MonitoredService';
export const PLURAL = 'monitoredservices';
export const SINGULAR = 'monitoredservice';
export const SHORT_NAMES = ['msvc', 'ms'];

/**
 * Prometheus duration: <number><unit> parts with units in decreasing order, each at most once,
 * e.g. 30s, 1m30s, 2h, 1d12h (what Prometheus' model.ParseDuration accepts; "1s1m" is rejected there).
 */
export { DURATION_PATTERN };
/**
 * Durations of scrape interval and timeout: only h, m, s and ms, so that the CRD's CEL rule can
 * compare them with CEL's duration() (Go syntax, which has no d, w or y).
 */
export { SCRAPE_DURATION_PATTERN };
/** Scrape interval and timeout when the endpoint sets neither (Prometheus' own defaults are 1m and 10s). */
export const DEFAULT_SCRAPE_INTERVAL = '15s';
export const DEFAULT_SCRAPE_TIMEOUT = '10s';
/**
 * Shortest scrape timeout Vigil accepts, and so shortest interval (the timeout never exceeds it).
 * A healthy target fails every scrape that takes longer than its timeout (a TLS handshake, a GC
 * pause, a large exposition), and then ServiceDown pages for it; below a second that is routine.
 */
export const MIN_SCRAPE_TIMEOUT = '1s';
/**
 * How far back Prometheus looks for the latest sample of a series in an instant selector (`up`),
 * its default --query.lookback-delta, which Vigil does not change. The next sample of an endpoint
 * lands at most interval + scrapeTimeout after the previous one: above this, instant selectors
 * find nothing between scrapes.
 */
export const LOOKBACK_DELTA = '5m';
/** Metadata limits. Rendered ConfigMap keys are `<namespace>__<name>.rules.yaml` and must stay within 253 characters. */
export const MAX_NAMESPACE_LENGTH = 63;
export const MAX_NAME_LENGTH = 253 - MAX_NAMESPACE_LENGTH - '__'.length - '.rules.yaml'.length;
const DNS_SUBDOMAIN_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const DNS_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/**
 * A plain email address, local@domain. Deliberately narrow: no display names, quotes, spaces, commas,
 * angle brackets, braces or line breaks, so an address can neither inject mail headers nor be read as an
 * Alertmanager template. Dots only between characters of the part before @ (RFC 5322's dot-atom): Go's
 * net/mail, which Alertmanager parses its whole `to` list with, refuses .a@, a.@ and a..b@, and then
 * nobody on the list gets the email (operator/validate/email.ts checks with net/mail itself).
 */
export const EMAIL_PATTERN = '^[A-Za-z0-9_%+-]+(\\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*$';
/** Most labels a matchLabels or rule labels map may hold (bounds the CRD's CEL cost too). */
export const MAX_LABELS = 64;
/**
 * A Kubernetes label key, as the API server's IsQualifiedName checks it: an optional DNS-subdomain
 * prefix (at most 253 characters, checked by MAX_LABEL_KEY_PREFIX_LENGTH) and /, then a name of at
 * most 63 characters (bounded repetition, which RE2 supports).
 */
export const LABEL_KEY_PATTERN = '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';
/** Longest prefix (before the /) of a label key: a DNS subdomain. */
export const MAX_LABEL_KEY_PREFIX_LENGTH = 253;
/** Prefix (253) + / + name (63). */
export const MAX_LABEL_KEY_LENGTH = MAX_LABEL_KEY_PREFIX_LENGTH + 1 + 63;
const LABEL_VALUE_PATTERN = '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$';
/**
 * A Service port name: the API server checks it as a DNS-1123 label (lowercase letters, digits
 * and -, starting and ending with a letter or digit, at most 63 characters). The 15-character
 * IANA_SVC_NAME limit applies to *container* port names, not to Service ports (issue #11).
 */
export const SERVICE_PORT_NAME_PATTERN = DNS_LABEL_PATTERN;
export const MAX_SERVICE_PORT_NAME_LENGTH = 63;
/**
 * Characters a metrics path must not hold. Prometheus sends the path as written, percent-encoding
 * what a URL path cannot carry (Go's url.URL.Path, scrape/target.go), so each of these reaches the
 * app as a literal character of the path, never as what it is meant to be there.
 */
export const PATH_FORBIDDEN_CHARACTERS: readonly { character: string; message: string }[] = [
  {
    character: '?',
    message: 'must not contain ?: Prometheus would request it as part of the path (/metrics%3Fformat=...) and get 404; put query parameters in params, e.g. params: {format: [prometheus]}',
  },
  { character: '#', message: 'must not contain #: Prometheus would request it as part of the path (%23), never as a fragment; leave the fragment out' },
  { character: '%', message: 'must not contain %: Prometheus percent-encodes the path itself, so %2F would be requested as %252F; write the character itself' },
];
/** Bounds of an endpoint's params (also bound the CRD's CEL cost). */
export const MAX_PARAMS = 32;
export const MAX_PARAM_NAME_LENGTH = 256;
/** A Prometheus alert name / label name. */
export const PROMETHEUS_NAME_PATTERN = '^[a-zA-Z_][a-zA-Z0-9_]*$';

const duration = (what: string) =>
  z
    .string()
    .min(1, { message: 'must be a Prometheus duration such as 30s, 1m or 1h30m', abort: true })
    .max(32, { abort: true })
    .regex(new RegExp(DURATION_PATTERN), {
      message: 'must be a Prometheus duration such as 30s, 1m, 1h30m or 1d (units y, w, d, h, m, s, ms in that order)',
    })
    .describe(`${what} A Prometheus duration such as 30s, 1m or 1h30m.`);

const scrapeDuration = (what: string) =>
  z
    .string()
    .min(1, { message: 'must be a duration such as 15s, 1m or 1m30s', abort: true })
    .max(32, { abort: true })
    .regex(new RegExp(SCRAPE_DURATION_PATTERN), {
      message: 'must be a duration such as 15s, 1m or 1m30s (units h, m, s, ms in that order)',
    })
    .describe(`${what} A duration such as 15s, 1m or 1m30s (units h, m, s, ms).`);

const LABEL_KEY_MESSAGE =
  'must be a Kubernetes label key: an optional DNS prefix (lowercase, at most 253 characters) and /, then at most 63 letters, digits, -, _ and ., starting and ending with a letter or digit';
const LABEL_VALUE_MESSAGE = 'must be a Kubernetes label value: at most 63 letters, digits, -, _ and ., starting and ending with a letter or digit';

export const SeveritySchema = z.enum(['critical', 'warning', 'info']).describe('Severity label put on the alert; routes and email subjects show it.');

export const LabelSelectorRequirementSchema = z
  .object({
    key: z
      .string()
      .min(1, { abort: true })
      .max(MAX_LABEL_KEY_LENGTH, { abort: true })
      .regex(new RegExp(LABEL_KEY_PATTERN), { message: LABEL_KEY_MESSAGE })
      .describe('Label key the requirement applies to.'),
    operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']).describe('How the key relates to the values.'),
    values: z
      .array(z.string().max(63, { abort: true }).regex(new RegExp(LABEL_VALUE_PATTERN), { message: LABEL_VALUE_MESSAGE }))
      .max(64)
      .optional()
      .describe('Values for In and NotIn; must be empty for Exists and DoesNotExist.'),
  })
  .describe('A label selector requirement, as in Kubernetes label selectors.');

export const LabelSelectorSchema = z
  .object({
    matchLabels: z
      .record(
        z.string().max(MAX_LABEL_KEY_LENGTH, { abort: true }).regex(new RegExp(LABEL_KEY_PATTERN), { message: LABEL_KEY_MESSAGE }),
        z.string().max(63, { abort: true }).regex(new RegExp(LABEL_VALUE_PATTERN), { message: LABEL_VALUE_MESSAGE }),
      )
      .meta({ maxProperties: MAX_LABELS })
      .optional()
      .describe('Labels the Service must carry, key: value.'),
    matchExpressions: z.array(LabelSelectorRequirementSchema).max(32).optional().describe('Set-based requirements on the Service labels.'),
  })
  .describe("Label selector for the Service(s) to scrape, in the MonitoredService's own namespace. At least one of matchLabels or matchExpressions must be set.");

export const EndpointSchema = z
  .object({
    port: z
      .string()
      .min(1, { abort: true })
      .max(MAX_SERVICE_PORT_NAME_LENGTH, { message: `must be a Service port name: at most ${MAX_SERVICE_PORT_NAME_LENGTH} characters`, abort: true })
      .regex(new RegExp(SERVICE_PORT_NAME_PATTERN), {
        message: `must be a Service port name: lowercase letters, digits and -, starting and ending with a letter or digit, at most ${MAX_SERVICE_PORT_NAME_LENGTH} characters`,
      })
      .describe('Name of the Service port to scrape (the port must be named in the Service; a DNS label of at most 63 characters).'),
    path: PATH_FORBIDDEN_CHARACTERS.reduce(
      (schema, { character, message }) => schema.refine((path) => !path.includes(character), { message }),
      z
        .string()
        .max(1024, { abort: true })
        .regex(/^\/[!-~]*$/, { message: 'must start with / and contain only printable ASCII without spaces' }),
    )
      .default('/metrics')
      .describe('HTTP path of the metrics endpoint, without query string (see params) or fragment: ?, # and % are refused, since Prometheus would send them percent-encoded as part of the path.'),
    params: z
      .record(z.string().min(1, { abort: true }).max(MAX_PARAM_NAME_LENGTH), z.array(z.string().max(1024)).min(1, { message: 'must list at least one value (an empty list sends nothing)' }).max(16))
      .meta({ maxProperties: MAX_PARAMS })
      .optional()
      .describe(
        "Query parameters of the scrape request, name: list of values, as Prometheus's scrape_config params and ServiceMonitor endpoints have them; e.g. {format: [prometheus]} requests path?format=prometheus.",
      ),
    scheme: z.enum(['http', 'https']).default('http').describe('Scheme used to scrape the endpoint.'),
    // No schema defaults here: a default the user did not write must never be why an object is
    // refused (issue #11). scrapeTiming() (operator/render/scrape-timing.ts) fills them in the way
    // Prometheus composes its own defaults.
    interval: scrapeDuration(
      `How often Prometheus scrapes this endpoint. Default ${DEFAULT_SCRAPE_INTERVAL}, or scrapeTimeout when that is longer. At least ${MIN_SCRAPE_TIMEOUT}. Interval plus scrapeTimeout must not exceed ${LOOKBACK_DELTA} (Prometheus's lookback: beyond it, up has no current sample between scrapes).`,
    ).optional(),
    scrapeTimeout: scrapeDuration(
      `Timeout of one scrape; at least ${MIN_SCRAPE_TIMEOUT} (a healthy target fails scrapes that take longer) and at most interval. Default ${DEFAULT_SCRAPE_TIMEOUT}, or interval when that is shorter (as Prometheus does).`,
    ).optional(),
    // TLS, authorization and native histograms: operator/api/scrape-auth.ts.
    tlsConfig: ScrapeTLSConfigSchema.optional(),
    authorization: ScrapeAuthorizationSchema.optional(),
    basicAuth: ScrapeBasicAuthSchema.optional(),
    nativeHistograms: z.boolean().optional().describe(NATIVE_HISTOGRAMS_DESCRIPTION),
    alwaysScrapeClassicHistograms: z.boolean().optional().describe(ALWAYS_SCRAPE_CLASSIC_HISTOGRAMS_DESCRIPTION),
  })
  .describe('One port of the selected Service(s) that serves Prometheus metrics.');

export const DownAlertSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Whether the built-in ServiceDown alert is generated.'),
    for: duration(
      'How long the service must be down before the alert fires. Keep it longer than discovery takes to see replaced pods (about 13 s plus one scrape and one evaluation interval; the default 1m is, up to 30 s scrape intervals): a rolling update that replaces every pod faster than that, of pods that stop serving at SIGTERM, can leave the service without a healthy target as Prometheus sees it for that long. Refused when a Prometheus restart on a kept TSDB could outlast it (no staleness marker at shutdown: up can go missing for up to interval + scrapeTimeout + 30s of the fastest endpoint); the defaults never are, intervals above about 1m15s need a for above that.',
    ).default('1m'),
    severity: SeveritySchema.default('critical'),
  })
  .describe('The built-in ServiceDown alert: fires when a target fails to scrape and when no healthy target exists at all (for example after its pod was deleted).');

export const AlertRuleSchema = z
  .object({
    name: z
      .string()
      .min(1, { abort: true })
      .max(63, { abort: true })
      .regex(new RegExp(PROMETHEUS_NAME_PATTERN), { message: 'must be a Prometheus alert name: letters, digits and _, not starting with a digit' })
      .describe('Alert name (alertname label), unique within this MonitoredService.'),
    expr: z
      .string()
      .min(1)
      .max(4096)
      .describe(
        "PromQL expression; the alert fires for every series it returns. Every selector is restricted to the MonitoredService's namespace. " +
          'A range must hold the samples its function needs: at least 2 scrape intervals for rate, irate, increase, delta, idelta, deriv, predict_linear, changes, resets, stddev_over_time and stdvar_over_time, ' +
          'at least 1 for the other range functions (4 recommended), counting the longest interval of the endpoints whose job the selector can match (all of them without a job matcher); ' +
          'a subquery range at least as many steps.',
      ),
    for: duration('How long the expression must hold before the alert fires.').default('0s'),
    severity: SeveritySchema.default('warning'),
    summary: z.string().max(1024).optional().describe('Summary annotation; Prometheus template syntax such as {{ $labels.instance }} is allowed.'),
    description: z.string().max(4096).optional().describe('Description annotation; Prometheus template syntax is allowed.'),
    labels: z
      .record(
        z.string().max(63, { abort: true }).regex(new RegExp(PROMETHEUS_NAME_PATTERN), { message: 'must be a Prometheus label name: letters, digits and _, not starting with a digit' }),
        z.string().max(256),
      )
      .meta({ maxProperties: MAX_LABELS })
      .optional()
      .describe(
        "Extra labels put on the alert. Refused: names starting with __ or vigil_, alertname and severity (their own fields), namespace (always the object's namespace) and cluster (the install's external label).",
      ),
  })
  .describe('A custom alert rule evaluated by Prometheus.');

export const EmailNotificationSchema = z
  .object({
    to: z
      .array(
        z
          .string()
          .min(3, { abort: true })
          .max(254, { abort: true })
          .regex(new RegExp(EMAIL_PATTERN), {
            message: 'must be a plain email address such as team@example.com (no display name, spaces, commas, quotes, angle brackets or line breaks)',
          })
          .describe('An email address (local@domain).'),
      )
      .min(1)
      .max(100)
      .describe("Recipients of this service's alert emails."),
    sendResolved: z.boolean().default(true).describe('Whether an email is also sent when the alert resolves.'),
  })
  .describe("Email notification for this service's alerts.");

export const NotifySchema = z
  .object({
    email: EmailNotificationSchema.optional(),
  })
  .describe("Where this service's alerts go. Without it they go to the cluster-wide default receiver.");

export const MonitoredServiceSpecSchema = z
  .object({
    selector: LabelSelectorSchema,
    endpoints: z.array(EndpointSchema).min(1).max(16).describe('Ports of the selected Services to scrape; each becomes one scrape job.'),
    downAlert: DownAlertSchema.default({ enabled: true, for: '1m', severity: 'critical' }),
    rules: z.array(AlertRuleSchema).max(50).default([]).describe('Custom alert rules for this service.'),
    notify: NotifySchema.optional(),
    limits: ScrapeLimitsSchema.optional(),
  })
  .describe('What to scrape, which alerts to evaluate and who gets the emails.');

export const ConditionSchema = z
  .object({
    type: z.string().max(64).describe('Condition type: Valid, ConfigApplied, TargetsHealthy, RulesHealthy, EmailDelivered or Ready.'),
    status: z.enum(['True', 'False', 'Unknown']).describe('Status of the condition.'),
    reason: z.string().max(128).describe('Machine-readable reason in CamelCase.'),
    message: z.string().max(32768).describe('Human-readable explanation.'),
    lastTransitionTime: z.string().describe('When the status last changed (RFC 3339).'),
    observedGeneration: z.number().int().optional().describe('metadata.generation this condition was computed for.'),
  })
  .describe('A status condition.');

export const InstallStatusSchema = z
  .object({
    namespace: z.string().describe('Namespace of the Vigil install (operator, Prometheus, Alertmanager) that reconciles this object.'),
    selector: z.string().optional().describe("That install's label selector on MonitoredServices (operator --selector); absent: every MonitoredService."),
    watchNamespaces: z.array(z.string()).optional().describe('The namespaces that install watches; absent: all.'),
  })
  .describe('The install that reconciles this object and its scope. Another install whose scope also selects the object leaves it alone while this scope still selects it.');

export const TestEmailStatusSchema = z
  .object({
    token: z.string().describe('The value of the vigil.dev/test-email annotation this result is for; a new value sends a new test email.'),
    result: z
      .enum(['Sent', 'Failed', 'Waiting', 'Refused'])
      .describe(
        "Sent: Alertmanager accepted the test alert (whether the email was delivered is Alertmanager's to tell). Failed: Alertmanager did not take it (message: its error). " +
          "Waiting: not sent yet, because Alertmanager does not run this service's route (ConfigApplied is False); it is sent once it does. Refused: the token cannot be used (message: what is accepted).",
      ),
    message: z.string().max(32768).describe('What happened, in words: the recipients the route reaches, or the error.'),
    time: z.string().describe('When the result was recorded (RFC 3339); for Sent and Failed, when the alert was posted.'),
  })
  .describe('The last test email asked for with the annotation vigil.dev/test-email=<token> (kubectl annotate ms <name> vigil.dev/test-email=$(date +%s) --overwrite).');

export const MonitoredServiceStatusSchema = z
  .object({
    install: InstallStatusSchema.optional(),
    observedGeneration: z.number().int().optional().describe('The metadata.generation the operator last processed.'),
    conditions: z
      .array(ConditionSchema)
      .optional()
      .describe(
        'Valid: the spec passed validation (False: InvalidSpec, naming the field, or NoLongerValid when a generation an earlier operator version accepted is refused; the refused rules and endpoints are left out and the rest keeps running, a downAlert.for a Prometheus restart outlasts runs with the shortest accepted one). ' +
          'ConfigApplied: Prometheus and Alertmanager run a config that includes this generation (False: CredentialsNotFound (a Secret, ConfigMap or key that tlsConfig, authorization or basicAuth names is missing, unreadable or not PEM; the service is left out until it is fixed), ApplyPending, ReloadFailed, ConfigTooLarge, NotIncluded, ' +
          'RejectedByPrometheus, RejectedByAlertmanager (the server refused the config because of this generation: the others are applied without it, and the generation that ran before keeps running), PrometheusConfigMismatch, AlertmanagerConfigMismatch, InstallRemoved (the install that reconciled it was uninstalled: nothing scrapes it or emails its alerts until another install takes it over); Unknown: AlertmanagerUnreachable). ' +
          'TargetsHealthy: at least one target scrapes successfully; the message quotes the scrape errors Prometheus reports for failing targets. ' +
          'False: NoMatchingService (the selector matches no Service), PortNotFound (no selected Service has a port of that name), NoNamedPort (only unnamed ports), ' +
          'NoTargets (0 discovered, after the discovery grace), or every scraped target fails, the reason naming the class of the most common error: TLSError (x509/TLS: CA, server name, certificate), ' +
          'HTTPErrorStatus (e.g. 404: wrong path), ScrapeTimeout (no answer within scrapeTimeout), ConnectionRefused (nothing listens on the port), ' +
          'LimitExceeded (a sample, label or body size limit), NoHealthyTargets (any other error). ' +
          "Unknown: NotDiscoveredYet (0 discovered within the discovery grace of new or changed scrape jobs, the grace of the ServiceDown alert: 2 scrape intervals + 30 s (this part at most 4m), or interval + timeout + 30 s when that is longer, counted from Prometheus's first evaluation of its rules with them; not failing; a service without downAlert, or one Prometheus will not run (left out of the config, or the config not written or not loaded), has none), " +
          'NotScrapedYet (discovered, first scrape not done: not failing), PrometheusUnreachable, TargetsUnknown (no Prometheus URL or not polled yet), NotScraped (invalid spec). ' +
          'RulesHealthy: Prometheus evaluates every rule of the service without error (False: RuleEvaluationFailed, naming each failing rule with its error: it cannot fire; ' +
          'Unknown: RulesNotLoaded, RulesNotEvaluatedYet, PrometheusUnreachable, TargetsUnknown, NotEvaluated). ' +
          "EmailDelivered: the last emails Alertmanager tried to send to the receiver of this service's route were accepted by the SMTP server (False: NotificationsFailing, " +
          'every attempt since the time named failed, Alertmanager retries and its log has the error; NoRecipients, no spec.notify.email.to and no default recipients; ' +
          'Unknown: NoNotificationsYet, AlertmanagerUnreachable, DeliveryUnknown, NotEvaluated). ' +
          'Ready: Valid, ConfigApplied and TargetsHealthy are True, RulesHealthy is not False and EmailDelivered is not False (nobody would be told; a service without alerts is exempt); ' +
          'otherwise False (Unknown when target health is unknown) with the reason of the first that is not. ' +
          'After `helm uninstall` of the install that reconciled it (and before another install takes it over): ConfigApplied and Ready False, TargetsHealthy, RulesHealthy and EmailDelivered Unknown, each with reason InstallRemoved, and no status.install.',
      ),
    discoveredTargets: z.number().int().optional().describe('Targets Prometheus discovered for this service (absent while Prometheus does not answer).'),
    healthyTargets: z.number().int().optional().describe('Discovered targets whose last scrape succeeded (absent while Prometheus does not answer).'),
    appliedConfigHash: z.string().optional().describe('Hash of the configuration Prometheus and Alertmanager run that includes this service.'),
    lastValidGeneration: z
      .number()
      .int()
      .optional()
      .describe(
        'The generation in force: the newest that passed validation, or, when a server refused a newer valid one (RejectedByPrometheus/RejectedByAlertmanager), the one that runs instead. While a newer one is invalid or refused, the config keeps running this one.',
      ),
    lastValidSpec: z
      .string()
      .optional()
      .describe('The spec of lastValidGeneration as JSON, kept so that an invalid edit (or an operator restart meanwhile) does not take the service out of the config.'),
    testEmail: TestEmailStatusSchema.optional(),
  })
  .describe('Observed state, written by the operator.');

export const ObjectMetaSchema = z.object({
  name: z
    .string()
    .min(1, { abort: true })
    .max(MAX_NAME_LENGTH, { message: `must be at most ${MAX_NAME_LENGTH} characters, so that the generated rule file name stays a valid ConfigMap key`, abort: true })
    .regex(new RegExp(DNS_SUBDOMAIN_PATTERN), { message: 'must be a DNS subdomain: lowercase letters, digits, - and ., starting and ending with a letter or digit' }),
  namespace: z
    .string()
    .min(1, { abort: true })
    .max(MAX_NAMESPACE_LENGTH, { abort: true })
    .regex(new RegExp(DNS_LABEL_PATTERN), { message: 'must be a DNS label: lowercase letters, digits and -, starting and ending with a letter or digit' }),
  generation: z.number().int().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

export const MonitoredServiceSchema = z.object({
  apiVersion: z.literal(`${API_GROUP}/${API_VERSION}`),
  kind: z.literal(KIND),
  metadata: ObjectMetaSchema,
  spec: MonitoredServiceSpecSchema,
  status: MonitoredServiceStatusSchema.optional(),
});

export type MonitoredServiceInput = z.input<typeof MonitoredServiceSchema>;
/** A MonitoredService after parsing: defaults filled in. */
export type MonitoredService = z.output<typeof MonitoredServiceSchema>;
export type MonitoredServiceSpec = z.output<typeof MonitoredServiceSpecSchema>;
export type Endpoint = z.output<typeof EndpointSchema>;
export type AlertRule = z.output<typeof AlertRuleSchema>;
export type LabelSelector = z.output<typeof LabelSelectorSchema>;
export type Condition = z.output<typeof ConditionSchema>;
export type MonitoredServiceStatus = z.output<typeof MonitoredServiceStatusSchema>;
export type InstallStatus = z.output<typeof InstallStatusSchema>;
export type TestEmailStatus = z.output<typeof TestEmailStatusSchema>;
export type Severity = z.output<typeof SeveritySchema>;
