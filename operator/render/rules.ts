// One rule file per MonitoredService: the built-in down alerts and the custom rules, each
// custom expression confined to the service's namespace.
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import type { AlertRule, MonitoredService, Severity } from '../api/schema.js';
import { formatDurationMs, parseDurationMs } from '../validate/duration.js';
import { resolveScrapeLimits, sampleLimitReasonTemplate } from './scrape-limits.js';
import { scrapeTiming } from './scrape-timing.js';
import { type EndpointTimingMs, graceOf, MAX_DISCOVERY_GRACE_MS, RestartRefusal, restartProblem } from './restart-gap.js';
import { scrapeErrorTemplate } from './scrape-error.js';
import { enforceNamespace } from '../promql/enforce-namespace.js';
import { isTemplateValue, knownAlertLabels, substituteKnownLabels } from './alert-labels.js';
import { LABEL_TEST_TOKEN } from './test-email.js';
import {
  compareStrings,
  jobName,
  LABEL_MONITORED_SERVICE,
  LABEL_NAMESPACE,
  LABEL_RECEIVER,
  LABEL_WATCHDOG,
  recipientSetReceiver,
  refOf,
  ruleGroupName,
  SERVICE_DOWN_ALERT,
  TARGET_DOWN_ALERT,
} from './names.js';
import { escapeRegex, scrapeJobs, sortedRecord, YAML_OPTIONS } from './prometheus.js';
import type { GlobalSettings } from './types.js';

interface RecordingRule {
  record: string;
  expr: string;
  labels: Record<string, string>;
}

interface AlertingRule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/**
 * `downReason`: why the operator already knows its targets cannot be discovered (ScrapeHints
 * downReason), said in the ServiceDown description; undefined when it knows of nothing.
 */
export function renderRuleFile(service: MonitoredService, settings: GlobalSettings, downReason?: string): string {
  return stringify(ruleFileDocument(service, settings, downReason), YAML_OPTIONS);
}

/** The rule file of renderRuleFile as a plain object ({ groups: [one group] }), before YAML. */
export function ruleFileDocument(service: MonitoredService, settings: GlobalSettings, downReason?: string): { groups: unknown[] } {
  const rules: (RecordingRule | AlertingRule)[] = [...downAlertRules(service, settings, downReason), ...service.spec.rules.map((rule, i) => customRule(service, rule, i, settings))];
  return { groups: [{ name: ruleGroupName(refOf(service)), interval: settings.evaluationInterval, rules }] };
}

/**
 * Labels Vigil owns on every alert of a service. They are applied last, so a custom rule cannot
 * route its alerts to another team (vigil_*, LABEL_RECEIVER names the receiver Alertmanager routes
 * on) or pretend to come from another namespace.
 * Prometheus's rule labels override the result series' labels, and an empty value removes the
 * label (rules/alerting.go, labels.Builder.Set): so neither the expression (label_replace) nor a
 * scraped metric can carry vigil_watchdog="true" (the Watchdog route, watchdog.ts) or a
 * vigil_test_token (a group of its own, alertmanager.ts GROUP_BY) onto the service's alerts.
 */
function reservedLabels(service: MonitoredService, severity: Severity, settings: GlobalSettings): Record<string, string> {
  return {
    ...installLabels(settings),
    severity,
    namespace: service.metadata.namespace,
    [LABEL_NAMESPACE]: service.metadata.namespace,
    [LABEL_MONITORED_SERVICE]: service.metadata.name,
    [LABEL_RECEIVER]: recipientSetReceiver(service.spec.notify?.email),
    [LABEL_WATCHDOG]: '',
    [LABEL_TEST_TOKEN]: '',
  };
}

/**
 * The install's external labels (cluster, region, ...) as rule labels. Prometheus adds an external
 * label only to alerts without that label (notifier relabelAlerts), so a series label `cluster`
 * (scraped, or made by label_replace) would claim another cluster; a rule label overrides it.
 * Rule label values are templates: a value with `{{` is left to the external label as before.
 */
function installLabels(settings: GlobalSettings): Record<string, string> {
  return Object.fromEntries(Object.entries(settings.externalLabels).filter(([, value]) => !isTemplateValue(value)));
}

/** PromQL selector of the `up` series of every scrape job of this service. */
export function upSelector(service: MonitoredService): string {
  const ref = refOf(service);
  const ports = [...new Set(service.spec.endpoints.map((e) => e.port))].sort(compareStrings);
  if (ports.length === 1) return `up{job=${promqlString(jobName(ref, ports[0]!))}}`;
  const jobs = escapeRegex(jobName(ref, '')) + `(?:${ports.map(escapeRegex).join('|')})`;
  return `up{job=~${promqlString(jobs)}}`;
}

