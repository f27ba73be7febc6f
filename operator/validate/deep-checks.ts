// Checks zod cannot express: relations between fields, PromQL, templates, reserved names.
// They run on the raw object, field by field, so that one run reports every problem even when
// other parts of the object did not parse; a field whose type is wrong was already reported by zod.
import {
  DownAlertSchema,
  AlertRuleSchema,
  DEFAULT_SCRAPE_INTERVAL,
  LOOKBACK_DELTA,
  MIN_SCRAPE_TIMEOUT,
  MAX_LABEL_KEY_PREFIX_LENGTH,
  MAX_LABELS,
  MAX_PARAMS,
  SCRAPE_DURATION_PATTERN,
} from '../api/schema.js';
import { enforceNamespace } from '../promql/enforce-namespace.js';
import { checkPromQL, DEPLOYED_PROMETHEUS } from '../promql/parse.js';
import { EXTERNAL_CLUSTER_LABEL, jobName, sanitizedLabelName, SERVICE_DOWN_ALERT, TARGET_DOWN_ALERT, TEST_EMAIL_ALERT, WATCHDOG_ALERT } from '../render/names.js';
import { scrapeTiming } from '../render/scrape-timing.js';
import type { ValidationIssue } from '../render/types.js';
import { formatDurationMs, MAX_DURATION_MS, parseDurationMs } from './duration.js';
import { foreignJobProblems } from './job-matchers.js';
import { emailAddressProblem, mailParserProblem } from './email.js';
import { formatPath } from './paths.js';
import { rangeProblems, type ScrapedEndpoint } from './range-coverage.js';
import { isTemplateValue, knownAlertLabels, knownLabelTemplateCheck, labelReferences, referencedLabelNames } from '../render/alert-labels.js';
import { resultLabels } from '../promql/result-labels.js';
import type { TemplateCheck } from '../promql/wasm.js';
import { scrapeAuthProblems } from './scrape-auth.js';

/** Alert names of the built-in down alert (see the renderer); custom rules must not take them. */
const BUILT_IN_ALERTS = [SERVICE_DOWN_ALERT, TARGET_DOWN_ALERT];
/** Alert names Vigil itself sends (heartbeat, test email): refused whatever the spec, or a rule's mail would pass for them. */
const RESERVED_ALERTS = [WATCHDOG_ALERT, TEST_EMAIL_ALERT];

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

const defaults = {
  downAlertFor: DownAlertSchema.shape.for.parse(undefined),
  ruleFor: AlertRuleSchema.shape.for.parse(undefined),
  ruleSeverity: AlertRuleSchema.shape.severity.parse(undefined),
};

export function deepChecks(raw: unknown): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const report = (path: PropertyKey[], message: string) => issues.push({ field: formatPath(path), message });
  if (!isObject(raw) || !isObject(raw.spec)) return issues;
  const spec = raw.spec;

  checkSelector(spec.selector, report);
  checkEndpoints(spec.endpoints, report);
  if (isObject(spec.downAlert)) checkDurationRange(spec.downAlert.for ?? defaults.downAlertFor, ['spec', 'downAlert', 'for'], report);
  const namespace = isObject(raw.metadata) && typeof raw.metadata.namespace === 'string' ? raw.metadata.namespace : 'default';
  const serviceName = isObject(raw.metadata) && typeof raw.metadata.name === 'string' ? raw.metadata.name : '';
  checkRules(spec.rules, spec.downAlert, namespace, serviceName, scrapedEndpoints(spec.endpoints, namespace, serviceName), report);
  if (isObject(spec.notify) && isObject(spec.notify.email)) checkRecipients(spec.notify.email.to, report);
  return issues;
}

/**
 * Every address as Go's net/mail reads it (what zod's pattern accepted; Alertmanager parses the joined
 * list with it and fails it whole). Alertmanager sends one RCPT TO per listed address without removing duplicates
 * (notify/email/email.go), so a recipient listed twice may get every email twice. The domain is
 * compared without case (RFC 5321), the local part as written.
 */
