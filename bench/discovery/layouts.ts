// Discovery layouts the benchmark compares (issue #13, item 2), each a Prometheus config for the
// same MonitoredServices, generated from Vigil's own renderer (operator/render/prometheus.ts) by a
// pure rewrite of each job it renders:
//   per-job        each job its own kubernetes_sd_configs block: its namespace plus `selectors`
//                  (the MonitoredService's selector on EndpointSlices and Services), so Prometheus
//                  runs one discovery, with its own watches, per job (Vigil's layout until issue #13);
//   shared         one block per namespace, identical for every job of the namespace (Prometheus
//                  deduplicates identical blocks into one discovery), the selector applied by
//                  relabelling on the Service's meta labels: what prometheus-operator does;
//   shared-capped  shared, and each job keeps at most KEEP_DROPPED_TARGETS of the targets its
//                  relabelling dropped (Prometheus keeps every dropped target for its API and UI
//                  by default; with a shared block, every job drops every other Service's endpoints).
import type { LabelSelector, MonitoredService } from '../../operator/api/schema.js';
import { labelSelectorString } from '../../operator/render/label-selector.js';
import { sortServices } from '../../operator/render/names.js';
import { assemblePrometheusConfig, KEEP_DROPPED_TARGETS, scrapeJobs, selectorRelabelRules, YAML_OPTIONS } from '../../operator/render/prometheus.js';
import type { GlobalSettings } from '../../operator/render/types.js';
import { stringifyItems } from '../../operator/render/yaml-fragments.js';

export const LAYOUTS = ['per-job', 'shared', 'shared-capped'] as const;
export type LayoutName = (typeof LAYOUTS)[number];

/** The layout the renderer ships (layoutConfig checks a job of it is left as rendered). */
export const SHIPPED_LAYOUT: LayoutName = 'shared-capped';

/** One job as the renderer renders it (the shipped layout), rewritten to `layout`. */
export function layoutJob(layout: LayoutName, job: Record<string, unknown>, selector: LabelSelector): Record<string, unknown> {
  const { keep_dropped_targets: _keep, ...uncapped } = job;
  if (layout === 'shared-capped') return { ...job, keep_dropped_targets: KEEP_DROPPED_TARGETS };
  if (layout === 'shared') return uncapped;
  const label = labelSelectorString(selector);
  const blocks = job.kubernetes_sd_configs as Array<Record<string, unknown>>;
  const relabel = job.relabel_configs as unknown[];
  return {
    ...uncapped,
    kubernetes_sd_configs: blocks.map((block) => ({
      ...block,
      selectors: [
        { role: 'endpointslice', label },
        { role: 'service', label },
      ],
    })),
    // The selector's relabel rules come first in the rendered job; the SD selectors replace them.
    relabel_configs: relabel.slice(selectorRelabelRules(selector).length),
  };
}

/** prometheus.yml for `services` in the given layout, assembled as the operator assembles it. */
export function layoutConfig(layout: LayoutName, services: readonly MonitoredService[], settings: GlobalSettings): string {
  const texts = sortServices(services).map((service) =>
    stringifyItems(
      scrapeJobs(service, settings).map((job) => layoutJob(layout, job, service.spec.selector)),
      YAML_OPTIONS,
    ),
  );
  return assemblePrometheusConfig(texts, settings);
}