/** Recorded once per evaluation for each service with down alerts: the evaluation time, labelled with the scrape config it belongs to. */
export const SCRAPE_CONFIG_LOADED_RECORD = 'vigil:scrape_config_loaded:timestamp_seconds';
export const LABEL_SCRAPE_CONFIG = 'vigil_scrape_config';

/**
 * How long after Prometheus first evaluates a service's rules (with its current scrape jobs) a
 * total absence of `up` series may count as "no target" (issue #14). Before the first scrape of a
 * new job there is no `up` series at all, exactly as when every pod is gone: service discovery
 * (Prometheus hands discovered targets to the scrape manager every 5 s; a Kubernetes watch first
 * lists), then the first scrape at a per-target offset anywhere within the scrape interval, then
 * the scrape itself (up to its timeout). Two scrape intervals plus 30 s covers that with margin;
 * capped at 4 minutes (a new service without targets pages that much sooner), but never below one
 * interval plus its timeout plus 30 s, the latest the first sample can land with 30 s left for
 * discovery: above 3m30s of interval + timeout the cap alone made a healthy new service page
 * before its first scrape (issue 21, test/promtool/timing-range.int.test.ts). Milliseconds.
 */
export function discoveryGraceMs(service: MonitoredService): number {
  return graceOf(endpointTimingsMs(service));
}

/**
 * The window W of ServiceDown's grace clock, `time() - min_over_time(record[W])` (downAlertRules),
 * and the grace it holds, ms: W = grace + 2 evaluation intervals, so a continuous record always has a
 * sample old enough. The operator's status reads the same clock over the same window (controller/targets.ts).
 */
export function recordWindow(service: MonitoredService, settings: GlobalSettings): { windowMs: number; graceMs: number } {
  const graceMs = discoveryGraceMs(service);
  return { windowMs: graceMs + 2 * (parseDurationMs(settings.evaluationInterval) ?? 60_000), graceMs };
}

/** The effective interval and timeout of each endpoint (scrapeTiming), ms, by index. */
export function endpointTimingsMs(service: MonitoredService): EndpointTimingMs[] {
  return service.spec.endpoints.map((e) => scrapeTiming(e)).map((t) => ({ intervalMs: parseDurationMs(t.interval) ?? 0, timeoutMs: parseDurationMs(t.scrapeTimeout) ?? 0 }));
}

export { MAX_DISCOVERY_GRACE_MS };

/**
 * ServiceTargetDown's termination window (ms): a target counts as down only when every one of its
 * `up` samples in this window failed (issue #14). Window = 3 x the longest scrape interval of the
 * service's endpoints + 10 s (5 s scrapes: 25 s; 30 s scrapes: 1m40s).
 *
 * Why: a pod that stops serving at SIGTERM stays a target until Prometheus drops it (EndpointSlice
 * update, then discovery's 5 s update tick: 4.5-7 s measured on the real node), and its last failed
 * `up` stays current until the staleness marker, which Prometheus writes up to two scrape intervals
 * after the drop (at the time of the next scrape plus one interval). The last successful sample is
 * at most one interval before the pod stopped, so the window still holds it while the failing
 * series is current as long as the drop comes less than 10 s after the pod stopped serving
 * (and the alert's `for` adds its own margin); a failing live target keeps failing and fires once
 * the window has passed. The cost: a real partial outage is reported up to (window - 1 interval)
 * later than `for` alone would.
 */
export function terminationWindowMs(service: MonitoredService): number {
  const longest = Math.max(...service.spec.endpoints.map((e) => parseDurationMs(scrapeTiming(e).interval) ?? 0));
  return 3 * longest + 10_000;
}

/**
 * Short hash of the service's rendered scrape jobs: the recorded series gets a new identity (and so
 * a new grace period) whenever what Prometheus discovers and scrapes for the service changes
 * (ports, selector, interval, API server connection), not on unrelated edits.
 */
export function scrapeConfigHash(service: MonitoredService, settings: GlobalSettings): string {
  return createHash('sha256')
    .update(JSON.stringify(scrapeJobs(service, settings)))
    .digest('hex')
    .slice(0, 12);
}

/**
 * ALERTS series of this service's own ServiceDown while it is pending or firing. Prometheus writes
 * it at every evaluation the alert is active, and a staleness marker at the first one it is not, so
 * the instant selector says "active at the previous evaluation". A rule reload keeps it (same alert
 * name and rule labels: Prometheus copies the alert's state and writes no marker), so it carries an
 * outage across a new discovery grace (issue 21). Only labels Vigil owns and that no edit of the
 * scrape jobs changes.
 */
export function activeServiceDownSelector(service: MonitoredService): string {
  const { namespace, name } = service.metadata;
  return `ALERTS{alertname=${promqlString(SERVICE_DOWN_ALERT)}, alertstate=~"pending|firing", ` + `${LABEL_NAMESPACE}=${promqlString(namespace)}, ${LABEL_MONITORED_SERVICE}=${promqlString(name)}}`;
}