function checkRecipients(to: unknown, report: Report): void {
  const first = new Map<string, number>();
  asArray(to).forEach((address, i) => {
    if (typeof address !== 'string') return;
    if (emailAddressProblem(address) === undefined) {
      const problem = mailParserProblem(address);
      if (problem !== undefined) report(['spec', 'notify', 'email', 'to', i], problem);
    }
    const at = address.lastIndexOf('@');
    const key = at < 0 ? address : address.slice(0, at) + address.slice(at).toLowerCase();
    const earlier = first.get(key);
    if (earlier === undefined) first.set(key, i);
    else report(['spec', 'notify', 'email', 'to', i], `${address} is already listed as spec.notify.email.to[${earlier}]; list each recipient once (Alertmanager would send every email to it twice)`);
  });
}

type Report = (path: PropertyKey[], message: string) => void;

/** The pattern accepted the text; this catches values too large for Prometheus. */
function checkDurationRange(value: unknown, path: PropertyKey[], report: Report): number | undefined {
  if (typeof value !== 'string' || !/^[0-9a-z]+$/.test(value) || value.length > 32) return undefined;
  const ms = parseDurationMs(value);
  if (ms === undefined && /^([0-9]+(ms|s|m|h|d|w|y))+$/.test(value)) {
    report(path, `${value} is out of range: Prometheus accepts durations up to ${formatDurationMs(MAX_DURATION_MS)} (2^63-1 nanoseconds, about 292 years)`);
  }
  return ms;
}

function checkSelector(selector: unknown, report: Report): void {
  if (!isObject(selector)) return;
  const matchLabels = isObject(selector.matchLabels) ? Object.keys(selector.matchLabels) : [];
  const expressions = asArray(selector.matchExpressions);
  if (matchLabels.length === 0 && expressions.length === 0) {
    report(['spec', 'selector'], 'must set matchLabels or matchExpressions (an empty selector would scrape every Service in the namespace)');
  }
  if (matchLabels.length > MAX_LABELS) report(['spec', 'selector', 'matchLabels'], `must have at most ${MAX_LABELS} labels, got ${matchLabels.length}`);
  // The key pattern bounds the name part; the prefix bound needs a count (the API server's IsQualifiedName).
  for (const key of matchLabels) checkLabelKeyPrefix(key, ['spec', 'selector', 'matchLabels', key], report);
  checkSanitizedKeyCollisions(matchLabels, expressions, report);
  expressions.forEach((expression, i) => {
    if (!isObject(expression)) return;
    if (typeof expression.key === 'string') checkLabelKeyPrefix(expression.key, ['spec', 'selector', 'matchExpressions', i, 'key'], report);
    const values = asArray(expression.values);
    const path = ['spec', 'selector', 'matchExpressions', i, 'values'];
    if ((expression.operator === 'In' || expression.operator === 'NotIn') && values.length === 0) {
      report(path, `must list at least one value for operator ${expression.operator}`);
    }
    if ((expression.operator === 'Exists' || expression.operator === 'DoesNotExist') && values.length > 0) {
      report(path, `must be empty for operator ${expression.operator}`);
    }
  });
}

/**
 * Selector keys Kubernetes tells apart but Prometheus cannot: its Service meta labels name a key
 * with every character outside [a-zA-Z0-9_] turned into `_` (sanitizedLabelName), so `a.b` and
 * `a-b` share __meta_kubernetes_service_label_a_b, which holds one Service label's value, and the
 * two requirements on it would never both hold: nothing would be discovered. The same key used
 * twice (matchLabels and matchExpressions) is fine: one Kubernetes label, one meta label.
 */
