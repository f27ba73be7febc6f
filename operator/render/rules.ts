// One rule file per MonitoredService: the built-in down alerts and the custom rules, each
// custom expression confined to the service's namespace.
import { stringify } from 'yaml';
import type { AlertRule, MonitoredService, Severity } from '../api/schema.js';
import { enforceNamespace } from '../promql/enforce-namespace.js';
import { knownAlertLabels, substituteKnownLabels } from './alert-labels.js';
import {
  compareStrings,
  jobName,
  LABEL_MONITORED_SERVICE,
  LABEL_NAMESPACE,
  refOf,
  ruleGroupName,
  SERVICE_DOWN_ALERT,
  TARGET_DOWN_ALERT,
} from './names.js';
import { escapeRegex, sortedRecord, YAML_OPTIONS } from './prometheus.js';
import type { GlobalSettings } from './types.js';

interface AlertingRule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export function renderRuleFile(service: MonitoredService, settings: GlobalSettings): string {
  const rules: AlertingRule[] = [...downAlertRules(service), ...service.spec.rules.map((rule) => customRule(service, rule))];
  const file = {
    groups: [{ name: ruleGroupName(refOf(service)), interval: settings.evaluationInterval, rules }],
  };
  return stringify(file, YAML_OPTIONS);
}

/**
 * Labels Vigil owns on every alert of a service. They are applied last, so a custom rule cannot
 * route its alerts to another team (vigil_*) or pretend to come from another namespace.
 */
function reservedLabels(service: MonitoredService, severity: Severity): Record<string, string> {
  return {
    severity,
    namespace: service.metadata.namespace,
    [LABEL_NAMESPACE]: service.metadata.namespace,
    [LABEL_MONITORED_SERVICE]: service.metadata.name,
  };
}

/** PromQL selector of the `up` series of every scrape job of this service. */
export function upSelector(service: MonitoredService): string {
  const ref = refOf(service);
  const ports = [...new Set(service.spec.endpoints.map((e) => e.port))].sort(compareStrings);
  if (ports.length === 1) return `up{job=${promqlString(jobName(ref, ports[0]!))}}`;
  const jobs = escapeRegex(jobName(ref, '')) + `(?:${ports.map(escapeRegex).join('|')})`;
  return `up{job=~${promqlString(jobs)}}`;
}

/**
 * The built-in down alerts. Two situations, two alerts that never fire for the same outage cause
 * twice in a single-target service:
 *
 * - ServiceDown (the spec's severity): no target of the service scrapes successfully. This covers
 *   targets that exist but fail (`up == 0`) AND targets that are gone: a deleted pod removes its
 *   target, its `up` series goes stale and `up == 0` alone would never fire. Counting healthy
 *   targets with `or vector(0)` turns "nothing at all" into a 0 that can be compared.
 * - ServiceTargetDown (one step less severe): one target fails while the service has more than
 *   one target, i.e. a partial outage, one alert per failing instance. With a single target
 *   ServiceDown already says everything. Alertmanager inhibits ServiceTargetDown while
 *   ServiceDown fires for the same service (see alertmanager.ts), so a total outage of a
 *   multi-target service sends one ServiceDown email, not one per instance as well.
 */
function downAlertRules(service: MonitoredService): AlertingRule[] {
  const down = service.spec.downAlert;
  if (!down.enabled) return [];
  const { namespace, name } = service.metadata;
  const up = upSelector(service);
  const jobs = [...service.spec.endpoints].map((e) => jobName(refOf(service), e.port)).sort(compareStrings);
  const targetSeverity: Severity = down.severity === 'critical' ? 'warning' : down.severity;
  return [
    {
      alert: SERVICE_DOWN_ALERT,
      expr: `(count(${up} == 1) or vector(0)) == 0`,
      for: down.for,
      labels: sortedRecord({ ...reservedLabels(service, down.severity), service: name }),
      annotations: {
        summary: `${namespace}/${name} is down: no healthy scrape target`,
        description:
          `No scrape target of MonitoredService ${namespace}/${name} has answered for ${down.for}: ` +
          `either every target fails to scrape, or none exists (pods deleted, or the selector matches no ready Service endpoints). ` +
          `Scrape jobs: ${jobs.join(', ')}.`,
      },
    },
    {
      alert: TARGET_DOWN_ALERT,
      // Only while some target is still healthy: in a total outage ServiceDown alone speaks, so a
      // storm of instance emails cannot race Alertmanager's inhibit rule (group_wait 0s in the demo).
      expr: `(${up} == 0) and on() (count(${up} == 1) > 0)`,
      for: down.for,
      labels: sortedRecord(reservedLabels(service, targetSeverity)),
      annotations: {
        summary: `${namespace}/${name}: target {{ $labels.instance }} is down`,
        description:
          `Target {{ $labels.instance }} (pod {{ $labels.pod }}, job {{ $labels.job }}) of MonitoredService ${namespace}/${name} ` +
          `has failed to scrape for ${down.for}.`,
      },
    },
  ];
}

function customRule(service: MonitoredService, rule: AlertRule): AlertingRule {
  const { namespace, name } = service.metadata;
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
    labels: sortedRecord({ ...labels, ...reservedLabels(service, rule.severity) }),
    annotations,
  };
}

/** A PromQL double-quoted string literal (JSON escaping is a subset of what PromQL accepts). */
export function promqlString(value: string): string {
  return JSON.stringify(value);
}