/**
 * The built-in down alerts. Two situations, two alerts that never fire for the same outage cause
 * twice in a single-target service:
 *
 * - ServiceDown (the spec's severity): no target of the service scrapes successfully. This covers
 *   targets that exist but fail (`up == 0`) AND targets that are gone: a deleted pod removes its
 *   target, its `up` series goes stale and `up == 0` alone would never fire. Counting healthy
 *   targets with `or vector(0)` turns "nothing at all" into a 0 that can be compared.
 *   But "nothing at all" is also what Prometheus sees before the first scrape of a new job, and
 *   after a restart with an empty TSDB (a new pod): with a short `for` that was a false email
 *   (issue #14, 1 in 5 new services). So absence alone counts only once the service's rules have
 *   been evaluated with its current scrape jobs for the discovery grace period: a recording rule
 *   records each evaluation's time, and `time() - min_over_time(record[W])` is how long that has
 *   been going on (W = grace + 2 evaluation intervals, so a continuous record always has a
 *   sample old enough). A restart on a kept TSDB longer than W starts the grace over; a shorter
 *   one does not, and as Prometheus writes no staleness marker at shutdown, `up` can run out of the
 *   lookback before the first new scrape: a `for` that gap outlasts is refused (restart-gap.ts,
 *   checked in test/promtool/timing-range.int.test.ts). A failing target
 *   (`up == 0`) needs no grace: it was discovered and scraped.
 *   The grace restarts whenever the scrape jobs change (an edit of the interval, an operator
 *   upgrade rendering every job anew), yet a service that is already down has nothing left to
 *   discover: while ServiceDown is active (pending or firing, activeServiceDownSelector) absence
 *   keeps counting, so such an edit neither resolves the alert nor restarts its `for` (issue 21).
 *   It ends as before, at the first evaluation that sees a healthy target.
 * - ServiceTargetDown (one step less severe): one target fails while the service has more than
 *   one target, i.e. a partial outage, one alert per failing instance, counted only once every
 *   sample of that target in the termination window failed (terminationWindowMs: a pod stopping
 *   in a rolling update is not a partial outage). With a single target
 *   ServiceDown already says everything. Alertmanager inhibits ServiceTargetDown while
 *   ServiceDown fires for the same service (see alertmanager.ts), so a total outage of a
 *   multi-target service sends one ServiceDown email, not one per instance as well.
 */