function checkSanitizedKeyCollisions(matchLabels: string[], expressions: unknown[], report: Report): void {
  const keys: { key: string; path: PropertyKey[] }[] = matchLabels.map((key) => ({ key, path: ['spec', 'selector', 'matchLabels', key] }));
  expressions.forEach((expression, i) => {
    if (isObject(expression) && typeof expression.key === 'string') keys.push({ key: expression.key, path: ['spec', 'selector', 'matchExpressions', i, 'key'] });
  });
  const first = new Map<string, { key: string; path: PropertyKey[] }>();
  for (const entry of keys) {
    const name = sanitizedLabelName(entry.key);
    const earlier = first.get(name);
    if (earlier === undefined) first.set(name, entry);
    else if (earlier.key !== entry.key) {
      report(
        entry.path,
        `label key ${entry.key} and ${formatPath(earlier.path)} (${earlier.key}) are the same label for Prometheus (${name}: it turns every character outside [a-zA-Z0-9_] into _), which holds only one Service label's value, so the selector would discover nothing; use keys that differ in letters, digits or _`,
      );
    }
  }
}

function checkLabelKeyPrefix(key: string, path: PropertyKey[], report: Report): void {
  const slash = key.indexOf('/');
  if (slash > MAX_LABEL_KEY_PREFIX_LENGTH) {
    report(path, `label key prefix is ${slash} characters long; Kubernetes allows at most ${MAX_LABEL_KEY_PREFIX_LENGTH} (a DNS subdomain) before the /`);
  }
}

function checkEndpoints(endpoints: unknown, report: Report): void {
  const firstByPort = new Map<string, number>();
  asArray(endpoints).forEach((endpoint, i) => {
    if (!isObject(endpoint)) return;
    const base = ['spec', 'endpoints', i];
    if (typeof endpoint.port === 'string') {
      const first = firstByPort.get(endpoint.port);
      if (first !== undefined) {
        report([...base, 'port'], `port ${JSON.stringify(endpoint.port)} is already scraped by spec.endpoints[${first}]; list each port once`);
      } else firstByPort.set(endpoint.port, i);
    }
    for (const problem of scrapeAuthProblems(endpoint)) report([...base, ...problem.path], problem.message);
    if (isObject(endpoint.params) && Object.keys(endpoint.params).length > MAX_PARAMS) {
      report([...base, 'params'], `must have at most ${MAX_PARAMS} parameters, got ${Object.keys(endpoint.params).length}`);
    }
    // Only what the user wrote is checked against each other: the defaults adapt (scrapeTiming).
    const interval = endpoint.interval === undefined ? undefined : checkDurationRange(endpoint.interval, [...base, 'interval'], report);
    const timeout = endpoint.scrapeTimeout === undefined ? undefined : checkDurationRange(endpoint.scrapeTimeout, [...base, 'scrapeTimeout'], report);
    const tooShortInterval = interval !== undefined && interval < MIN_SCRAPE_TIMEOUT_MS;
    const tooShortTimeout = timeout !== undefined && timeout < MIN_SCRAPE_TIMEOUT_MS;
    if (tooShortInterval) {
      report(
        [...base, 'interval'],
        `${formatDurationMs(interval)} is below ${MIN_SCRAPE_TIMEOUT}: the scrape timeout (at most the interval) would be shorter, and a healthy target fails every scrape that takes longer, so ServiceDown pages for it; use at least ${MIN_SCRAPE_TIMEOUT}, e.g. 15s`,
      );
    }
    if (tooShortTimeout) {
      report(
        [...base, 'scrapeTimeout'],
        `${formatDurationMs(timeout)} is below ${MIN_SCRAPE_TIMEOUT}: a healthy target fails every scrape that takes longer (a TLS handshake, a GC pause, a large exposition), so ServiceDown pages for it; use at least ${MIN_SCRAPE_TIMEOUT}, e.g. 10s`,
      );
    }
    if (tooShortInterval || tooShortTimeout) return;
    if (interval !== undefined && timeout !== undefined && timeout > interval) {
      report(
        [...base, 'scrapeTimeout'],
        `${formatDurationMs(timeout)} exceeds interval ${formatDurationMs(interval)}; the scrape timeout must not exceed the interval (leave scrapeTimeout out to get min(10s, interval))`,
      );
    } else checkLookback(endpoint, base, report);
  });
}

