// Discovery layouts the benchmark compares (issue #13, item 2), each a Prometheus config for the
// same MonitoredServices, generated from Vigil's own renderer:
//   per-job   what operator/render/prometheus.ts renders: each job its own kubernetes_sd_configs
//             block (its namespace + label selectors on EndpointSlices and Services), so Prometheus
//             runs one discovery provider, with its own watches, per job;
//   shared    the renderer's jobs with one identical block per namespace (namespace only, no
//             selectors), shared by every job of that namespace (Prometheus deduplicates identical
//             blocks into one provider), and the Service selector applied as relabel rules on the
//             Service's meta labels: what prometheus-operator does with ServiceMonitors.
import type { LabelSelector, MonitoredService } from '../../operator/api/schema.js';
import { assemblePrometheusConfig, escapeRegex, scrapeJobs, YAML_OPTIONS } from '../../operator/render/prometheus.js';
import { sortServices } from '../../operator/render/names.js';
import type { GlobalSettings } from '../../operator/render/types.js';
import { stringifyItems } from '../../operator/render/yaml-fragments.js';

export type LayoutName = 'per-job' | 'shared';

/**
 * Prometheus's name for a Kubernetes label in its meta labels: every character outside
 * [a-zA-Z0-9_] becomes `_` (discovery/kubernetes, strutil.SanitizeLabelName).
 */
export const sanitizedLabelName = (key: string) => key.replace(/[^a-zA-Z0-9_]/g, '_');

/**
 * A Kubernetes label selector as relabel rules on the Service's labels (keep what matches every
 * requirement, with the selector's semantics: `NotIn` and `DoesNotExist` also match Services
 * without the label). Uses the `labelpresent` meta label so that an empty value and a missing
 * label differ, as in Kubernetes.
 */
export function selectorRelabelRules(selector: LabelSelector): Record<string, unknown>[] {
  const present = (key: string) => `__meta_kubernetes_service_labelpresent_${sanitizedLabelName(key)}`;
  const value = (key: string) => `__meta_kubernetes_service_label_${sanitizedLabelName(key)}`;
  const anyOf = (values: readonly string[]) => `(${[...values].sort().map(escapeRegex).join('|')})`;
  const rules: Record<string, unknown>[] = [];
  for (const key of Object.keys(selector.matchLabels ?? {}).sort()) {
    rules.push({ source_labels: [present(key), value(key)], regex: `true;${escapeRegex(selector.matchLabels![key]!)}`, action: 'keep' });
  }
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    if (operator === 'In') rules.push({ source_labels: [present(key), value(key)], regex: `true;${anyOf(values)}`, action: 'keep' });
    if (operator === 'NotIn') rules.push({ source_labels: [present(key), value(key)], regex: `true;${anyOf(values)}`, action: 'drop' });
    if (operator === 'Exists') rules.push({ source_labels: [present(key)], regex: 'true', action: 'keep' });
    if (operator === 'DoesNotExist') rules.push({ source_labels: [present(key)], regex: 'true', action: 'drop' });
  }
  return rules;
}

/** One job of the renderer, rewritten to the shared layout (see the header). */
export function sharedLayoutJob(job: Record<string, unknown>, selector: LabelSelector): Record<string, unknown> {
  const blocks = job.kubernetes_sd_configs as Array<Record<string, unknown>>;
  return {
    ...job,
    kubernetes_sd_configs: blocks.map(({ selectors: _selectors, ...block }) => block),
    relabel_configs: [...selectorRelabelRules(selector), ...(job.relabel_configs as unknown[])],
  };
}

/** prometheus.yml for `services` in the given layout, assembled as the operator assembles it. */
export function layoutConfig(layout: LayoutName, services: readonly MonitoredService[], settings: GlobalSettings): string {
  const texts = sortServices(services).map((service) => {
    const jobs = scrapeJobs(service, settings);
    return stringifyItems(layout === 'per-job' ? jobs : jobs.map((job) => sharedLayoutJob(job, service.spec.selector)), YAML_OPTIONS);
  });
  return assemblePrometheusConfig(texts, settings);
}