function downAlertRules(service: MonitoredService, settings: GlobalSettings, downReason?: string): (RecordingRule | AlertingRule)[] {
  const down = service.spec.downAlert;
  if (!down.enabled) return [];
  const { namespace, name } = service.metadata;
  const up = upSelector(service);
  const jobs = [...service.spec.endpoints].map((e) => jobName(refOf(service), e.port)).sort(compareStrings);
  const targetSeverity: Severity = down.severity === 'critical' ? 'warning' : down.severity;
  const timings = endpointTimingsMs(service);
  // Refused, not rendered: it would page the healthy service after a Prometheus restart.
  const restart = restartProblem(timings, down.for, settings.evaluationInterval);
  if (restart !== undefined) throw new RestartRefusal([restart]);
  const { graceMs, windowMs } = recordWindow(service, settings);
  const recordLabels = sortedRecord({
    // Like every alert of the service: its series belong to its namespace (tenancy).
    namespace,
    [LABEL_NAMESPACE]: namespace,
    [LABEL_MONITORED_SERVICE]: name,
    [LABEL_SCRAPE_CONFIG]: scrapeConfigHash(service, settings),
  });
  const recordSelector = `${SCRAPE_CONFIG_LOADED_RECORD}{${Object.entries(recordLabels)
    .map(([k, v]) => `${k}=${promqlString(v)}`)
    .join(', ')}}`;
  const grace = formatDurationMs(graceMs);
  const window = formatDurationMs(terminationWindowMs(service));
  // Down because of the sample limit: the descriptions say so (the other limits leave no trace a rule can read).
  const { sampleLimit } = resolveScrapeLimits(service.spec.limits, settings.scrapeLimits);
  const samplesSelector = `scrape_samples_scraped${up.slice('up'.length)}`;
  return [
    { record: SCRAPE_CONFIG_LOADED_RECORD, expr: 'vector(time())', labels: recordLabels },
    {
      alert: SERVICE_DOWN_ALERT,
      expr:
        `((count(${up} == 1) or vector(0)) == 0)` +
        ` and on() (` +
        `(count(${up} == 0) > 0)` +
        ` or on() ((time() - min_over_time(${recordSelector}[${formatDurationMs(windowMs)}])) >= ${graceMs / 1000})` +
        ` or on() ${activeServiceDownSelector(service)}` +
        `)`,
      for: down.for,
      labels: sortedRecord({ ...reservedLabels(service, down.severity, settings), service: name }),
      annotations: {
        summary: `${namespace}/${name} is down: no healthy scrape target`,
        description:
          `MonitoredService ${namespace}/${name} has had no healthy scrape target for ${down.for}: ` +
          `either every target fails to scrape, or none exists (pods deleted, or the selector matches no ready Service endpoints; ` +
          `counted only after ${grace} of discovery with the current scrape jobs). ` +
          `Scrape jobs: ${jobs.join(', ')}.` +
          sampleLimitReasonTemplate(samplesSelector, sampleLimit, false) +
          ' ' +
          (downReason !== undefined ? `The operator reports: ${templateSafe(truncate(downReason, MAX_DOWN_REASON_CHARS))}. ` : '') +
          scrapeErrorTemplate(refOf(service), { sentence: "Prometheus's scrape error", after: ' ' }) +
          `Reason in its status (with Prometheus's own scrape error): kubectl describe monitoredservice -n ${namespace} ${name}`,
      },
    },
    {
      alert: TARGET_DOWN_ALERT,
      // Only while some target is still healthy: in a total outage ServiceDown alone speaks, so a
      // storm of instance emails cannot race Alertmanager's inhibit rule (group_wait 0s in the demo).
      // A terminating pod that stops serving at SIGTERM stays a target until discovery drops it
      // and its last failed `up` stays current until the staleness marker: on the real node that
      // made rollouts fire this alert (issue #14). So a target counts as down only once every
      // sample in the termination window failed; a dropped target's series goes stale before
      // that, a failing live target keeps failing (see terminationWindowMs).
      expr: `(${up} == 0) and (max_over_time(${up}[${window}]) == 0) and on() (count(${up} == 1) > 0)`,
      for: down.for,
      labels: sortedRecord(reservedLabels(service, targetSeverity, settings)),
      annotations: {
        summary: `${namespace}/${name}: target {{ $labels.instance }} is down`,
        description:
          `Target {{ $labels.instance }} (pod {{ $labels.pod }}, job {{ $labels.job }}) of MonitoredService ${namespace}/${name} ` +
          `has failed every scrape for ${window} and then for ${down.for} more (a target failing for less than ${window}, such as a stopping pod not yet dropped by discovery, does not count).` +
          sampleLimitReasonTemplate(samplesSelector, sampleLimit, true) +
          scrapeErrorTemplate(refOf(service), { before: ' ', sentence: "A scrape error of this service's failing targets, as Prometheus reports it" }),
      },
    },
  ];
}

/** Longest downReason written into an alert (the message lists the Services or ports that exist). */
const MAX_DOWN_REASON_CHARS = 600;

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Prometheus expands annotations as Go templates: operator text must not open an action. */
function templateSafe(text: string): string {
  return text.replaceAll('{{', '{ {').replaceAll('}}', '} }');
}

function customRule(service: MonitoredService, rule: AlertRule, index: number, settings: GlobalSettings): AlertingRule {
  const { namespace, name } = service.metadata;
  // Prometheus adds an external label only to alerts without that label (notifier relabelAlerts):
  // a rule's own would claim another cluster or region. Validation refuses the chart's cluster label
  // by name; this covers any other external label of the install (validate/index.ts reports it).
  for (const label of Object.keys(rule.labels ?? {})) {
    if (Object.hasOwn(settings.externalLabels, label)) {
      throw new Error(`spec.rules[${index}].labels.${label}: label ${label} is an external label of this install; Prometheus would keep the rule's value instead of the install's, so remove it`);
    }
    if (label === settings.replicaExternalLabel?.name) {
      throw new Error(`spec.rules[${index}].labels.${label}: label ${label} names the Prometheus replica and is dropped from every alert (alert_relabel_configs), so remove it`);
    }
  }
  // Prometheus expands these with the result series' labels only: write in what Vigil knows (alert-labels.ts).
  const known = knownAlertLabels(refOf(service), rule);
  const expand = (template: string) => substituteKnownLabels(template, known);
  const annotations: Record<string, string> = {
    summary: rule.summary === undefined ? `${rule.name} on ${namespace}/${name}` : expand(rule.summary),
  };
  if (rule.description !== undefined) annotations.description = expand(rule.description);
  const labels = Object.fromEntries(Object.entries(rule.labels ?? {}).map(([label, value]) => [label, expand(value)]));
  return {
    alert: rule.name,
    expr: enforceNamespace(rule.expr, namespace),
    for: rule.for,
    labels: sortedRecord({ ...labels, ...reservedLabels(service, rule.severity, settings) }),
    annotations,
  };
}

/** A PromQL double-quoted string literal (JSON escaping is a subset of what PromQL accepts). */
export function promqlString(value: string): string {
  return JSON.stringify(value);
}