const LOOKBACK_DELTA_MS = parseDurationMs(LOOKBACK_DELTA) as number;
const MIN_SCRAPE_TIMEOUT_MS = parseDurationMs(MIN_SCRAPE_TIMEOUT) as number;

/** The next sample lands at most interval + timeout after the last: beyond the lookback, `up` has gaps. */
function checkLookback(endpoint: Obj, base: PropertyKey[], report: Report): void {
  const { interval, scrapeTimeout } = endpoint;
  if (!isScrapeDuration(interval) || !isScrapeDuration(scrapeTimeout) || (interval === undefined && scrapeTimeout === undefined)) return;
  const timing = scrapeTiming({ interval, scrapeTimeout });
  const intervalMs = parseDurationMs(timing.interval);
  const timeoutMs = parseDurationMs(timing.scrapeTimeout);
  if (intervalMs === undefined || timeoutMs === undefined || intervalMs + timeoutMs <= LOOKBACK_DELTA_MS) return;
  const fix =
    interval !== undefined
      ? `use an interval of at most ${formatDurationMs(Math.max(LOOKBACK_DELTA_MS - timeoutMs, 0))} with this scrapeTimeout`
      : `use a scrapeTimeout of at most ${formatDurationMs(LOOKBACK_DELTA_MS / 2)}`;
  report(
    [...base, interval !== undefined ? 'interval' : 'scrapeTimeout'],
    `interval ${timing.interval} plus scrapeTimeout ${timing.scrapeTimeout} exceeds ${LOOKBACK_DELTA}, how far back Prometheus looks for a sample: between two scrapes up has no current sample, so ServiceDown fires for a healthy app (and rules' for restarts); ${fix}`,
  );
}

const RESERVED_LABELS: { test: (name: string) => boolean; why: string }[] = [
  { test: (n) => n.startsWith('__'), why: 'names starting with __ are reserved for Prometheus internals' },
  { test: (n) => n.startsWith('vigil_'), why: 'names starting with vigil_ are reserved: Vigil routes alerts on them' },
  { test: (n) => n === 'severity', why: "severity is set by the rule's severity field" },
  { test: (n) => n === 'alertname', why: "alertname is set by the rule's name field" },
  { test: (n) => n === 'namespace', why: "namespace is set to the MonitoredService's own namespace on every alert (tenancy: a rule cannot speak for another namespace)" },
  {
    test: (n) => n === EXTERNAL_CLUSTER_LABEL,
    why: `${EXTERNAL_CLUSTER_LABEL} is the install's external label (the chart's clusterName); Prometheus keeps a rule's own ${EXTERNAL_CLUSTER_LABEL} label instead of it, so the alert would claim another cluster`,
  },
];

/**
 * Prometheus's own parse of the template (its error is the one the reload would fail with), the
 * banned `query` function (it runs any PromQL when the alert fires, without the namespace matcher
 * custom rules get: its result would leak other namespaces' series into the email), then an
 * expansion as Prometheus does it when the alert fires, with the labels Vigil writes in (render's
 * substituteKnownLabels): an expansion error would reach the email as
 * `<error expanding template: ...>` (issue #11). Returns the check when the template is sound.
 */
function checkTemplate(value: unknown, path: PropertyKey[], report: Report, known: Record<string, string>): TemplateCheck | undefined {
  if (typeof value !== 'string') return undefined;
  if (!value.includes('{{')) return { dependsOnValue: false, functions: [], references: [], labels: [] };
  const result = knownLabelTemplateCheck(value, known);
  if (result.parseError !== undefined) {
    report(path, `Prometheus ${DEPLOYED_PROMETHEUS} cannot parse it: ${result.parseError} (Prometheus template syntax, e.g. {{ $labels.instance }} or {{ $value | humanize }})`);
    return undefined;
  }
  if (result.functions.includes('query')) {
    report(path, 'the query template function is not allowed: it reads series of every namespace; use $value and $labels of the alert instead');
    return undefined;
  }
  if (result.costError !== undefined) {
    report(path, `is too costly to expand: ${result.costError}`);
    return undefined;
  }
  if (result.expandError !== undefined) {
    report(path, `fails when Prometheus expands it (the email would show "<error expanding template: ...>"): ${result.expandError}`);
    return undefined;
  }
  return result;
}

