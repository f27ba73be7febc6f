import { parse } from 'yaml';
import type { MonitoredService } from '../../operator/api/schema.js';
import { defaultSettings } from '../../operator/render/index.js';
import { validateMonitoredService } from '../../operator/validate/index.js';
import { layoutConfig, sanitizedLabelName, selectorRelabelRules } from './layouts.js';

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

describe('selectorRelabelRules', () => {
  it('turns each requirement into a keep/drop on the Service meta labels, with Kubernetes semantics', () => {
    expect(
      selectorRelabelRules({
        matchLabels: { 'app.kubernetes.io/name': 'shop', tier: '' },
        matchExpressions: [
          { key: 'track', operator: 'In', values: ['stable', 'canary.1'] },
          { key: 'env', operator: 'NotIn', values: ['dev'] },
          { key: 'team', operator: 'Exists' },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      }),
    ).toEqual([
      { source_labels: ['__meta_kubernetes_service_labelpresent_app_kubernetes_io_name', '__meta_kubernetes_service_label_app_kubernetes_io_name'], regex: 'true;shop', action: 'keep' },
      // An empty value still requires the label to be present.
      { source_labels: ['__meta_kubernetes_service_labelpresent_tier', '__meta_kubernetes_service_label_tier'], regex: 'true;', action: 'keep' },
      { source_labels: ['__meta_kubernetes_service_labelpresent_track', '__meta_kubernetes_service_label_track'], regex: 'true;(canary\\.1|stable)', action: 'keep' },
      // NotIn also matches a Service without the label: drop only present-and-listed.
      { source_labels: ['__meta_kubernetes_service_labelpresent_env', '__meta_kubernetes_service_label_env'], regex: 'true;(dev)', action: 'drop' },
      { source_labels: ['__meta_kubernetes_service_labelpresent_team'], regex: 'true', action: 'keep' },
      { source_labels: ['__meta_kubernetes_service_labelpresent_legacy'], regex: 'true', action: 'drop' },
    ]);
  });

  it('sanitises label names as Prometheus does', () => {
    expect(sanitizedLabelName('example.com/a-b_c9')).toBe('example_com_a_b_c9');
  });
});

describe('layoutConfig', () => {
  const services = [service('a', 'x'), service('a', 'y'), service('b', 'z')];
  const settings = defaultSettings({ selfScrapeJobs: [] });
  const sdBlocks = (text: string) => (parse(text) as { scrape_configs: Array<{ kubernetes_sd_configs: unknown[] }> }).scrape_configs.map((j) => JSON.stringify(j.kubernetes_sd_configs));

  it('per-job is what the renderer ships: one distinct block per job', () => {
    expect(new Set(sdBlocks(layoutConfig('per-job', services, settings))).size).toBe(3);
  });

  it('shared gives one identical block per namespace, without selectors, the selector first in relabelling', () => {
    const text = layoutConfig('shared', services, settings);
    const blocks = sdBlocks(text);
    expect(blocks[0]).toBe(blocks[1]);
    expect(new Set(blocks).size).toBe(2);
    expect(text).not.toContain('selectors');
    const job = (parse(text) as { scrape_configs: Array<{ job_name: string; relabel_configs: Array<{ regex?: string }> }> }).scrape_configs[1]!;
    expect(job.job_name).toBe('vigil/a/y/metrics');
    expect(job.relabel_configs[0]!.regex).toBe('true;y');
  });
});
