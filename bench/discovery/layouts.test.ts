import { parse } from 'yaml';
import type { MonitoredService } from '../../operator/api/schema.js';
import { defaultSettings, renderPrometheusConfig } from '../../operator/render/index.js';
import { KEEP_DROPPED_TARGETS } from '../../operator/render/prometheus.js';
import { validateMonitoredService } from '../../operator/validate/index.js';
import { LAYOUTS, layoutConfig, SHIPPED_LAYOUT } from './layouts.js';

function service(namespace: string, name: string): MonitoredService {
  const r = validateMonitoredService({
    apiVersion: 'vigil.dev/v1alpha1',
    kind: 'MonitoredService',
    metadata: { namespace, name },
    spec: { selector: { matchLabels: { 'app.kubernetes.io/name': name } }, endpoints: [{ port: 'metrics' }] },
  });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.service;
}

type Job = { job_name: string; kubernetes_sd_configs: unknown[]; relabel_configs: Array<{ regex?: string; source_labels?: string[] }>; keep_dropped_targets?: number };
const jobs = (text: string) => (parse(text) as { scrape_configs: Job[] }).scrape_configs;
const distinctBlocks = (text: string) => new Set(jobs(text).map((j) => JSON.stringify(j.kubernetes_sd_configs))).size;

describe('layoutConfig', () => {
  const services = [service('a', 'x'), service('a', 'y'), service('b', 'z')];
  const settings = defaultSettings({ selfScrapeJobs: [] });

  it('the shipped layout is exactly what the renderer renders', () => {
    expect(layoutConfig(SHIPPED_LAYOUT, services, settings)).toBe(renderPrometheusConfig(services, settings));
  });

  it('per-job: one distinct block per job with the selector as SD selectors, no selector relabelling', () => {
    const text = layoutConfig('per-job', services, settings);
    expect(distinctBlocks(text)).toBe(3);
    const y = jobs(text)[1]!;
    expect(y.kubernetes_sd_configs).toEqual([
      {
        role: 'endpointslice',
        namespaces: { names: ['a'] },
        selectors: [
          { role: 'endpointslice', label: 'app.kubernetes.io/name=y' },
          { role: 'service', label: 'app.kubernetes.io/name=y' },
        ],
      },
    ]);
    expect(y.relabel_configs[0]!.source_labels).toEqual(['__meta_kubernetes_endpointslice_port_name']);
    expect(text).not.toContain('labelpresent');
    expect(text).not.toContain('keep_dropped_targets');
  });

  it('shared: one identical block per namespace, the selector first in relabelling; capped adds keep_dropped_targets', () => {
    for (const layout of ['shared', 'shared-capped'] as const) {
      const text = layoutConfig(layout, services, settings);
      expect(distinctBlocks(text)).toBe(2);
      expect(text).not.toContain('selectors');
      const y = jobs(text)[1]!;
      expect(y.job_name).toBe('vigil/a/y/metrics');
      expect(y.relabel_configs[0]!.regex).toBe('true;y');
      expect(y.keep_dropped_targets).toBe(layout === 'shared' ? undefined : KEEP_DROPPED_TARGETS);
    }
  });

  it('names every layout once', () => {
    expect(new Set(LAYOUTS).size).toBe(3);
    expect(LAYOUTS).toContain(SHIPPED_LAYOUT);
  });
});