/**
 * Annotations and label templates see the result series' labels only. Vigil writes in the labels it
 * knows (render/alert-labels.ts); a rule label whose value is itself a template is not known, and
 * a reference to it would print an empty value.
 */
function checkTemplateLabelReferences(value: unknown, path: PropertyKey[], report: Report, templateLabels: ReadonlySet<string>): void {
  if (typeof value !== 'string' || templateLabels.size === 0) return;
  for (const name of new Set(labelReferences(value, templateLabels).map((r) => r.name))) {
    report(
      path,
      `refers to label ${name}, which this rule sets with a template: Prometheus expands this text with the labels of the result series only, so it would print an empty value; write the template of label ${name} here instead`,
    );
  }
}

/**
 * A reference to a label the expression's result cannot carry (it aggregates it away: `sum(...)`,
 * `sum by (job) (...)`) prints an empty value in every email: Prometheus expands annotations with the
 * result series' labels only. Labels Vigil writes in (alertname, severity, namespace, the rule's own)
 * do not count.
 */
function checkProducedLabels(template: string, path: PropertyKey[], report: Report, produced: ReadonlySet<string>, known: Record<string, string>, templateLabels: ReadonlySet<string>): void {
  for (const name of referencedLabelNames(template)) {
    if (produced.has(name) || Object.hasOwn(known, name) || templateLabels.has(name)) continue;
    const has = produced.size > 0 ? `its series carry only ${[...produced].sort().join(', ')}` : 'its series carry no label';
    report(
      path,
      `refers to label ${name}, which the expression's result cannot have (${has}): Prometheus expands this text with the result's labels, so it would print an empty value; keep ${name} in the aggregation (e.g. by (${[...produced, name].sort().map(groupingLabel).join(', ')})) or leave the reference out`,
    );
  }
}

/** A label name as PromQL's by (...) takes it: UTF-8 names outside [a-zA-Z_][a-zA-Z0-9_]* must be quoted (`"http.method"`). */
function groupingLabel(name: string): string {
  return /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name) ? name : JSON.stringify(name);
}

/**
 * The service's scrape jobs with their effective intervals (defaults composed as the renderer
 * does), or none when an endpoint's port or timing is unusable (reported elsewhere).
 */
function scrapedEndpoints(endpoints: unknown, namespace: string, serviceName: string): ScrapedEndpoint[] {
  const out: ScrapedEndpoint[] = [];
  for (const [i, endpoint] of asArray(endpoints).entries()) {
    if (!isObject(endpoint) || typeof endpoint.port !== 'string') return [];
    const { interval, scrapeTimeout } = endpoint;
    if (!isScrapeDuration(interval) || !isScrapeDuration(scrapeTimeout)) return [];
    const intervalMs = parseDurationMs(scrapeTiming({ interval, scrapeTimeout }).interval);
    if (intervalMs === undefined || intervalMs === 0) return [];
    const source =
      interval !== undefined
        ? `spec.endpoints[${i}].interval`
        : `spec.endpoints[${i}] without interval: ${scrapeTimeout !== undefined ? 'its scrapeTimeout' : `the default ${DEFAULT_SCRAPE_INTERVAL}`}`;
    out.push({ job: jobName({ namespace, name: serviceName }, endpoint.port), intervalMs, source });
  }
  return out;
}

const isScrapeDuration = (value: unknown): value is string | undefined =>
  value === undefined || (typeof value === 'string' && value.length <= 32 && new RegExp(SCRAPE_DURATION_PATTERN).test(value) && value !== '');

function checkRules(rules: unknown, downAlert: unknown, namespace: string, serviceName: string, endpoints: readonly ScrapedEndpoint[], report: Report): void {
  const firstByName = new Map<string, number>();
  const downAlertEnabled = !isObject(downAlert) || downAlert.enabled !== false;
  asArray(rules).forEach((rule, i) => {
    if (!isObject(rule)) return;
    const base = ['spec', 'rules', i];
    if (typeof rule.name === 'string') {
      const first = firstByName.get(rule.name);
      if (first !== undefined) report([...base, 'name'], `duplicate rule name ${JSON.stringify(rule.name)} (also spec.rules[${first}].name); names must be unique within a MonitoredService`);
      else firstByName.set(rule.name, i);
      if (BUILT_IN_ALERTS.includes(rule.name) && downAlertEnabled) {
        report([...base, 'name'], `${rule.name} is an alert of the built-in down alert; choose another name or set spec.downAlert.enabled: false`);
      }
      if (RESERVED_ALERTS.includes(rule.name)) {
        report([...base, 'name'], `${rule.name} is reserved for Vigil's built-in alerts (${RESERVED_ALERTS.join(', ')}); choose another name`);
      }
    }
    let exprOk = false;
    if (typeof rule.expr === 'string' && rule.expr.length <= 4096) {
      const result = checkPromQL(rule.expr);
      exprOk = result.ok;
      if (!result.ok) report([...base, 'expr'], result.message);
      else {
        // The renderer adds namespace="<ns>" to every selector and refuses other namespace matchers;
        // refuse them here, or one such rule would make rendering fail for every service.
        try {
          enforceNamespace(rule.expr, namespace);
        } catch (err) {
          report([...base, 'expr'], (err as Error).message.replace(/\s+/g, ' '));
        }
        for (const problem of rangeProblems(rule.expr, endpoints)) report([...base, 'expr'], problem);
        for (const problem of foreignJobProblems(
          rule.expr,
          namespace,
          endpoints.map((e) => e.job),
        ))
          report([...base, 'expr'], problem);
      }
    }
    checkDurationRange(rule.for ?? defaults.ruleFor, [...base, 'for'], report);
    const labels = isObject(rule.labels) ? rule.labels : {};
    const stringLabels = Object.fromEntries(Object.entries(labels).filter((e): e is [string, string] => typeof e[1] === 'string'));
    const known = knownAlertLabels(
      { namespace, name: serviceName },
      { name: typeof rule.name === 'string' ? rule.name : '', severity: typeof rule.severity === 'string' ? rule.severity : defaults.ruleSeverity, labels: stringLabels },
    );
    const templateLabels = new Set(Object.keys(stringLabels).filter((name) => isTemplateValue(stringLabels[name] as string)));
    const produced = exprOk ? resultLabels(rule.expr as string) : undefined;
    for (const field of ['summary', 'description'] as const) {
      const run = checkTemplate(rule[field], [...base, field], report, known);
      checkTemplateLabelReferences(rule[field], [...base, field], report, templateLabels);
      if (run && produced) checkProducedLabels(rule[field] as string, [...base, field], report, produced, known, templateLabels);
    }
    if (isObject(rule.labels)) {
      const names = Object.keys(rule.labels);
      if (names.length > MAX_LABELS) report([...base, 'labels'], `must have at most ${MAX_LABELS} labels, got ${names.length}`);
      for (const name of names) {
        const reserved = RESERVED_LABELS.find((r) => r.test(name));
        if (reserved) report([...base, 'labels', name], `label ${name} cannot be set here: ${reserved.why}`);
        // Prometheus expands label values as templates too.
        const run = checkTemplate(rule.labels[name], [...base, 'labels', name], report, known);
        checkTemplateLabelReferences(rule.labels[name], [...base, 'labels', name], report, templateLabels);
        if (run && produced) checkProducedLabels(rule.labels[name] as string, [...base, 'labels', name], report, produced, known, templateLabels);
        if (run?.dependsOnValue) {
          report(
            [...base, 'labels', name],
            "depends on the alert's value ($value or .Value): Prometheus would see a new label set at every evaluation, restart `for` each time and the alert would never fire; put the value in summary or description instead",
          );
        }
      }
    }
  });
}
